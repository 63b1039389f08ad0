// Leak tests of the classification metrics added with issue 15, in every usage (the pattern of leak.test.ts).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { AveragePrecision } from './average-precision';
import { ClassificationReport } from './classification-report';
import { CohenKappa } from './cohen-kappa';
import { EpochMetric } from './epoch-metric';
import { BatchWise, EpochWise, type Metric, type MetricUsage, RunningBatchWise, RunningEpochWise } from './metric';
import { useCpu } from './metric.test-util';
import { MultiLabelConfusionMatrix } from './multilabel-confusion-matrix';
import { PrecisionRecallCurve } from './precision-recall-curve';
import { RocAuc } from './roc-auc';
import { RocCurve } from './roc-curve';

beforeAll(useCpu);

/** One batch of prepared tensors: transforms only pick them, so any tensor left over is the metric's. */
interface Batch {
  scores: tf.Tensor; // (4) in [0, 1)
  binary: tf.Tensor; // (4) 0/1, both classes
  logits: tf.Tensor; // (4, 3)
  classes: tf.Tensor; // (4) int32 in [0, 3)
  multi: tf.Tensor; // (4, 3) 0/1
}

const binary = (b: Batch): [tf.Tensor, tf.Tensor] => [b.scores, b.binary];
const metrics: [string, () => Metric<any, any>][] = [
  ['RocAuc', () => new RocAuc({ outputTransform: binary })],
  ['RocCurve', () => new RocCurve({ outputTransform: binary })],
  ['AveragePrecision', () => new AveragePrecision({ outputTransform: binary })],
  ['PrecisionRecallCurve', () => new PrecisionRecallCurve({ outputTransform: binary })],
  [
    'EpochMetric',
    () =>
      new EpochMetric(
        async (p, y) => {
          const total = tf.tidy(() => tf.add(tf.sum(p), tf.sum(y)));
          const [value] = await total.data();
          total.dispose();
          return value!;
        },
        {
          outputTransform: (b: Batch) => [b.logits, b.classes],
        },
      ),
  ],
  ['CohenKappa (stored)', () => new CohenKappa({ outputTransform: (b: Batch) => [b.classes, b.binary] })],
  [
    'CohenKappa (numClasses)',
    () => new CohenKappa({ weights: 'quadratic', numClasses: 3, outputTransform: (b: Batch) => [b.classes, b.binary] }),
  ],
  [
    'MultiLabelConfusionMatrix',
    () => new MultiLabelConfusionMatrix({ numClasses: 3, outputTransform: (b: Batch) => [b.multi, b.multi] }),
  ],
  ['ClassificationReport', () => new ClassificationReport({ outputTransform: (b: Batch) => [b.logits, b.classes] })],
  ['composition', () => new RocAuc({ outputTransform: binary }).add(new AveragePrecision({ outputTransform: binary }))],
];

const usages: [string, MetricUsage][] = [
  ['EpochWise', EpochWise],
  ['BatchWise', BatchWise],
  ['RunningBatchWise', RunningBatchWise],
  ['RunningEpochWise', RunningEpochWise],
];

describe('no tensor leaks (classification metrics)', () => {
  let data: Batch[] = [];
  beforeAll(() => {
    data = Array.from({ length: 3 }, (_, b) => ({
      scores: tf.randomUniform([4], 0, 1, 'float32', b + 1),
      binary: tf.tensor1d([0, 1, 1, 0], 'int32'),
      logits: tf.randomUniform([4, 3], 0, 1, 'float32', b + 7),
      classes: tf.tensor1d([0, 1, 2, b % 3], 'int32'),
      multi: tf.tensor2d(
        [
          [0, 1, 1],
          [1, 0, 0],
          [1, 1, 0],
          [0, 0, 1],
        ],
        [4, 3],
        'int32',
      ),
    }));
  });
  afterAll(() => tf.dispose(data.flatMap((b) => Object.values(b))));

  for (const [name, make] of metrics) {
    for (const [usageName, usage] of usages) {
      it(`${name} with ${usageName}: numTensors unchanged after a 3-epoch run, after stateDict, detach and reset`, async () => {
        const metric = make();
        const engine = new Engine<Batch, Batch>((_e, batch) => batch);
        metric.attach(engine, 'm', usage);
        const before = tf.memory().numTensors;
        const state = await engine.run(data, { maxEpochs: 3 });
        expect(state.metrics.m).toBeDefined();
        expect(tf.memory().numTensors).toBe(before);
        metric.detach(engine, usage);
        await engine.run(data);
        expect(tf.memory().numTensors).toBe(before);
        // Mid-epoch: one batch updated on the device, then a state dict (reads it back) and a load into a fresh one.
        const paused = new Engine<Batch, Batch>((_e, batch) => batch);
        metric.attach(paused, 'm', EpochWise);
        paused.on(Events.ITERATION_COMPLETED({ once: 1 }), () => paused.interrupt());
        await paused.run(data);
        const sd = await metric.stateDict();
        expect(tf.memory().numTensors).toBe(before);
        make().loadStateDict(sd);
        metric.reset();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
});
