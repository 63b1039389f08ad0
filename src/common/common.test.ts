import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, manualSeed, TensorDataset } from '../data';
import { Engine, Events, setLogger, silentLogger } from '../engine';
import {
  CosineAnnealingScheduler,
  ExpStateScheduler,
  formatScore,
  ParamGroupScheduler,
  type ProgressInfo,
  type ProgressSink,
  ReduceLROnPlateauScheduler,
} from '../handlers';
import { modelStateDict } from '../handlers/checkpoint/tf-state';
import * as kindling from '../index';
import { Accuracy, Loss } from '../metrics';
import { MemorySaver, type SaveMetadata } from '../storage';
import { createSupervisedEvaluator, createSupervisedTrainer } from '../supervised';
import { loadDigits, splitDigits } from '../supervised/digits.test-util';
import { addEarlyStoppingByValScore, saveBestModelByValScore, setupCommonTrainingHandlers } from '.';

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;
const rateOf = (optimizer: tf.Optimizer): number => (optimizer as unknown as { learningRate: number }).learningRate;

/** A MemorySaver that records, for each save, the file name and the trainer's iteration at that moment. */
class RecordingSaver extends MemorySaver {
  readonly saves: Array<{ filename: string; iteration: number }> = [];
  constructor(readonly trainer: Engine<any, any> | null = null) {
    super();
  }
  override async save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void> {
    this.saves.push({ filename, iteration: this.trainer?.state.iteration ?? -1 });
    return super.save(data, filename, metadata);
  }
}

/** A progress display that keeps what it was given. */
class RecordingSink implements ProgressSink {
  readonly updates: ProgressInfo[] = [];
  readonly closes: Array<{ info: ProgressInfo; persist: boolean }> = [];
  update(info: ProgressInfo): void {
    this.updates.push(info);
  }
  close(info: ProgressInfo, persist: boolean): void {
    this.closes.push({ info, persist });
  }
}

const owned: tf.Tensor[] = [];
let trainLoader: DataLoader<any, any>;
let valLoader: DataLoader<any, any>;
let previousLogger: ReturnType<typeof setLogger>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  previousLogger = setLogger(silentLogger);
  const parts = splitDigits(loadDigits(), 2024, 0.2);
  const toTensors = (part: typeof parts.train) => {
    const x = tf.tensor2d(part.pixels, [part.n, 64]);
    const labels = tf.tensor1d(part.labels, 'int32');
    const y = tf.oneHot(labels, 10).toFloat();
    labels.dispose();
    owned.push(x, y);
    return new TensorDataset(x, y);
  };
  trainLoader = new DataLoader(toTensors(parts.train), { batchSize: 32, shuffle: true });
  valLoader = new DataLoader(toTensors(parts.test), { batchSize: 128 });
});

afterAll(() => {
  tf.dispose(owned);
  setLogger(previousLogger);
});

function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [64], units: 64, activation: 'relu', kernelInitializer: 'heNormal', name: 'h' }),
      tf.layers.dense({ units: 10, kernelInitializer: 'glorotUniform', name: 'out' }),
    ],
  });
}

interface Evaluation {
  epoch: number;
  accuracy: number;
  loss: number;
  weights: unknown;
}

/** The epoch at which EarlyStopping({ patience }) stops a run with these scores (higher is better), or null. */
function expectedStop(scores: number[], patience: number): number | null {
  let best = scores[0]!;
  let counter = 0;
  for (let i = 1; i < scores.length; i++) {
    if (scores[i]! <= best) {
      counter += 1;
      if (counter >= patience) return i + 1;
    } else {
      best = scores[i]!;
      counter = 0;
    }
  }
  return null;
}

