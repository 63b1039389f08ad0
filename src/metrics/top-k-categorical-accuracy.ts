import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOptions } from '../internal';
import { CLASSIFICATION_SHAPES, classificationBatch, type PredictionPair, toPair } from './inputs';
import { targetRule } from './label-check';
import { SumCountMetric } from './sum-count';

/**
 * Top-k accuracy: the fraction of samples whose true class is among the k highest scores. `yPred` (N, ..., C)
 * scores with `y` (N, ...) class indices or one-hot (N, ..., C). Ties rank the lower class index first, like a
 * stable sort. Computed without `tf.topk` (whose WebGL/WebGPU kernels read back small inputs synchronously).
 * Targets are checked like {@link Accuracy}'s: an index outside [0, C) throws a RangeError at `compute()`.
 *
 * @example
 * new TopKCategoricalAccuracy({ k: 3 }).attach(evaluator, 'top3');
 */
export class TopKCategoricalAccuracy extends SumCountMetric<PredictionPair> {
  readonly #k: number;

  /**
   * @param options.k how many top scores count (a positive integer, default 5).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { k?: number; outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('TopKCategoricalAccuracy', options, ['k', 'outputTransform']) as typeof options);
    this.#k = checkInteger('TopKCategoricalAccuracy', 'option k', options.k ?? 5, { min: 1 });
  }

  protected override get metricName(): string {
    return 'TopKCategoricalAccuracy';
  }

  protected override get sumName(): string {
    return 'correct';
  }

  /**
   * Adds the number of samples whose true class ranks among the k highest scores to the on-device sum (no readback).
   */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'TopKCategoricalAccuracy');
    tf.tidy(() => {
      const batch = classificationBatch(yPred, y, false, 'TopKCategoricalAccuracy');
      if (batch.kind !== 'multiclass') {
        throw new RangeError(
          `TopKCategoricalAccuracy: expected multiclass scores, got yPred [${yPred.shape}] and y [${y.shape}]. ` +
            `Expected ${CLASSIFICATION_SHAPES}.`,
        );
      }
      const c = batch.numClasses;
      if (this.#k > c) {
        throw new RangeError(
          `TopKCategoricalAccuracy: k = ${this.#k} is larger than the number of classes ${c} in yPred [${yPred.shape}]; use k <= ${c}.`,
        );
      }
      this.checkLabels('y', y, targetRule(batch, yPred, y));
      const scores = tf.reshape(tf.cast(yPred, 'float32'), [batch.count, c]);
      const target = batch.target;
      const truth = tf.oneHot(target, c, 1, 0, 'float32');
      const trueScore = tf.sum(tf.mul(scores, truth), 1, true);
      const classIndex = tf.range(0, c, 1, 'int32').reshape([1, c]);
      const above = tf.greater(scores, trueScore);
      const tiedBefore = tf.logicalAnd(tf.equal(scores, trueScore), tf.less(classIndex, tf.reshape(target, [-1, 1])));
      const rank = tf.sum(tf.cast(tf.logicalOr(above, tiedBefore), 'int32'), 1);
      const isValid = tf.logicalAnd(tf.greaterEqual(target, 0), tf.less(target, c));
      const correct = tf.logicalAnd(tf.less(rank, this.#k), isValid);
      this.accumulate(tf.sum(tf.cast(correct, 'float32')), batch.count);
    });
  }
}
