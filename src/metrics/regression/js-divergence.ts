import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '../../internal';
import { lastAxisRows, samePairShapes } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';
import { LOGIT_SHAPES } from './kl-divergence';

/** The plain-data state of a {@link JSDivergence}. */
export interface JSDivergenceStateDict {
  /** Σ of the rows' KL(q ‖ m) + KL(p ‖ m). */
  sumOfKl: number;
  /** Number of rows (samples times positions). */
  numExamples: number;
}

/**
 * The mean Jensen-Shannon divergence `JS(p, q) = (KL(p ‖ m) + KL(q ‖ m)) / 2` with `m = (p + q) / 2`, between the
 * predicted and target distributions, both given as unnormalised logits (a softmax is applied to each).
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), logits of the same shape (N, C), or (N, ..., C) for per-position
 * distributions. Classes are on the **last** axis (tfjs's channels-last layout; the reference puts them on axis 1).
 * Each position counts as one sample. `log m` is computed from the log-probabilities (log-sum-exp), so it stays
 * finite where a softmax underflows. Holds one scalar sum on the device and the count on the host.
 *
 * @example
 * new JSDivergence().attach(evaluator, 'js');
 */
export class JSDivergence extends Metric<PredictionPair, number> {
  readonly #state = new SumState('JSDivergence', ['sumOfKl'], ['numExamples']);

  /** @param options.outputTransform maps the engine output to `[yPred, y]` (logits). */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('JSDivergence', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'JSDivergence';
  }

  /** Frees the device sum and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's KL(q ‖ m) + KL(p ‖ m) to the device sum (no readback).
   *
   * @example
   * js.update([logitsPred, logitsTarget]); // both (N, C) or (N, ..., C)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = samePairShapes(output, 'JSDivergence', 2, LOGIT_SHAPES);
      const logQ = tf.logSoftmax(lastAxisRows(yPred));
      const logP = tf.logSoftmax(lastAxisRows(y));
      // log m = log((p + q) / 2) = max + log1p(exp(-|logP - logQ|)) - log 2
      const logM = tf.sub(
        tf.add(tf.maximum(logP, logQ), tf.log1p(tf.exp(tf.neg(tf.abs(tf.sub(logP, logQ)))))),
        Math.LN2,
      );
      const klQ = tf.mul(tf.exp(logQ), tf.sub(logQ, logM));
      const klP = tf.mul(tf.exp(logP), tf.sub(logP, logM));
      this.#state.add({ sumOfKl: tf.sum(tf.add(klQ, klP)) });
      this.#state.count('numExamples', logP.shape[0]);
    });
  }

  /**
   * Reads the sum back once and returns the mean divergence (in nats, at most ln 2); throws NotComputableError
   * before any sample.
   *
   * @example
   * const divergence = await js.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('JSDivergence must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    return sums.sumOfKl / (2 * counts.numExamples);
  }

  /**
   * The sum (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await js.stateDict();
   */
  override async stateDict(): Promise<JSDivergenceStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * js.loadStateDict(saved);
   */
  override loadStateDict(stateDict: JSDivergenceStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