/** The epochs a Checkpoint with `nSaved` keeps for these scores (a newcomer must beat the lowest kept). */
function expectedBest(scores: number[], nSaved: number): number[] {
  let kept: Array<{ score: number; epoch: number }> = [];
  scores.forEach((score, i) => {
    if (kept.length < nSaved) kept.push({ score, epoch: i + 1 });
    else if (score > kept[0]!.score) kept = [...kept.slice(1), { score, epoch: i + 1 }];
    kept.sort((a, b) => a.score - b.score);
  });
  return kept.map((item) => item.epoch).sort((a, b) => a - b);
}

describe('the common setup on the digits', () => {
  it('checkpoints every N iterations, keeps the best models by validation accuracy and stops early', async () => {
    manualSeed(7);
    const model = mlp();
    const optimizer = tf.train.adam(0.02);
    const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
    const evaluator = createSupervisedEvaluator(model, {
      metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) },
    });
    const saver = new RecordingSaver(trainer);
    const bestSaver = new RecordingSaver(trainer);
    const sink = new RecordingSink();
    const maxEpochs = 30;
    const cycleSize = 200;
    const common = setupCommonTrainingHandlers(trainer, {
      toSave: { trainer, model, optimizer },
      saver,
      saveEveryIters: 40,
      checkpointOptions: { nSaved: null },
      lrScheduler: new CosineAnnealingScheduler(optimizer, { startValue: 0.02, endValue: 0.002, cycleSize }),
      outputNames: ['loss'],
      progressBarOptions: { sink, minInterval: 0 },
    });
    const evaluations: Evaluation[] = [];
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run(valLoader);
    });
    evaluator.on(Events.COMPLETED, async (e) => {
      const { accuracy, loss } = e.state.metrics;
      evaluations.push({ epoch: trainer.state.epoch, accuracy, loss, weights: await modelStateDict(model) });
    });
    const best = saveBestModelByValScore({
      saver: bestSaver,
      evaluator,
      model,
      metricName: 'accuracy',
      trainer,
      nSaved: 2,
    });
    const patience = 3;
    const stopper = addEarlyStoppingByValScore({ patience, evaluator, trainer, metricName: 'loss', scoreSign: -1 });

    await trainer.run(trainLoader, { maxEpochs });

    // early stopping: at the epoch the validation losses say, well before maxEpochs
    const stop = expectedStop(
      evaluations.map((e) => -e.loss),
      patience,
    );
    expect(stop).not.toBeNull();
    expect(stop!).toBeLessThan(maxEpochs);
    expect(trainer.state.epoch).toBe(stop);
    expect(evaluations).toHaveLength(stop!);
    expect(evaluations.at(-1)!.accuracy).toBeGreaterThan(0.9);
    expect(stopper.stateDict().counter).toBe(patience);

    // checkpoints: every 40 iterations, named by the trainer's iteration, holding the trainer at that iteration
    const iterations = trainer.state.iteration;
    expect(iterations).toBe(stop! * trainLoader.length);
    const steps = Array.from({ length: Math.floor(iterations / 40) }, (_, k) => 40 * (k + 1));
    expect(saver.saves).toEqual(
      steps.map((step) => ({ filename: `training_checkpoint_${step}.ckpt`, iteration: step })),
    );
    expect((await saver.list()).sort()).toEqual(steps.map((step) => `training_checkpoint_${step}.ckpt`).sort());
    const at80 = (await saver.load('training_checkpoint_80.ckpt')) as Record<string, any>;
    expect(Object.keys(at80).sort()).toEqual(['model', 'optimizer', 'trainer']);
    expect(at80.trainer.iteration).toBe(80);
    expect(common.checkpoint!.lastCheckpoint).toBe(`training_checkpoint_${steps.at(-1)}.ckpt`);

    // the best two models by validation accuracy, named by the trainer's epoch, hold that epoch's weights
    const keptEpochs = expectedBest(
      evaluations.map((e) => e.accuracy),
      2,
    );
    const names = keptEpochs.map((epoch) => {
      const { accuracy } = evaluations[epoch - 1]!;
      return `best_model_${epoch}_val_accuracy=${formatScore(accuracy)}.ckpt`;
    });
    expect((await bestSaver.list()).sort()).toEqual([...names].sort());
    for (const [i, epoch] of keptEpochs.entries()) {
      expect(await bestSaver.load(names[i]!)).toEqual(evaluations[epoch - 1]!.weights);
    }
    const top = keptEpochs.reduce((a, b) => (evaluations[b - 1]!.accuracy > evaluations[a - 1]!.accuracy ? b : a));
    expect(best.lastCheckpoint).toBe(names[keptEpochs.indexOf(top)]);

    // the scheduler set the rate of the last iteration; the running loss and the bar followed the run
    const rates = CosineAnnealingScheduler.simulateValues(iterations, { startValue: 0.02, endValue: 0.002, cycleSize });
    expect(rateOf(optimizer)).toBeCloseTo(rates.at(-1)![1], 12);
    expect(typeof trainer.state.metrics.loss).toBe('number');
    expect(trainer.state.metrics.loss).toBeLessThan(0.5);
    expect(sink.closes).toHaveLength(stop!);
    expect(sink.closes[0]!.info.desc).toBe(`Epoch [1/${maxEpochs}]`);
    expect(sink.closes[0]!.info.postfix.map(([name]) => name)).toEqual(['loss']);

    common.remove();
    best.remove();
    stopper.remove();
    model.dispose();
  }, 60_000);

  it('leaves no tensor behind, and remove() takes every handler off', async () => {
    manualSeed(3);
    const model = mlp();
    const optimizer = tf.train.adam(0.01);
    const trainer = createSupervisedTrainer(model, optimizer, lossFn);
    const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new Accuracy() } });
    const saver = new RecordingSaver(trainer);
    const bestSaver = new RecordingSaver(trainer);
    const sink = new RecordingSink();
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run(valLoader);
    });
    const before = tf.memory().numTensors;
    const common = setupCommonTrainingHandlers(trainer, {
      toSave: { model, optimizer },
      saver,
      saveEveryIters: 30,
      lrScheduler: new CosineAnnealingScheduler(optimizer, { startValue: 0.01, endValue: 0.001, cycleSize: 90 }),
      outputNames: ['loss'],
      progressBarOptions: { sink },
    });
    const best = saveBestModelByValScore({ saver: bestSaver, evaluator, model, metricName: 'accuracy' });
    const stopper = addEarlyStoppingByValScore({ patience: 5, evaluator, trainer, metricName: 'accuracy' });
    await trainer.run(trainLoader, { maxEpochs: 2 });
    expect(saver.saves.map((s) => s.iteration)).toEqual([30, 60, 90]);
    expect(bestSaver.saves.length).toBeGreaterThanOrEqual(1);
    common.remove();
    best.remove();
    stopper.remove();
    // Adam's two slots per weight are created on the first update; nothing else may remain
    expect(tf.memory().numTensors - before - 2 * model.trainableWeights.length).toBe(0);

    // taken off: a new run saves nothing, averages nothing, draws nothing, and the rate stays where it was
    const counts = [saver.saves.length, bestSaver.saves.length, sink.updates.length];
    const rate = rateOf(optimizer);
    trainer.state.metrics = {};
    await trainer.run(trainLoader, { maxEpochs: 3 }); // one more epoch
    expect([saver.saves.length, bestSaver.saves.length, sink.updates.length]).toEqual(counts);
    expect(trainer.state.metrics).toEqual({});
    expect(rateOf(optimizer)).toBe(rate);
    expect(() => common.remove()).not.toThrow();
    model.dispose();
  }, 60_000);
});

