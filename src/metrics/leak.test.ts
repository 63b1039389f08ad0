import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../engine';
import { Accuracy } from './accuracy';
import { Average } from './average';
import { ConfusionMatrix, mIoU } from './confusion-matrix';
import { Fbeta } from './fbeta';
import { Loss } from './loss';
import { MeanAbsoluteError } from './mean-absolute-error';
import { MeanSquaredError } from './mean-squared-error';
import { BatchWise, EpochWise, type Metric, type MetricUsage, RunningBatchWise, RunningEpochWise } from './metric';
import { type Pair, useCpu } from './metric.test-util';
import { Precision } from './precision';
import { Recall } from './recall';
import { RootMeanSquaredError } from './root-mean-squared-error';
import { RunningAverage } from './running-average';
import { TopKCategoricalAccuracy } from './top-k-categorical-accuracy';

beforeAll(useCpu);

/** One batch: scores (4, 3), class indices (4), a scalar loss and zeros like the scores. */
interface Batch {
  yPred: tf.Tensor;
  y: tf.Tensor;
  loss: tf.Scalar;
  zeros: tf.Tensor;
}
const pairOf = (b: Batch): Pair => [b.yPred, b.y];

/** Every metric with a factory; transforms only pick prepared tensors, so any tensor left over is the metric's. */
const metrics: [string, () => Metric<any, any>][] = [
  ['Accuracy', () => new Accuracy({ outputTransform: pairOf })],
  [
    'Loss',
    () =>
      new Loss((yPred, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.cast(y, 'int32'), 3), yPred) as tf.Scalar, {
        outputTransform: pairOf,
      }),
  ],
  ['Average', () => new Average({ outputTransform: (b: Batch) => b.yPred })],
  ['RunningAverage (output)', () => new RunningAverage({ outputTransform: (b: Batch) => b.loss })],
  [
    'RunningAverage (src)',
    () => new RunningAverage({ src: new Precision({ average: true, outputTransform: pairOf }) }),
  ],
  ['MeanSquaredError', () => new MeanSquaredError({ outputTransform: (b: Batch) => [b.yPred, b.zeros] })],
  ['MeanAbsoluteError', () => new MeanAbsoluteError({ outputTransform: (b: Batch) => [b.yPred, b.zeros] })],
  ['RootMeanSquaredError', () => new RootMeanSquaredError({ outputTransform: (b: Batch) => [b.yPred, b.zeros] })],
  ['Precision', () => new Precision({ average: 'weighted', outputTransform: pairOf })],
  ['Recall', () => new Recall({ outputTransform: pairOf })],
  ['Fbeta', () => new Fbeta({ beta: 1, outputTransform: pairOf })],
  ['ConfusionMatrix', () => new ConfusionMatrix({ numClasses: 3, outputTransform: pairOf })],
  ['mIoU', () => mIoU(new ConfusionMatrix({ numClasses: 3, outputTransform: pairOf }))],
  ['TopKCategoricalAccuracy', () => new TopKCategoricalAccuracy({ k: 2, outputTransform: pairOf })],
  ['composition', () => new Precision({ outputTransform: pairOf }).mul(new Recall({ outputTransform: pairOf })).add(1)],
];

const usages: [string, MetricUsage][] = [
  ['EpochWise', EpochWise],
  ['BatchWise', BatchWise],
  ['RunningBatchWise', RunningBatchWise],
  ['RunningEpochWise', RunningEpochWise],
];

describe('no tensor leaks', () => {
  let data: Batch[] = [];
  beforeAll(() => {
    data = Array.from({ length: 3 }, (_, b) => {
      const yPred = tf.randomUniform([4, 3], 0, 1, 'float32', b + 1);
      return { yPred, y: tf.tensor1d([0, 1, 2, b % 3], 'int32'), loss: tf.scalar(b + 0.5), zeros: tf.zerosLike(yPred) };
    });
  });
  afterAll(() => tf.dispose(data.flatMap((b) => [b.yPred, b.y, b.loss, b.zeros])));

  for (const [name, make] of metrics) {
    for (const [usageName, usage] of usages) {
      it(`${name} with ${usageName}: numTensors unchanged after a 3-epoch run, after detach, and after reset`, async () => {
        const metric = make();
        const engine = new Engine<Batch, Batch>((_e, batch) => batch);
        metric.attach(engine, 'm', usage);
        const before = tf.memory().numTensors;
        const state = await engine.run(data, { maxEpochs: 3 });
        expect(state.metrics.m).toBeDefined();
        expect(tf.memory().numTensors).toBe(before);
        metric.detach(engine, usage);
        expect(metric.isAttached(engine, usage)).toBe(false);
        await engine.run(data); // a new run, nothing attached
        expect(tf.memory().numTensors).toBe(before);
        metric.reset();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  it('an update that is not computed holds one tensor per accumulator until reset', () => {
    const precision = new Precision({ average: 'weighted' });
    const before = tf.memory().numTensors;
    precision.update(pairOf(data[0]));
    precision.update(pairOf(data[1]));
    expect(tf.memory().numTensors).toBe(before + 4); // numerator, denominator, weight, label check
    precision.reset();
    expect(tf.memory().numTensors).toBe(before);
  });
});
