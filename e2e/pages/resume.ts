// Test page of e2e/resume.spec.ts: trains a small classifier with a DeterministicEngine, checkpoints it into
// IndexedDB every `every` iterations, and on load resumes from the newest checkpoint (resumeOrStart).
//
// URL: resume.html?backend=cpu|webgpu&db=NAME[&epochs=3&every=5&delay=0][&mode=leak]
// Each page load appends a session { resumedFrom, filename, losses, saved } to localStorage[`kindling-resume:${db}`],
// so a test can read the loss of every iteration across a reload. `window.progress` shows where training is;
// `window.result` resolves when the run (or the leak check, mode=leak) is over.
import * as tf from '@tensorflow/tfjs';
import {
  Checkpoint,
  createGenerator,
  createSupervisedTrainer,
  DataLoader,
  Events,
  IndexedDBSaver,
  manualSeed,
  resumeOrStart,
  selectBackend,
  TensorDataset,
} from 'kindling';

const SEED = 2024;
const ROWS = 256;
const FEATURES = 12;
const CLASSES = 4;
const BATCH_SIZE = 16; // 16 iterations per epoch: no multiple of every=5 below 80 ends an epoch

/** One page load's record. */
interface Session {
  resumedFrom: number | null;
  filename: string | null;
  /** Loss of each iteration this page ran, by iteration number. */
  losses: Record<number, number>;
  /** Iterations at which this page finished saving a checkpoint. */
  saved: number[];
}

interface Progress {
  phase: 'loading' | 'training' | 'done' | 'error';
  iteration: number;
  error?: string;
}

const params = new URLSearchParams(location.search);
const backendName = params.get('backend') ?? 'cpu';
const dbName = params.get('db') ?? 'resume';
const epochs = Number(params.get('epochs') ?? 3);
const every = Number(params.get('every') ?? 5);
const delay = Number(params.get('delay') ?? 0);
const mode = params.get('mode') ?? 'train';
const storageKey = `kindling-resume:${dbName}`;

const progress: Progress = { phase: 'loading', iteration: 0 };
const win = window as unknown as { progress: Progress; result: Promise<unknown> };
win.progress = progress;

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;

/** Inputs from the seeded generator; labels from a fixed linear rule, so the model has something to learn. */
function makeData(): TensorDataset {
  const generator = createGenerator(SEED, 1);
  const x = new Float32Array(ROWS * FEATURES);
  for (let i = 0; i < x.length; i++) x[i] = generator.next() * 2 - 1;
  const labels = new Int32Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < CLASSES; c++) {
      let score = 0;
      for (let f = 0; f < FEATURES; f++) score += x[r * FEATURES + f] * Math.sin(1 + c * FEATURES + f);
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    labels[r] = best;
  }
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat());
  return new TensorDataset(tf.tensor2d(x, [ROWS, FEATURES]), y);
}

/** Dense → dropout → dense with explicit layer names (checkpoints hold weights by name). */
function buildModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 24, inputShape: [FEATURES], activation: 'relu', name: 'hidden' }),
      tf.layers.dropout({ rate: 0.25, name: 'drop' }),
      tf.layers.dense({ units: CLASSES, name: 'head' }),
    ],
  });
}

function readSessions(): Session[] {
  return JSON.parse(localStorage.getItem(storageKey) ?? '[]') as Session[];
}

async function setUp() {
  const selection = await selectBackend({ prefer: backendName as 'cpu' | 'webgpu' });
  if (selection.backend !== backendName) {
    throw new Error(`resume page: asked for backend ${backendName}, got ${selection.backend} (${selection.reason}).`);
  }
  manualSeed(SEED);
  const dataset = makeData();
  const loader = new DataLoader(dataset, { batchSize: BATCH_SIZE, shuffle: true });
  const model = buildModel();
  const optimizer = tf.train.adam(0.01);
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  const saver = new IndexedDBSaver(dbName);
  // The DeterministicEngine's stateDict holds the seed and the RNG state (rngStates): no separate rng entry needed.
  const checkpoint = new Checkpoint({ trainer, model, optimizer }, saver, { nSaved: 2, includeSelf: true });
  return { selection, dataset, loader, model, optimizer, trainer, saver, checkpoint };
}

async function train() {
  const { selection, loader, model, optimizer, trainer, saver, checkpoint } = await setUp();
  const sessions = readSessions();
  const session: Session = { resumedFrom: null, filename: null, losses: {}, saved: [] };
  sessions.push(session);
  const persist = () => localStorage.setItem(storageKey, JSON.stringify(sessions));

  // Recorded before the checkpoint of the same iteration is taken.
  trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
    const output = engine.state.output as tf.Scalar;
    session.losses[engine.state.iteration] = (await output.data())[0];
    persist();
    progress.iteration = engine.state.iteration;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  });
  trainer.on(Events.ITERATION_COMPLETED({ every }), checkpoint);
  trainer.on(Events.ITERATION_COMPLETED({ every }), (engine) => {
    session.saved.push(engine.state.iteration);
    persist();
  });

  const info = await resumeOrStart({ saver, toLoad: { trainer, model, optimizer, checkpointer: checkpoint } });
  session.resumedFrom = info.resumed ? info.iteration : null;
  session.filename = info.filename;
  persist();
  progress.iteration = info.iteration;
  progress.phase = 'training';
  const tensorsBefore = tf.memory().numTensors;
  const state = await trainer.run(loader, { maxEpochs: epochs });
  progress.phase = 'done';
  return {
    backend: selection.backend,
    adapter: selection.adapter,
    epochLength: state.epochLength,
    iteration: state.iteration,
    files: await saver.list(),
    tensorsBefore,
    tensorsAfter: tf.memory().numTensors,
    sessions: readSessions(),
  };
}

/** Saves and resumes `rounds` times after a warm-up epoch; returns tf.memory().numTensors after each. */
async function leakCheck(rounds: number) {
  const { selection, loader, model, optimizer, trainer, saver, checkpoint } = await setUp();
  await trainer.run(loader, { maxEpochs: 1 }); // creates Adam's slots
  const toLoad = { trainer, model, optimizer, checkpointer: checkpoint };
  const counts = [tf.memory().numTensors];
  for (let round = 0; round < rounds; round++) {
    await checkpoint.handle(trainer);
    counts.push(tf.memory().numTensors);
    const info = await resumeOrStart({ saver, toLoad });
    if (!info.resumed) throw new Error('leak check: resumeOrStart found no checkpoint');
    counts.push(tf.memory().numTensors);
  }
  // Training on after the loads must not leak either.
  await trainer.run(loader, { maxEpochs: 2 });
  counts.push(tf.memory().numTensors);
  progress.phase = 'done';
  return { backend: selection.backend, counts, files: await saver.list() };
}

win.result = (mode === 'leak' ? leakCheck(5) : train()).then(
  (result) => {
    document.getElementById('out')!.textContent = JSON.stringify({ ...result, sessions: undefined }, null, 2);
    return result;
  },
  (error: unknown) => {
    progress.phase = 'error';
    progress.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    document.getElementById('out')!.textContent = progress.error;
    throw error;
  },
);
