import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The Go server checks websocket origins, so in development the browser talks only to Vite and
// Vite forwards /query (HTTP and websocket) to the Go server. The Host header is passed through
// unchanged (no changeOrigin): the server compares it with the browser's Origin, and rewriting
// it to the target's host makes every websocket upgrade fail with 403.
const target = process.env.AGENTDESK_URL ?? 'http://localhost:8080';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      '/query': { target, ws: true },
      // The phone simulator's API (served by agentdesk -demo); the page itself is phone.html.
      '/demo/phone/api': { target },
    },
  },
  build: {
    // dist/.gitkeep must survive; scripts/clean-dist.mjs empties the rest before each build.
    emptyOutDir: false,
    rollupOptions: {
      input: {
        index: 'index.html',
        playground: 'playground.html',
        phone: 'phone.html',
      },
    },
  },
});
