import type * as tf from '@tensorflow/tfjs';
import { checkInteger, checkNumber, checkStateDict } from '../internal';
import { DeviceState } from './device-state';

/** The plain-data form of a {@link SumState}: every sum and every count by name. */
export type SumStateDict<S extends string, C extends string> = Record<S | C, number>;

/**
 * Named scalar sums kept on the device (a {@link DeviceState}: one readback for all of them) and named integer
 * counters kept on the host, with the state-dict plumbing the sum-based metrics share (internal, not exported).
 *
 * @example
 * const state = new SumState('R2Score', ['sumOfErrors', 'ySum'], ['numExamples']);
 * tf.tidy(() => state.add({ sumOfErrors: tf.sum(tf.square(diff)), ySum: tf.sum(y) }));
 * state.count('numExamples', y.shape[0]);
 * const { sums, counts } = await state.read();
 */
export class SumState<S extends string, C extends string> {
  readonly #owner: string;
  readonly #sumNames: readonly S[];
  readonly #countNames: readonly C[];
  readonly #device: DeviceState;
  #counts: Record<C, number>;

  /**
   * @param owner the metric's literal class name, for error messages.
   * @param sums names of the scalar sums.
   * @param counts names of the integer counters.
   */
  constructor(owner: string, sums: readonly S[], counts: readonly C[]) {
    this.#owner = owner;
    this.#sumNames = sums;
    this.#countNames = counts;
    this.#device = new DeviceState(owner);
    this.#counts = zeros(counts);
  }

  /** The counters now (plain numbers, no readback). */
  get counts(): Readonly<Record<C, number>> {
    return this.#counts;
  }

  /** Adds scalar deltas (tensors of one value, or numbers) to the sums; call inside the caller's `tf.tidy`. */
  add(deltas: Partial<Record<S, tf.Tensor | number>>): void {
    this.#device.add(deltas as Record<string, tf.Tensor | number>);
  }

  /** Adds `n` to a counter. */
  count(name: C, n: number): void {
    this.#counts[name] += n;
  }

  /** Frees the device sums and zeroes everything. */
  reset(): void {
    this.#device.reset();
    this.#counts = zeros(this.#countNames);
  }

  /**
   * Reads every sum back with one `await data()`. The counters are taken when the call starts, so they match the
   * sums read (updates made during the read count in the next one).
   */
  async read(): Promise<{ sums: Record<S, number>; counts: Record<C, number> }> {
    const counts = { ...this.#counts };
    const values = await this.#device.read();
    const sums = {} as Record<S, number>;
    for (const name of this.#sumNames) sums[name] = values.get(name)?.[0] ?? 0;
    return { sums, counts };
  }

  /**
   * Every sum and counter as plain numbers, as they are at the call (reads the sums back; updates and resets after
   * the call do not change it).
   */
  async stateDict(): Promise<SumStateDict<S, C>> {
    const counts = { ...this.#counts };
    const values = await this.#device.capture();
    const sums = {} as Record<S, number>;
    for (const name of this.#sumNames) sums[name] = values[name]?.values[0] ?? 0;
    return { ...sums, ...counts };
  }

  /**
   * Checks a state dict from {@link stateDict} (the keys exactly; sums finite numbers; counts non-negative safe
   * integers), then replaces the state with it. Throws before changing anything.
   */
  loadStateDict(stateDict: unknown): void {
    const where = `${this.#owner}.loadStateDict`;
    const sd = checkStateDict(where, stateDict, [...this.#sumNames, ...this.#countNames]);
    for (const name of this.#sumNames) checkNumber(where, `state dict entry '${name}'`, sd[name]);
    for (const name of this.#countNames) checkInteger(where, `state dict entry '${name}'`, sd[name], { min: 0 });
    this.#device.restore(
      Object.fromEntries(this.#sumNames.map((name) => [name, { shape: [], values: [sd[name] as number] }])),
    );
    this.#counts = Object.fromEntries(this.#countNames.map((name) => [name, sd[name] as number])) as Record<C, number>;
  }
}

function zeros<C extends string>(names: readonly C[]): Record<C, number> {
  return Object.fromEntries(names.map((name) => [name, 0])) as Record<C, number>;
}
