// The recipe of e2e/pages/headline.ts, run on the page's thread (trainHere) or in headline.worker.ts (serveTraining).
// Public API only: 'kindling'. A classifier with dropout, Adam, a cosine LR schedule, an evaluator each epoch, and a
// resumable training that checkpoints all of it (and the page's charts) into IndexedDB every `every` iterations.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  type BackendName,
  CosineAnnealingScheduler,
  createGenerator,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  Events,
  IndexedDBSaver,
  Loss,
  manualSeed,
  type Stateful,
  selectBackend,
  setupResumableTraining,
  TensorDataset,
} from 'kindling';

export interface HeadlineOptions {
  backend: BackendName;
  db: string;
  epochs: number;
  every: number;
  /** Stop training at this iteration (a handler that never returns), as if the tab froze: the reload comes then. */
  hangAt: number | null;
}

const ROWS = 208;
const FEATURES = 12;
const CLASSES = 4;
/** 13 iterations per epoch. */
export const BATCH_SIZE = 16;

/** Inputs from a seeded generator; labels from a fixed linear rule, so the model has something to learn. */
function makeData(): { x: tf.Tensor2D; y: tf.Tensor2D } {
  const generator = createGenerator(2024, 1);
  const x = new Float32Array(ROWS * FEATURES).map(() => generator.next() * 2 - 1);
  const labels = new Int32Array(ROWS);
  for (let r = 0; r < ROWS; r++) {
    let best = 0;
    let bestScore = Number.NEGATIVE_INFINITY;
    for (let c = 0; c < CLASSES; c++) {
      let score = 0;
      for (let f = 0; f < FEATURES; f++) score += x[r * FEATURES + f]! * Math.sin(1 + c * FEATURES + f);
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    labels[r] = best;
  }
  return {
    x: tf.tensor2d(x, [ROWS, FEATURES]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat() as tf.Tensor2D),
  };
}

export async function headlineRecipe(options: HeadlineOptions, shared: Record<string, Stateful>) {
  const selection = await selectBackend({ prefer: options.backend });
  if (selection.backend !== options.backend) {
    throw new Error(`headline: asked for ${options.backend}, got ${selection.backend} (${selection.reason}).`);
  }
  manualSeed(7);
  const { x, y } = makeData();
  const data = new TensorDataset(x, y);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 24, inputShape: [FEATURES], activation: 'relu', name: 'hidden' }),
      tf.layers.dropout({ rate: 0.25, name: 'drop' }),
      tf.layers.dense({ units: CLASSES, name: 'head' }),
    ],
  });
  const optimizer = tf.train.adam(0.02);
  const lossFn = (yPred: tf.Tensor, yTrue: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred) as tf.Scalar;
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  const loader = new DataLoader(data, { batchSize: BATCH_SIZE, shuffle: true });
  const schedule = new CosineAnnealingScheduler(optimizer, { startValue: 0.02, endValue: 0.002, cycleSize: 40 });
  trainer.on(Events.ITERATION_STARTED, schedule);
  trainer.on(Events.ITERATION_STARTED, (engine) => {
    engine.state.lr = (optimizer as unknown as { learningRate: number }).learningRate;
  });
  const metrics = { accuracy: new Accuracy(), loss: new Loss(lossFn) };
  const evaluator = createSupervisedEvaluator(model, { metrics });
  const valLoader = new DataLoader(data, { batchSize: ROWS });
  trainer.on(Events.EPOCH_COMPLETED, async () => {
    await evaluator.run(valLoader);
  });
  if (options.hangAt !== null)
    trainer.on(Events.ITERATION_COMPLETED({ once: options.hangAt }), () => new Promise(() => {}));
  const saver = new IndexedDBSaver(options.db);
  const training = await setupResumableTraining(trainer, {
    saver,
    toSave: { model, optimizer, schedule, ...shared },
    saveEveryIters: options.every,
  });
  return {
    trainer,
    engines: { evaluator },
    report: training.report,
    run: () => training.run(loader, { maxEpochs: options.epochs }),
    actions: {
      progress: () => ({ iteration: trainer.state.iteration, saved: training.checkpoint.lastCheckpoint }),
      numTensors: () => tf.memory().numTensors,
      backend: () => tf.getBackend(),
    },
    dispose: async () => {
      training.remove();
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
      metrics.accuracy.reset();
      metrics.loss.reset();
      await saver.close();
    },
  };
}
