import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

export default defineConfig({
  plugins: [react()],
  test: {
    environment: 'happy-dom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    restoreMocks: true,
    // One environment for all files; test-setup.ts empties what modules keep between tests.
    isolate: false,
    // A test that hangs still fails, but a machine under load (make test runs these beside the
    // Go race run and the browser tests, or beside a CPU hog) is not a failure: vitest's default
    // 5 s per test timed tests out there that pass in a second when the machine is quiet.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
