import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '../../internal';
import { regressionColumns } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** The plain-data state of a {@link MeanAbsoluteRelativeError}. */
export interface MeanAbsoluteRelativeErrorStateDict {
  /** Σ |y - yPred| / |y| over the values where y ≠ 0. */
  sumOfAbsoluteRelativeErrors: number;
  /** How many targets were 0 (any makes the metric undefined). */
  zeroTargets: number;
  /** Number of values N. */
  numSamples: number;
}

/**
 * Mean absolute relative error (also called MAPE, as a fraction): `mean(|y - yPred| / |y|)`.
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), each of shape (N) or (N, 1), numbers; y must not be 0. Holds two scalar
 * sums on the device (Σ |y - yPred| / |y| and the number of zero targets) and the count N on the host. The reference
 * rejects a zero target in `update`; reading it there would stall the device, so kindling counts zero targets on the
 * device and `compute()` throws NotComputableError if there was any.
 *
 * @example
 * new MeanAbsoluteRelativeError().attach(evaluator, 'mare');
 */
export class MeanAbsoluteRelativeError extends Metric<PredictionPair, number> {
  readonly #state = new SumState(
    'MeanAbsoluteRelativeError',
    ['sumOfAbsoluteRelativeErrors', 'zeroTargets'],
    ['numSamples'],
  );

  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('MeanAbsoluteRelativeError', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'MeanAbsoluteRelativeError';
  }

  /** Frees the device sums and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's relative errors and its number of zero targets on the device (no readback).
   *
   * @example
   * mare.update([yPred, y]); // yPred, y: (N) or (N, 1); y ≠ 0
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = regressionColumns(output, 'MeanAbsoluteRelativeError');
      const isZero = tf.equal(y, 0);
      const relative = tf.div(tf.abs(tf.sub(y, yPred)), tf.abs(y));
      this.#state.add({
        sumOfAbsoluteRelativeErrors: tf.sum(tf.where(isZero, tf.zerosLike(relative), relative)),
        zeroTargets: tf.sum(tf.cast(isZero, 'float32')),
      });
      this.#state.count('numSamples', y.shape[0]);
    });
  }

  /**
   * Reads the sums back once and returns the mean relative error. Throws NotComputableError before any value, or
   * when a target was 0.
   *
   * @example
   * const mare = await metric.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numSamples === 0) {
      throw new NotComputableError(
        'MeanAbsoluteRelativeError must have at least one sample before it can be computed.',
      );
    }
    const { sums, counts } = await this.#state.read();
    if (sums.zeroTargets > 0) {
      throw new NotComputableError(
        `MeanAbsoluteRelativeError: the ground truth has ${sums.zeroTargets} value(s) equal to 0 among ${counts.numSamples}, ` +
          'where the relative error |y - yPred| / |y| is undefined. Drop or offset those targets in outputTransform.',
      );
    }
    return sums.sumOfAbsoluteRelativeErrors / counts.numSamples;
  }

  /**
   * The sums (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await mare.stateDict();
   */
  override async stateDict(): Promise<MeanAbsoluteRelativeErrorStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * mare.loadStateDict(saved);
   */
  override loadStateDict(stateDict: MeanAbsoluteRelativeErrorStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
