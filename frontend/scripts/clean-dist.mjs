// Empties dist/ before a build but keeps dist/.gitkeep, which the Go embed needs in a fresh clone.
import { readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
for (const entry of readdirSync(dist)) {
  if (entry !== '.gitkeep') rmSync(dist + entry, { recursive: true, force: true });
}
