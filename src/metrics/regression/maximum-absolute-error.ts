import * as tf from '@tensorflow/tfjs';
import { checkNumber, checkOptions, checkStateDict } from '../../internal';
import { DeviceValue } from '../device-value';
import { regressionColumns } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';

/** The plain-data state of a {@link MaximumAbsoluteError}. */
export interface MaximumAbsoluteErrorStateDict {
  /** The largest |y - yPred| so far, or null before the first value. */
  maximum: number | null;
}

/**
 * The largest absolute error `max |y - yPred|` since the reset.
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), each of shape (N) or (N, 1), numbers. Holds one scalar on the device (the
 * running maximum, folded in with `tf.maximum`; the reference reads each batch's maximum back, kindling does not).
 *
 * @example
 * new MaximumAbsoluteError().attach(evaluator, 'maxError');
 */
export class MaximumAbsoluteError extends Metric<PredictionPair, number> {
  readonly #maximum = new DeviceValue();

  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('MaximumAbsoluteError', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'MaximumAbsoluteError';
  }

  /** Frees the running maximum. */
  reset(): void {
    this.#maximum.reset();
  }

  /**
   * Folds the batch's largest |y - yPred| into the running maximum on the device (no readback). An empty batch
   * changes nothing.
   *
   * @example
   * maxError.update([yPred, y]); // yPred, y: (N) or (N, 1)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = regressionColumns(output, 'MaximumAbsoluteError');
      if (y.shape[0] === 0) return;
      const batchMax = tf.max(tf.abs(tf.sub(y, yPred)));
      this.#maximum.update((previous) => (previous === null ? batchMax : tf.maximum(previous, batchMax)));
    });
  }

  /**
   * Reads the maximum back once; throws NotComputableError before any value.
   *
   * @example
   * const worst = await maxError.compute();
   */
  async compute(): Promise<number> {
    const value = await this.#maximum.read();
    if (value === null) {
      throw new NotComputableError('MaximumAbsoluteError must have at least one example before it can be computed.');
    }
    return value.values[0]!;
  }

  /**
   * The maximum (read back with `await data()`) as a plain number, or null before any value.
   *
   * @example
   * const saved = await maxError.stateDict(); // { maximum: 1.25 }
   */
  override async stateDict(): Promise<MaximumAbsoluteErrorStateDict> {
    const value = await this.#maximum.read();
    return { maximum: value === null ? null : value.values[0]! };
  }

  /**
   * Restores a state from {@link stateDict}; checks it (a non-negative number or null, no other key) before
   * changing anything.
   *
   * @example
   * maxError.loadStateDict({ maximum: 1.25 });
   */
  override loadStateDict(stateDict: MaximumAbsoluteErrorStateDict): void {
    const where = 'MaximumAbsoluteError.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['maximum']);
    const maximum = checkNumber(where, "state dict entry 'maximum'", sd.maximum, { min: 0, nullable: true });
    this.#maximum.restore(maximum === null ? null : { shape: [], values: [maximum] });
    markLoaded(this);
  }
}