describe('setupCommonTrainingHandlers on a plain engine', () => {
  it('stops on NaN by default and averages named entries of an object or array output', async () => {
    const outputs = [1, 2, 3, Number.NaN, 5, 6].map((v) => ({ loss: v, acc: v / 10 }));
    const trainer = new Engine((_e, batch: { loss: number; acc: number }) => batch);
    setupCommonTrainingHandlers(trainer, { outputNames: ['loss', 'acc'], withPbars: false });
    const seen: number[] = [];
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.state.metrics.acc);
    });
    await trainer.run(outputs, { maxEpochs: 1 });
    expect(trainer.state.iteration).toBe(4); // numbers are checked at once
    // RunningAverage, alpha 0.98: 0.1, then 0.98 * previous + 0.02 * x
    expect(seen[0]).toBeCloseTo(0.1, 12);
    expect(seen[1]).toBeCloseTo(0.98 * 0.1 + 0.02 * 0.2, 12);

    const pairs = new Engine((_e, batch: number) => [batch, 2 * batch]);
    setupCommonTrainingHandlers(pairs, { outputNames: ['a', 'b'], withPbars: false, stopOnNan: false });
    await pairs.run([1, 1], { maxEpochs: 1 });
    expect(pairs.state.metrics).toEqual({ a: 1, b: 2 });
  });

  it('says which output name is missing from the output', async () => {
    const trainer = new Engine(() => ({ loss: 1 }));
    setupCommonTrainingHandlers(trainer, { outputNames: ['acc'], withPbars: false });
    await expect(trainer.run([0], { maxEpochs: 1 })).rejects.toThrow(
      "setupCommonTrainingHandlers: the trainer's output has no entry 'acc' (keys: loss); outputNames should name entries of it.",
    );
  });

  it('takes a ParamGroupScheduler, and draws one bar over the epochs with withPbarOnIters: false', async () => {
    const a = tf.train.sgd(1);
    const b = tf.train.sgd(1);
    const group = new ParamGroupScheduler({
      schedulers: [
        new CosineAnnealingScheduler(a, { startValue: 0, endValue: 1, cycleSize: 4 }),
        new CosineAnnealingScheduler(b, { startValue: 1, endValue: 0, cycleSize: 4 }),
      ],
      names: ['a', 'b'],
    });
    const sink = new RecordingSink();
    const trainer = new Engine(() => 0);
    const common = setupCommonTrainingHandlers(trainer, {
      lrScheduler: group,
      withPbarOnIters: false,
      progressBarOptions: { sink, minInterval: 0 },
    });
    expect(common.lrScheduler).toBe(group);
    await trainer.run([0, 0], { maxEpochs: 3 });
    // the sixth event is the second of the second cycle of 4: 0 + (1 - 0) / 2 * (1 - cos(pi / 4)), and its mirror
    const second = (1 - Math.cos(Math.PI / 4)) / 2;
    expect(rateOf(a)).toBeCloseTo(second, 12);
    expect(rateOf(b)).toBeCloseTo(1 - second, 12);
    expect(sink.updates.map((info) => [info.n, info.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(sink.closes).toEqual([expect.objectContaining({ persist: true })]);
    common.remove();
    expect(group.schedulers[0]!.eventIndex).toBe(2);
  });

  it.each<[string, Record<string, unknown>]>([
    [
      "setupCommonTrainingHandlers: unknown option 'outputPath'. kindling saves through a Saver, not a path: pass saver: new DiskSaver(dir) (from 'kindling/node'), or new IndexedDBSaver(name) in the page.",
      { outputPath: '/tmp/run' },
    ],
    [
      "setupCommonTrainingHandlers: unknown option 'clearCudaCache'. tfjs has no cache to clear",
      { clearCudaCache: true },
    ],
    [
      "setupCommonTrainingHandlers: unknown option 'withGpuStats'. tfjs reports no GPU statistics",
      { withGpuStats: true },
    ],
    ["setupCommonTrainingHandlers: unknown option 'trainSampler'.", { trainSampler: {} }],
    [
      "setupCommonTrainingHandlers: unknown option 'nSaved'. It is an option of Checkpoint: pass checkpointOptions: { nSaved }.",
      { nSaved: 2 },
    ],
    [
      "setupCommonTrainingHandlers: unknown option 'save_every_iters'. Did you mean 'saveEveryIters'?",
      { save_every_iters: 10 },
    ],
    [
      'setupCommonTrainingHandlers: option toSave needs a saver to save into',
      { toSave: { m: { stateDict: () => ({}) } } },
    ],
    [
      'setupCommonTrainingHandlers: options saver, saveEveryIters and checkpointOptions describe a checkpoint of toSave, which is missing',
      { saver: new MemorySaver() },
    ],
    [
      'setupCommonTrainingHandlers: option saveEveryIters should be a positive integer, got 0.',
      { toSave: { m: { stateDict: () => ({}) } }, saver: new MemorySaver(), saveEveryIters: 0 },
    ],
    [
      "Checkpoint: unknown option 'nSave'. Did you mean 'nSaved'?",
      { toSave: { m: { stateDict: () => ({}) } }, saver: new MemorySaver(), checkpointOptions: { nSave: 2 } },
    ],
    [
      'setupCommonTrainingHandlers: option progressBarOptions describes the progress bar, but withPbars is false',
      { withPbars: false, progressBarOptions: {} },
    ],
    [
      'setupCommonTrainingHandlers: option logEveryIters paces the iteration bar, but withPbarOnIters is false',
      { withPbarOnIters: false, logEveryIters: 10 },
    ],
    [
      'setupCommonTrainingHandlers: option logEveryIters should be a positive integer, got 1.5.',
      { logEveryIters: 1.5 },
    ],
    [
      'setupCommonTrainingHandlers: option outputNames should be unique names, got ["loss","loss"]. \'loss\' repeats.',
      { outputNames: ['loss', 'loss'] },
    ],
    ['setupCommonTrainingHandlers: option outputNames should be an array of output names', { outputNames: 'loss' }],
    [
      'setupCommonTrainingHandlers: option lrScheduler is a ReduceLROnPlateauScheduler, which follows a validation metric',
      { lrScheduler: new ReduceLROnPlateauScheduler(tf.train.sgd(0.1), { metricName: 'loss' }) },
    ],
    [
      'setupCommonTrainingHandlers: option lrScheduler should be an optimizer scheduler (e.g. CosineAnnealingScheduler) or a ParamGroupScheduler, got an instance of ExpStateScheduler.',
      { lrScheduler: new ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1 }) },
    ],
    ['setupCommonTrainingHandlers: option stopOnNan should be a boolean, got 1.', { stopOnNan: 1 }],
  ])('%s', (message, options) => {
    const trainer = new Engine(() => 0);
    expect(() => setupCommonTrainingHandlers(trainer, options as never)).toThrow(message);
  });

  it('attaches nothing when an option is wrong', async () => {
    const saver = new RecordingSaver();
    const trainer = new Engine(() => 1);
    expect(() =>
      setupCommonTrainingHandlers(trainer, {
        toSave: { m: { stateDict: () => ({}), loadStateDict: () => {} } },
        saver,
        saveEveryIters: 1,
        outputNames: ['loss'],
        withPbars: false,
        stopOnNan: 'yes' as never,
      }),
    ).toThrow('option stopOnNan');
    await trainer.run([0, 0], { maxEpochs: 1 });
    expect(saver.saves).toEqual([]);
    expect(trainer.state.metrics).toEqual({});
  });

  it('rejects a trainer that is not an Engine', () => {
    expect(() => setupCommonTrainingHandlers({} as never)).toThrow(
      'setupCommonTrainingHandlers: argument trainer should be an Engine, got {}. Pass the trainer',
    );
  });
});

