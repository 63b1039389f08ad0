import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url));

// One config serves two jobs: `vite` serves the demo notebook (index.html, demo/), and
// `vite build` builds the library (dist/index.js, dist/node.js) in library mode.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^kindling$/, replacement: src('index.ts') },
      { find: /^kindling\/node$/, replacement: src('node.ts') },
      { find: /^kindling\/worker$/, replacement: src('worker.ts') },
    ],
  },
  // Test and benchmark servers (KINDLING_STATIC=1) neither watch files nor hot-reload pages: an edit made while a
  // browser test runs must not reload the page under test.
  server: process.env.KINDLING_STATIC
    ? { host: '127.0.0.1', port: 5173, hmr: false, watch: null }
    : { host: '127.0.0.1', port: 5173, strictPort: false },
  preview: { host: '127.0.0.1', port: 4173 },
  worker: { format: 'es' },
  // Pre-bundle every dependency a page can import when the server starts, so that no page load discovers a new one
  // and triggers a re-optimisation and a full reload mid-test.
  optimizeDeps: {
    entries: ['index.html', 'demo/**/*.html', 'e2e/pages/*.html'],
    include: [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-webgpu',
      'seedrandom',
      'idb-keyval',
      'uplot',
      '@bufbuild/protobuf/wire',
      'crc-32/crc32c.js',
    ],
  },
  build: {
    target: 'es2022',
    // The package ships minified ES modules and no source maps (their sources would not be in the package). Messages
    // name classes literally, so they read the same minified: src/dist-messages.test.ts checks that on dist/.
    sourcemap: false,
    minify: true,
    emptyOutDir: true,
    copyPublicDir: false,
    lib: {
      entry: { index: src('index.ts'), node: src('node.ts'), worker: src('worker.ts') },
      formats: ['es'],
    },
    rollupOptions: {
      external: [
        /^@tensorflow\//,
        /^@bufbuild\/protobuf/,
        /^crc-32(\/|$)/,
        'idb-keyval',
        'seedrandom',
        'uplot',
        'comlink',
        /^node:/,
      ],
      // Classes keep their names minified, so that a message describing a given value says "an instance of Accuracy"
      // rather than "an instance of e" when a kindling object is passed where another was expected.
      output: { keepNames: true },
    },
  },
});
