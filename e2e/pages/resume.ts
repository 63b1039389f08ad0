// Test page of e2e/resume.spec.ts: trains a small classifier with a DeterministicEngine, checkpoints it into
// IndexedDB every `every` iterations, and on load resumes from the newest checkpoint (resumeOrStart).
//
// URL: resume.html?backend=cpu|webgpu&db=NAME[&epochs=3&every=5&delay=0][&mode=leak][&full=1][&stopAt=K][&async=1]
// Each page load appends a session { resumedFrom, filename, losses, saved } to localStorage[`kindling-resume:${db}`],
// so a test can read the loss of every iteration across a reload. `window.progress` shows where training is;
// `window.result` resolves when the run (or the leak check, mode=leak) is over.
// full=1 adds everything else a run carries, all in the checkpoint: Accuracy and Loss on the trainer (EpochWise and as
// RunningAverages), a cosine learning-rate schedule, an evaluator every epoch with EarlyStopping; the session then also
// records `iterations` (loss, lr, running metrics) and `epochs` (epoch metrics, validation, early-stopping state).
// stopAt=K: a first page load (nothing to resume) stops after the checkpoint of iteration K (phase 'stopped'),
// waiting for the test to reload it.
// async=1: the Checkpoint writes in the background (`async: true`); `saved` lists the checkpoints made durable
// (SAVED_CHECKPOINT), in either mode.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  Checkpoint,
  CheckpointEvents,
  CosineAnnealingScheduler,
  createGenerator,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  EarlyStopping,
  type Engine,
  Events,
  IndexedDBSaver,
  Loss,
  manualSeed,
  RunningAverage,
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
  /** full=1: per iteration, the loss, the learning rate and the running metrics. */
  iterations?: Record<number, { loss: number; lr: number; runAcc: number; runLoss: number }>;
  /** full=1: per epoch, the epoch metrics, the validation metrics and EarlyStopping's state after its decision. */
  epochs?: Record<number, Record<string, unknown>>;
}

interface Progress {
  phase: 'loading' | 'training' | 'stopped' | 'done' | 'error';
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
const full = params.get('full') === '1';
const stopAt = Number(params.get('stopAt') ?? 0);
const background = params.get('async') === '1';
const storageKey = `kindling-resume:${dbName}`;

const progress: Progress = { phase: 'loading', iteration: 0 };
const win = window as unknown as { progress: Progress; result: Promise<unknown> };
win.progress = progress;

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;

/** Inputs from the seeded generator; labels from a fixed linear rule, so the model has something to learn. */
function makeData(stream = 1): TensorDataset {
  const generator = createGenerator(SEED, stream);
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
  const saver = new IndexedDBSaver(dbName);
  if (!full) {
    const trainer: Engine<any, any> = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
    // The DeterministicEngine's stateDict holds the seed and the RNG state (rngStates): no separate rng entry needed.
    const checkpoint = new Checkpoint({ trainer, model, optimizer }, saver, {
      nSaved: 2,
      includeSelf: true,
      async: background,
    });
    const lossOf = (output: unknown) => output as tf.Scalar;
    return { selection, dataset, loader, model, optimizer, trainer, saver, checkpoint, lossOf, epochValues: null };
  }
  type Output = { loss: tf.Scalar; yPred: tf.Tensor; y: tf.Tensor };
  const trainer: Engine<any, any> = createSupervisedTrainer(model, optimizer, lossFn, {
    deterministic: true,
    outputTransform: (_x, y, yPred, loss): Output => ({ loss, yPred: yPred as tf.Tensor, y: y as tf.Tensor }),
  });
  const pair = (o: Output) => [o.yPred, o.y] as [tf.Tensor, tf.Tensor];
  const scheduler = new CosineAnnealingScheduler(optimizer, { startValue: 0.01, endValue: 0.001, cycleSize: 11 });
  scheduler.attach(trainer);
  const acc = new Accuracy({ outputTransform: pair });
  const loss = new Loss(lossFn, { outputTransform: pair });
  const runAcc = new RunningAverage({ src: new Accuracy({ outputTransform: pair }), alpha: 0.9 });
  const runLoss = new RunningAverage({ outputTransform: (o: Output) => o.loss, alpha: 0.9 });
  acc.attach(trainer, 'acc');
  loss.attach(trainer, 'loss');
  runAcc.attach(trainer, 'runAcc');
  runLoss.attach(trainer, 'runLoss');
  const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) } });
  // No gain of 0.5 in accuracy comes: the counter goes 0, 1, 2, and the run stops after epoch 3.
  const earlyStopping = new EarlyStopping({
    patience: 2,
    minDelta: 0.5,
    scoreFunction: (e) => e.state.metrics.accuracy,
    trainer,
  });
  evaluator.on(Events.COMPLETED, earlyStopping);
  const valLoader = new DataLoader(makeData(2), { batchSize: 64 });
  /** Runs the evaluation of the epoch just completed and returns what the session records of it. */
  const epochValues = async (): Promise<Record<string, unknown>> => {
    await evaluator.run(valLoader);
    const { counter, bestScore } = earlyStopping.stateDict();
    return {
      acc: trainer.state.metrics.acc,
      loss: trainer.state.metrics.loss,
      valAccuracy: evaluator.state.metrics.accuracy,
      valLoss: evaluator.state.metrics.loss,
      earlyStopping: { counter, bestScore },
      terminated: trainer.shouldTerminate !== false,
    };
  };
  const toSave = { trainer, model, optimizer, scheduler, earlyStopping, acc, loss, runAcc, runLoss };
  const checkpoint = new Checkpoint(toSave, saver, { nSaved: 2, includeSelf: true, async: background });
  const lossOf = (output: unknown) => (output as Output).loss;
  return { selection, dataset, loader, model, optimizer, trainer, saver, checkpoint, lossOf, epochValues, toSave };
}