describe('saveBestModelByValScore and addEarlyStoppingByValScore', () => {
  it('keep the lowest losses with scoreSign -1, name files without a trainer, and stop on a plain evaluator', async () => {
    const losses = [0.5, 0.4, 0.45, 0.3, 0.35, 0.36, 0.37];
    const trainer = new Engine(() => 0);
    const evaluator = new Engine(() => 0);
    evaluator.on(Events.COMPLETED, (e) => {
      e.state.metrics.Loss = losses[trainer.state.epoch - 1];
    });
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run([0]);
    });
    const saver = new MemorySaver();
    const state = { stateDict: () => ({ epoch: trainer.state.epoch }), loadStateDict: () => {} };
    const best = saveBestModelByValScore({
      saver,
      evaluator,
      models: { head: state },
      metricName: 'Loss',
      scoreSign: -1,
      nSaved: 2,
      tag: 'test',
      checkpointOptions: { filenamePrefix: 'top' },
    });
    addEarlyStoppingByValScore({ patience: 3, evaluator, trainer, metricName: 'Loss', scoreSign: -1 });
    await trainer.run([0], { maxEpochs: 10 });
    expect(trainer.state.epoch).toBe(7); // best 0.3 at epoch 4; 0.35, 0.36, 0.37 do not beat it
    // no trainer: no step in the file names, only the score (the metric's name in lower case)
    expect((await saver.list()).sort()).toEqual(
      [`top_head_test_loss=${formatScore(-0.3)}.ckpt`, `top_head_test_loss=${formatScore(-0.35)}.ckpt`].sort(),
    );
    expect(await saver.load(best.lastCheckpoint!)).toEqual({ epoch: 4 });
  });

  it.each<[string, () => unknown]>([
    [
      "saveBestModelByValScore: give exactly one of the options model (saved as 'model') and models (several objects by name), got neither.",
      () => saveBestModelByValScore({ saver: new MemorySaver(), evaluator: new Engine(() => 0), metricName: 'acc' }),
    ],
    [
      "saveBestModelByValScore: unknown option 'outputPath'. kindling saves through a Saver, not a path",
      () => saveBestModelByValScore({ outputPath: 'x' } as never),
    ],
    [
      'saveBestModelByValScore: option evaluator should be an Engine, got undefined.',
      () => saveBestModelByValScore({ saver: new MemorySaver(), metricName: 'acc' } as never),
    ],
    [
      'saveBestModelByValScore: option scoreSign should be one of 1 or -1, got 2.',
      () =>
        saveBestModelByValScore({
          saver: new MemorySaver(),
          evaluator: new Engine(() => 0),
          model: { stateDict: () => ({}), loadStateDict: () => {} },
          metricName: 'acc',
          scoreSign: 2 as never,
        }),
    ],
    [
      "saveBestModelByValScore: option checkpointOptions: unknown option 'nSaved'.",
      () =>
        saveBestModelByValScore({
          saver: new MemorySaver(),
          evaluator: new Engine(() => 0),
          model: { stateDict: () => ({}), loadStateDict: () => {} },
          metricName: 'acc',
          checkpointOptions: { nSaved: 1 } as never,
        }),
    ],
    [
      'addEarlyStoppingByValScore: option patience should be a positive integer, got 0.',
      () =>
        addEarlyStoppingByValScore({
          patience: 0,
          evaluator: new Engine(() => 0),
          trainer: new Engine(() => 0),
          metricName: 'acc',
        }),
    ],
    [
      'addEarlyStoppingByValScore: option trainer should be an Engine, got undefined.',
      () => addEarlyStoppingByValScore({ patience: 1, evaluator: new Engine(() => 0), metricName: 'acc' } as never),
    ],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });
});

it('the common setup is exported from the package root', () => {
  for (const name of ['setupCommonTrainingHandlers', 'saveBestModelByValScore', 'addEarlyStoppingByValScore']) {
    expect(typeof (kindling as Record<string, unknown>)[name], name).toBe('function');
  }
});
