import * as tf from '@tensorflow/tfjs';
import { checkFunction, describeValue, failType } from '../internal';

/** What most metrics' `update` takes: `[yPred, y]` or `{ yPred, y }`. */
export type PredictionPair = readonly [tf.Tensor, tf.Tensor] | { readonly yPred: tf.Tensor; readonly y: tf.Tensor };

/** Unpacks `[yPred, y]` or `{ yPred, y }` into a pair of tensors, or throws a TypeError naming the metric. */
export function toPair(output: unknown, owner: string): [tf.Tensor, tf.Tensor] {
  if (Array.isArray(output) && output.length === 2 && isTensor(output[0]) && isTensor(output[1])) {
    return [checkLive(owner, 'yPred', output[0]), checkLive(owner, 'y', output[1])];
  }
  if (output !== null && typeof output === 'object' && !Array.isArray(output)) {
    const { yPred, y } = output as { yPred?: unknown; y?: unknown };
    if (isTensor(yPred) && isTensor(y)) return [checkLive(owner, 'yPred', yPred), checkLive(owner, 'y', y)];
  }
  throw new TypeError(
    `${owner}: update expects [yPred, y] or { yPred, y } with two tensors, got ${describeValue(output)}. ` +
      'If the engine output holds more, pick the two with the outputTransform option.',
  );
}

/**
 * Throws a TypeError naming the metric unless `t` is still alive: a tensor disposed before the metric read it (by a
 * handler that ran earlier, or an outputTransform that returned a tensor it then disposed).
 */
export function checkLive(owner: string, subject: string, t: tf.Tensor): tf.Tensor {
  if (t.isDisposed) {
    failType(
      owner,
      `update's ${subject}`,
      'a live tensor',
      t,
      'Something disposed it before the metric updated: the engine output must live until the ITERATION_COMPLETED handlers ran (clone it where you keep it).',
    );
  }
  return t;
}

/** True for a tfjs tensor. */
export function isTensor(value: unknown): value is tf.Tensor {
  return value instanceof tf.Tensor;
}

/** Which kind of classification input a pair of tensors is. */
export type ClassificationKind = 'binary' | 'multiclass' | 'multilabel';

/** A classification batch reduced to flat 0/1 or index tensors (create it inside `tf.tidy`). */
export interface ClassificationBatch {
  kind: ClassificationKind;
  /** Number of classes (1 for binary, C for multiclass and multilabel). */
  numClasses: number;
  /** Positions scored: samples times any spatial positions. */
  count: number;
  /** binary: (M,) 0/1 float; multiclass: (M,) int32 class indices; multilabel: (M, C) 0/1 float. */
  pred: tf.Tensor;
  /** Same layout as `pred`, for the targets. */
  target: tf.Tensor;
}

/** The shapes accepted by classification metrics, quoted in their errors. */
export const CLASSIFICATION_SHAPES =
  'binary: yPred and y of shape (N) or (N, ..., 1), yPred probabilities (> 0.5 counts as 1) or 0/1; ' +
  'multiclass: yPred (N, ..., C) scores with y (N, ...) class indices or one-hot y (N, ..., C); ' +
  'multilabel (isMultilabel: true): yPred and y of shape (N, ..., C), C > 1';

/**
 * Works out the kind of a classification batch from its shapes alone (no readback) and flattens it.
 * Classes are on the **last** axis (tfjs' channels-last convention). Call inside `tf.tidy`.
 */
