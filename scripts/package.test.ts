// The package as a user gets it: `npm pack`s the build (npm test builds first), installs the tarball into a fresh
// project, compiles a small strict TypeScript consumer of `kindling` and `kindling/node` under moduleResolution bundler,
// node16 and nodenext, and runs a Node script against the installed copy.
//
// Offline: the tarball is unpacked into the project's node_modules, and the packages npm would install beside it
// (kindling's dependencies, its required peer @tensorflow/tfjs, and the consumer's @types/node) are linked from this
// checkout's node_modules. The optional peer @tensorflow/tfjs-backend-webgpu is left out on purpose: the types must
// not need it.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What `npm run build` reads; the build must be newer than all of it. */
const BUILD_INPUTS = [
  'src',
  'package.json',
  'vite.config.ts',
  'tsconfig.json',
  'tsconfig.build.json',
  'scripts/dts-specifiers.mjs',
];

function newestInput(): { path: string; mtime: number } {
  let newest = { path: '', mtime: 0 };
  const visit = (path: string) => {
    const stat = statSync(path);
    if (stat.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else if (!/\.test(-d|-util)?\.ts$|\.test\.ts$/.test(path) && stat.mtimeMs > newest.mtime) {
      newest = { path: relative(root, path), mtime: stat.mtimeMs };
    }
  };
  for (const input of BUILD_INPUTS) visit(join(root, input));
  return newest;
}

/** Fails unless dist/ holds a build of the current sources. */
function assertFreshBuild(): void {
  const outputs = [
    'dist/index.js',
    'dist/node.js',
    'dist/worker.js',
    'dist/types/index.d.ts',
    'dist/types/node.d.ts',
    'dist/types/worker.d.ts',
  ].map((p) => join(root, p));
  const missing = outputs.filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new Error(
      `${missing.map((p) => relative(root, p)).join(', ')} missing: run npm run build first (npm test does).`,
    );
  }
  const built = Math.min(...outputs.map((path) => statSync(path).mtimeMs));
  const newest = newestInput();
  if (newest.mtime > built) {
    throw new Error(`dist/ is older than ${newest.path}: run npm run build first (npm test does).`);
  }
}

let work: string;
let project: string;
/** What `npm pack --json` says of the tarball. */
interface Packed {
  filename: string;
  size: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}
let packed: Packed;

/** Links node_modules/<name> of the project to this checkout's copy (a junction on Windows). */
function link(name: string): void {
  const target = join(root, 'node_modules', name);
  if (!existsSync(target)) throw new Error(`${name} is not installed in this checkout: run npm ci.`);
  const path = join(project, 'node_modules', name);
  mkdirSync(dirname(path), { recursive: true });
  symlinkSync(target, path, 'junction');
}

