// Small helpers shared by the handlers in this folder (not exported from the package).
import * as tf from '@tensorflow/tfjs';

/** Renders a value for an error message: strings quoted, objects as short JSON, tensors by shape. */
export function describeValue(value: unknown): string {
  if (value instanceof tf.Tensor) return `a ${value.dtype} tensor of shape [${value.shape.join(', ')}]`;
  if (typeof value === 'string') return `'${value}'`;
  if (typeof value === 'function') return `a function${value.name ? ` ${value.name}` : ''}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number') return String(value);
  if (value !== null && typeof value === 'object' && value.constructor && value.constructor !== Object) {
    if (!Array.isArray(value)) return `an instance of ${value.constructor.name}`;
  }
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    // fall through to String()
  }
  return String(value);
}

/** Whether `value` is a plain object (`{...}`), not an array, tensor or class instance. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
