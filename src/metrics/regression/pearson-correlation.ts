import * as tf from '@tensorflow/tfjs';
import { checkNumber, checkOptions } from '../../internal';
import { regressionColumns } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** The plain-data state of a {@link PearsonCorrelation}: five sums and the number of values. */
export interface PearsonCorrelationStateDict {
  /** Σ yPred. */
  sumOfYPreds: number;
  /** Σ y. */
  sumOfYs: number;
  /** Σ yPred². */
  sumOfYPredSquares: number;
  /** Σ y². */
  sumOfYSquares: number;
  /** Σ yPred · y. */
  sumOfProducts: number;
  /** Number of values N. */
  numExamples: number;
}

/**
 * Pearson's correlation coefficient between predictions and targets:
 * `cov(yPred, y) / max(sqrt(var(yPred) var(y)), eps)`, the (co)variances taken over every value since the reset.
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), each of shape (N) or (N, 1), numbers. Holds five scalar sums on the device
 * (Σ yPred, Σ y, Σ yPred², Σ y², Σ yPred·y) and the count N on the host; `compute()` reads them back once.
 *
 * @example
 * new PearsonCorrelation().attach(evaluator, 'corr');
 */
export class PearsonCorrelation extends Metric<PredictionPair, number> {
  readonly #eps: number;
  readonly #state = new SumState(
    'PearsonCorrelation',
    ['sumOfYPreds', 'sumOfYs', 'sumOfYPredSquares', 'sumOfYSquares', 'sumOfProducts'],
    ['numExamples'],
  );

  /**
   * @param options.eps lower bound of the denominator, avoiding a division by zero (default 1e-8).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { eps?: number; outputTransform?: (output: any) => PredictionPair } = {}) {
    const { eps = 1e-8, ...rest } = checkOptions('PearsonCorrelation', options, ['eps', 'outputTransform']);
    super(rest as typeof options);
    this.#eps = checkNumber('PearsonCorrelation', 'option eps', eps, { min: 0, minExclusive: true });
  }

  protected override get metricName(): string {
    return 'PearsonCorrelation';
  }

  /** Frees the device sums and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's five sums on the device (no readback).
   *
   * @example
   * corr.update([yPred, y]); // yPred, y: (N) or (N, 1)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = regressionColumns(output, 'PearsonCorrelation');
      this.#state.add({
        sumOfYPreds: tf.sum(yPred),
        sumOfYs: tf.sum(y),
        sumOfYPredSquares: tf.sum(tf.square(yPred)),
        sumOfYSquares: tf.sum(tf.square(y)),
        sumOfProducts: tf.sum(tf.mul(yPred, y)),
      });
      this.#state.count('numExamples', y.shape[0]);
    });
  }

  /**
   * Reads the sums back once and returns the coefficient (0 when either side has no variance); throws
   * NotComputableError before any value.
   *
   * @example
   * const r = await corr.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('PearsonCorrelation must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    const n = counts.numExamples;
    const meanPred = sums.sumOfYPreds / n;
    const meanY = sums.sumOfYs / n;
    const cov = sums.sumOfProducts / n - meanPred * meanY;
    const varPred = Math.max(sums.sumOfYPredSquares / n - meanPred * meanPred, 0);
    const varY = Math.max(sums.sumOfYSquares / n - meanY * meanY, 0);
    return cov / Math.max(Math.sqrt(varPred * varY), this.#eps);
  }

  /**
   * The sums (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await corr.stateDict();
   */
  override async stateDict(): Promise<PearsonCorrelationStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * corr.loadStateDict(saved);
   */
  override loadStateDict(stateDict: PearsonCorrelationStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
