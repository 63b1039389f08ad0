// "Resume anywhere" (issue 9): a digits run that carries everything a run can carry (a shuffled loader, dropout, an LR
// scheduler, EarlyStopping, Accuracy and Loss on the trainer EpochWise and as RunningAverages, an evaluator every
// epoch) and a Checkpoint of all of it at every iteration, is resumed from a FRESH set of objects at EVERY iteration
// of its 3 epochs: the losses, metric values, learning rates and early-stopping decisions after the resume are `===`
// the uninterrupted run's, and so are the final weights. The uninterrupted run keeps every checkpoint (a MemorySaver
// copies each at save time): checkpoint k is what a run interrupted after iteration k leaves behind.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, manualSeed, TensorDataset } from '../../data';
import { Events, setLogger, silentLogger } from '../../engine';
import { Accuracy, Loss, RunningAverage } from '../../metrics';
import { MemorySaver } from '../../storage';
import { createSupervisedEvaluator, createSupervisedTrainer } from '../../supervised';
import { loadDigits, splitDigits } from '../../supervised/digits.test-util';
import { EarlyStopping } from '../early-stopping';
import { CosineAnnealingScheduler } from '../param-scheduler';
import { Checkpoint, resumeOrStart } from '.';

const TRAIN_ROWS = 192; // batches of 32: 6 iterations an epoch
const VAL_ROWS = 96;
const EPOCHS = 3;
const ITERATIONS = EPOCHS * (TRAIN_ROWS / 32);

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;
const owned: tf.Tensor[] = [];
let trainSet: TensorDataset;
let valSet: TensorDataset;
let previousLogger: ReturnType<typeof setLogger>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  previousLogger = setLogger(silentLogger); // EarlyStopping and the engine log at info level
  const { train, test } = splitDigits(loadDigits(), 9, 0.25);
  const toSet = (part: typeof train, rows: number) => {
    const x = tf.tensor2d(part.pixels.subarray(0, rows * 64), [rows, 64]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(part.labels.subarray(0, rows), 'int32'), 10).toFloat());
    owned.push(x, y);
    return new TensorDataset(x, y);
  };
  trainSet = toSet(train, TRAIN_ROWS);
  valSet = toSet(test, VAL_ROWS);
});

afterAll(() => {
  tf.dispose(owned);
  setLogger(previousLogger);
});

interface Output {
  loss: tf.Scalar;
  yPred: tf.Tensor;
  y: tf.Tensor;
}

/** What a run did, by iteration and by epoch: compared with `===` (toEqual on numbers is Object.is). */
interface Record {
  iterations: Map<number, { loss: number; lr: number; runAcc: number; runLoss: number }>;
  epochs: Map<
    number,
    {
      acc: number;
      loss: number;
      valAccuracy: number;
      valLoss: number;
      earlyStopping: { counter: number; bestScore: number | null };
      terminated: boolean;
    }
  >;
}

/** A fresh set of objects: model, optimizer, trainer and everything attached, in the order a program would. */
function setUp(initSeed: number, saver: MemorySaver) {
  manualSeed(initSeed); // the weights' initial values (overwritten when resuming)
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [64], units: 32, activation: 'relu', name: 'hidden' }),
      tf.layers.dropout({ rate: 0.25, name: 'drop' }),
      tf.layers.dense({ units: 10, name: 'out' }),
    ],
  });
  const optimizer = tf.train.adam(0.01);
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, {
    deterministic: true,
    outputTransform: (_x, y, yPred, loss): Output => ({ loss, yPred: yPred as tf.Tensor, y: y as tf.Tensor }),
  });
  const pair = (o: Output) => [o.yPred, o.y] as [tf.Tensor, tf.Tensor];
  const scheduler = new CosineAnnealingScheduler(optimizer, { startValue: 0.01, endValue: 0.001, cycleSize: 7 });
  scheduler.attach(trainer);
  const acc = new Accuracy({ outputTransform: pair });
  const loss = new Loss(lossFn, { outputTransform: pair });
  const runAcc = new RunningAverage({ src: new Accuracy({ outputTransform: pair }), alpha: 0.9 });
  const runLoss = new RunningAverage({ outputTransform: (o: Output) => o.loss, alpha: 0.9 });
  acc.attach(trainer, 'acc');
  loss.attach(trainer, 'loss');
  runAcc.attach(trainer, 'runAcc');
  runLoss.attach(trainer, 'runLoss');

  const evaluator = createSupervisedEvaluator(model, {
    metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) },
  });
  // No improvement of 0.5 in accuracy ever comes: the counter goes 0, 1, 2 and the run stops after epoch 3.
  const earlyStopping = new EarlyStopping({
    patience: 2,
    minDelta: 0.5,
    scoreFunction: (e) => e.state.metrics.accuracy,
    trainer,
  });
  evaluator.on(Events.COMPLETED, earlyStopping);

  const record: Record = { iterations: new Map(), epochs: new Map() };
  trainer.on(Events.ITERATION_COMPLETED, async (e) => {
    const output = e.state.output as Output;
    record.iterations.set(e.state.iteration, {
      loss: (await output.loss.data())[0]!,
      lr: (optimizer as unknown as { learningRate: number }).learningRate,
      runAcc: e.state.metrics.runAcc,
      runLoss: e.state.metrics.runLoss,
    });
  });
  const valLoader = new DataLoader(valSet, { batchSize: 48 });
  trainer.on(Events.EPOCH_COMPLETED, async (e) => {
    await evaluator.run(valLoader);
    const { counter, bestScore } = earlyStopping.stateDict();
    record.epochs.set(e.state.epoch, {
      acc: e.state.metrics.acc,
      loss: e.state.metrics.loss,
      valAccuracy: evaluator.state.metrics.accuracy,
      valLoss: evaluator.state.metrics.loss,
      earlyStopping: { counter, bestScore },
      terminated: e.shouldTerminate !== false,
    });
  });
  const toSave = { trainer, model, optimizer, scheduler, earlyStopping, acc, loss, runAcc, runLoss };
  const checkpoint = new Checkpoint(toSave, saver, { nSaved: null, includeSelf: true });
  trainer.on(Events.ITERATION_COMPLETED, checkpoint);
  const loader = new DataLoader(trainSet, { batchSize: 32, shuffle: true });
  return { model, optimizer, trainer, loader, record, toLoad: { ...toSave, checkpointer: checkpoint } };
}

