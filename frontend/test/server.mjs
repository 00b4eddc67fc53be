// Starts the real agentdesk binary for end-to-end tests: a free port, a fresh data folder,
// demo data, and a wait for /readyz. Stop it with `await server.stop()`.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const binary = fileURLToPath(new URL('../../bin/agentdesk', import.meta.url));

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

async function waitUntilReady(url, child, output, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      throw new Error(`agentdesk exited with code ${child.exitCode} before it was ready:\n${output()}`);
    }
    if (url.startsWith('https:')) {
      // Node's fetch refuses a self-signed certificate: the start-up line says it listens.
      if (output().includes('listening on https://')) return;
    } else {
      try {
        const response = await fetch(url);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`agentdesk was not ready at ${url} within ${timeoutMs} ms:\n${output()}`);
}

/**
 * Extra command-line flags go in args; with tls: { cert, key } (PEM files) it serves HTTPS.
 * With demo: false it starts as a fresh install does: no -demo, so no plans, agents or keys.
 * The metrics listener gets a free port of its own: its URL is metricsUrl.
 * @returns {Promise<{ url: string, graphqlUrl: string, wsUrl: string, metricsUrl: string, data: string, stop(): Promise<void> }>}
 */
export async function startServer({ timeoutMs = 30_000, args = [], tls, demo = true } = {}) {
  if (!existsSync(binary)) {
    throw new Error(
      `${binary} is missing. Build it first: cd /work/main && go build -o bin/agentdesk ./cmd/agentdesk`,
    );
  }
  const port = await freePort();
  const data = await mkdtemp(join(tmpdir(), 'agentdesk-e2e-'));
  const flags = ['-addr', `127.0.0.1:${port}`, '-metrics-addr', '127.0.0.1:0', '-data', data, ...(demo ? ['-demo'] : []), ...args];
  if (tls) flags.push('-tls-cert', tls.cert, '-tls-key', tls.key);
  const child = spawn(binary, flags, {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let metricsUrl;
  const collect = (chunk) => {
    log = (log + chunk).slice(-20_000);
    metricsUrl ??= /metrics on (\S+)/.exec(log)?.[1];
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(data, { recursive: true, force: true });
  };

  try {
    await waitUntilReady(`${url}/readyz`, child, () => log, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    graphqlUrl: `${url}/query`,
    wsUrl: `${tls ? 'wss' : 'ws'}://127.0.0.1:${port}/query`,
    /** /metrics on the metrics listener, from the start-up lines. */
    get metricsUrl() {
      return metricsUrl;
    },
    /** The server's data folder (SQLite in WAL mode: other processes may use it meanwhile). */
    data,
    log: () => log,
    stop,
  };
}

/** POSTs a GraphQL request and returns the parsed body; fails on a non-JSON answer. */
export async function graphql(server, query, variables, token) {
  const response = await fetch(server.graphqlUrl, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  try {
    return { status: response.status, ...JSON.parse(text) };
  } catch {
    throw new Error(`${server.graphqlUrl} answered ${response.status} with non-JSON: ${text}`);
  }
}

/** Logs in over HTTP and returns the token, failing loudly with the server's answer. */
export async function login(server, username, password = 'demo') {
  const body = await graphql(
    server,
    'mutation ($input: LoginInput!) { login(input: $input) { token userErrors { code message } } }',
    { input: { username, password } },
  );
  const token = body.data?.login?.token;
  if (!token) throw new Error(`login as ${username} failed: ${JSON.stringify(body)}`);
  return token;
}

/**
 * Creates an agent in the running server's store with the operator command,
 * `agentdesk add-agent -data <folder> -username … [-name …] [-auto-accept] [-supervisor]`, the
 * password on stdin. The agent is a member of every plan.
 */
export function addAgent(server, { username, name, password = 'demo', autoAccept = false, supervisor = false }) {
  const args = ['add-agent', '-data', server.data, '-username', username];
  if (name) args.push('-name', name);
  if (autoAccept) args.push('-auto-accept');
  if (supervisor) args.push('-supervisor');
  return new Promise((resolve, reject) => {
    const child = execFile(binary, args, (error, stdout, stderr) => {
      if (error) reject(new Error(`agentdesk ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve(stdout.trim());
    });
    child.stdin.end(`${password}\n`);
  });
}
