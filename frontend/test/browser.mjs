// What the browser tests share: Debian's Chromium driven by playwright-core, the folder
// screenshots go to, and a wait for a condition that becomes true.
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

/** Screenshots go here (gitignored); the folder exists once this module is loaded. */
export const OUTPUT = fileURLToPath(new URL('../../test-output/', import.meta.url));
mkdirSync(OUTPUT, { recursive: true });

/** Starts headless Chromium; no downloads: it must be Debian's package. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get update && apt-get install -y chromium`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Calls check until it returns something truthy, and returns that; fails after timeoutMs. */
export async function eventually(what, check, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
