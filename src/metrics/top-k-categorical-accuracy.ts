import * as tf from '@tensorflow/tfjs';
import { DeviceState } from './device-state';
import { CLASSIFICATION_SHAPES, classificationBatch, describeValue, type PredictionPair, toPair } from './inputs';
import { LabelCheck, targetRule } from './label-check';
import { Metric, NotComputableError } from './metric';
import { checkSumsStateDict, markLoaded, planLoad, readSums, type SumsStateDict } from './metric-state';

/**
 * Top-k accuracy: the fraction of samples whose true class is among the k highest scores. `yPred` (N, ..., C)
 * scores with `y` (N, ...) class indices or one-hot (N, ..., C). Ties rank the lower class index first, like a
 * stable sort. Computed without `tf.topk` (whose WebGL/WebGPU kernels read back small inputs synchronously).
 * Targets are checked like {@link Accuracy}'s: an index outside [0, C) throws a RangeError at `compute()`.
 *
 * @example
 * new TopKCategoricalAccuracy({ k: 3 }).attach(evaluator, 'top3');
 */
export class TopKCategoricalAccuracy extends Metric<PredictionPair, number> {
  readonly #k: number;
  readonly #state = new DeviceState('TopKCategoricalAccuracy');
  readonly #labels = new LabelCheck('TopKCategoricalAccuracy');
  #numExamples = 0;

  /**
   * @param options.k how many top scores count (a positive integer, default 5).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { k?: number; outputTransform?: (output: any) => PredictionPair } = {}) {
    super(options);
    const { k = 5 } = options;
    if (!(Number.isInteger(k) && k > 0)) {
      throw new RangeError(`TopKCategoricalAccuracy: option k should be a positive integer, got ${describeValue(k)}.`);
    }
    this.#k = k;
  }

  /** Frees the on-device count of top-k hits and zeroes the sample count. */
  reset(): void {
    this.#state.reset();
    this.#labels.reset();
    this.#numExamples = 0;
  }

  /**
   * Adds the number of samples whose true class ranks among the k highest scores to the on-device sum (no readback).
   */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'TopKCategoricalAccuracy');
    const count = tf.tidy(() => {
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
      this.#labels.add('y', y, targetRule(batch, yPred, y));
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
      this.#state.add({ correct: tf.sum(tf.cast(correct, 'float32')) });
      return batch.count;
    });
    this.#numExamples += count;
  }

  /**
   * Reads the hit count back once and returns it over the number of samples; throws NotComputableError before any
   * update.
   */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError('TopKCategoricalAccuracy must have at least one example before it can be computed.');
    }
    const numExamples = this.#numExamples;
    const [sums] = await Promise.all([this.#state.read(), this.#labels.verify()]);
    return (sums.get('correct')?.[0] ?? 0) / numExamples;
  }

  /**
   * The example count and device sums as plain data, so that a resumed run continues this epoch's value
   * exactly. Reads the sums back once (`await data()`), and throws like `compute()` for a bad label.
   */
  override async stateDict(): Promise<SumsStateDict> {
    await this.#labels.verify();
    return { numExamples: this.#numExamples, sums: await readSums(this.#state) };
  }

  /** Restores a {@link stateDict}; checks all of it first (count, entry names, shapes, finite values). */
  override loadStateDict(stateDict: SumsStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = 'TopKCategoricalAccuracy.loadStateDict';
    const checked = checkSumsStateDict(where, stateDict, { correct: [] });
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      markLoaded(this);
    };
  }
}
