// npm run size — gzip size of kindling's bundle without tfjs, for a few imports (tree-shaken, minified), and of each
// part of the headline: resumable training, LiveCharts, and kindling/worker's two sides (Comlink, ~1.2 kB, counted).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'vite';

const root = resolve(import.meta.dirname, '..');
const cases = {
  'Engine + Events (the core)': 'export { Engine, Events } from "kindling";',
  'a training page (engine, data, trainer, metrics, checkpoints)':
    'export { Engine, Events, DataLoader, TensorDataset, DeterministicEngine, createSupervisedTrainer, createSupervisedEvaluator, Accuracy, Loss, Checkpoint, IndexedDBSaver, resumeOrStart } from "kindling";',
  'everything (export *)': 'export * from "kindling";',
  'setupResumableTraining (+ Engine, Checkpoint, IndexedDBSaver)':
    'export { setupResumableTraining, Engine, IndexedDBSaver } from "kindling";',
  'LiveCharts (uPlot not counted: an optional peer, loaded on use)': 'export { LiveCharts } from "kindling";',
  'kindling/worker, the page (trainInWorker, EngineMirror, Comlink)':
    'export { trainInWorker, EngineMirror } from "kindling/worker";',
  'kindling/worker, the Worker (serveTraining, Comlink)': 'export { serveTraining } from "kindling/worker";',
  'kindling/worker, everything (export *)': 'export * from "kindling/worker";',
};
/** What the package leaves to its users' bundles; Comlink is a dependency of kindling/worker and is counted. */
const external = [
  /^@tensorflow\//,
  /^@bufbuild\/protobuf/,
  /^crc-32(\/|$)/,
  'idb-keyval',
  'seedrandom',
  'uplot',
  /^node:/,
];

const dir = mkdtempSync(join(tmpdir(), 'kindling-size-'));
try {
  console.log(
    'kindling bundle size, minified, without @tensorflow/*, @bufbuild/protobuf, crc-32, seedrandom, idb-keyval and uplot:',
  );
  for (const [label, source] of Object.entries(cases)) {
    const entry = join(dir, 'entry.js');
    writeFileSync(entry, source);
    const outDir = join(dir, 'out');
    await build({
      root,
      configFile: join(root, 'vite.config.ts'),
      logLevel: 'silent',
      build: {
        outDir,
        emptyOutDir: true,
        sourcemap: false,
        minify: true,
        lib: { entry, formats: ['es'], fileName: 'bundle' },
        rollupOptions: { external },
      },
    });
    const code = readdirSync(outDir)
      .filter((file) => file.endsWith('.js'))
      .map((file) => readFileSync(join(outDir, file)))
      .reduce((all, buffer) => Buffer.concat([all, buffer]), Buffer.alloc(0));
    const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
    console.log(
      `  ${label.padEnd(68)} ${kb(code.length).padStart(9)}  gzip ${kb(gzipSync(code, { level: 9 }).length)}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
