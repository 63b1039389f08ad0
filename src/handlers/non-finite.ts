// Finding NaN and Inf in what an engine produced, on the device: shared by TerminateOnNan (which stops the run) and
// Checkpoint (which refuses to save such a state, so that it never replaces the last finite checkpoint).
import * as tf from '@tensorflow/tfjs';
import { isPlainObject } from '../internal';

/**
 * Calls `visit` for every number and every live float32 tensor in a number, tensor, array or plain object (nested).
 * Int and bool tensors cannot hold NaN and are skipped, as are disposed tensors.
 */
export function visitFloats(value: unknown, visit: (leaf: number | tf.Tensor) => void): void {
  if (typeof value === 'number') {
    visit(value);
  } else if (value instanceof tf.Tensor) {
    if (!value.isDisposed && value.dtype === 'float32') visit(value);
  } else if (Array.isArray(value)) {
    for (const item of value) visitFloats(item, visit);
  } else if (isPlainObject(value)) {
    for (const item of Object.values(value)) visitFloats(item, visit);
  }
}

/** A bool scalar on the device, true when any of `tensors` holds a NaN or an infinite value; for use inside tidy. */
export function anyNonFinite(tensors: readonly tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => {
    const flags = tensors.map((t) => tf.logicalNot(tf.isFinite(t)).any());
    return flags.length === 1 ? flags[0]! : tf.stack(flags).any();
  });
}
