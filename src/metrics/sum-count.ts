// The base of the metrics whose value is a sum kept on the device divided by a count kept on the host: Accuracy,
// Loss, MeanAbsoluteError, MeanSquaredError, TopKCategoricalAccuracy. Internal: not exported from kindling.
import type * as tf from '@tensorflow/tfjs';
import { DeviceState } from './device-state';
import { LabelCheck, type LabelRule } from './label-check';
import { Metric, NotComputableError } from './metric';
import { captureSums, checkSumsStateDict, markLoaded, planLoad, type SumsStateDict } from './metric-state';

/**
 * A metric that is `sum / count`: each `update` adds a batch's sum (a scalar tensor, never read back) and its number
 * of examples with {@link accumulate}; `compute()` reads the sum back once. Classification subclasses check their
 * targets with {@link checkLabels} (on the device, read back with the sum). The state dict is
 * `{ numExamples, sums, ...extra }`; subclasses with more state add it through the `extra*` hooks. Subclasses write
 * `update` and name themselves with `metricName`.
 *
 * @example
 * class MeanValue extends SumCountMetric<tf.Tensor> {
 *   protected override get metricName() { return 'MeanValue'; }
 *   update(x: tf.Tensor) { tf.tidy(() => this.accumulate(tf.sum(x), x.size)); }
 * }
 */
export abstract class SumCountMetric<In> extends Metric<In, number> {
  readonly #state: DeviceState;
  #labels: LabelCheck | null = null;
  #numExamples = 0;

  /** @param options.outputTransform maps the engine output to what `update` takes. */
  constructor(options: { outputTransform?: (output: any) => In } = {}) {
    super(options);
    this.#state = new DeviceState(this.metricName);
  }

  /** The name of the sum in the state dict (`'sum'`; `'correct'` for the accuracies). */
  protected get sumName(): string {
    return 'sum';
  }

  /** Frees the on-device sum and label check, and zeroes the example count. */
  reset(): void {
    this.#state.reset();
    this.#labels?.reset();
    this.#numExamples = 0;
  }

  /**
   * Adds a batch's `sum` (a scalar tensor, owned by the caller: call this inside its `tf.tidy`, or a number) and its
   * `count` of examples.
   */
  protected accumulate(sum: tf.Tensor | number, count: number): void {
    this.#state.add({ [this.sumName]: sum });
    this.#numExamples += count;
  }

  /** Checks a batch's labels on the device (call inside `tf.tidy`); a bad one throws at `compute()`/`stateDict()`. */
  protected checkLabels(subject: string, values: tf.Tensor, rule: LabelRule): void {
    this.#labels ??= new LabelCheck(this.metricName);
    this.#labels.add(subject, values, rule);
  }

  /** Reads the sum back once and returns it over the example count; throws NotComputableError before any update. */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError(`${this.metricName} must have at least one example before it can be computed.`);
    }
    const numExamples = this.#numExamples;
    const [sums] = await Promise.all([this.#state.read(), this.#labels?.verify()]);
    return (sums.get(this.sumName)?.[0] ?? 0) / numExamples;
  }

  /** Extra state dict entries of a subclass (plain data), saved beside the sums. */
  protected extraState(): Record<string, unknown> {
    return {};
  }

  /** The names of {@link extraState}'s entries, required on load. */
  protected get extraStateKeys(): readonly string[] {
    return [];
  }

  /** Checks the extra entries of a state dict and returns the function that applies them (after the sums). */
  protected planExtraLoad(_where: string, _stateDict: Record<string, unknown>): () => void {
    return () => {};
  }

  /**
   * The example count and device sums as plain data, so that a resumed run continues this epoch's value exactly.
   * Captured at the call (see `Stateful`): updates made before it resolves do not change it. Reads the sums back once
   * (`await data()`), and throws like `compute()` for a bad label.
   */
  override async stateDict(): Promise<SumsStateDict & Record<string, unknown>> {
    const extra = this.extraState();
    const numExamples = this.#numExamples;
    const [sums] = await Promise.all([captureSums(this.#state), this.#labels?.capture()]);
    return { numExamples, sums, ...extra };
  }

  /** Restores a {@link stateDict}; checks all of it first (count, entry names, shapes, finite values). */
  override loadStateDict(stateDict: SumsStateDict & Record<string, unknown>): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = `${this.metricName}.loadStateDict`;
    const checked = checkSumsStateDict(where, stateDict, { [this.sumName]: [] }, this.extraStateKeys);
    const applyExtra = this.planExtraLoad(where, checked.stateDict);
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      applyExtra();
      markLoaded(this);
    };
  }
}