export function classificationBatch(
  yPred: tf.Tensor,
  y: tf.Tensor,
  isMultilabel: boolean,
  owner: string,
): ClassificationBatch {
  const p = yPred.shape;
  const t = y.shape;
  const shapes = `got yPred [${p}] and y [${t}]`;
  const last = p[p.length - 1] ?? 1;
  if (isMultilabel) {
    if (!(sameShape(p, t) && p.length >= 2 && last > 1)) {
      throw new RangeError(
        `${owner}: multilabel input needs yPred and y of the same shape (N, ..., C) with C > 1, ${shapes}.`,
      );
    }
    const count = yPred.size / last;
    return {
      kind: 'multilabel',
      numClasses: last,
      count,
      pred: binarize(yPred.reshape([count, last])),
      target: binarize(y.reshape([count, last])),
    };
  }
  if (p.length === 0 || t.length === 0) {
    throw new RangeError(`${owner}: yPred and y need a batch dimension, ${shapes}. Expected ${CLASSIFICATION_SHAPES}.`);
  }
  const indexTarget =
    (p.length === t.length + 1 && sameShape(p.slice(0, -1), t)) ||
    (p.length === t.length && t[t.length - 1] === 1 && last > 1 && sameShape(p.slice(0, -1), t.slice(0, -1)));
  if (indexTarget && last === 1) return binaryBatch(yPred, y);
  if (indexTarget) return multiclassBatch(yPred, last, (count) => tf.cast(y.reshape([count]), 'int32'));
  if (sameShape(p, t)) {
    if (p.length >= 2 && last > 1) {
      return multiclassBatch(yPred, last, (count) => tf.argMax(y.reshape([count, last]), -1));
    }
    return binaryBatch(yPred, y);
  }
  if (p.length + 1 === t.length && sameShape(p, t.slice(0, -1)) && t[t.length - 1] === 1) return binaryBatch(yPred, y);
  throw new RangeError(`${owner}: yPred and y have incompatible shapes, ${shapes}. Expected ${CLASSIFICATION_SHAPES}.`);
}

/** A multiclass batch: `last` classes, predictions by argmax, targets as class indices from `target(count)`. */
function multiclassBatch(yPred: tf.Tensor, last: number, target: (count: number) => tf.Tensor): ClassificationBatch {
  const count = yPred.size / last;
  return {
    kind: 'multiclass',
    numClasses: last,
    count,
    pred: tf.argMax(yPred.reshape([count, last]), -1),
    target: target(count),
  };
}

function binaryBatch(yPred: tf.Tensor, y: tf.Tensor): ClassificationBatch {
  return {
    kind: 'binary',
    numClasses: 1,
    count: yPred.size,
    pred: binarize(yPred.flatten()),
    target: binarize(y.flatten()),
  };
}

/** 1 where the value is above 0.5, else 0, as float32. */
function binarize(x: tf.Tensor): tf.Tensor {
  return tf.cast(tf.greater(x, 0.5), 'float32');
}

/**
 * Checks that a batch's kind and number of classes match the earlier ones since the last reset; returns the pair
 * to remember. Throws like the reference: the kind or the number of classes may not change within an epoch.
 */
export function checkSameKind(
  previous: { kind: ClassificationKind; numClasses: number } | null,
  batch: ClassificationBatch,
  owner: string,
): { kind: ClassificationKind; numClasses: number } {
  if (previous !== null) {
    if (previous.kind !== batch.kind) {
      throw new RangeError(
        `${owner}: input type has changed from ${previous.kind} to ${batch.kind} since the last reset; keep one kind of input per epoch.`,
      );
    }
    if (previous.numClasses !== batch.numClasses) {
      throw new RangeError(
        `${owner}: input number of classes has changed from ${previous.numClasses} to ${batch.numClasses} since the last reset.`,
      );
    }
  }
  return { kind: batch.kind, numClasses: batch.numClasses };
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks `outputTransform` when given: it must be a function. Returns it, or the identity. */
export function checkOutputTransform<T>(outputTransform: unknown, owner: string): (output: any) => T {
  if (outputTransform === undefined) return (output) => output as T;
  return checkFunction(owner, 'option outputTransform', outputTransform, '(output) => input');
}

/** Reshapes flat values into nested arrays of `shape` (a number for shape []). */
export function nest(values: readonly number[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  if (shape.length === 1) return [...values];
  const step = values.length / shape[0];
  return Array.from({ length: shape[0] }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

/**
 * Unpacks a regression pair and checks that `yPred` and `y` hold the same number of values (like the reference's
 * `y.view_as(yPred)`); returns `yPred` and `y` reshaped to it. Call inside `tf.tidy`.
 */
export function regressionPair(output: unknown, owner: string): [tf.Tensor, tf.Tensor] {
  const [yPred, y] = toPair(output, owner);
  if (yPred.size !== y.size || (yPred.rank > 0 && y.rank > 0 && yPred.shape[0] !== y.shape[0])) {
    throw new RangeError(
      `${owner}: yPred and y should have the same shape (or the same batch size and number of values), ` +
        `got yPred [${yPred.shape}] and y [${y.shape}]. Reshape one of them with outputTransform.`,
    );
  }
  return [yPred, y];
}
