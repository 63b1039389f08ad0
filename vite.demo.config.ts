import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const path = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// `npm run build:demo`: a static build of the notebook (index.html) and the embedding example into dist-demo/.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^kindling$/, replacement: path('./src/index.ts') },
      { find: /^kindling\/node$/, replacement: path('./src/node.ts') },
      { find: /^kindling\/worker$/, replacement: path('./src/worker.ts') },
    ],
  },
  worker: { format: 'es' },
  build: {
    outDir: 'dist-demo',
    target: 'es2022',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000, // tfjs alone is about 1 MB minified
    rollupOptions: {
      input: { main: path('./index.html'), embed: path('./demo/embed/index.html'), bench: path('./demo/bench.html') },
    },
  },
});
