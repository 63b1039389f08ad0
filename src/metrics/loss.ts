import * as tf from '@tensorflow/tfjs';
import { checkFunction, checkOptions, describeValue } from '../internal';
import { type PredictionPair, toPair } from './inputs';
import { SumCountMetric } from './sum-count';

/**
 * The average of a loss function over all samples since the last reset, each batch weighted by its size.
 *
 * @example
 * const loss = new Loss((yPred, y) => tf.losses.softmaxCrossEntropy(y, yPred));
 * loss.attach(evaluator, 'loss');
 */
export class Loss extends SumCountMetric<PredictionPair> {
  readonly #lossFn: (yPred: tf.Tensor, y: tf.Tensor) => tf.Scalar | tf.Tensor | number;
  readonly #batchSize: (y: tf.Tensor) => number;

  /**
   * @param lossFn returns the batch's **average** loss as a scalar tensor (it is called inside `tf.tidy`).
   * @param options.batchSize the number of samples in a batch, from `y` (default: `y.shape[0]`).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(
    lossFn: (yPred: tf.Tensor, y: tf.Tensor) => tf.Scalar | tf.Tensor | number,
    options: { batchSize?: (y: tf.Tensor) => number; outputTransform?: (output: any) => PredictionPair } = {},
  ) {
    super(checkOptions('Loss', options, ['batchSize', 'outputTransform']) as typeof options);
    this.#lossFn = checkFunction('Loss', 'argument lossFn', lossFn, '(yPred, y) => scalar');
    const { batchSize = (y: tf.Tensor) => (y.rank === 0 ? 1 : y.shape[0]) } = options;
    this.#batchSize = checkFunction('Loss', 'option batchSize', batchSize, '(y) => number');
  }

  protected override get metricName(): string {
    return 'Loss';
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
        this.accumulate(loss * n, n);
      } else if (loss instanceof tf.Tensor && loss.rank === 0) {
        this.accumulate(tf.mul(loss, n), n);
      } else {
        throw new RangeError(
          `Loss: lossFn did not return the average loss as a scalar, got ${describeValue(loss)}; reduce it with tf.mean().`,
        );
      }
    });
  }
}
