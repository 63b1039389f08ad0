import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOneOf, checkStateDict, failRange, failType } from '../internal';
import { checkFiniteArray } from './metric-state';

/** The dtypes an output tensor may have; values are stored as float32 and handed back with this dtype. */
export type OutputDtype = 'float32' | 'int32' | 'bool';
const DTYPES: readonly OutputDtype[] = ['float32', 'int32', 'bool'];

/** Every stored output since the last reset, on the host: rows of `yPred` and `y`, flattened. */
export interface Outputs {
  /** Number of rows (samples). */
  rows: number;
  /** `rows × size(yPredRow)` values, row-major. */
  yPred: Float32Array;
  /** `rows × size(yRow)` values, row-major. */
  y: Float32Array;
  /** Shape of one row of `yPred`: `[]` or `[T]`. */
  yPredRow: readonly number[];
  /** Shape of one row of `y`. */
  yRow: readonly number[];
  yPredDtype: OutputDtype;
  yDtype: OutputDtype;
}

/** The stored outputs as plain data, for a state dict. */
export interface OutputsState {
  yPred: number[];
  y: number[];
  yPredRow: number[];
  yRow: number[];
  yPredDtype: OutputDtype;
  yDtype: OutputDtype;
}

/** A float32 array that grows by doubling. */
class Column {
  data = new Float32Array(0);
  length = 0;

  reserve(extra: number): void {
    if (this.length + extra <= this.data.length) return;
    const next = new Float32Array(Math.max(this.length + extra, 2 * this.data.length, 1024));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }

  view(): Float32Array {
    return this.data.subarray(0, this.length);
  }
}

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Splits `rows` read-back rows of `[yPred row, y row]` values into the two columns (growing them); returns `rows`.
 */
function appendRows(
  yPred: Column,
  y: Column,
  data: ArrayLike<number>,
  rows: number,
  meta: { yPredRow: readonly number[]; yRow: readonly number[] },
): number {
  const wPred = size(meta.yPredRow);
  const wY = size(meta.yRow);
  const width = wPred + wY;
  yPred.reserve(rows * wPred);
  y.reserve(rows * wY);
  const p = yPred.data;
  const t = y.data;
  let pi = yPred.length;
  let ti = y.length;
  if (wPred === 1 && wY === 1) {
    for (let r = 0; r < rows; r++) {
      p[pi++] = data[2 * r]!;
      t[ti++] = data[2 * r + 1]!;
    }
  } else {
    for (let r = 0; r < rows; r++) {
      const o = r * width;
      for (let j = 0; j < wPred; j++) p[pi++] = data[o + j]!;
      for (let j = 0; j < wY; j++) t[ti++] = data[o + wPred + j]!;
    }
  }
  yPred.length = pi;
  y.length = ti;
  return rows;
}

/** Pending chunks are concatenated on the device once there are this many, to bound the number of tensors. */
const MAX_CHUNKS = 64;

type Meta = { yPredRow: number[]; yRow: number[]; yPredDtype: OutputDtype; yDtype: OutputDtype };

/**
 * The outputs read back since a reset, with their row shapes and dtypes (null before the first batch). A reset
 * replaces it instead of emptying it, so a read still in flight folds into the one it started from, unseen.
 */
interface HostRows {
  yPred: Column;
  y: Column;
  rows: number;
  meta: Meta | null;
}

const emptyHost = (): HostRows => ({ yPred: new Column(), y: new Column(), rows: 0, meta: null });

/**
 * Keeps every `(yPred, y)` of an epoch (internal, not exported from kindling). `append` keeps each batch on the
 * device as one float32 `[n, wPred + wY]` tensor (no readback); `read()` brings all pending batches back with **one**
 * `await data()` and moves them to growable host arrays, so a computed metric owns no tensors. Memory: 4 bytes per
 * stored value, on the device until read, then on the host.
 */
export class OutputStore {
  readonly #owner: string;
  #pending: tf.Tensor[] = [];
  #rows = 0;
  #host: HostRows = emptyHost();
  #reads: Promise<unknown> = Promise.resolve();

