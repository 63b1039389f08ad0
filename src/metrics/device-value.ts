import * as tf from '@tensorflow/tfjs';

/** A value read back by {@link DeviceValue.read}: its shape and its numbers, flat. */
export interface HostValue {
  shape: number[];
  values: number[];
}

/**
 * One tensor a metric folds each batch into with any function of the previous value (a running maximum, a user's
 * accumulation op), kept on the device between reads (internal, not exported from kindling). The linear sums of
 * {@link DeviceState} cannot express these.
 *
 * - `update(fn)` replaces the value with `fn(previous)` on the device (previous is null at first).
 * - `read()` brings it back with one `await data()`; if no update came meanwhile, the value then lives on the host
 *   and the tensor is freed, so a metric that has been computed owns no tensors. The next update uploads it again.
 * - `reset()` frees everything.
 */
export class DeviceValue {
  #device: tf.Tensor | null = null;
  #host: HostValue | null = null;

  /** True when nothing was folded in since the last reset. */
  get isEmpty(): boolean {
    return this.#device === null && this.#host === null;
  }

  /**
   * Sets the value to `fn(previous)`, cast to float32 and kept; `previous` is null for the first update. Runs inside
   * its own `tf.tidy`; the previous tensor is disposed afterwards, so `fn` may return it or a tensor it was given.
   */
  update(fn: (previous: tf.Tensor | null) => tf.Tensor): void {
    const previous = this.#device;
    const host = this.#host;
    const next = tf.tidy(() => {
      const before = previous ?? (host === null ? null : tf.tensor(host.values, host.shape, 'float32'));
      const value = fn(before);
      // A clone never shares its handle with `previous` or the caller's tensors (it shares their data, counted).
      return value.dtype === 'float32' ? tf.clone(value) : tf.cast(value, 'float32');
    });
    this.#device = tf.keep(next);
    this.#host = null;
    previous?.dispose();
  }

  /** Reads the value back (one `await data()`); null when empty. */
  async read(): Promise<HostValue | null> {
    const device = this.#device;
    if (device === null)
      return this.#host === null ? null : { shape: [...this.#host.shape], values: [...this.#host.values] };
    const copy = tf.clone(device); // keeps the data alive if an update or a reset disposes `device` meanwhile
    try {
      const values = Array.from(await copy.data());
      const value = { shape: [...copy.shape], values };
      if (this.#device === device) {
        this.#device = null;
        this.#host = { shape: value.shape, values: [...values] };
        device.dispose();
      }
      return value;
    } finally {
      copy.dispose();
    }
  }

  /** Frees the value. */
  reset(): void {
    this.#device?.dispose();
    this.#device = null;
    this.#host = null;
  }

  /** Replaces the value with host numbers (from {@link read}), or empties it with null. */
  restore(value: HostValue | null): void {
    this.reset();
    this.#host = value === null ? null : { shape: [...value.shape], values: [...value.values] };
  }
}
