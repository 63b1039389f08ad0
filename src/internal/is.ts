// Small type guards shared by every folder. Imports nothing.

/** Keys that would reach a prototype if copied from loaded data; every loader rejects them. */
export const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** True for `{...}` and `Object.create(null)`: not arrays, tensors, class instances or null. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** True for anything with a callable `then` (a promise or a promise-like). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/**
 * Marks the `[Symbol.iterator]` method of an object that can only be iterated asynchronously (a DataLoader whose
 * `dataset.get` is async): the method throws an error pointing to `for await`, which a plain `undefined` cannot do
 * (`for...of` would say only "is not iterable"), and {@link hasSyncIterator} does not count it.
 */
export const ASYNC_ONLY: unique symbol = Symbol('kindling.asyncOnly');

/** True when `value` has a `[Symbol.iterator]` method that iterates (not one marked {@link ASYNC_ONLY}). */
export function hasSyncIterator(value: unknown): value is Iterable<unknown> {
  const method = value == null ? undefined : (value as Iterable<unknown>)[Symbol.iterator];
  return typeof method === 'function' && (method as { [ASYNC_ONLY]?: boolean })[ASYNC_ONLY] !== true;
}

/** True for a sync or async iterable. */
export function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    value != null &&
    (typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
  );
}

/** The finite numeric `length` of `value` (arrays, DataLoader, `{ length, get }` sources), or null. */
export function lengthOf(value: unknown): number | null {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'string'))
    return null;
  const length = (value as { length?: unknown }).length;
  return typeof length === 'number' && Number.isFinite(length) ? length : null;
}
