import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '../internal';
import { type PredictionPair, regressionPair } from './inputs';
import { SumCountMetric } from './sum-count';

/**
 * Mean squared error: the sum of squared differences divided by the number of samples (the batch dimension,
 * like the reference: for (N, D) outputs it is the per-sample squared error summed over D, averaged over N).
 *
 * @example
 * new MeanSquaredError().attach(evaluator, 'mse');
 */
export class MeanSquaredError extends SumCountMetric<PredictionPair> {
  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(options);
    checkOptions(this.metricName, options, ['outputTransform']);
  }

  protected override get metricName(): string {
    return 'MeanSquaredError';
  }

  /** Adds this batch's sum of `(yPred - y)²` to the on-device sum and counts `y.shape[0]` samples (no readback). */
  update(output: PredictionPair): void {
    const [yPred, y] = regressionPair(output, this.metricName);
    tf.tidy(() => {
      const diff = tf.sub(tf.cast(yPred, 'float32'), tf.reshape(tf.cast(y, 'float32'), yPred.shape));
      this.accumulate(tf.sum(tf.square(diff)), y.rank === 0 ? 1 : y.shape[0]);
    });
  }
}
