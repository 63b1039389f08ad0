// Issue 9, "Metrics do not resume": every metric is Stateful. stateDict() reads device sums back (async), and
// loadStateDict() checks everything before changing anything. An EpochWise metric on a trainer, saved mid-epoch and
// loaded into a fresh metric on a fresh engine, gives the uninterrupted epoch value exactly.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeterministicEngine } from '../data';
import { Engine, Events } from '../engine';
import { Checkpoint } from '../handlers';
import { MemorySaver } from '../storage';
import { Accuracy } from './accuracy';
import { Average } from './average';
import { ConfusionMatrix, IoU, mIoU } from './confusion-matrix';
import { Fbeta } from './fbeta';
import { Loss } from './loss';
import { MeanAbsoluteError } from './mean-absolute-error';
import { MeanSquaredError } from './mean-squared-error';
import { EpochWise, type Metric, MetricsLambda, RunningBatchWise } from './metric';
import { useCpu } from './metric.test-util';
import { Precision } from './precision';
import type { PrecisionRecallAverage } from './precision-recall';
import { Recall } from './recall';
import { RootMeanSquaredError } from './root-mean-squared-error';
import { RunningAverage } from './running-average';
import { expectMidEpochRoundTrip } from './state-dict.test-util';
import { TopKCategoricalAccuracy } from './top-k-categorical-accuracy';

beforeAll(useCpu);

/** Eight batches of 6 samples: scores over 3 classes, class labels, one-hot, multilabel and binary targets. */
interface Batch {
  scores: tf.Tensor;
  labels: tf.Tensor;
  oneHot: tf.Tensor;
  multi: tf.Tensor;
  prob: tf.Tensor;
  binary: tf.Tensor;
}
let data: Batch[] = [];
beforeAll(() => {
  data = Array.from({ length: 8 }, (_, b) =>
    tf.tidy(() => {
      const scores = tf.randomUniform([6, 3], 0, 1, 'float32', 100 + b);
      const labels = tf.tensor1d([0, 1, 2, b % 3, (b + 1) % 3, 1], 'int32');
      return {
        scores,
        labels,
        oneHot: tf.oneHot(labels, 3),
        multi: tf.cast(tf.greater(tf.randomUniform([6, 3], 0, 1, 'float32', 200 + b), 0.6), 'float32'),
        prob: tf.randomUniform([6], 0, 1, 'float32', 300 + b),
        binary: tf.tensor1d([0, 1, 1, 0, b % 2, 1]),
      };
    }),
  );
});
afterAll(() => tf.dispose(data.flatMap((b) => Object.values(b))));

const multiclass = (b: Batch): [tf.Tensor, tf.Tensor] => [b.scores, b.labels];
const multilabel = (b: Batch): [tf.Tensor, tf.Tensor] => [b.scores, b.multi];
const binary = (b: Batch): [tf.Tensor, tf.Tensor] => [b.prob, b.binary];
const crossEntropy = (yPred: tf.Tensor, y: tf.Tensor) =>
  tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), 3), yPred) as tf.Scalar;

type Pick = (b: Batch) => unknown;
const oneHotPair = (b: Batch): [tf.Tensor, tf.Tensor] => [b.scores, b.oneHot];

/** Every metric that keeps state, with what its update takes from a batch. */
const metrics: [string, () => Metric<any, any>, Pick][] = [
  ['Accuracy (multiclass)', () => new Accuracy(), multiclass],
  ['Accuracy (one-hot)', () => new Accuracy(), oneHotPair],
  ['Accuracy (binary)', () => new Accuracy(), binary],
  ['Accuracy (multilabel)', () => new Accuracy({ isMultilabel: true }), multilabel],
  ['Loss', () => new Loss(crossEntropy), multiclass],
  ['Average', () => new Average(), (b) => b.scores],
  ['MeanSquaredError', () => new MeanSquaredError(), oneHotPair],
  ['MeanAbsoluteError', () => new MeanAbsoluteError(), oneHotPair],
  ['RootMeanSquaredError', () => new RootMeanSquaredError(), oneHotPair],
  ...(['macro', 'micro', 'weighted', false, null] as PrecisionRecallAverage[]).flatMap(
    (average): [string, () => Metric<any, any>, Pick][] => [
      [`Precision (${average})`, () => new Precision({ average }), multiclass],
      [`Recall (${average}, binary)`, () => new Recall({ average }), binary],
    ],
  ),
  ['Precision (samples)', () => new Precision({ average: 'samples', isMultilabel: true }), multilabel],
  ['Recall (multilabel)', () => new Recall({ isMultilabel: true }), multilabel],
  ['Fbeta', () => new Fbeta({ beta: 2 }), multiclass],
  ['ConfusionMatrix', () => new ConfusionMatrix({ numClasses: 3, average: 'recall' }), multiclass],
  ['IoU', () => IoU(new ConfusionMatrix({ numClasses: 3 })), multiclass],
  ['mIoU', () => mIoU(new ConfusionMatrix({ numClasses: 3 }), 0), multiclass],
  ['TopKCategoricalAccuracy', () => new TopKCategoricalAccuracy({ k: 2 }), multiclass],
  ['composition', () => new Precision().mul(new Recall()).add(1), multiclass],
];

