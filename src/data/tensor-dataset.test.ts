import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataLoader } from './data-loader';
import { TensorDataset } from './tensor-dataset';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('TensorDataset', () => {
  it('has the common first dimension as length and gathers rows of every tensor', async () => {
    const x = tf.tensor2d([
      [0, 1],
      [10, 11],
      [20, 21],
    ]);
    const y = tf.tensor1d([5, 6, 7]);
    const ds = new TensorDataset(x, y);
    expect(ds.length).toBe(3);
    const [xb, yb] = ds.gather([2, 0]);
    expect(await xb.array()).toEqual([
      [20, 21],
      [0, 1],
    ]);
    expect(await yb.array()).toEqual([7, 5]);
    const [xs, ys] = ds.slice(1, 2);
    expect(await xs.array()).toEqual([
      [10, 11],
      [20, 21],
    ]);
    expect(await ys.array()).toEqual([6, 7]);
    tf.dispose([xb, yb, xs, ys]);
    expect(x.isDisposed).toBe(false);
    ds.dispose();
    expect(x.isDisposed && y.isDisposed).toBe(true);
  });

  it('gather leaves no intermediate tensors behind', () => {
    const ds = new TensorDataset(tf.zeros([4, 2]), tf.zeros([4]));
    const before = tf.memory().numTensors;
    const out = ds.gather(Int32Array.from([1, 3]));
    expect(tf.memory().numTensors).toBe(before + 2);
    tf.dispose(out);
    ds.dispose();
  });

  it('names the shapes when first dimensions differ', () => {
    const a = tf.zeros([4, 2]);
    const b = tf.zeros([3]);
    expect(() => new TensorDataset(a, b)).toThrow(RangeError);
    expect(() => new TensorDataset(a, b)).toThrow('got shapes [4, 2], [3]');
    tf.dispose([a, b]);
  });

  it('rejects no tensors, non-tensors, scalars and disposed tensors', () => {
    expect(() => new TensorDataset()).toThrow(/at least one tensor/);
    expect(() => new TensorDataset([1, 2] as unknown as tf.Tensor)).toThrow(/argument 0 should be a tf\.Tensor/);
    const s = tf.scalar(1);
    expect(() => new TensorDataset(s)).toThrow(/scalar/);
    s.dispose();
    expect(() => new TensorDataset(s)).toThrow(/disposed/);
  });
});

describe('TensorDataset with a tensor disposed behind its back', () => {
  it('says which tensor, at construction and at batch time, instead of a tfjs TypeError', () => {
    const x = tf.zeros([4, 2]);
    x.dispose();
    expect(() => new TensorDataset(x)).toThrow(
      'TensorDataset: argument 0 should be a live tensor, got a disposed float32 tensor of shape [4,2]. It was disposed before the data set was made.',
    );
    const y = tf.zeros([4]);
    const z = tf.zeros([4, 3]);
    const ds = new TensorDataset(y, z);
    z.dispose();
    for (const batch of [() => ds.slice(0, 2), () => ds.gather([0, 1])]) {
      expect(batch).toThrow(
        /^TensorDataset\.(slice|gather): the data set's tensor 1 should be a live tensor, got a disposed float32 tensor of shape \[4,3\]\. It was disposed while the data set was in use/,
      );
    }
    expect(() => [...new DataLoader(ds, { batchSize: 2, shuffle: true })]).toThrow(
      /^TensorDataset\.gather: the data set's tensor 1/,
    );
    y.dispose();
  });

  it('rejects row indices outside the data set (the CPU backend would read garbage or throw deep in tfjs)', () => {
    const ds = new TensorDataset(tf.zeros([4, 2]));
    expect(() => ds.gather([0, 4])).toThrow(
      'TensorDataset.gather: row index at 1 should be an integer in [0, 3] (the data set has 4 rows), got 4.',
    );
    expect(() => ds.gather(Int32Array.from([-1]))).toThrow(/row index at 0 should be an integer in \[0, 3\].*, got -1/);
    expect(() => ds.gather('01' as never)).toThrow(/argument indices should be an Int32Array/);
    ds.dispose();
  });
});
