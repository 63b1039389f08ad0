import * as tf from '@tensorflow/tfjs';
import { checkFunction, checkInteger, checkOptions, checkStateDict, describeValue, failRange } from '../../internal';
import { DeviceValue } from '../device-value';
import { nest } from '../inputs';
import { Metric } from '../metric';
import { markLoaded } from '../metric-state';

/** A value {@link VariableAccumulation} takes: a number or a tensor. */
export type VariableAccumulationInput = number | tf.Tensor;

/** A (nested) array of numbers, or one number: an accumulator read back. */
export type NestedNumbers = number | NestedNumbers[];

/** What {@link VariableAccumulation.compute} returns, like the reference: the accumulator and the sample count. */
export type VariableAccumulationResult = [accumulator: NestedNumbers, numExamples: number];

/** The plain-data state of a {@link VariableAccumulation}. */
export interface VariableAccumulationStateDict {
  /** The accumulator's shape and values (flat). */
  accumulator: { shape: number[]; values: number[] };
  /** Number of samples. */
  numExamples: number;
}

/**
 * Folds every engine output into one accumulator with `op(accumulator, output)`, on the device, like the reference's
 * `VariableAccumulation`: the building block of averages of one variable. The accumulator starts as the scalar 0;
 * `op` receives it and the output as float32 tensors (a number becomes a scalar) and returns the new accumulator
 * (any shape; it runs inside `tf.tidy`, so intermediate tensors are freed). Samples are counted like the reference:
 * +1 for a number, a scalar or a vector, +`shape[0]` for a tensor of rank 2 or more.
 *
 * `compute()` returns `[accumulator, numExamples]`, the accumulator read back as a number or a nested array. Holds
 * one tensor (the accumulator) on the device between reads.
 *
 * @example
 * // the running maximum of the loss
 * const maxLoss = new VariableAccumulation((acc, x) => tf.maximum(acc, x), { outputTransform: (out) => out.loss });
 * // [Σ x over samples, count]: an arithmetic mean is sum / count
 * const sum = new VariableAccumulation((acc, x) => tf.add(acc, x.rank > 1 ? tf.sum(x, 0) : x));
 */
export class VariableAccumulation extends Metric<VariableAccumulationInput, VariableAccumulationResult> {
  readonly #op: (accumulator: tf.Tensor, output: tf.Tensor) => tf.Tensor;
  readonly #accumulator = new DeviceValue();
  #numExamples = 0;

  /**
   * @param op `(accumulator, output) => newAccumulator`, tensors in and out.
   * @param options.outputTransform maps the engine output to a number or a tensor.
   */
  constructor(
    op: (accumulator: tf.Tensor, output: tf.Tensor) => tf.Tensor,
    options: { outputTransform?: (output: any) => VariableAccumulationInput } = {},
  ) {
    checkFunction('VariableAccumulation', 'argument op', op, '(accumulator, output) => tf.Tensor');
    super(checkOptions('VariableAccumulation', options, ['outputTransform']) as typeof options);
    this.#op = op;
  }

  protected override get metricName(): string {
    return 'VariableAccumulation';
  }

  /** Frees the accumulator (it starts again from 0) and zeroes the sample count. */
  reset(): void {
    this.#accumulator.reset();
    this.#numExamples = 0;
  }

  /**
   * Sets `accumulator = op(accumulator, output)` on the device (no readback) and counts the samples.
   *
   * @example
   * acc.update(tf.tensor2d([[1, 2], [3, 4]])); // two samples
   */
  update(output: VariableAccumulationInput): void {
    const isNumber = typeof output === 'number';
    if (!isNumber && !(output instanceof tf.Tensor)) {
      throw new TypeError(
        `VariableAccumulation: update expects a number or a tensor, got ${describeValue(output)}. Pick the value with the outputTransform option.`,
      );
    }
    this.#accumulator.update((previous) => {
      const accumulator = previous ?? tf.scalar(0);
      const x = isNumber ? tf.scalar(output) : tf.cast(output, 'float32');
      const next: unknown = this.#op(accumulator, x);
      if (!(next instanceof tf.Tensor)) {
        throw new TypeError(
          `VariableAccumulation: op should return a tensor (the new accumulator), got ${describeValue(next)}.`,
        );
      }
      return next;
    });
    this.#numExamples += isNumber || output.rank <= 1 ? 1 : output.shape[0]!;
  }

  /**
   * Reads the accumulator back once: `[accumulator, numExamples]` (`[0, 0]` before any update, like the reference).
   *
   * @example
   * const [sum, count] = await acc.compute();
   */
  async compute(): Promise<VariableAccumulationResult> {
    const numExamples = this.#numExamples;
    const value = await this.#accumulator.read();
    if (value === null) return [0, numExamples];
    return [nest(value.values, value.shape) as NestedNumbers, numExamples];
  }

  /**
   * The accumulator (read back with `await data()`) and the sample count, as plain data.
   *
   * @example
   * const saved = await acc.stateDict(); // { accumulator: { shape: [], values: [3] }, numExamples: 2 }
   */
  override async stateDict(): Promise<VariableAccumulationStateDict> {
    const numExamples = this.#numExamples;
    const value = (await this.#accumulator.read()) ?? { shape: [], values: [0] };
    return { accumulator: value, numExamples };
  }

  /**
   * Restores a state from {@link stateDict}; checks it (a shape with as many finite values, a non-negative integer
   * count) before changing anything.
   *
   * @example
   * acc.loadStateDict(saved);
   */
  override loadStateDict(stateDict: VariableAccumulationStateDict): void {
    const where = 'VariableAccumulation.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['accumulator', 'numExamples']);
    const numExamples = checkInteger(where, "state dict entry 'numExamples'", sd.numExamples, { min: 0 });
    const accumulator = checkStateDict(where, sd.accumulator, ['shape', 'values']);
    const { shape, values } = accumulator;
    const isShape = Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0);
    const size = isShape ? (shape as number[]).reduce((a: number, b: number) => a * b, 1) : -1;
    if (
      !isShape ||
      !Array.isArray(values) ||
      values.length !== size ||
      !values.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      failRange(
        where,
        "state dict entry 'accumulator'",
        '{ shape, values } with a shape of non-negative integers and as many finite numbers as it holds',
        accumulator,
      );
    }
    this.#accumulator.restore({ shape: shape as number[], values: values as number[] });
    this.#numExamples = numExamples;
    markLoaded(this);
  }
}
