import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Average } from './average';
import { Loss } from './loss';
import { MeanAbsoluteError } from './mean-absolute-error';
import { MeanSquaredError } from './mean-squared-error';
import { NotComputableError } from './metric';
import { computeOver, disposePairs, pair, useCpu } from './metric.test-util';
import { RootMeanSquaredError } from './root-mean-squared-error';

beforeAll(useCpu);

describe('MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError', () => {
  const yPred = [1, 2, 3, 4.5, -1];
  const y = [1.5, 2, 1, 4, 0];
  const diffs = yPred.map((v, i) => v - y[i]);
  const mse = diffs.reduce((a, d) => a + d * d, 0) / diffs.length; // (0.25 + 0 + 4 + 0.25 + 1) / 5
  const mae = diffs.reduce((a, d) => a + Math.abs(d), 0) / diffs.length;

  it('match plain-JS values over two batches, with (N, 1) predictions and (N) targets', async () => {
    const batches = [
      pair(
        yPred.slice(0, 3).map((v) => [v]),
        y.slice(0, 3),
      ),
      pair(
        yPred.slice(3).map((v) => [v]),
        y.slice(3),
      ),
    ];
    expect(mse).toBeCloseTo(1.1, 10);
    expect(await computeOver(new MeanSquaredError(), batches)).toBeCloseTo(mse, 6);
    expect(await computeOver(new MeanAbsoluteError(), batches)).toBeCloseTo(mae, 6);
    expect(await computeOver(new RootMeanSquaredError(), batches)).toBeCloseTo(Math.sqrt(mse), 6);
    disposePairs(batches);
  });

  it('divide by the batch dimension (the reference), summing the other axes', async () => {
    const batch = [
      pair(
        [
          [1, 2],
          [3, 4],
        ],
        [
          [0, 0],
          [0, 0],
        ],
      ),
    ];
    expect(await computeOver(new MeanSquaredError(), batch)).toBe((1 + 4 + 9 + 16) / 2);
    disposePairs(batch);
  });

  it('perfect predictions give 0; no data and bad shapes throw', async () => {
    const same = [pair([1, 2], [1, 2])];
    expect(await computeOver(new RootMeanSquaredError(), same)).toBe(0);
    await expect(new RootMeanSquaredError().compute()).rejects.toThrow(/RootMeanSquaredError must have/);
    await expect(new MeanAbsoluteError().compute()).rejects.toBeInstanceOf(NotComputableError);
    const bad = pair([1, 2, 3], [1, 2]);
    expect(() => new MeanSquaredError().update(bad)).toThrow(/yPred \[3\] and y \[2\]/);
    disposePairs([...same, bad]);
  });
});

describe('Loss', () => {
  it('weights each batch average by its size', async () => {
    const mse = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar;
    const batches = [pair([1, 2, 3], [0, 0, 0]), pair([2], [0])];
    // batch means 14/3 (3 samples) and 4 (1 sample): (14 + 4) / 4
    expect(await computeOver(new Loss(mse), batches)).toBeCloseTo(18 / 4, 5);
    const perBatch = new Loss(mse, { batchSize: () => 1 });
    expect(await computeOver(perBatch, batches)).toBeCloseTo((14 / 3 + 4) / 2, 5);
    disposePairs(batches);
  });

  it('rejects a non-scalar loss and a bad lossFn; NotComputableError without data', async () => {
    const batch = pair([1, 2], [0, 0]);
    const before = tf.memory().numTensors;
    expect(() => new Loss((a, b) => tf.sub(a, b)).update(batch)).toThrow(/did not return the average loss/);
    expect(tf.memory().numTensors).toBe(before); // the tidy freed the rejected loss
    expect(() => new Loss(3 as never)).toThrow(TypeError);
    await expect(new Loss((a) => tf.mean(a) as tf.Scalar).compute()).rejects.toBeInstanceOf(NotComputableError);
    disposePairs([batch]);
  });
});

describe('Average', () => {
  it('averages numbers, scalars and batches of vectors', async () => {
    expect(await computeOver(new Average(), [1, 2, 6])).toBe(3);
    const scalars = [tf.scalar(1), tf.scalar(4)];
    expect(await computeOver(new Average(), scalars)).toBe(2.5);
    const rows = tf.tensor2d([
      [1, 10],
      [3, 30],
    ]);
    const single = tf.tensor1d([5, 50]);
    // a rank-2 tensor adds 2 samples summed over axis 0; a vector adds 1 sample
    expect(await computeOver(new Average(), [rows, single])).toEqual([3, 30]);
    tf.dispose([...scalars, rows, single]);
    await expect(new Average().compute()).rejects.toBeInstanceOf(NotComputableError);
    expect(() => new Average().update('3' as never)).toThrow(/number or a tensor/);
  });
});