const resumedAt = (k: number) => `resumed at iteration ${k}`;

const weightBits = async (model: tf.LayersModel) =>
  Promise.all(model.getWeights().map(async (w) => Array.from(new Uint32Array((await w.data()).slice().buffer))));

describe('resume anywhere', () => {
  it('resumed from fresh objects at every iteration of 3 epochs, a digits run goes on exactly as the uninterrupted one', async () => {
    const saver = new MemorySaver();
    manualSeed(2024);
    const reference = setUp(1, saver);
    await reference.trainer.run(reference.loader, { maxEpochs: EPOCHS });
    const ref = reference.record;
    expect(reference.trainer.state.iteration).toBe(ITERATIONS);
    expect([...ref.iterations.keys()]).toEqual(Array.from({ length: ITERATIONS }, (_, i) => i + 1));
    // The run is not trivial: it learns, the rate moves, early stopping counts and stops it after the last epoch.
    expect(ref.iterations.get(ITERATIONS)!.loss).toBeLessThan(ref.iterations.get(1)!.loss);
    expect(new Set([...ref.iterations.values()].map((v) => v.lr)).size).toBeGreaterThan(5);
    expect([...ref.epochs.values()].map((e) => [e.earlyStopping.counter, e.terminated])).toEqual([
      [0, false],
      [1, false],
      [2, true],
    ]);
    expect(await saver.list()).toHaveLength(ITERATIONS);
    const finalWeights = await weightBits(reference.model);

    for (let k = 1; k < ITERATIONS; k++) {
      // A new program: fresh objects (other initial weights), resumed from the checkpoint of iteration k.
      const resumed = setUp(100 + k, new MemorySaver());
      manualSeed(7 + k); // whatever the seed now, the checkpoint's seed and RNG state decide
      const info = await resumeOrStart({
        saver,
        toLoad: resumed.toLoad,
        filter: (name) => name === `checkpoint_${k}.ckpt`,
      });
      expect(info).toMatchObject({ resumed: true, iteration: k, finished: false });
      const loadedTensors = tf.memory().numTensors;
      await resumed.trainer.run(resumed.loader, { maxEpochs: EPOCHS });
      expect(tf.memory().numTensors, `${resumedAt(k)}: tensors left by the run`).toBe(loadedTensors);

      const got = resumed.record;
      const where = resumedAt(k);
      expect([...got.iterations.keys()], where).toEqual(Array.from({ length: ITERATIONS - k }, (_, i) => k + 1 + i));
      for (const [iteration, values] of got.iterations) {
        expect(values, `${where}, iteration ${iteration}`).toEqual(ref.iterations.get(iteration));
      }
      // Every epoch that ends after the resume, the epoch of iteration k included (when k ends an epoch, its
      // EPOCH_COMPLETED had not fired when the checkpoint was taken).
      const firstEpoch = Math.ceil(k / (ITERATIONS / EPOCHS));
      expect([...got.epochs.keys()], where).toEqual(
        Array.from({ length: EPOCHS - firstEpoch + 1 }, (_, i) => firstEpoch + i),
      );
      for (const [epoch, values] of got.epochs) {
        expect(values, `${where}, epoch ${epoch}`).toEqual(ref.epochs.get(epoch));
      }
      expect(await weightBits(resumed.model), where).toEqual(finalWeights);
      resumed.model.dispose();
      resumed.optimizer.dispose();
    }
    reference.model.dispose();
    reference.optimizer.dispose();
  }, 60_000);
});
