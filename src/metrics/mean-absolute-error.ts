import * as tf from '@tensorflow/tfjs';
import { DeviceState } from './device-state';
import { type PredictionPair, regressionPair } from './inputs';
import { Metric, NotComputableError } from './metric';
import { checkSumsStateDict, markLoaded, planLoad, readSums, type SumsStateDict } from './metric-state';

/**
 * Mean absolute error: the sum of absolute differences divided by the number of samples (the batch dimension,
 * like the reference).
 *
 * @example
 * new MeanAbsoluteError().attach(evaluator, 'mae');
 */
export class MeanAbsoluteError extends Metric<PredictionPair, number> {
  readonly #state = new DeviceState('MeanAbsoluteError');
  #numExamples = 0;

  /** @param options.outputTransform maps the engine output to `[yPred, y]` (same number of values). */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(options);
  }

  /** Frees the on-device sum of absolute errors and zeroes the sample count. */
  reset(): void {
    this.#state.reset();
    this.#numExamples = 0;
  }

  /** Adds this batch's sum of `|yPred - y|` to the on-device sum and counts `y.shape[0]` samples (no readback). */
  update(output: PredictionPair): void {
    const [yPred, y] = regressionPair(output, 'MeanAbsoluteError');
    tf.tidy(() => {
      const diff = tf.sub(tf.cast(yPred, 'float32'), tf.reshape(tf.cast(y, 'float32'), yPred.shape));
      this.#state.add({ sum: tf.sum(tf.abs(diff)) });
    });
    this.#numExamples += y.rank === 0 ? 1 : y.shape[0];
  }

  /** Reads the sum back once and returns it over the number of samples; throws NotComputableError before any update. */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError('MeanAbsoluteError must have at least one example before it can be computed.');
    }
    const numExamples = this.#numExamples;
    const sums = await this.#state.read();
    return (sums.get('sum')?.[0] ?? 0) / numExamples;
  }

  /**
   * The example count and device sums as plain data, so that a resumed run continues this epoch's value
   * exactly. Reads the sums back once (`await data()`).
   */
  override async stateDict(): Promise<SumsStateDict> {
    return { numExamples: this.#numExamples, sums: await readSums(this.#state) };
  }

  /** Restores a {@link stateDict}; checks all of it first (count, entry names, shapes, finite values). */
  override loadStateDict(stateDict: SumsStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = 'MeanAbsoluteError.loadStateDict';
    const checked = checkSumsStateDict(where, stateDict, { sum: [] });
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      markLoaded(this);
    };
  }
}