async function train() {
  const set = await setUp();
  const { selection, loader, model, optimizer, trainer, saver, checkpoint, lossOf, epochValues } = set;
  const sessions = readSessions();
  const session: Session = { resumedFrom: null, filename: null, losses: {}, saved: [] };
  sessions.push(session);
  const persist = () => localStorage.setItem(storageKey, JSON.stringify(sessions));

  // Recorded before the checkpoint of the same iteration is taken.
  trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
    const loss = (await lossOf(engine.state.output).data())[0]!;
    session.losses[engine.state.iteration] = loss;
    if (full) {
      session.iterations ??= {};
      session.iterations[engine.state.iteration] = {
        loss,
        lr: (optimizer as unknown as { learningRate: number }).learningRate,
        runAcc: engine.state.metrics.runAcc,
        runLoss: engine.state.metrics.runLoss,
      };
    }
    persist();
    progress.iteration = engine.state.iteration;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  });
  if (epochValues !== null) {
    trainer.on(Events.EPOCH_COMPLETED, async (engine) => {
      session.epochs ??= {};
      session.epochs[engine.state.epoch] = await epochValues();
      persist();
    });
  }
  checkpoint.attach(trainer, Events.ITERATION_COMPLETED({ every }));
  // Once a checkpoint is durable: with background saves, the trainer has moved on since its iteration.
  trainer.on(CheckpointEvents.SAVED_CHECKPOINT, () => {
    session.saved.push(Number(/_(\d+)\.ckpt$/.exec(String(checkpoint.lastCheckpoint))![1]));
    persist();
  });

  const toLoad = { ...(set.toSave ?? { trainer, model, optimizer }), checkpointer: checkpoint };
  const info = await resumeOrStart({ saver, toLoad });
  session.resumedFrom = info.resumed ? info.iteration : null;
  session.filename = info.name;
  persist();
  if (stopAt > 0 && !info.resumed) {
    // The first page load stops after the checkpoint of iteration stopAt: the test reloads the page there.
    trainer.on(Events.ITERATION_COMPLETED({ once: stopAt }), (engine) => engine.interrupt());
  }
  progress.iteration = info.iteration;
  progress.phase = 'training';
  const tensorsBefore = tf.memory().numTensors;
  const state = await trainer.run(loader, { maxEpochs: epochs });
  if (state.iteration === stopAt && !info.resumed) {
    progress.phase = 'stopped';
    return new Promise<never>(() => {}); // until the test reloads the page
  }
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
