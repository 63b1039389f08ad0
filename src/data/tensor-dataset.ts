import * as tf from '@tensorflow/tfjs';
import { failRange, failType } from '../internal';

/**
 * A data set made of tensors that share their first dimension (one row per example), e.g. inputs and labels.
 * The tensors stay where they are (on the GPU for WebGL/WebGPU): a `DataLoader` over a `TensorDataset` builds each
 * batch with one `tf.gather` per tensor, without reading anything back.
 *
 * The data set keeps the tensors you give it (no copy): do not dispose them while it is in use; call
 * {@link TensorDataset.dispose} when done.
 *
 * @example
 * const ds = new TensorDataset(tf.tensor2d(xs), tf.tensor1d(ys));
 * const loader = new DataLoader(ds, { batchSize: 32, shuffle: true });
 * for (const [x, y] of loader) { ... }   // x: [32, features], y: [32]
 */
export class TensorDataset {
  /** The tensors, in the order given. */
  readonly tensors: readonly tf.Tensor[];
  /** The number of examples: the tensors' common first dimension. */
  readonly length: number;

  /**
   * @param tensors One or more tensors of rank ≥ 1 with the same first dimension.
   * @throws TypeError for no tensors or a non-tensor or a scalar; RangeError when first dimensions differ.
   */
  constructor(...tensors: tf.Tensor[]) {
    if (tensors.length === 0) {
      throw new TypeError('TensorDataset: expected at least one tensor, got none. Pass e.g. new TensorDataset(x, y).');
    }
    tensors.forEach((t, k) => {
      if (!(t instanceof tf.Tensor)) failType('TensorDataset', `argument ${k}`, 'a tf.Tensor', t);
      if (t.isDisposed) {
        failType('TensorDataset', `argument ${k}`, 'a live tensor', t, 'It was disposed before the data set was made.');
      }
      if (t.rank === 0) {
        throw new TypeError(
          `TensorDataset: tensor ${k} is a scalar; every tensor needs a first dimension (one row per example).`,
        );
      }
    });
    const length = tensors[0].shape[0];
    if (tensors.some((t) => t.shape[0] !== length)) {
      const shapes = tensors.map((t) => `[${t.shape.join(', ')}]`).join(', ');
      throw new RangeError(
        `TensorDataset: all tensors should have the same first dimension (number of examples), got shapes ${shapes}.`,
      );
    }
    this.tensors = Object.freeze([...tensors]);
    this.length = length;
  }

  /**
   * Gathers the rows at `indices` from every tensor: one `tf.gather` per tensor.
   *
   * @param indices Row indices, each in [0, length).
   * @returns New tensors, one per data set tensor, owned by the caller.
   * @example
   * const [x, y] = ds.gather([3, 0, 7]);
   */
  gather(indices: Int32Array | readonly number[] | tf.Tensor1D): tf.Tensor[] {
    this.#checkLive('TensorDataset.gather');
    if (!(indices instanceof tf.Tensor)) {
      if (!Array.isArray(indices) && !(indices instanceof Int32Array)) {
        failType(
          'TensorDataset.gather',
          'argument indices',
          'an Int32Array, an array of row indices or a tf.Tensor1D',
          indices,
        );
      }
      for (let i = 0; i < indices.length; i++) {
        const index = indices[i];
        if (!Number.isInteger(index) || index < 0 || index >= this.length) {
          failRange(
            'TensorDataset.gather',
            `row index at ${i}`,
            `an integer in [0, ${this.length - 1}] (the data set has ${this.length} rows)`,
            index,
          );
        }
      }
    }
    return tf.tidy(() => {
      const idx = indices instanceof tf.Tensor ? indices : tf.tensor1d(Int32Array.from(indices), 'int32');
      return this.tensors.map((t) => tf.gather(t, idx));
    });
  }

  /**
   * Takes `size` consecutive rows starting at `start` from every tensor (a cheap `tf.slice`).
   *
   * @returns New tensors, one per data set tensor, owned by the caller.
   */
  slice(start: number, size: number): tf.Tensor[] {
    this.#checkLive('TensorDataset.slice');
    if (!Number.isInteger(start) || !Number.isInteger(size) || start < 0 || size < 0 || start + size > this.length) {
      throw new RangeError(
        `TensorDataset.slice: rows [${start}, ${start + size}) are outside the data set of length ${this.length}.`,
      );
    }
    return this.tensors.map((t) => tf.slice(t, [start], [size]));
  }

  /** Throws when a tensor of the data set was disposed after it was made (tfjs would fail without saying which). */
  #checkLive(where: string): void {
    const k = this.tensors.findIndex((t) => t.isDisposed);
    if (k >= 0) {
      failType(
        where,
        `the data set's tensor ${k}`,
        'a live tensor',
        this.tensors[k],
        'It was disposed while the data set was in use: the data set keeps the tensors it is given, so dispose them ' +
          'only when done, with dataset.dispose().',
      );
    }
  }

  /** Disposes the data set's tensors. */
  dispose(): void {
    tf.dispose([...this.tensors]);
  }
}
