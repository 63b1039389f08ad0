import * as tf from '@tensorflow/tfjs';

/**
 * Named running accumulators for a metric, kept on the device between reads (internal, not exported from kindling).
 *
 * Each entry is a linear accumulator `value = host * factor + device`:
 * - `add({ name: delta }, decay)` sets `value = value * decay + delta` (a sum with decay 1, an exponential moving
 *   average with decay alpha). Tensor deltas stay on the device; no value is ever read back here.
 * - `read()` brings every device part back with **one** `await data()` (the parts are concatenated first), folds it
 *   into the host part (float64) and disposes it. So between reads the device holds one tensor per entry, and after
 *   a read it holds none: a metric that has been computed owns no tensors.
 * - `reset()` disposes everything; a read still in flight is then discarded.
 * - `capture()` takes the values as they are at the call (for a state dict): later updates, reads and resets do not
 *   change what it resolves to.
 *
 * Device parts are float32, so a sum is exact up to 2^24 per read; host parts are float64.
 */
export class DeviceState {
  readonly #owner: string;
  readonly #entries = new Map<string, Entry>();
  #inFlight = 0;
  #reads: Promise<unknown> = Promise.resolve();

  /** @param owner the metric's name, used in error messages. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /** True when nothing has been accumulated since the last reset. */
  get isEmpty(): boolean {
    return this.#entries.size === 0;
  }

  /** The shape an entry accumulates, or undefined if it has none yet. */
  shapeOf(name: string): readonly number[] | undefined {
    return this.#entries.get(name)?.shape;
  }

  /**
   * Sets `entry = entry * decay + delta` for each named delta (an absent entry counts as 0).
   * Tensor deltas are not disposed or kept: the caller owns them (call this inside its `tf.tidy`).
   */
  add(deltas: Readonly<Record<string, tf.Tensor | number | readonly number[]>>, decay = 1): void {
    for (const [name, delta] of Object.entries(deltas)) this.#addOne(name, delta, decay);
  }

