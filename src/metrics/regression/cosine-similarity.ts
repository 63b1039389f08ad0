import * as tf from '@tensorflow/tfjs';
import { checkNumber, checkOptions } from '../../internal';
import { samePairShapes } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** The plain-data state of a {@link CosineSimilarity}. */
export interface CosineSimilarityStateDict {
  /** Σ of the samples' cosine similarities. */
  sumOfCosSimilarities: number;
  /** Number of samples N. */
  numExamples: number;
}

/**
 * The mean cosine similarity between each sample's prediction and target: every axis after the first is flattened,
 * and each row gives `yPred · y / (max(‖yPred‖, eps) · max(‖y‖, eps))`.
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`) of the same shape (N, D) or (N, ...), numbers. Holds one scalar sum on the
 * device and the count N on the host.
 *
 * @example
 * new CosineSimilarity().attach(evaluator, 'cosine');
 */
export class CosineSimilarity extends Metric<PredictionPair, number> {
  readonly #eps: number;
  readonly #state = new SumState('CosineSimilarity', ['sumOfCosSimilarities'], ['numExamples']);

  /**
   * @param options.eps lower bound of each norm, so a zero vector gives 0 rather than NaN (default 1e-8).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { eps?: number; outputTransform?: (output: any) => PredictionPair } = {}) {
    const { eps = 1e-8, ...rest } = checkOptions('CosineSimilarity', options, ['eps', 'outputTransform']);
    super(rest as typeof options);
    this.#eps = checkNumber('CosineSimilarity', 'option eps', eps, { min: 0, minExclusive: true });
  }

  protected override get metricName(): string {
    return 'CosineSimilarity';
  }

  /** Frees the device sum and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's per-sample cosine similarities to the device sum (no readback).
   *
   * @example
   * cosine.update([yPred, y]); // both (N, D) or (N, ...)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = samePairShapes(output, 'CosineSimilarity', 2, '(N, D) or (N, ...)');
      const n = yPred.shape[0]!;
      const a = tf.cast(tf.reshape(yPred, [n, -1]), 'float32');
      const b = tf.cast(tf.reshape(y, [n, -1]), 'float32');
      const normA = tf.maximum(tf.norm(a, 'euclidean', 1), this.#eps);
      const normB = tf.maximum(tf.norm(b, 'euclidean', 1), this.#eps);
      const cos = tf.div(tf.sum(tf.mul(a, b), 1), tf.mul(normA, normB));
      this.#state.add({ sumOfCosSimilarities: tf.sum(cos) });
      this.#state.count('numExamples', n);
    });
  }

  /**
   * Reads the sum back once and returns the mean similarity; throws NotComputableError before any sample.
   *
   * @example
   * const similarity = await cosine.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('CosineSimilarity must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    return sums.sumOfCosSimilarities / counts.numExamples;
  }

  /**
   * The sum (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await cosine.stateDict();
   */
  override async stateDict(): Promise<CosineSimilarityStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * cosine.loadStateDict(saved);
   */
  override loadStateDict(stateDict: CosineSimilarityStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