  /** @param owner the metric's name, used in error messages. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /** Rows appended since the last reset. */
  get rows(): number {
    return this.#rows;
  }

  /**
   * Keeps one batch of `n = yPred.shape[0]` rows, each row of `yPred` shaped `yPredRow` (`[]` or `[T]`) and each of
   * `y` shaped `yRow` (the caller has checked that the sizes agree). Every batch must have the same row shapes and
   * dtypes as the first one since the last reset. The kept tensor survives an enclosing `tf.tidy`.
   */
  append(yPred: tf.Tensor, y: tf.Tensor, yPredRow: number[], yRow: number[]): void {
    const yPredDtype = checkOneOf(`${this.#owner}.update`, 'the dtype of yPred', yPred.dtype, DTYPES);
    const yDtype = checkOneOf(`${this.#owner}.update`, 'the dtype of y', y.dtype, DTYPES);
    const meta = this.#host.meta;
    if (meta !== null) {
      const same = (a: readonly number[], b: readonly number[]) =>
        a.length === b.length && a.every((d, i) => d === b[i]);
      if (!same(meta.yPredRow, yPredRow) || !same(meta.yRow, yRow)) {
        throw new RangeError(
          `${this.#owner}: this batch has yPred rows of shape [${yPredRow}] and y rows of shape [${yRow}], but earlier ` +
            `batches had [${meta.yPredRow}] and [${meta.yRow}]; keep one shape per epoch (or reset the metric).`,
        );
      }
      if (meta.yPredDtype !== yPredDtype || meta.yDtype !== yDtype) {
        throw new TypeError(
          `${this.#owner}: this batch has dtypes yPred ${yPredDtype} and y ${yDtype}, but earlier batches had ` +
            `${meta.yPredDtype} and ${meta.yDtype}; cast them the same way in every batch.`,
        );
      }
    }
    const n = yPred.shape[0] ?? 0;
    if (n === 0) {
      this.#host.meta ??= { yPredRow, yRow, yPredDtype, yDtype };
      return;
    }
    const chunk = tf.keep(
      tf.tidy(() =>
        tf.concat(
          [
            tf.cast(tf.reshape(yPred, [n, size(yPredRow)]), 'float32'),
            tf.cast(tf.reshape(y, [n, size(yRow)]), 'float32'),
          ],
          1,
        ),
      ),
    );
    this.#host.meta ??= { yPredRow, yRow, yPredDtype, yDtype };
    this.#pending.push(chunk);
    this.#rows += n;
    if (this.#pending.length >= MAX_CHUNKS) {
      const chunks = this.#pending;
      this.#pending = [tf.keep(tf.concat(chunks))];
      for (const c of chunks) c.dispose();
    }
  }

  /** Reads every pending batch back (one `await data()`) and returns all outputs since the last reset. */
  async read(): Promise<Outputs> {
    this.#reads = this.#foldPending(this.#reads);
    await this.#reads;
    const host = this.#host;
    const meta = host.meta ?? { yPredRow: [], yRow: [], yPredDtype: 'float32', yDtype: 'float32' };
    return { rows: host.rows, yPred: host.yPred.view(), y: host.y.view(), ...meta };
  }

