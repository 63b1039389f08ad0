// The kindling recipe of the demo: the same function trains on the page's thread (trainHere) or in a Worker
// (train.worker.ts, serveTraining). Everything a run carries, the page's charts and epoch log included, goes into its
// IndexedDB checkpoints; the actions serve the evaluation cell, the LR finder and the TensorBoard download.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  type BackendName,
  type BackendSelection,
  CheckpointEvents,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  Events,
  FastaiLRFinder,
  IndexedDBSaver,
  Loss,
  manualSeed,
  type Stateful,
  selectBackend,
  setupResumableTraining,
  TensorboardLogger,
  TensorDataset,
  yieldToEventLoop,
} from 'kindling';
import { type Digits, loadDigits, NUM_PIXELS, splitDigits, take } from './data';
import { buildModel, lossFn } from './model';
import type { Evaluation, Mistake, RecipeOptions } from './protocol';
import { makeLrSchedule } from './schedule';

/** The recipe: data, model, trainer, evaluator, schedule, TensorBoard log and resumable checkpoints of all of it. */
export async function digitsRecipe({ config, backend, from }: RecipeOptions, shared: Record<string, Stateful>) {
  const saver = new IndexedDBSaver(config.dbName);
  await saver.acquireLock(); // fails now (LOCKED) when another tab trains into this store, before anything is built
  const selection = await chooseBackend(backend);
  const { train, val, valRows } = await datasets();
  // On the page's thread each part of the setup is a task of its own (none may hold the page 50 ms), and one gradient
  // of the loss, computed and dropped, prepares the kernels the first step would otherwise prepare in its own task (it
  // changes no weight and, without dropout, draws no random number).
  await yieldToEventLoop();
  manualSeed(config.seed);
  const model = buildModel(config.model);
  await yieldToEventLoop();
  tf.tidy(() => {
    const [x, y] = [tf.zeros([2, NUM_PIXELS]), tf.tensor1d([0, 1], 'int32')];
    tf.variableGrads(() => lossFn(model.apply(x, { training: false }) as tf.Tensor, y));
  });
  await yieldToEventLoop();
  const optimizer = tf.train.adam(config.learningRate);
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  const loader = new DataLoader(train, { batchSize: config.batchSize, shuffle: true });
  const metrics = { accuracy: new Accuracy(), loss: new Loss(lossFn) };
  const evaluator = createSupervisedEvaluator(model, { metrics });
  trainer.on(Events.EPOCH_COMPLETED, async () => {
    await evaluator.run(new DataLoader(val, { batchSize: 128 }));
    await yieldToEventLoop(); // on the page's thread, the epoch's checkpoint is saved in a task of its own
  });
  const schedule = makeLrSchedule(config, optimizer, loader.length);
  if (schedule) trainer.on(Events.ITERATION_STARTED, schedule);
  trainer.on(Events.ITERATION_STARTED, (engine) => {
    engine.state.lr = (optimizer as unknown as { learningRate: number }).learningRate; // charted by the page
  });
  const logger = new TensorboardLogger({ logDir: `runs/${config.dbName}` });
  logger.attachOutputHandler(trainer, {
    eventName: Events.ITERATION_COMPLETED({ every: 5 }),
    tag: 'training',
    outputTransform: (loss) => ({ loss }),
  });
  logger.attachOutputHandler(evaluator, {
    eventName: Events.COMPLETED,
    tag: 'validation',
    metricNames: 'all',
    globalStepTransform: () => trainer.state.iteration,
  });
  await yieldToEventLoop();
  const training = await setupResumableTraining(trainer, {
    saver,
    toSave: { model, optimizer, ...(schedule ? { schedule } : {}), ...shared },
    saveEveryIters: config.checkpointEvery,
    nSaved: 3,
    filenamePrefix: config.model,
    checkpointOptions: { async: config.asyncCheckpoints },
    from,
  });
  trainer.on(CheckpointEvents.SAVED_CHECKPOINT, (engine) => {
    engine.state.lastCheckpoint = training.checkpoint.lastCheckpoint;
  });
  return {
    trainer,
    engines: { evaluator },
    report: { ...training.report, backend: selection },
    run: () => training.run(loader, { maxEpochs: config.epochs }),
    actions: {
      evaluate: () => evaluate(model, val, valRows),
      findLearningRate: () => findLearningRate(model, optimizer, train, config.batchSize),
      tensorboardLog: async () => {
        await logger.flush();
        return { blob: await logger.toBlob(), fileName: logger.fileName };
      },
    },
    dispose: async () => {
      training.remove();
      await logger.close();
      await saver.close();
      metrics.accuracy.reset();
      metrics.loss.reset();
      model.dispose();
      optimizer.dispose();
      tf.dispose([...train.tensors, ...val.tensors]);
    },
  };
}

