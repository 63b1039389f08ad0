// Issue 10.1: labels are checked. Every classification metric rejects labels outside [0, numClasses), negative or
// non-integer labels and non-0/1 binary targets, naming the metric, the bad value and the expected range. The check
// runs on the device and is read back by compute(): update() never reads anything back.
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Accuracy } from './accuracy';
import { ConfusionMatrix, mIoU } from './confusion-matrix';
import { Fbeta } from './fbeta';
import { classIndexRule, LabelCheck, zeroOneRule } from './label-check';
import type { Metric } from './metric';
import { computeOver, useCpu } from './metric.test-util';
import { Precision } from './precision';
import { Recall } from './recall';
import { TopKCategoricalAccuracy } from './top-k-categorical-accuracy';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));
afterEach(() => vi.restoreAllMocks());
const t = (values: number[] | number[][], dtype: 'float32' | 'int32' = 'float32') => {
  const tensor = tf.tensor(values, undefined, dtype);
  owned.push(tensor);
  return tensor;
};

const twoClassScores = () =>
  t([
    [0.9, 0.1],
    [0.2, 0.8],
  ]);
const CHECKED_AT_COMPUTE = /checked on the device and read when compute\(\) reads results back, so no step waits/;

describe('labels are checked (issue 10.1)', () => {
  it('Accuracy scored y = [2, 3] against two classes as 1.0; now it is an error naming the value and the range', async () => {
    const metric = new Accuracy();
    metric.update([twoClassScores(), t([2, 3], 'int32')]);
    const error = await metric.compute().catch((e: unknown) => e as RangeError);
    expect(error).toBeInstanceOf(RangeError);
    expect((error as Error).message).toMatch(
      /^Accuracy: y should hold class indices, integers in \[0, 2\), got 3 since the last reset/,
    );
    expect((error as Error).message).toMatch(CHECKED_AT_COMPUTE);
    expect((error as Error).message).toMatch(/every label must be below 2/);
  });

  it('ConfusionMatrix dropped samples while still counting them; now it is an error', async () => {
    const scores = t([
      [0.9, 0.05, 0.05],
      [0.1, 0.8, 0.1],
      [0.1, 0.1, 0.8],
    ]);
    await expect(
      computeOver(new ConfusionMatrix({ numClasses: 3 }), [[scores, t([0, 5, 2], 'int32')]]),
    ).rejects.toThrow(
      /^ConfusionMatrix: y should hold class indices, integers in \[0, 3\), got 5 since the last reset/,
    );
    // and through a composite: mIoU reports the ConfusionMatrix error
    await expect(
      computeOver(mIoU(new ConfusionMatrix({ numClasses: 3 })), [[scores, t([0, -1, 2], 'int32')]]),
    ).rejects.toThrow(/ConfusionMatrix: y should hold class indices, integers in \[0, 3\), got -1/);
  });

  const cases: [string, () => Metric<any, any>, [tf.Tensor, tf.Tensor], RegExp][] = [
    [
      'Accuracy: negative index',
      () => new Accuracy(),
      [twoClassScores(), t([0, -1])],
      /Accuracy: y .*\[0, 2\), got -1/,
    ],
    ['Accuracy: non-integer index', () => new Accuracy(), [twoClassScores(), t([0.5, 1])], /Accuracy: y .*got 0.5/],
    [
      'Accuracy: NaN index',
      () => new Accuracy(),
      [twoClassScores(), t([Number.NaN, 1])],
      /Accuracy: y .*got NaN or ±Infinity/,
    ],
    [
      'Accuracy: binary target 2',
      () => new Accuracy(),
      [t([0.2, 0.7]), t([1, 2])],
      /Accuracy: y should hold 0 or 1 \(binary targets\), got 2/,
    ],
    [
      'Accuracy: one-hot target 0.7',
      () => new Accuracy(),
      [
        twoClassScores(),
        t([
          [0.3, 0.7],
          [1, 0],
        ]),
      ],
      /Accuracy: y should hold 0 or 1 \(one-hot targets\), got 0.7 since/,
    ],
    [
      'Accuracy: multilabel target -1',
      () => new Accuracy({ isMultilabel: true }),
      [
        twoClassScores(),
        t([
          [1, -1],
          [0, 1],
        ]),
      ],
      /Accuracy: y should hold 0 or 1 \(multilabel targets\), got -1/,
    ],
    [
      'Precision: index 2 of 2',
      () => new Precision({ average: 'macro' }),
      [twoClassScores(), t([2, 0], 'int32')],
      /^Precision: y .*\[0, 2\), got 2/,
    ],
    [
      'Recall: binary target 3',
      () => new Recall(),
      [t([0.2, 0.7]), t([3, 1])],
      /^Recall: y should hold 0 or 1 \(binary targets\), got 3/,
    ],
    [
      'Fbeta: index 7',
      () => new Fbeta({ beta: 1 }),
      [twoClassScores(), t([7, 0], 'int32')],
      /^(Precision|Recall): y .*got 7/,
    ],
    [
      'TopKCategoricalAccuracy: index 3 of 3',
      () => new TopKCategoricalAccuracy({ k: 2 }),
      [t([[0.2, 0.3, 0.5]]), t([3], 'int32')],
      /^TopKCategoricalAccuracy: y should hold class indices, integers in \[0, 3\), got 3/,
    ],
    [
      'ConfusionMatrix: one-hot target 2',
      () => new ConfusionMatrix({ numClasses: 2 }),
      [
        twoClassScores(),
        t([
          [0, 2],
          [1, 0],
        ]),
      ],
      /^ConfusionMatrix: y should hold 0 or 1 \(one-hot targets\), got 2/,
    ],
  ];
  for (const [name, make, batch, message] of cases) {
    it(`${name}: update() reads nothing back; compute() throws a RangeError`, async () => {
      const metric = make();
      const data = vi.spyOn(tf.Tensor.prototype, 'data');
      const dataSync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
      metric.update(batch);
      expect(data).not.toHaveBeenCalled();
      expect(dataSync).not.toHaveBeenCalled();
      const error = await Promise.resolve(metric.compute()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(CHECKED_AT_COMPUTE);
      expect(dataSync).not.toHaveBeenCalled();
    });
  }

  it('valid labels pass in every mode; reset clears a failed check', async () => {
    const accuracy = new Accuracy();
    accuracy.update([twoClassScores(), t([5, 0], 'int32')]);
    accuracy.reset();
    accuracy.update([twoClassScores(), t([0, 1], 'int32')]);
    expect(await accuracy.compute()).toBe(1);
    expect(await computeOver(new Accuracy(), [[t([0.2, 0.7]), t([0, 1])]])).toBe(1);
    const flags = tf.tensor1d([false, true], 'bool');
    owned.push(flags);
    expect(await computeOver(new Accuracy(), [[t([0.2, 0.7]), flags]])).toBe(1);
    expect(
      await computeOver(new Accuracy({ isMultilabel: true }), [
        [
          twoClassScores(),
          t([
            [1, 0],
            [0, 1],
          ]),
        ],
      ]),
    ).toBe(1);
    expect(await computeOver(new TopKCategoricalAccuracy({ k: 1 }), [[twoClassScores(), t([0, 1], 'int32')]])).toBe(1);
  });

  it('LabelCheck: the extremes across batches are reported; non-integers, non-finite, int32 and bool values', async () => {
    const check = new LabelCheck('Demo');
    const rule = zeroOneRule('flags', 'Use 0 or 1.');
    tf.tidy(() => {
      check.add('y', tf.tensor1d([0, 1, 4]), rule);
      check.add('y', tf.tensor1d([-2, 1, 0.5]), rule);
    });
    await expect(check.verify()).rejects.toThrow(
      /^Demo: y should hold 0 or 1 \(flags\), got -2 and 4 since the last reset \(.*\)\. Use 0 or 1\.$/,
    );
    check.reset();
    tf.tidy(() => check.add('y', tf.tensor1d([0, 0.25, 1, 0.75]), rule));
    await expect(check.verify()).rejects.toThrow(/got 0.75 since the last reset/);
    check.reset();
    tf.tidy(() => check.add('y', tf.tensor1d([2, 1.5, -0.5, 0]), classIndexRule(3, 'Fix.')));
    await expect(check.verify()).rejects.toThrow(/got -0.5 since the last reset/);
    check.reset();
    tf.tidy(() => check.add('y', tf.tensor1d([2, 1.5, 0.5, 0]), classIndexRule(3, 'Fix.')));
    await expect(check.verify()).rejects.toThrow(/got 1.5 since the last reset/);
    check.reset();
    tf.tidy(() => check.add('y', tf.tensor1d([0, Number.POSITIVE_INFINITY, 7]), rule));
    await expect(check.verify()).rejects.toThrow(/got NaN or ±Infinity since the last reset/);
    check.reset();
    await expect(check.verify()).resolves.toBeUndefined();
    // int32 values: only the range is checked (and no cast of the batch); bool values are always 0 or 1
    tf.tidy(() => {
      check.add('y', tf.tensor1d([0, 5, 2, -3, 5], 'int32'), classIndexRule(3, 'Fix.'));
      check.add('flags', tf.tensor1d([true, false], 'bool'), rule);
    });
    await expect(check.verify()).rejects.toThrow(
      /^Demo: y should hold class indices, integers in \[0, 3\), got -3 and 5 since the last reset/,
    );
  });
});
