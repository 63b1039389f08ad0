// Test API of e2e/browser-parts.spec.ts: each function runs one scenario in this page and returns plain results.
// `window.parts` holds them; `window.ready` is true once the module has loaded.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  ConfusionMatrix,
  createSupervisedTrainer,
  DataLoader,
  Engine,
  Events,
  Loss,
  Precision,
  ProgressBar,
  RunningAverage,
  selectBackend,
  setLogger,
  TensorDataset,
  TerminateOnNan,
} from 'kindling';

type BackendName = 'cpu' | 'webgpu';

/** One batch as plain data: logits (rows of C scores) and class labels. */
export interface PlainBatch {
  logits: number[][];
  labels: number[];
}

async function useBackend(name: BackendName): Promise<string> {
  const selection = await selectBackend({ prefer: name });
  if (selection.backend !== name) throw new Error(`asked for backend ${name}, got ${selection.backend}`);
  return selection.backend;
}

/**
 * Runs `fn` with every synchronous readback throwing: Tensor.dataSync/arraySync/bufferSync, and on a GPU backend its
 * readSync (the CPU backend's async read() calls its own readSync, so it is not spied there). Returns what `fn`
 * returns and the names of the synchronous reads attempted.
 */
async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<{ value: T; syncReads: string[] }> {
  const syncReads: string[] = [];
  const proto = tf.Tensor.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const backend = tf.backend() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals = new Map<[Record<string, unknown>, string], unknown>();
  const spy = (owner: Record<string, (...args: unknown[]) => unknown>, name: string) => {
    originals.set([owner, name], owner[name]);
    owner[name] = () => {
      syncReads.push(name);
      throw new Error(`${name}() was called during a run that must not read back synchronously`);
    };
  };
  for (const name of ['dataSync', 'arraySync', 'bufferSync']) spy(proto, name);
  if (tf.getBackend() !== 'cpu') spy(backend, 'readSync');
  try {
    return { value: await fn(), syncReads };
  } finally {
    for (const [[owner, name], original] of originals) owner[name] = original;
  }
}

const CLASSES = 3;

/** Accuracy, Precision (macro), ConfusionMatrix, Loss (epoch-wise) and RunningAverage of the loss on `backend`. */
async function metrics(backend: BackendName, batches: PlainBatch[]) {
  const used = await useBackend(backend);
  const lossFn = (yPred: tf.Tensor, y: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, CLASSES), yPred) as tf.Scalar;
  const before = tf.memory().numTensors;
  let held: tf.Tensor[] = [];
  const engine = new Engine((_engine, batch: PlainBatch) => {
    tf.dispose(held);
    const yPred = tf.tensor2d(batch.logits);
    const y = tf.tensor1d(batch.labels, 'int32');
    const loss = tf.tidy(() => lossFn(yPred, y));
    held = [yPred, y, loss];
    return { yPred, y, loss };
  });
  const pair = (output: { yPred: tf.Tensor; y: tf.Tensor }) => [output.yPred, output.y] as const;
  new Accuracy({ outputTransform: pair }).attach(engine, 'accuracy');
  new Precision({ average: 'macro', outputTransform: pair }).attach(engine, 'precision');
  new ConfusionMatrix({ numClasses: CLASSES, outputTransform: pair }).attach(engine, 'cm');
  new Loss(lossFn, { outputTransform: pair }).attach(engine, 'loss');
  new RunningAverage({ alpha: 0.9, outputTransform: (output) => output.loss }).attach(engine, 'runningLoss');
  const running: number[] = [];
  engine.on(Events.ITERATION_COMPLETED, (e) => {
    running.push(e.state.metrics.runningLoss as number);
  });
  engine.on(Events.COMPLETED, () => {
    tf.dispose(held);
    held = [];
  });
  const { value: state, syncReads } = await withoutSyncReads(() => engine.run(batches, { maxEpochs: 1 }));
  const { accuracy, precision, cm, loss } = state.metrics;
  return {
    backend: used,
    accuracy,
    precision,
    cm,
    loss,
    running,
    syncReads,
    leaked: tf.memory().numTensors - before,
  };
}