let backendChoice: Promise<BackendSelection> | null = null;
/** tfjs has one backend per thread: chosen once (WebGPU, else WebGL, else CPU, unless `?backend=` says). */
export function chooseBackend(backend: BackendName | null): Promise<BackendSelection> {
  backendChoice ??= selectBackend(backend ? { prefer: backend } : {});
  return backendChoice;
}

let digits: Promise<Digits> | null = null;
/** The train and validation splits as TensorDatasets, and the validation rows on the CPU (for the mistakes). */
async function datasets() {
  digits ??= loadDigits();
  const all = await digits;
  const split = splitDigits(all);
  const [trainRows, valRows] = [take(all, split.train), take(all, split.val)];
  const [train, val] = [trainRows, valRows].map(
    ({ pixels, labels }) =>
      new TensorDataset(tf.tensor2d(pixels, [labels.length, NUM_PIXELS]), tf.tensor1d(labels, 'int32')),
  ) as [TensorDataset, TensorDataset];
  return { train, val, valRows };
}

/** Confusion matrix and the first mistakes on the validation split: one forward pass, one read, arg-max on the CPU. */
async function evaluate(
  model: tf.LayersModel,
  val: TensorDataset,
  rows: { pixels: Float32Array; labels: Int32Array },
): Promise<Evaluation> {
  const logits = tf.tidy(() => model.predict(val.tensors[0] as tf.Tensor2D) as tf.Tensor2D);
  const values = await logits.data();
  const numClasses = logits.shape[1];
  logits.dispose();
  const confusion = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  const mistakes: Mistake[] = [];
  let correct = 0;
  rows.labels.forEach((label, i) => {
    const row = values.subarray(i * numClasses, (i + 1) * numClasses);
    let guess = 0; // the first of equal maxima, as tf.argMax
    for (let c = 1; c < numClasses; c++) if (row[c]! > row[guess]!) guess = c;
    confusion[label]![guess]! += 1;
    if (label === guess) correct += 1;
    else if (mistakes.length < 12) {
      mistakes.push({
        label,
        predicted: guess,
        pixels: Array.from(rows.pixels.subarray(i * NUM_PIXELS, (i + 1) * NUM_PIXELS)),
      });
    }
  });
  return { confusion, mistakes, accuracy: correct / rows.labels.length };
}

/**
 * A learning-rate range test on the current model (FastaiLRFinder): a short run of growing rates on a trainer of its
 * own, after which the model, the optimizer and the random state are exactly as before.
 */
async function findLearningRate(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  train: TensorDataset,
  batchSize: number,
) {
  const trainer = createSupervisedTrainer(model, optimizer, lossFn);
  const finder = new FastaiLRFinder();
  const handle = await finder.attach(trainer, { model, optimizer }, { startLr: 1e-4, endLr: 3, numIter: 80 });
  try {
    await trainer.run(new DataLoader(train, { batchSize, shuffle: true }), { maxEpochs: 3 });
  } finally {
    await handle.detach();
  }
  const { lr, loss } = finder.getResults();
  let suggestion: number | null = null;
  try {
    suggestion = finder.lrSuggestion();
  } catch {
    // A curve without a clear fall gives no suggestion; the chart still shows it.
  }
  return { lr, loss, suggestion };
}
