// Input checks shared by the regression, divergence, vision and entropy metrics (internal, not exported).
// Shapes only: nothing here reads a tensor back. Messages name the metric literally (`where` is e.g. 'R2Score.update').
import * as tf from '@tensorflow/tfjs';
import { failRange, failType } from '../internal';
import { toPair } from './inputs';

/** Throws unless `t` holds numbers (float32, int32 or bool; not string or complex64). */
export function checkNumeric(where: string, subject: string, t: tf.Tensor): void {
  if (t.dtype === 'string' || t.dtype === 'complex64') {
    failType(where, subject, 'a tensor of numbers (float32, int32 or bool)', t, 'Cast it with tf.cast(x, "float32").');
  }
}

/**
 * Unpacks `[yPred, y]` (or `{ yPred, y }`) for the metrics of the reference's regression family: each of shape (N)
 * or (N, 1), the same N, numbers. Returns both as float32 vectors of length N. Call inside `tf.tidy`.
 */
export function regressionColumns(output: unknown, owner: string): [tf.Tensor1D, tf.Tensor1D] {
  const [yPred, y] = toPair(output, owner);
  const where = `${owner}.update`;
  const fix = 'Reshape it in outputTransform, e.g. ([yPred, y]) => [yPred.reshape([-1]), y.reshape([-1])].';
  for (const [subject, t] of [
    ['yPred', yPred],
    ['y', y],
  ] as const) {
    checkNumeric(where, subject, t);
    if (!(t.rank === 1 || (t.rank === 2 && t.shape[1] === 1)))
      failRange(where, subject, 'of shape (N) or (N, 1)', t, fix);
  }
  if (yPred.shape[0] !== y.shape[0]) {
    throw new RangeError(
      `${where}: yPred and y should hold the same number of values N, got yPred of shape [${yPred.shape}] and y of shape [${y.shape}].`,
    );
  }
  return [column(yPred), column(y)];
}

function column(t: tf.Tensor): tf.Tensor1D {
  const flat = tf.reshape(t, [-1]) as tf.Tensor1D;
  return t.dtype === 'float32' ? flat : tf.cast(flat, 'float32');
}

/**
 * Unpacks `[yPred, y]` (or `{ yPred, y }`) of numbers with the same shape and at least `minRank` axes, the first
 * being the batch. `shapes` describes the accepted shapes in the message, e.g. '(N, C) or (N, ..., C)'.
 */
export function samePairShapes(
  output: unknown,
  owner: string,
  minRank: number,
  shapes: string,
): [tf.Tensor, tf.Tensor] {
  const [yPred, y] = toPair(output, owner);
  const where = `${owner}.update`;
  checkNumeric(where, 'yPred', yPred);
  checkNumeric(where, 'y', y);
  if (yPred.rank < minRank) failRange(where, 'yPred', `of shape ${shapes}`, yPred);
  if (!sameShape(yPred.shape, y.shape)) {
    throw new RangeError(
      `${where}: yPred and y should have the same shape ${shapes}, got yPred of shape [${yPred.shape}] and y of shape [${y.shape}].`,
    );
  }
  return [yPred, y];
}

/** Rows of the last axis: (N, ..., C) becomes (N * ..., C), as float32. Call inside `tf.tidy`. */
export function lastAxisRows(t: tf.Tensor): tf.Tensor2D {
  const classes = t.shape[t.rank - 1] ?? 1;
  const rows = tf.reshape(t, [-1, classes]) as tf.Tensor2D;
  return t.dtype === 'float32' ? rows : tf.cast(rows, 'float32');
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
