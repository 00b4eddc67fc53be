// Builds the webchat widget (webchat/widget.ts) as one self-contained IIFE script,
// dist/webchat/widget.js, and copies the demo page beside it as dist/webchat/demo.html.
// `npm run build` runs it after the SPA build; scripts/clean-dist.mjs has already emptied
// dist/ (keeping dist/.gitkeep), so this build must not empty it again.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  publicDir: false,
  build: {
    outDir: here('dist/webchat'),
    emptyOutDir: false,
    target: 'es2022',
    lib: {
      entry: here('webchat/widget.ts'),
      name: 'AgentdeskWebchat',
      formats: ['iife'],
      fileName: () => 'widget.js',
    },
  },
  plugins: [
    {
      name: 'agentdesk-webchat-demo',
      generateBundle() {
        this.emitFile({ type: 'asset', fileName: 'demo.html', source: readFileSync(here('webchat/demo.html'), 'utf8') });
      },
    },
  ],
});
