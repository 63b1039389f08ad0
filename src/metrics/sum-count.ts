// The base of the metrics whose value is a sum kept on the device divided by a count kept on the host: Accuracy,
// Loss, MeanAbsoluteError, MeanSquaredError, TopKCategoricalAccuracy. Internal: not exported from kindling.
import type * as tf from '@tensorflow/tfjs';
import { DeviceState } from './device-state';
import { Metric, NotComputableError } from './metric';

/**
 * A metric that is `sum / count`: each `update` adds a batch's sum (a scalar tensor, never read back) and its number
 * of examples with {@link accumulate}; `compute()` reads the sum back once. Subclasses write `update` and name
 * themselves with `metricName`.
 *
 * @example
 * class MeanValue extends SumCountMetric<tf.Tensor> {
 *   protected override get metricName() { return 'MeanValue'; }
 *   update(x: tf.Tensor) { tf.tidy(() => this.accumulate(tf.sum(x), x.size)); }
 * }
 */
export abstract class SumCountMetric<In> extends Metric<In, number> {
  readonly #state: DeviceState;
  #numExamples = 0;

  /** @param options.outputTransform maps the engine output to what `update` takes. */
  constructor(options: { outputTransform?: (output: any) => In } = {}) {
    super(options);
    this.#state = new DeviceState(this.metricName);
  }

  /** Frees the on-device sum and zeroes the example count. */
  reset(): void {
    this.#state.reset();
    this.#numExamples = 0;
  }

  /**
   * Adds a batch's `sum` (a scalar tensor, owned by the caller: call this inside its `tf.tidy`, or a number) and its
   * `count` of examples.
   */
  protected accumulate(sum: tf.Tensor | number, count: number): void {
    this.#state.add({ sum });
    this.#numExamples += count;
  }

  /** Reads the sum back once and returns it over the example count; throws NotComputableError before any update. */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError(`${this.metricName} must have at least one example before it can be computed.`);
    }
    const numExamples = this.#numExamples;
    const sums = await this.#state.read();
    return (sums.get('sum')?.[0] ?? 0) / numExamples;
  }
}