  /**
   * Moves the pending batches into one read that appends them to the host rows they belong to once the reads before
   * it have, then calls `onFolded` synchronously. Returns that read, or `previous` when there is nothing to read and
   * nobody to call.
   */
  #foldPending(previous: Promise<unknown>, onFolded?: (host: HostRows) => void): Promise<unknown> {
    const chunks = this.#pending;
    if (chunks.length === 0 && onFolded === undefined) return previous;
    this.#pending = [];
    const host = this.#host;
    return (async () => {
      const flat = chunks.length === 0 ? null : chunks.length === 1 ? chunks[0]! : tf.concat(chunks);
      try {
        const data = flat === null ? null : await flat.data();
        await previous.catch(() => undefined);
        if (flat !== null && data !== null && host.meta !== null) {
          host.rows += appendRows(host.yPred, host.y, data, flat.shape[0]!, host.meta);
        }
        onFolded?.(host);
      } finally {
        if (flat !== null && flat !== chunks[0]) flat.dispose();
        for (const chunk of chunks) chunk.dispose();
      }
    })();
  }

  /** Disposes the pending batches and forgets every output; a read in flight is discarded. */
  reset(): void {
    for (const chunk of this.#pending) chunk.dispose();
    this.#pending = [];
    this.#rows = 0;
    this.#host = emptyHost();
  }

  /**
   * The stored outputs as they are at the call, as plain data for a state dict (null when there are none). Like
   * {@link read} it moves the pending batches into one read (`await data()`), and copies the rows the moment that
   * read has appended them, before any later read, from the rows of the call even if a reset comes meanwhile. So
   * appends, reads and resets after the call do not change the result.
   */
  capture(): Promise<OutputsState | null> {
    let state: OutputsState | null = null;
    const meta = this.#host.meta; // set by the first batch, which may come before the read resolves
    const copy = ({ yPred, y }: HostRows) => {
      if (meta === null) return;
      state = {
        yPred: Array.from(yPred.view()),
        y: Array.from(y.view()),
        yPredRow: [...meta.yPredRow],
        yRow: [...meta.yRow],
        yPredDtype: meta.yPredDtype,
        yDtype: meta.yDtype,
      };
    };
    const folded = this.#foldPending(this.#reads, copy);
    this.#reads = folded;
    return folded.then(() => state);
  }

  /**
   * Checks saved outputs (null or what {@link capture} resolved to) without changing anything, and returns the function
   * that replaces the stored outputs with them. `rowRule` may restrict the row shapes (e.g. binary scores: `[]`).
   */
  planRestore(where: string, key: string, value: unknown, rowRule?: (row: number[]) => boolean): () => void {
    if (value === null) return () => this.reset();
    const sd = checkStateDict(where, value, ['yPred', 'y', 'yPredRow', 'yRow', 'yPredDtype', 'yDtype']);
    const entry = (name: string) => `state dict entry '${key}.${name}'`;
    const row = (name: 'yPredRow' | 'yRow') => {
      const shape = sd[name];
      const ok = Array.isArray(shape) && shape.length <= 1 && shape.every((d) => Number.isSafeInteger(d) && d >= 1);
      if (!ok || (rowRule !== undefined && !rowRule(shape as number[]))) {
        failType(where, entry(name), 'the shape of one row: [] or [T] (T >= 1)', shape);
      }
      return [...(shape as number[])];
    };
    const yPredRow = row('yPredRow');
    const yRow = row('yRow');
    const yPredDtype = checkOneOf(where, entry('yPredDtype'), sd.yPredDtype, DTYPES);
    const yDtype = checkOneOf(where, entry('yDtype'), sd.yDtype, DTYPES);
    const yPred = checkFiniteArray(where, entry('yPred'), sd.yPred);
    const y = checkFiniteArray(where, entry('y'), sd.y);
    const rows = yPred.length / size(yPredRow);
    if (!Number.isInteger(rows) || y.length !== rows * size(yRow)) {
      failRange(
        where,
        `state dict entries '${key}.yPred' and '${key}.y'`,
        `the same number of rows (${size(yPredRow)} and ${size(yRow)} values a row)`,
        { yPred: yPred.length, y: y.length },
      );
    }
    checkInteger(where, `the number of rows in ${entry('yPred')}`, rows, { min: 0 });
    return () => {
      this.reset();
      const host = this.#host;
      host.meta = { yPredRow, yRow, yPredDtype, yDtype };
      host.yPred.reserve(yPred.length);
      host.yPred.data.set(yPred);
      host.yPred.length = yPred.length;
      host.y.reserve(y.length);
      host.y.data.set(y);
      host.y.length = y.length;
      host.rows = rows;
      this.#rows = rows;
    };
  }
}
