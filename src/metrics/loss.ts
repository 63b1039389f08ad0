import * as tf from '@tensorflow/tfjs';
import { DeviceState } from './device-state';
import { describeValue, type PredictionPair, toPair } from './inputs';
import { Metric, NotComputableError } from './metric';
import { checkSumsStateDict, markLoaded, planLoad, readSums, type SumsStateDict } from './metric-state';

/**
 * The average of a loss function over all samples since the last reset, each batch weighted by its size.
 *
 * @example
 * const loss = new Loss((yPred, y) => tf.losses.softmaxCrossEntropy(y, yPred));
 * loss.attach(evaluator, 'loss');
 */
export class Loss extends Metric<PredictionPair, number> {
  readonly #lossFn: (yPred: tf.Tensor, y: tf.Tensor) => tf.Scalar | tf.Tensor | number;
  readonly #batchSize: (y: tf.Tensor) => number;
  readonly #state = new DeviceState('Loss');
  #numExamples = 0;

  /**
   * @param lossFn returns the batch's **average** loss as a scalar tensor (it is called inside `tf.tidy`).
   * @param options.batchSize the number of samples in a batch, from `y` (default: `y.shape[0]`).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(
    lossFn: (yPred: tf.Tensor, y: tf.Tensor) => tf.Scalar | tf.Tensor | number,
    options: { batchSize?: (y: tf.Tensor) => number; outputTransform?: (output: any) => PredictionPair } = {},
  ) {
    super(options);
    if (typeof lossFn !== 'function') {
      throw new TypeError(
        `Loss: argument lossFn should be a function (yPred, y) => scalar, got ${describeValue(lossFn)}.`,
      );
    }
    const { batchSize = (y: tf.Tensor) => (y.rank === 0 ? 1 : y.shape[0]) } = options;
    if (typeof batchSize !== 'function') {
      throw new TypeError(
        `Loss: option batchSize should be a function (y) => number, got ${describeValue(batchSize)}.`,
      );
    }
    this.#lossFn = lossFn;
    this.#batchSize = batchSize;
  }

  /** Frees the on-device loss sum and zeroes the sample count. */
  reset(): void {
    this.#state.reset();
    this.#numExamples = 0;
  }

  /** Adds `lossFn(yPred, y) * batchSize(y)` to the on-device sum and counts `batchSize(y)` samples (no readback). */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'Loss');
    const n = this.#batchSize(y);
    if (!(Number.isInteger(n) && n >= 0)) {
      throw new RangeError(`Loss: batchSize(y) should return a non-negative integer, got ${describeValue(n)}.`);
    }
    tf.tidy(() => {
      const loss = this.#lossFn(yPred, y);
      if (typeof loss === 'number') {
        this.#state.add({ sum: loss * n });
      } else if (loss instanceof tf.Tensor && loss.rank === 0) {
        this.#state.add({ sum: tf.mul(loss, n) });
      } else {
        throw new RangeError(
          `Loss: lossFn did not return the average loss as a scalar, got ${describeValue(loss)}; reduce it with tf.mean().`,
        );
      }
    });
    this.#numExamples += n;
  }

  /** Reads the sum back once and returns the mean loss per sample; throws NotComputableError before any update. */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError('Loss must have at least one example before it can be computed.');
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
    const where = 'Loss.loadStateDict';
    const checked = checkSumsStateDict(where, stateDict, { sum: [] });
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      markLoaded(this);
    };
  }
}
