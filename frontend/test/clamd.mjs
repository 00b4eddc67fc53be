// Debian's real clamd for the browser tests, offline, as clamd/clamdtest does for the Go tests:
// a temporary folder with a clamd.conf that listens on a free loopback port and a database of
// custom signatures only (EICAR by its MD5 and at offset 0, and a marker found anywhere), no
// freshclam, no official databases. Pass `-clamd-addr ${clamd.addr}` to startServer.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian installs clamd; $CLAMD overrides it. */
export const CLAMD = process.env.CLAMD || '/usr/sbin/clamd';

/**
 * The 68-byte EICAR anti-malware test file, built from two parts so that this source file is not
 * itself flagged by scanners.
 */
export const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
/** The name the custom database gives EICAR. */
export const EICAR_SIGNATURE = 'Eicar-Test-Signature';
/** Found anywhere in a file by MARKER_SIGNATURE. */
export const MARKER = Buffer.from('agentdesk-test-malware-marker-' + '7f3c1e');
export const MARKER_SIGNATURE = 'Agentdesk-Test-Marker';

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Sends zPING and resolves with whether clamd answered PONG. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('zPING\0'));
    socket.on('data', (chunk) => {
      answer += chunk;
      if (answer.includes('\0') || answer.includes('PONG')) done(answer.startsWith('PONG'));
    });
    socket.on('end', () => done(answer.startsWith('PONG')));
  });
}

/**
 * Starts clamd and waits until it answers PING (loading even a tiny database takes a few
 * seconds). Fails, naming `make clamav`, when clamd is not installed.
 * @returns {Promise<{ addr: string, output: () => string, stop(): Promise<void> }>}
 */
export async function startClamd({ timeoutMs = 60_000, streamMaxLength = '30M' } = {}) {
  if (!existsSync(CLAMD)) {
    throw new Error(
      `clamd is not installed (looked for ${CLAMD}, or set $CLAMD): run \`make clamav\` to install Debian's clamav-daemon`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'agentdesk-clamd-'));
  const db = join(dir, 'db');
  await mkdir(db);
  // .hdb: MD5:size:name, EICAR's 68 bytes exactly. .ndb: name:target type (0, any
  // file):offset:hex; EICAR at offset 0 also catches the file with trailing whitespace.
  await writeFile(join(db, 'agentdesk-test.hdb'), `44d88612fea8a8f36de82e1278abb02f:68:${EICAR_SIGNATURE}\n`);
  await writeFile(
    join(db, 'agentdesk-test.ndb'),
    `${EICAR_SIGNATURE}:0:0:${EICAR.toString('hex')}\n${MARKER_SIGNATURE}:0:*:${MARKER.toString('hex')}\n`,
  );

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'clamd.conf');
    await writeFile(
      conf,
      `# written by frontend/test/clamd.mjs
Foreground yes
TCPSocket ${port}
TCPAddr 127.0.0.1
DatabaseDirectory ${db}
TemporaryDirectory ${dir}
StreamMaxLength ${streamMaxLength}
MaxThreads 4
LogTime yes
LogVerbose no
SelfCheck 0
`,
    );
    const child = spawn(CLAMD, ['--foreground', `--config-file=${conf}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const collect = (chunk) => (log = (log + chunk).slice(-20_000));
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Never outlive the test process, even one that fails before its after() hook.
    const orphan = () => child.kill('SIGKILL');
    process.once('exit', orphan);
    void exited.then(() => process.off('exit', orphan));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    };

    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (await ping(port)) {
        ready = true;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (ready) {
      return {
        addr: `127.0.0.1:${port}`,
        output: () => log,
        async stop() {
          await stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    await stop();
    lastError = new Error(
      child.exitCode !== null || child.signalCode !== null
        ? `clamd exited (${child.exitCode ?? child.signalCode}); its output:\n${log}`
        : `clamd did not answer PING within ${timeoutMs} ms; its output:\n${log}`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