/** A small classifier and a loader over `rows` rows of 4 features (labels: which feature is largest). */
function smallTraining(rows: number, batchSize: number, nanRow: number | null) {
  const x = new Float32Array(rows * 4);
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    for (let f = 0; f < 4; f++) x[r * 4 + f] = Math.sin(r * 4.1 + f * 1.7);
    labels[r] = [0, 1, 2, 3].reduce((best, f) => (x[r * 4 + f] > x[r * 4 + best] ? f : best), 0) % CLASSES;
  }
  if (nanRow !== null) x[nanRow * 4] = Number.NaN;
  const dataset = new TensorDataset(
    tf.tensor2d(x, [rows, 4]),
    tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat()),
  );
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, inputShape: [4], activation: 'tanh', name: 'hidden' }),
      tf.layers.dense({ units: CLASSES, name: 'head' }),
    ],
  });
  const optimizer = tf.train.adam(0.01);
  const trainer = createSupervisedTrainer(
    model,
    optimizer,
    (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar,
  );
  const loader = new DataLoader(dataset, { batchSize });
  const dispose = () => {
    model.dispose();
    optimizer.dispose();
    tf.dispose([...dataset.tensors]);
  };
  return { trainer, loader, dispose };
}

interface Snapshot {
  epoch: number;
  iteration: number;
  value: number;
  max: number;
  text: string;
}

/** Trains 2 epochs of 8 iterations on WebGPU with a DOM ProgressBar; snapshots the bar after each iteration. */
async function progressRun(delayMs: number) {
  const used = await useBackend('webgpu');
  const before = tf.memory().numTensors;
  const { trainer, loader, dispose } = smallTraining(64, 8, null);
  const container = document.getElementById('progress')!;
  container.replaceChildren();
  new ProgressBar({ container, minInterval: 0 }).attach(trainer, {
    outputTransform: (loss: tf.Scalar) => ({ loss }),
  });
  const snapshots: Snapshot[] = [];
  trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
    const progress = container.querySelector('progress')!;
    const text = container.querySelector('.kindling-progress-text')!;
    snapshots.push({
      epoch: engine.state.epoch,
      iteration: engine.state.iteration,
      value: progress.value,
      max: progress.max,
      text: text.textContent ?? '',
    });
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
  });
  const { syncReads } = await withoutSyncReads(() => trainer.run(loader, { maxEpochs: 2 }));
  dispose();
  return { backend: used, snapshots, syncReads, leaked: tf.memory().numTensors - before };
}

/** Trains on WebGPU with a NaN in row `nanRow` (no shuffle, batch 8) and TerminateOnNan attached. */
async function nanRun(nanRow: number) {
  const used = await useBackend('webgpu');
  const before = tf.memory().numTensors;
  const { trainer, loader, dispose } = smallTraining(48, 8, nanRow);
  new TerminateOnNan().attach(trainer);
  const warnings: string[] = [];
  const events: string[] = [];
  trainer.on(Events.ITERATION_COMPLETED, (e) => {
    events.push(`iteration ${e.state.iteration}`);
  });
  trainer.on(Events.TERMINATE, (e) => {
    events.push(`terminate at ${e.state.iteration}`);
  });
  trainer.on(Events.COMPLETED, () => {
    events.push('completed');
  });
  const previous = setLogger({ debug() {}, info() {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) });
  try {
    const { value: state, syncReads } = await withoutSyncReads(() => trainer.run(loader, { maxEpochs: 3 }));
    dispose();
    return {
      backend: used,
      iteration: state.iteration,
      epoch: state.epoch,
      events,
      warnings,
      syncReads,
      leaked: tf.memory().numTensors - before,
    };
  } finally {
    setLogger(previous);
  }
}

const win = window as unknown as { parts: unknown; ready: boolean };
win.parts = { metrics, progressRun, nanRun };
win.ready = true;