  #addOne(name: string, delta: tf.Tensor | number | readonly number[], decay: number): void {
    const shape = delta instanceof tf.Tensor ? delta.shape : typeof delta === 'number' ? [] : [delta.length];
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = { shape, host: null, factor: 1, device: null };
      this.#entries.set(name, entry);
    } else if (!sameShape(entry.shape, shape)) {
      throw new RangeError(
        `${this.#owner}: this update's ${name} has shape [${shape}] but earlier updates had [${entry.shape}]; ` +
          'inputs must keep the same number of classes/features until the metric is reset.',
      );
    }
    if (!(delta instanceof tf.Tensor) && entry.device === null && this.#inFlight === 0) {
      const values = typeof delta === 'number' ? [delta] : delta;
      const host = entry.host;
      entry.host = Float64Array.from(values, (v, i) => (host === null ? v : host[i] * decay + v));
      return;
    }
    const previous = entry.device;
    // Hot path (every iteration): as few ops as possible, no cast of float32 deltas and no multiply by 1.
    const next = tf.tidy(() => {
      let d: tf.Tensor;
      if (!(delta instanceof tf.Tensor)) d = tf.tensor(delta as number[] | number, shape);
      else if (delta.dtype !== 'float32') d = tf.cast(delta, 'float32');
      else d = previous === null ? tf.clone(delta) : delta; // never keep the caller's own tensor
      if (previous === null) return d;
      return decay === 1 ? tf.add(previous, d) : tf.add(tf.mul(previous, decay), d);
    });
    entry.device = tf.keep(next);
    previous?.dispose();
    entry.factor = previous === null ? decay : entry.factor * decay;
  }

  /**
   * Reads every entry back (one `await data()` for all device parts together) and returns the values, flattened,
   * in float64. Entries never added are absent.
   */
  async read(): Promise<Map<string, Float64Array>> {
    this.#reads = this.#foldPending(this.#reads);
    await this.#reads;
    const values = new Map<string, Float64Array>();
    for (const [name, entry] of this.#entries) if (entry.host !== null) values.set(name, entry.host.slice());
    return values;
  }

  /**
   * Moves every device part into one read that folds it into the host values once the reads before it have; then
   * calls `onFolded` (synchronously, so no later read has folded anything yet). Returns that read, or `previous` when
   * there is nothing to read and nobody to call.
   */
  #foldPending(previous: Promise<unknown>, onFolded?: () => void): Promise<unknown> {
    const parts: Part[] = [];
    for (const entry of this.#entries.values()) {
      if (entry.device === null) continue;
      parts.push({ entry, tensor: entry.device, factor: entry.factor });
      entry.device = null;
      entry.factor = 1;
    }
    if (parts.length === 0 && onFolded === undefined) return previous;
    return this.#fold(parts, previous, onFolded);
  }

  /**
   * Reads `parts` back, then (after the reads before it) folds them into the host values of the entries they came
   * from: after a reset those entries are no longer this state's, so nothing visible changes.
   */
  async #fold(parts: readonly Part[], previous: Promise<unknown>, onFolded?: () => void): Promise<void> {
    this.#inFlight += 1;
    const flat =
      parts.length === 0
        ? null
        : parts.length === 1
          ? parts[0]!.tensor
          : tf.tidy(() => tf.concat(parts.map((part) => tf.reshape(part.tensor, [-1]))));
    try {
      const data = flat === null ? [] : await flat.data();
      await previous.catch(() => undefined);
      let offset = 0;
      for (const { entry, factor } of parts) {
        const size = sizeOf(entry.shape);
        // Updates made while this read was in flight went to a new device part whose factor applies to this value.
        entry.host = foldPart(entry.host, factor, data, offset, size);
        offset += size;
      }
      onFolded?.();
    } finally {
      this.#inFlight -= 1;
      if (flat !== null && flat !== parts[0]!.tensor) flat.dispose();
      for (const part of parts) part.tensor.dispose();
    }
  }

  /**
   * The values as they are at the call, as plain data for a state dict (see {@link snapshot}): like {@link read}, it
   * moves the device parts into one read (`await data()`), and copies the values the moment that read has folded them
   * in, before any later read, and into the entries of the call even if a reset comes meanwhile. So updates, reads and
   * resets after the call do not change the result, and training may go on while it resolves; the state goes on from
   * the host values, as a state loaded from the result does. Entries never added are absent.
   */
  capture(): Promise<Record<string, { shape: number[]; values: number[] }>> {
    const entries = [...this.#entries];
    const out: Record<string, { shape: number[]; values: number[] }> = {};
    const copy = () => {
      for (const [name, entry] of entries) {
        if (entry.host !== null) out[name] = { shape: [...entry.shape], values: Array.from(entry.host) };
      }
    };
    if (this.#inFlight === 0 && entries.every(([, entry]) => entry.device === null)) {
      copy();
      return Promise.resolve(out);
    }
    const folded = this.#foldPending(this.#reads, copy);
    this.#reads = folded;
    return folded.then(() => out);
  }

  /** Disposes every accumulator; a read in flight is discarded. */
  reset(): void {
    for (const entry of this.#entries.values()) entry.device?.dispose();
    this.#entries.clear();
  }

  /**
   * The accumulated values as plain data, for a state dict. Values must have been read back: throws if updates
   * are still on the device (call `await metric.compute()` first).
   */
  snapshot(): Record<string, { shape: number[]; values: number[] }> {
    const out: Record<string, { shape: number[]; values: number[] }> = {};
    for (const [name, entry] of this.#entries) {
      if (entry.device !== null || this.#inFlight > 0) {
        throw new Error(
          `${this.#owner}.stateDict(): the metric has updates on the device that were not read back yet; ` +
            'call `await metric.compute()` first (attach the metric before the handler that saves it, so it is computed first).',
        );
      }
      if (entry.host !== null) out[name] = { shape: [...entry.shape], values: [...entry.host] };
    }
    return out;
  }

  /** Replaces the state with values from {@link snapshot}. */
  restore(snapshot: Readonly<Record<string, { shape: readonly number[]; values: readonly number[] }>>): void {
    this.reset();
    for (const [name, { shape, values }] of Object.entries(snapshot)) {
      const size = shape.reduce((a, b) => a * b, 1);
      if (values.length !== size || values.some((v) => typeof v !== 'number')) {
        throw new TypeError(
          `${this.#owner}.loadStateDict: entry ${name} should hold ${size} numbers for shape [${shape}], got ${values.length} values.`,
        );
      }
      this.#entries.set(name, { shape: [...shape], host: Float64Array.from(values), factor: 1, device: null });
    }
  }
}

interface Entry {
  shape: readonly number[];
  host: Float64Array | null;
  factor: number;
  device: tf.Tensor | null;
}

/** A device part on its way to the host: `host = host * factor + tensor` once read. */
interface Part {
  entry: Entry;
  tensor: tf.Tensor;
  factor: number;
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** `host * factor + data[offset ..]` in float64 (an absent host counts as 0): one device part folded in. */
function foldPart(
  host: Float64Array | null,
  factor: number,
  data: ArrayLike<number>,
  offset: number,
  size: number,
): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => (host === null ? 0 : host[i]! * factor) + data[offset + i]!);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
