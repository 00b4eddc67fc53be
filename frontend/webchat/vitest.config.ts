// Unit tests of the webchat widget (npm run test:unit runs them after the SPA's).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    environment: 'happy-dom',
    include: ['**/*.test.ts'],
    restoreMocks: true,
    // A test that hangs still fails, but a machine under load (make test runs these beside the
    // Go race run and the browser tests, or beside a CPU hog) is not a failure: vitest's default
    // 5 s per test timed tests out there that pass in a second when the machine is quiet.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
