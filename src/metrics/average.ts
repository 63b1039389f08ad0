import * as tf from '@tensorflow/tfjs';
import { checkOptions, describeValue } from '../internal';
import { DeviceState } from './device-state';
import { checkLive, nest } from './inputs';
import { Metric, NotComputableError } from './metric';
import { captureSums, checkSumsStateDict, markLoaded, planLoad, type SumsStateDict } from './metric-state';

/** A value {@link Average} takes: a number or a tensor. */
export type AverageInput = number | tf.Tensor;

/**
 * The mean of the engine outputs (numbers or tensors) since the last reset. A tensor of rank 2 or more is a
 * batch: it is summed over its first axis and counts as `shape[0]` samples; a scalar or a vector counts as one
 * sample. The result is a number for scalar inputs, else a (nested) array shaped like one sample.
 *
 * @example
 * new Average({ outputTransform: (out) => out.loss }).attach(trainer, 'meanLoss');
 */
export class Average extends Metric<AverageInput, number | number[] | number[][]> {
  readonly #state = new DeviceState('Average');
  #numExamples = 0;

  /** @param options.outputTransform maps the engine output to a number or a tensor. */
  constructor(options: { outputTransform?: (output: any) => AverageInput } = {}) {
    super(checkOptions('Average', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'Average';
  }

  /** Frees the on-device sum and zeroes the sample count. */
  reset(): void {
    this.#state.reset();
    this.#numExamples = 0;
  }

  /**
   * Adds a number, or a tensor (summed over axis 0 from rank 2), to the on-device sum and counts its samples (no
   * readback).
   */
  update(output: AverageInput): void {
    if (typeof output === 'number') {
      this.#state.add({ sum: output });
      this.#numExamples += 1;
      return;
    }
    if (!(output instanceof tf.Tensor)) {
      throw new TypeError(`Average: update expects a number or a tensor, got ${describeValue(output)}.`);
    }
    checkLive('Average', 'argument', output);
    tf.tidy(() => this.#state.add({ sum: output.rank > 1 ? tf.sum(output, 0) : output }));
    this.#numExamples += output.rank > 1 ? output.shape[0] : 1;
  }

  /**
   * Reads the sum back once and returns it over the sample count: a number or an array shaped like one sample; throws
   * NotComputableError before any update.
   */
  async compute(): Promise<number | number[] | number[][]> {
    if (this.#numExamples < 1) {
      throw new NotComputableError('Average must have at least one example before it can be computed.');
    }
    const numExamples = this.#numExamples;
    const shape = this.#state.shapeOf('sum') ?? [];
    const sums = await this.#state.read();
    const values = Array.from(sums.get('sum') ?? [], (v) => v / numExamples);
    return nest(values, shape) as number | number[] | number[][];
  }

  /**
   * The example count and device sums as plain data, so that a resumed run continues this epoch's value
   * exactly. Reads the sums back once (`await data()`).
   */
  override async stateDict(): Promise<SumsStateDict> {
    const numExamples = this.#numExamples; // captured at the call, with the sums
    return { numExamples, sums: await captureSums(this.#state) };
  }

  /** Restores a {@link stateDict}; checks all of it first (count, entry names, shapes, finite values). */
  override loadStateDict(stateDict: SumsStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = 'Average.loadStateDict';
    const checked = checkSumsStateDict(where, stateDict, { sum: null });
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      markLoaded(this);
    };
  }
}
