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
  /** Errors read back so far. */
  #host: Float32Array = new Float32Array(0);
  /** Batches of errors not read back yet. */
  #chunks: tf.Tensor[] = [];
  /** The read in flight (reads are chained). */
  #reading: Promise<void> = Promise.resolve();
  /** Bumped by reset, so that a read in flight is discarded. */
  #generation = 0;

  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('MedianAbsoluteError', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'MedianAbsoluteError';
  }

  /** Frees every kept error. */
  reset(): void {
    this.#generation += 1;
    for (const chunk of this.#chunks) chunk.dispose();
    this.#chunks = [];
    this.#host = new Float32Array(0);
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
    const chunks = this.#chunks;
    this.#chunks = [];
    if (chunks.length > 0) {
      const generation = this.#generation;
      const previous = this.#reading;
      const reading = (async () => {
        const all = chunks.length === 1 ? chunks[0]! : tf.concat(chunks);
        try {
          const values = (await all.data()) as Float32Array;
          await previous;
          if (generation !== this.#generation) return;
          const host = new Float32Array(this.#host.length + values.length);
          host.set(this.#host);
          host.set(values, this.#host.length);
          this.#host = host;
        } finally {
          if (all !== chunks[0]) all.dispose();
          for (const chunk of chunks) chunk.dispose();
        }
      })();
      this.#reading = reading.catch(() => undefined);
      await reading;
    } else {
      await this.#reading;
    }
    return this.#host;
  }

  /**
   * Every error (read back with `await data()`) as plain numbers.
   *
   * @example
   * const saved = await medianAE.stateDict(); // { errors: [0.5, 0.25, ...] }
   */
  override async stateDict(): Promise<MedianAbsoluteErrorStateDict> {
    return { errors: Array.from(await this.#errors()) };
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
    this.#host = Float32Array.from(errors);
    markLoaded(this);
  }
}