describe('every metric resumes mid-epoch', () => {
  for (const [name, make, pick] of metrics) {
    it(`${name}: a state dict after 3 of 8 batches, loaded into a fresh metric, gives the same value`, async () => {
      await expectMidEpochRoundTrip(make, data.map(pick), 3);
      await expectMidEpochRoundTrip(make, data.map(pick), 0);
    });
  }

  it('stateDict is plain data: device sums read back, nothing changed on the device', async () => {
    const accuracy = new Accuracy();
    for (const batch of data.slice(0, 2)) accuracy.update(multiclass(batch));
    const before = tf.memory().numTensors;
    const sd = await accuracy.stateDict();
    expect(sd).toEqual({
      numExamples: 12,
      kind: { kind: 'multiclass', numClasses: 3 },
      sums: { correct: { shape: [], values: [expect.any(Number)] } },
    });
    expect(tf.memory().numTensors).toBe(before - 2); // the correct count and the label check now live on the host
    expect(await new Accuracy().stateDict()).toEqual({ numExamples: 0, kind: null, sums: {} });
    expect(await new Fbeta({ beta: 1 }).stateDict()).toEqual({
      args: [
        { isUpdated: false, kind: null, sums: {} },
        { isUpdated: false, kind: null, sums: {} },
      ],
    });
  });
});

