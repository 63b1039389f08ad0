import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOptions, checkStateDict, describeValue, failRange, failType } from '../../internal';
import { DeviceState } from '../device-state';
import { nest } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';

/** A value {@link GeometricAverage} takes: a positive number, or a tensor of them. */
export type GeometricAverageInput = number | tf.Tensor;

/** The plain-data state of a {@link GeometricAverage}. */
export interface GeometricAverageStateDict {
  /** Shape of one sample, or null before the first update. */
  shape: number[] | null;
  /** Per element: Σ log|x| over the values that were not 0. */
  logSum: number[];
  /** Per element: how many values were 0. */
  zeros: number[];
  /** Per element: how many values were negative. */
  negatives: number[];
  /** Number of samples. */
  numExamples: number;
}

/**
 * The geometric mean `exp(mean(log x))` of the engine outputs since the reset, like the reference's
 * `GeometricAverage`: a number or a tensor per update. A tensor of rank 2 or more is a batch: its first axis is
 * reduced and counts as `shape[0]` samples; a number, a scalar or a vector counts as one sample. The result is a
 * number for one-value samples, else a (nested) array shaped like one sample.
 *
 * Like the reference's arithmetic, an element that saw a 0 has mean 0 and one that saw a negative value is NaN. Holds
 * three accumulators shaped like one sample on the device (Σ log|x| over non-zero values, the count of zeros, the count
 * of negatives), so the state stays finite and can be saved; `compute()` reads them back once.
 *
 * @example
 * new GeometricAverage({ outputTransform: (out) => out.ratio }).attach(trainer, 'geoMeanRatio');
 */
export class GeometricAverage extends Metric<GeometricAverageInput, number | number[] | number[][]> {
  readonly #state = new DeviceState('GeometricAverage');
  #numExamples = 0;

  /** @param options.outputTransform maps the engine output to a number or a tensor. */
  constructor(options: { outputTransform?: (output: any) => GeometricAverageInput } = {}) {
    super(checkOptions('GeometricAverage', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'GeometricAverage';
  }

  /** Frees the accumulators and zeroes the sample count. */
  reset(): void {
    this.#state.reset();
    this.#numExamples = 0;
  }

  /**
   * Adds a number, or a tensor (its first axis reduced from rank 2), to the accumulators (no readback).
   *
   * @example
   * geo.update(1.5); geo.update(tf.tensor2d([[1, 2], [4, 8]])); // two samples of shape [2]
   */
  update(output: GeometricAverageInput): void {
    if (typeof output === 'number') {
      this.#state.add({
        logSum: output === 0 ? 0 : Math.log(Math.abs(output)),
        zeros: output === 0 ? 1 : 0,
        negatives: output < 0 ? 1 : 0,
      });
      this.#numExamples += 1;
      return;
    }
    if (!(output instanceof tf.Tensor)) {
      throw new TypeError(
        `GeometricAverage: update expects a number or a tensor, got ${describeValue(output)}. Pick the value with the outputTransform option.`,
      );
    }
    if (output.dtype === 'string' || output.dtype === 'complex64') {
      throw new TypeError(`GeometricAverage: update expects a tensor of numbers, got a ${output.dtype} tensor.`);
    }
    const isBatch = output.rank > 1;
    tf.tidy(() => {
      const x = tf.cast(output, 'float32');
      const isZero = tf.equal(x, 0);
      const reduce = (t: tf.Tensor) => (isBatch ? tf.sum(t, 0) : t);
      this.#state.add({
        logSum: reduce(tf.where(isZero, tf.zerosLike(x), tf.log(tf.abs(x)))),
        zeros: reduce(tf.cast(isZero, 'float32')),
        negatives: reduce(tf.cast(tf.less(x, 0), 'float32')),
      });
    });
    this.#numExamples += isBatch ? output.shape[0]! : 1;
  }

  /**
   * Reads the accumulators back once and returns the geometric mean: a number, or an array shaped like one sample;
   * throws NotComputableError before any update.
   *
   * @example
   * const mean = await geo.compute();
   */
  async compute(): Promise<number | number[] | number[][]> {
    if (this.#numExamples < 1) {
      throw new NotComputableError('GeometricAverage must have at least one example before it can be computed.');
    }
    const n = this.#numExamples;
    const shape = this.#state.shapeOf('logSum') ?? [];
    const { logSum, zeros, negatives } = await this.#read();
    const values = logSum.map((s, i) => (negatives[i]! > 0 ? Number.NaN : zeros[i]! > 0 ? 0 : Math.exp(s / n)));
    return (values.length === 1 ? values[0] : nest(values, shape)) as number | number[] | number[][];
  }

  async #read(): Promise<{ logSum: number[]; zeros: number[]; negatives: number[] }> {
    const values = await this.#state.read();
    const get = (name: string) => Array.from(values.get(name) ?? []);
    return { logSum: get('logSum'), zeros: get('zeros'), negatives: get('negatives') };
  }

  /**
   * The accumulators (read back with `await data()`) and the sample count, as plain data.
   *
   * @example
   * const saved = await geo.stateDict(); // { shape: [], logSum: [0.4], zeros: [0], negatives: [0], numExamples: 2 }
   */
  override async stateDict(): Promise<GeometricAverageStateDict> {
    const numExamples = this.#numExamples; // captured at the call, with the sums
    const shape = this.#state.shapeOf('logSum');
    const values = await this.#state.capture();
    const get = (name: string) => values[name]?.values ?? [];
    return {
      shape: shape === undefined ? null : [...shape],
      logSum: get('logSum'),
      zeros: get('zeros'),
      negatives: get('negatives'),
      numExamples,
    };
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry (a shape, arrays of its size, finite sums,
   * non-negative integer counts) before changing anything.
   *
   * @example
   * geo.loadStateDict(saved);
   */
  override loadStateDict(stateDict: GeometricAverageStateDict): void {
    const where = 'GeometricAverage.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['shape', 'logSum', 'zeros', 'negatives', 'numExamples']);
    const numExamples = checkInteger(where, "state dict entry 'numExamples'", sd.numExamples, { min: 0 });
    const shape = sd.shape;
    if (shape !== null && !(Array.isArray(shape) && shape.every((d) => Number.isSafeInteger(d) && d >= 0))) {
      failType(where, "state dict entry 'shape'", 'an array of non-negative integers or null', shape);
    }
    const size = shape === null ? 0 : (shape as number[]).reduce((a, b) => a * b, 1);
    const entries = ['logSum', 'zeros', 'negatives'] as const;
    for (const name of entries) {
      const values = sd[name];
      const isCount = name !== 'logSum';
      const ok =
        Array.isArray(values) &&
        values.length === size &&
        values.every(
          (v) => typeof v === 'number' && (isCount ? Number.isSafeInteger(v) && v >= 0 : Number.isFinite(v)),
        );
      if (!ok) {
        const kind = isCount ? 'non-negative integers' : 'finite numbers';
        failRange(
          where,
          `state dict entry '${name}'`,
          `an array of ${size} ${kind} (the size of shape ${describeValue(shape)})`,
          values,
        );
      }
    }
    if ((shape === null) !== (numExamples === 0)) {
      failRange(
        where,
        "state dict entry 'shape'",
        numExamples === 0 ? 'null when numExamples is 0' : 'an array when numExamples > 0',
        shape,
      );
    }
    this.reset();
    if (shape !== null) {
      const dims = shape as number[];
      this.#state.restore(
        Object.fromEntries(entries.map((name) => [name, { shape: dims, values: sd[name] as number[] }])),
      );
    }
    this.#numExamples = numExamples;
    markLoaded(this);
  }
}
