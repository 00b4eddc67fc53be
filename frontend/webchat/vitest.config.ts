// Unit tests of the webchat widget (npm run test:unit runs them after the SPA's).
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    environment: 'happy-dom',
    include: ['**/*.test.ts'],
    restoreMocks: true,
  },
});