describe('loadStateDict checks everything before changing anything', () => {
  const loaded = async (make: () => Metric<any, any>) => {
    const metric = make();
    for (const batch of data.slice(0, 2)) metric.update(multiclass(batch));
    const sd = JSON.parse(JSON.stringify(await metric.stateDict()));
    return { metric, sd, value: JSON.stringify(await metric.compute()) };
  };

  it('Accuracy: wrong types, NaN, unknown keys, impossible kinds and shapes are rejected with the entry named', async () => {
    const { metric, sd, value } = await loaded(() => new Accuracy());
    const bad: [unknown, RegExp][] = [
      [null, /Accuracy.loadStateDict: argument stateDict should be an object as stateDict\(\) returns, got null/],
      [{ ...sd, numExamples: -1 }, /state dict entry 'numExamples' should be a non-negative integer, got -1/],
      [{ ...sd, numExamples: 2 ** 60 }, /'numExamples' should be a non-negative integer/],
      [{ ...sd, extra: 1 }, /unknown state dict entry 'extra'/],
      [
        { ...sd, kind: { kind: 'ternary', numClasses: 3 } },
        /state dict entry 'kind' kind should be one of 'binary', 'multiclass' or 'multilabel'/,
      ],
      [{ ...sd, kind: { kind: 'binary', numClasses: 3 } }, /'kind' numClasses should be 1 for binary input, got 3/],
      [
        { ...sd, sums: { correct: { shape: [], values: [Number.NaN] } } },
        /'sums' entry 'correct' values\[0\] should be a finite number, got NaN/,
      ],
      [{ ...sd, sums: { correct: { shape: [], values: [null] } } }, /values\[0\] should be a finite number, got null/],
      [
        { ...sd, sums: { correct: { shape: [2], values: [1, 2] } } },
        /'sums' entry 'correct' shape should be \[\], got \[2\]/,
      ],
      [
        { ...sd, sums: { correct: { shape: [], values: [1, 2] } } },
        /'correct' values should be 1 numbers for shape \[\], got \[1,2\]/,
      ],
      [{ ...sd, sums: { wrong: { shape: [], values: [1] } } }, /'sums' should be an object with entries among correct/],
      [JSON.parse('{"numExamples":1,"kind":null,"sums":{},"__proto__":{}}'), /key '__proto__' is not allowed/],
    ];
    for (const [stateDict, message] of bad) {
      expect(() => metric.loadStateDict(stateDict as never), JSON.stringify(stateDict)).toThrow(message);
    }
    expect(JSON.stringify(await metric.compute())).toBe(value);
  });

  it('Precision and ConfusionMatrix check shapes against the saved kind and their options', async () => {
    const { metric, sd } = await loaded(() => new Precision({ average: 'weighted' }));
    expect(() => metric.loadStateDict({ ...sd, sums: { ...sd.sums, weight: { shape: [2], values: [1, 1] } } })).toThrow(
      "Precision.loadStateDict: state dict entry 'sums' entry 'weight' shape should be [3], got [2].",
    );
    expect(() => new Precision({ average: 'micro' }).loadStateDict(sd)).toThrow(/'numerator' shape should be \[\]/);
    const cm = await loaded(() => new ConfusionMatrix({ numClasses: 3 }));
    expect(() => new ConfusionMatrix({ numClasses: 4 }).loadStateDict(cm.sd)).toThrow(
      "ConfusionMatrix.loadStateDict: state dict entry 'sums' entry 'matrix' shape should be [4, 4], got [3,3].",
    );
  });

  it('MetricsLambda: one bad dependency leaves every dependency unchanged', async () => {
    const { metric, sd, value } = await loaded(() => new Fbeta({ beta: 1 }));
    const broken = { args: [sd.args[0], { ...sd.args[1], isUpdated: 'yes' }] };
    expect(() => metric.loadStateDict(broken)).toThrow(
      "Recall.loadStateDict: state dict entry 'isUpdated' should be a boolean, got 'yes'.",
    );
    expect(JSON.stringify(await metric.compute())).toBe(value);
    expect(() => metric.loadStateDict({ args: [sd.args[0]] })).toThrow(
      /Fbeta.loadStateDict: state dict entry 'args' should be an array of 2 entries/,
    );
    const withConstant = new MetricsLambda((a: number, k: number) => a * k, new Accuracy(), 2);
    expect(() => withConstant.loadStateDict({ args: [{ numExamples: 0, kind: null, sums: {} }, 5] })).toThrow(
      "MetricsLambda.loadStateDict: state dict entry 'args[1]' should be null (a plain value), got 5.",
    );
  });

  it('RunningAverage rejects NaN and unknown keys', () => {
    const ra = new RunningAverage({ outputTransform: (x: number) => x });
    expect(() => ra.loadStateDict({ value: Number.NaN })).toThrow(/finite numbers/);
    expect(() => ra.loadStateDict({ value: 1, alpha: 0.5 } as never)).toThrow(/unknown state dict entry 'alpha'/);
  });
});

