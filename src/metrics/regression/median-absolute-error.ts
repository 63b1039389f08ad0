import * as tf from '@tensorflow/tfjs';
import { checkOptions, checkStateDict, failType } from '../../internal';
import { regressionColumns } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';

/** The plain-data state of a {@link MedianAbsoluteError}: every absolute error so far. */
export interface MedianAbsoluteErrorStateDict {
  /** |y - yPred| of every value since the reset, in update order. */
  errors: number[];
}

/**
 * The median of the absolute errors `|y - yPred|` over every value since the reset (the mean of the two middle
 * values for an even count).
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), each of shape (N) or (N, 1), numbers.
 *
 * Memory: a median needs every value, so this keeps one float32 per value seen since the reset (4 bytes × N): each
 * batch's `|y - yPred|` stays on the device until `compute()`, which concatenates them, reads them back once, and
 * from then on keeps them on the host. It keeps only the errors, half of what keeping `yPred` and `y` would take.
 *
 * @example
 * new MedianAbsoluteError().attach(evaluator, 'medianAE');
 */
export class MedianAbsoluteError extends Metric<PredictionPair, number> {
  /** Errors read back since the reset; a reset replaces the holder, so a read in flight appends to its own. */
  #host: { errors: Float32Array } = { errors: new Float32Array(0) };
  /** Batches of errors not read back yet. */
  #chunks: tf.Tensor[] = [];
  /** The read in flight (reads are chained). */
  #reading: Promise<void> = Promise.resolve();

  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('MedianAbsoluteError', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'MedianAbsoluteError';
  }

  /** Frees every kept error. */
  reset(): void {
    for (const chunk of this.#chunks) chunk.dispose();
    this.#chunks = [];
    this.#host = { errors: new Float32Array(0) };
  }

  /**
   * Keeps the batch's |y - yPred| on the device (no readback).
   *
   * @example
   * medianAE.update([yPred, y]); // yPred, y: (N) or (N, 1)
   */
  update(output: PredictionPair): void {
    const errors = tf.tidy(() => {
      const [yPred, y] = regressionColumns(output, 'MedianAbsoluteError');
      return tf.abs(tf.sub(y, yPred));
    });
    if (errors.size === 0) errors.dispose();
    else this.#chunks.push(errors);
  }

  /**
   * Reads the kept errors back (one `await data()` for all batches) and returns their median; throws
   * NotComputableError before any value.
   *
   * @example
   * const median = await medianAE.compute();
   */
  async compute(): Promise<number> {
    const errors = await this.#errors();
    if (errors.length === 0) {
      throw new NotComputableError('MedianAbsoluteError must have at least one example before it can be computed.');
    }
    const sorted = Float64Array.from(errors).sort();
    const middle = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  }

  /**
   * Every error so far, on the host. The device chunks are read back with one `await data()` and freed; reads are
   * chained so that concurrent calls append in update order, and a reset during a read discards it.
   */
  async #errors(): Promise<Float32Array> {
    const reading = this.#foldPending(this.#reading);
    this.#reading = reading.catch(() => undefined);
    await reading;
    return this.#host.errors;
  }

  /**
   * Moves the device chunks into one read that appends them to the errors of the holder they belong to once the reads
   * before it have, then calls `onFolded` synchronously with that holder's errors.
   */
  #foldPending(previous: Promise<void>, onFolded?: (errors: Float32Array) => void): Promise<void> {
    const chunks = this.#chunks;
    if (chunks.length === 0 && onFolded === undefined) return previous;
    this.#chunks = [];
    const host = this.#host;
    const reading = (async () => {
      const all = chunks.length === 0 ? null : chunks.length === 1 ? chunks[0]! : tf.concat(chunks);
      try {
        const values = all === null ? null : ((await all.data()) as Float32Array);
        await previous;
        if (values !== null) {
          const errors = new Float32Array(host.errors.length + values.length);
          errors.set(host.errors);
          errors.set(values, host.errors.length);
          host.errors = errors;
        }
        onFolded?.(host.errors);
      } finally {
        if (all !== null && all !== chunks[0]) all.dispose();
        for (const chunk of chunks) chunk.dispose();
      }
    })();
    return reading;
  }

  /**
   * Every error (read back with `await data()`) as plain numbers: those of the updates before the call (see
   * `Stateful`), even if updates or a reset come before it resolves.
   *
   * @example
   * const saved = await medianAE.stateDict(); // { errors: [0.5, 0.25, ...] }
   */
  override async stateDict(): Promise<MedianAbsoluteErrorStateDict> {
    let errors: number[] = [];
    const reading = this.#foldPending(this.#reading, (all) => {
      errors = Array.from(all);
    });
    this.#reading = reading.catch(() => undefined);
    await reading;
    return { errors };
  }

  /**
   * Restores a state from {@link stateDict}; checks it (an array of non-negative finite numbers, no other key)
   * before changing anything.
   *
   * @example
   * medianAE.loadStateDict(saved);
   */
  override loadStateDict(stateDict: MedianAbsoluteErrorStateDict): void {
    const where = 'MedianAbsoluteError.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['errors']);
    const errors = sd.errors;
    if (!Array.isArray(errors) || !errors.every((e) => typeof e === 'number' && Number.isFinite(e) && e >= 0)) {
      failType(where, "state dict entry 'errors'", 'an array of non-negative finite numbers', errors);
    }
    this.reset();
    this.#host = { errors: Float32Array.from(errors) };
    markLoaded(this);
  }
}
