import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '../../internal';
import { lastAxisRows, samePairShapes } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** The plain-data state of a {@link KLDivergence}. */
export interface KLDivergenceStateDict {
  /** Σ of the rows' divergences. */
  sumOfKl: number;
  /** Number of rows (samples times positions). */
  numExamples: number;
}

/** The shapes the divergence metrics and Entropy accept, quoted in their errors. */
export const LOGIT_SHAPES = '(N, C) or (N, ..., C) (classes on the last axis)';

/**
 * The mean Kullback-Leibler divergence `KL(p ‖ q) = Σ_c p_c log(p_c / q_c)` of the target distribution p from the
 * predicted one q, both given as unnormalised logits (a softmax is applied to each).
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), logits of the same shape (N, C), or (N, ..., C) for per-position
 * distributions (e.g. NHWC segmentation maps). Classes are on the **last** axis (tfjs's channels-last layout; the
 * reference, in PyTorch, puts them on axis 1). Each position counts as one sample. Holds one scalar sum on the device
 * and the count on the host.
 *
 * @example
 * new KLDivergence().attach(evaluator, 'kl');
 */
export class KLDivergence extends Metric<PredictionPair, number> {
  readonly #state = new SumState('KLDivergence', ['sumOfKl'], ['numExamples']);

  /** @param options.outputTransform maps the engine output to `[yPred, y]` (logits). */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('KLDivergence', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'KLDivergence';
  }

  /** Frees the device sum and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's divergences to the device sum (no readback).
   *
   * @example
   * kl.update([logitsPred, logitsTarget]); // both (N, C) or (N, ..., C)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = samePairShapes(output, 'KLDivergence', 2, LOGIT_SHAPES);
      const logQ = tf.logSoftmax(lastAxisRows(yPred));
      const logP = tf.logSoftmax(lastAxisRows(y));
      this.#state.add({ sumOfKl: tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ))) });
      this.#state.count('numExamples', logP.shape[0]);
    });
  }

  /**
   * Reads the sum back once and returns the mean divergence (in nats); throws NotComputableError before any sample.
   *
   * @example
   * const divergence = await kl.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('KLDivergence must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    return sums.sumOfKl / counts.numExamples;
  }

  /**
   * The sum (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await kl.stateDict();
   */
  override async stateDict(): Promise<KLDivergenceStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * kl.loadStateDict(saved);
   */
  override loadStateDict(stateDict: KLDivergenceStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