describe('a metric on a trainer resumes mid-epoch (issue 9)', () => {
  const EPOCHS = 3;
  type Saved = { engine: Record<string, unknown>; metric: unknown };

  /** A DeterministicEngine (it fast-forwards data on resume) with `metric` attached; values keyed by epoch or iteration. */
  const trainerWith = (metric: Metric<any, any>, usage = EpochWise) => {
    const trainer = new DeterministicEngine<Batch, Batch>((_e, batch) => batch);
    metric.attach(trainer, 'm', usage);
    const values = new Map<number, unknown>();
    const perEpoch = usage === EpochWise;
    trainer.on(perEpoch ? Events.EPOCH_COMPLETED : Events.ITERATION_COMPLETED, (e) => {
      values.set(perEpoch ? e.state.epoch : e.state.iteration, e.state.metrics.m);
    });
    return { trainer, values };
  };

  /** Runs until `stop`, saves the engine and the metric (after its update), then resumes both from fresh objects. */
  const interruptedRun = async (make: () => Metric<any, any>, stop: number, usage = EpochWise) => {
    const metric = make();
    const first = trainerWith(metric, usage);
    let saved: Saved | null = null;
    first.trainer.on(Events.ITERATION_COMPLETED({ once: stop }), async (e) => {
      saved = JSON.parse(JSON.stringify({ engine: e.stateDict(), metric: await metric.stateDict() }));
      e.interrupt();
    });
    await first.trainer.run(data, { maxEpochs: EPOCHS });
    const fresh = make();
    const resumed = trainerWith(fresh, usage);
    resumed.trainer.loadStateDict(saved!.engine);
    await fresh.loadStateDict(saved!.metric);
    await resumed.trainer.run(data, { maxEpochs: EPOCHS });
    return new Map([...first.values, ...resumed.values]);
  };

  it('Accuracy EpochWise, saved at every iteration of 3 epochs: every epoch value after the resume is ===', async () => {
    const make = () => new Accuracy({ outputTransform: multiclass });
    const reference = trainerWith(make());
    await reference.trainer.run(data, { maxEpochs: EPOCHS });
    expect(reference.values.size).toBe(EPOCHS);
    for (let stop = 1; stop <= EPOCHS * data.length; stop++) {
      const values = await interruptedRun(make, stop);
      // Saved at an epoch's last iteration too (before its EPOCH_COMPLETED): the resumed run completes that epoch.
      for (let epoch = 1; epoch <= EPOCHS; epoch++) {
        expect(values.get(epoch), `stop ${stop}, epoch ${epoch}`).toBe(reference.values.get(epoch));
      }
    }
  });

  it('without loadStateDict the resumed epoch only covers the batches after the resume (what issue 9 saw)', async () => {
    const make = () => new Accuracy({ outputTransform: multiclass });
    const reference = trainerWith(make());
    await reference.trainer.run(data, { maxEpochs: 1 });
    const first = trainerWith(make());
    first.trainer.on(Events.ITERATION_COMPLETED({ once: 4 }), (e) => e.interrupt());
    await first.trainer.run(data, { maxEpochs: 1 });
    const forgetful = trainerWith(make());
    forgetful.trainer.loadStateDict(first.trainer.stateDict());
    await forgetful.trainer.run(data, { maxEpochs: 1 });
    expect(forgetful.values.get(1)).not.toBe(reference.values.get(1));
  });

  it('running usages (RunningBatchWise) keep the loaded state at STARTED of the resumed run', async () => {
    const make = () => new Loss(crossEntropy, { outputTransform: multiclass });
    const reference = trainerWith(make(), RunningBatchWise);
    await reference.trainer.run(data, { maxEpochs: EPOCHS });
    for (const stop of [3, 8, 13]) {
      const values = await interruptedRun(make, stop, RunningBatchWise);
      for (let iteration = stop + 1; iteration <= EPOCHS * data.length; iteration++) {
        expect(values.get(iteration), `stop ${stop}, iteration ${iteration}`).toBe(reference.values.get(iteration));
      }
    }
  });

  it('through a Checkpoint and Checkpoint.loadObjects (a metric is a Stateful in toSave)', async () => {
    const make = () => new Precision({ average: 'macro', outputTransform: multiclass });
    const reference = trainerWith(make());
    await reference.trainer.run(data, { maxEpochs: 2 });
    const saver = new MemorySaver();
    const precision = make();
    const first = trainerWith(precision);
    const checkpoint = new Checkpoint({ trainer: first.trainer, precision }, saver);
    first.trainer.on(Events.ITERATION_COMPLETED({ once: 11 }), checkpoint);
    first.trainer.on(Events.ITERATION_COMPLETED({ once: 11 }), (e) => e.interrupt());
    await first.trainer.run(data, { maxEpochs: 2 });
    const [file] = await saver.list();
    const fresh = make();
    const resumed = trainerWith(fresh);
    await Checkpoint.loadObjects({
      toLoad: { trainer: resumed.trainer, precision: fresh },
      checkpoint: (await saver.load(file!)) as Record<string, unknown>,
    });
    await resumed.trainer.run(data, { maxEpochs: 2 });
    expect(resumed.values.get(2)).toBe(reference.values.get(2));
  });

  it('a loaded metric attached to a fresh evaluator (iteration 0) still resets at its first epoch', async () => {
    const metric = new Accuracy({ outputTransform: multiclass });
    metric.loadStateDict({
      numExamples: 1000,
      kind: { kind: 'multiclass', numClasses: 3 },
      sums: { correct: { shape: [], values: [0] } },
    });
    const evaluator = new Engine<Batch, Batch>((_e, batch) => batch);
    metric.attach(evaluator, 'acc');
    new Accuracy({ outputTransform: multiclass }).attach(evaluator, 'fresh');
    const { metrics } = await evaluator.run(data.slice(0, 2));
    expect(metrics.acc).toBe(metrics.fresh);
  });
});
