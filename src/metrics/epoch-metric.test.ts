import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EpochMetric } from './epoch-metric';
import { NotComputableError } from './metric';
import { computeOver, identityEngine, useCpu } from './metric.test-util';
import { expectMidEpochRoundTrip } from './state-dict.test-util';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));
const keep = <T extends tf.Tensor>(t: T): T => {
  owned.push(t);
  return t;
};

/** Mean squared error of all outputs, read back inside computeFn. */
const mse = async (yPred: tf.Tensor, y: tf.Tensor) => {
  const value = tf.tidy(() => tf.mean(tf.square(tf.sub(yPred, tf.cast(y, yPred.dtype)))));
  const [v] = await value.data();
  value.dispose();
  return v!;
};

describe('EpochMetric', () => {
  it("the reference's doc example: mse of y * 0.75 against y = 0..5 is 0.5729...", async () => {
    const y = keep(tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'));
    const yPred = keep(tf.mul(tf.cast(y, 'float32'), 0.75));
    const engine = identityEngine();
    new EpochMetric(mse).attach(engine, 'mse');
    const { metrics } = await engine.run([[yPred, y]]);
    expect(metrics.mse).toBeCloseTo(0.5729166, 6);
  });

  it('computeFn gets every batch concatenated, with the original shapes and dtypes; (N, 1) is squeezed', async () => {
    const seen: { yPred: number[][] | number[]; y: number[]; dtypes: string[]; shapes: number[][] }[] = [];
    const metric = new EpochMetric(async (yPred, y) => {
      seen.push({
        yPred: (await yPred.array()) as number[][],
        y: (await y.array()) as number[],
        dtypes: [yPred.dtype, y.dtype],
        shapes: [yPred.shape, y.shape],
      });
      return yPred.shape[0]!;
    });
    const batches = [
      [
        keep(
          tf.tensor2d([
            [0.5, 1.5],
            [2, 3],
          ]),
        ),
        keep(tf.tensor2d([[1], [0]], [2, 1], 'int32')),
      ],
      [keep(tf.tensor2d([[4, 5]])), keep(tf.tensor1d([1], 'int32'))],
    ] as [tf.Tensor, tf.Tensor][];
    expect(await computeOver(metric, batches)).toBe(3);
    expect(seen[0]).toEqual({
      yPred: [
        [0.5, 1.5],
        [2, 3],
        [4, 5],
      ],
      y: [1, 0, 1],
      dtypes: ['float32', 'int32'],
      shapes: [[3, 2], [3]],
    });
    const bools = new EpochMetric(async (_p, y) => `${y.dtype}:${await y.data()}`);
    expect(await computeOver(bools, [[keep(tf.zeros([2])), keep(tf.tensor1d([true, false], 'bool'))]])).toBe(
      'bool:1,0',
    );
  });

  it('holds no tensor once computed; tensors given to computeFn are disposed even when it throws', async () => {
    const pairs: [tf.Tensor, tf.Tensor][] = [[keep(tf.ones([4])), keep(tf.zeros([4]))]];
    const before = tf.memory().numTensors;
    const metric = new EpochMetric(() => {
      throw new Error('boom');
    });
    metric.update(pairs[0]!);
    expect(tf.memory().numTensors).toBe(before + 1); // one chunk: yPred and y side by side
    await expect(metric.compute()).rejects.toThrow('boom');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('bounds the number of kept tensors: chunks are joined on the device every 64 batches', () => {
    const pair: [tf.Tensor, tf.Tensor] = [keep(tf.ones([2])), keep(tf.zeros([2]))];
    const metric = new EpochMetric(() => 0);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) metric.update(pair);
    expect(tf.memory().numTensors - before).toBeLessThan(64);
    metric.reset();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors: arguments, options, shapes, changes between batches, no data', async () => {
    expect(() => new EpochMetric(3 as never)).toThrow(
      'EpochMetric: argument computeFn should be a function (yPred, y) => number, got 3.',
    );
    expect(() => new EpochMetric(mse, { checkComputeFn: true } as never)).toThrow(/EpochMetric: unknown option/);
    const metric = new EpochMetric(mse);
    expect(() => metric.update([keep(tf.zeros([2, 2, 2])), keep(tf.zeros([2]))])).toThrow(
      /EpochMetric: yPred and y should have shape \(N\) or \(N, T\) with the same N, got yPred \[2,2,2\]/,
    );
    expect(() => metric.update([keep(tf.zeros([3])), keep(tf.zeros([2]))])).toThrow(RangeError);
    metric.update([keep(tf.zeros([2, 3])), keep(tf.zeros([2]))]);
    expect(() => metric.update([keep(tf.zeros([2, 4])), keep(tf.zeros([2]))])).toThrow(
      /EpochMetric: this batch has yPred rows of shape \[4\] and y rows of shape \[\], but earlier batches had \[3\] and \[\]/,
    );
    expect(() => metric.update([keep(tf.zeros([2, 3])), keep(tf.zeros([2], 'int32'))])).toThrow(
      /EpochMetric: this batch has dtypes yPred float32 and y int32, but earlier batches had float32 and float32/,
    );
    expect(() => metric.update([keep(tf.zeros([2, 3], 'complex64')), keep(tf.zeros([2]))])).toThrow(
      /EpochMetric.update: the dtype of yPred should be one of 'float32', 'int32' or 'bool', got 'complex64'/,
    );
    metric.reset();
    await expect(metric.compute()).rejects.toThrow(NotComputableError);
  });

  it('a mid-epoch state dict round trip gives the uninterrupted value; loads are checked first', async () => {
    const batches = [0, 1, 2].map(
      (b) =>
        [
          keep(tf.randomUniform([5, 2], 0, 1, 'float32', b)),
          keep(tf.randomUniform([5, 2], 0, 1, 'float32', 9 + b)),
        ] as [tf.Tensor, tf.Tensor],
    );
    await expectMidEpochRoundTrip(() => new EpochMetric(mse), batches, 2);
    const metric = new EpochMetric(mse);
    metric.update(batches[0]!);
    const sd = await metric.stateDict();
    expect(sd.outputs).toMatchObject({ yPredRow: [2], yRow: [2], yPredDtype: 'float32', yDtype: 'float32' });
    const value = await metric.compute();
    expect(() => metric.loadStateDict({ outputs: { ...sd.outputs!, y: sd.outputs!.y.slice(1) } })).toThrow(
      /EpochMetric.loadStateDict: state dict entries 'outputs.yPred' and 'outputs.y' should be the same number of rows \(2 and 2 values a row\), got \{"yPred":10,"y":9\}/,
    );
    expect(() =>
      metric.loadStateDict({ outputs: { ...sd.outputs!, yPred: [Infinity, ...sd.outputs!.yPred.slice(1)] } }),
    ).toThrow(
      /EpochMetric.loadStateDict: state dict entry 'outputs.yPred'\[0\] should be a finite number, got Infinity/,
    );
    expect(() => metric.loadStateDict(JSON.parse('{"outputs":null,"__proto__":{"x":1}}'))).toThrow(
      "EpochMetric.loadStateDict: key '__proto__' is not allowed in a state dict",
    );
    expect(await metric.compute()).toBe(value);
  });
});
