import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '../../internal';
import { regressionColumns } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** The plain-data state of an {@link R2Score}: its three sums and the number of values. */
export interface R2ScoreStateDict {
  /** Σ (yPred - y)². */
  sumOfErrors: number;
  /** Σ y. */
  ySum: number;
  /** Σ y². */
  ySqSum: number;
  /** Number of values N. */
  numExamples: number;
}

/**
 * R², the coefficient of determination: `1 - Σ(y - yPred)² / Σ(y - mean(y))²`.
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), each of shape (N) or (N, 1), numbers. Holds three scalar sums on the
 * device (Σ(yPred - y)², Σy, Σy²) and the count N on the host; `compute()` reads the sums back once.
 *
 * @example
 * new R2Score().attach(evaluator, 'r2');
 * // by hand: r2.update([tf.tensor1d([0, 0.75, 1.5]), tf.tensor1d([0, 1, 2])]); await r2.compute(); // 0.84375
 */
export class R2Score extends Metric<PredictionPair, number> {
  readonly #state = new SumState('R2Score', ['sumOfErrors', 'ySum', 'ySqSum'], ['numExamples']);

  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('R2Score', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'R2Score';
  }

  /** Frees the device sums and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's Σ(yPred - y)², Σy and Σy² to the device sums (no readback).
   *
   * @example
   * r2.update([yPred, y]); // yPred, y: (N) or (N, 1)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = regressionColumns(output, 'R2Score');
      this.#state.add({
        sumOfErrors: tf.sum(tf.squaredDifference(yPred, y)),
        ySum: tf.sum(y),
        ySqSum: tf.sum(tf.square(y)),
      });
      this.#state.count('numExamples', y.shape[0]);
    });
  }

  /**
   * Reads the sums back once and returns R². Throws NotComputableError before any value, and when y has no variance
   * (R² is undefined).
   *
   * @example
   * const r2 = await metric.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('R2Score must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    const total = sums.ySqSum - (sums.ySum * sums.ySum) / counts.numExamples;
    if (total === 0) {
      throw new NotComputableError(
        `R2Score: the ${counts.numExamples} target values y are all equal, so R² (which divides by their variance) is undefined.`,
      );
    }
    return 1 - sums.sumOfErrors / total;
  }

  /**
   * The sums (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await r2.stateDict(); // { sumOfErrors, ySum, ySqSum, numExamples }
   */
  override async stateDict(): Promise<R2ScoreStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry (finite sums, a non-negative integer count, no
   * other keys) before changing anything.
   *
   * @example
   * r2.loadStateDict(saved);
   */
  override loadStateDict(stateDict: R2ScoreStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