beforeAll(() => {
  assertFreshBuild();
  work = mkdtempSync(join(tmpdir(), 'kindling-package-'));
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  [packed] = JSON.parse(out) as Packed[];
  const tarball = join(work, packed.filename);

  project = join(work, 'consumer');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', join(project, 'node_modules')]);
  renameSync(join(project, 'node_modules', 'package'), join(project, 'node_modules', 'kindling'));
  const manifest = JSON.parse(readFileSync(join(project, 'node_modules', 'kindling', 'package.json'), 'utf8'));
  const optional = manifest.peerDependenciesMeta ?? {};
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optional[name]?.optional);
  for (const name of [...Object.keys(manifest.dependencies ?? {}), ...peers, '@types/node']) link(name);

  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  mkdirSync(join(project, 'src'));
  writeFileSync(join(project, 'src', 'train.ts'), CONSUMER);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A strict consumer: the README's calls, typed as a user would write them. */
const CONSUMER = `
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  type BackendSelection,
  Checkpoint,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  describeBackend,
  EarlyStopping,
  Events,
  LiveCharts,
  Loss,
  MemorySaver,
  readLoss,
  type ResumeReport,
  resumeOrStart,
  selectBackend,
  setupResumableTraining,
  TensorDataset,
} from 'kindling';
import { DiskSaver, type DiskSaverOptions } from 'kindling/node';
import { type RunOutcome, type Training, type TrainingSetup, trainHere } from 'kindling/worker';

const selection: BackendSelection = await selectBackend({ prefer: 'cpu' });
const badge: string = describeBackend(selection, true);

const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3 })] });
const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;
const optimizer = tf.train.adam(1e-3);
const loader = new DataLoader(new TensorDataset(tf.zeros([8, 4]), tf.oneHot(tf.zeros([8], 'int32'), 3)), {
  batchSize: 4,
  shuffle: true,
});
const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) } });

trainer.on(Events.ITERATION_COMPLETED({ every: 2 }), async (engine) => {
  const loss: number = await readLoss(engine);
  console.log(engine.state.iteration, loss);
});
trainer.on(Events.EPOCH_COMPLETED, async () => {
  await evaluator.run(loader);
});
evaluator.on(
  Events.COMPLETED,
  new EarlyStopping({ patience: 3, scoreFunction: (engine) => engine.state.metrics.accuracy, trainer }),
);
{
  using handle = trainer.on(Events.STARTED, () => console.log(badge));
  handle.remove();
}

const options: DiskSaverOptions = { requireEmpty: false };
const saver = typeof window === 'undefined' ? new DiskSaver('checkpoints', options) : new MemorySaver();
const toSave = { trainer, model, optimizer };
const checkpoint = new Checkpoint(toSave, saver, { nSaved: 2, includeSelf: true });
trainer.on(Events.EPOCH_COMPLETED, checkpoint);
const { resumed }: { resumed: boolean } = await resumeOrStart({ saver, toLoad: { ...toSave, checkpointer: checkpoint } });
await trainer.run(loader, { maxEpochs: resumed ? 3 : 2 });

// The headline parts: resumable training, a recipe run through kindling/worker's handle, LiveCharts' types (uPlot,
// an optional peer, is not installed here: the types must not need it).
const charts: LiveCharts | null = typeof document === 'undefined' ? null : new LiveCharts(document.body, { learningRate: optimizer });
const recipe = async (options: { epochs: number }): Promise<TrainingSetup<{ lr: () => number }>> => {
  const training = await setupResumableTraining(trainer, { saver: new MemorySaver(), toSave: { model, optimizer }, saveEveryIters: 2 });
  const report: ResumeReport = training.report;
  return { trainer, report, run: () => training.run(loader, { maxEpochs: options.epochs }), actions: { lr: () => 0.1 } };
};
const handle: Training<{ lr: () => number }> = await trainHere(recipe, { epochs: 4 }, charts ? { shared: { charts } } : {});
const outcome: RunOutcome = await handle.run();
const lr: number = await handle.actions.lr();
console.log(outcome.end, lr);
`;

type Resolution = 'bundler' | 'node16' | 'nodenext';

const SETTINGS: Record<Resolution, ts.CompilerOptions> = {
  // A Vite app's settings (npm create vite).
  bundler: { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler },
  node16: { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 },
  nodenext: { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext },
};

/**
 * Compiles the consumer; returns the errors in the consumer's own files and in kindling's declarations (not those in
 * tfjs's, which do not compile under `skipLibCheck: false` themselves and are skipped as every tfjs user skips them).
 */
function compile(resolution: Resolution): string {
  const options: ts.CompilerOptions = {
    ...SETTINGS[resolution],
    target: ts.ScriptTarget.ES2022,
    // ES2022 on purpose: the types must bring what they need beyond it (Symbol.dispose for `using`).
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    skipLibCheck: false,
    noEmit: true,
  };
  const program = ts.createProgram([join(project, 'src', 'train.ts')], options);
  const own = realpathSync(project);
  const diagnostics: ts.Diagnostic[] = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const file of program.getSourceFiles()) {
    if (!realpathSync(file.fileName).startsWith(own)) continue;
    diagnostics.push(...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file));
  }
  const resolved = program.getSourceFiles().filter((file) => file.fileName.includes('/node_modules/kindling/'));
  if (resolved.length === 0) return 'kindling did not resolve to node_modules/kindling';
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (name) => name,
    getCurrentDirectory: () => project,
    getNewLine: () => '\n',
  });
}

describe('the packed package', () => {
  it('ships the built code, its types and the README: no source maps, tests or test helpers', () => {
    const paths = packed.files.map((file) => file.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/index.js',
        'dist/node.js',
        'dist/worker.js',
        'dist/types/index.d.ts',
        'dist/types/node.d.ts',
        'dist/types/worker.d.ts',
      ]),
    );
    expect(paths.filter((path) => /\.map$|\.test(-util|-d)?\.|\.tsbuildinfo$/.test(path))).toEqual([]);
    expect(paths.filter((path) => !/^(package\.json|README\.md|LICENSE|dist\/.+\.(js|d\.ts))$/.test(path))).toEqual([]);
  });

  it.each(['bundler', 'node16', 'nodenext'] as const)(
    'a strict consumer of kindling, kindling/node and kindling/worker compiles under moduleResolution %s',
    (resolution) => {
      expect(compile(resolution)).toBe('');
    },
  );

  it('runs in Node from its own names, kindling and kindling/node', () => {
    const script = join(project, 'run.mjs');
    writeFileSync(
      script,
      `
      import * as tf from '@tensorflow/tfjs';
      import { createSupervisedTrainer, DataLoader, Events, readLoss, TensorDataset } from 'kindling';
      import { DiskSaver } from 'kindling/node';
      tf.enableProdMode();
      await tf.setBackend('cpu');
      const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
      const loader = new DataLoader(new TensorDataset(tf.ones([4, 2]), tf.ones([4, 1])), { batchSize: 2 });
      const trainer = createSupervisedTrainer(model, tf.train.sgd(0.1), (p, y) => tf.losses.meanSquaredError(y, p));
      const losses = [];
      trainer.on(Events.ITERATION_COMPLETED, async (engine) => { losses.push(await readLoss(engine)); });
      await trainer.run(loader, { maxEpochs: 2 });
      const saver = new DiskSaver('ckpt');
      await saver.save({ iteration: trainer.state.iteration }, 'model_4.ckpt');
      console.log(JSON.stringify({ losses: losses.length, falling: losses[3] < losses[0], files: await saver.list() }));
      `,
    );
    const out = execFileSync(process.execPath, [script], { cwd: project, encoding: 'utf8' });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ losses: 4, falling: true, files: ['model_4.ckpt'] });
  });
});
