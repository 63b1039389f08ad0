// How values read in error messages. One rule for the whole package; imports nothing (engine/ uses it too).

const MAX = 80;

const clip = (text: string): string => (text.length > MAX ? `${text.slice(0, MAX - 3)}...` : text);

interface TensorLike {
  shape: number[];
  dtype: string;
  isDisposed?: boolean;
}

/** True for a tfjs tensor, recognised by shape (no import of tfjs here). */
export function isTensorLike(value: unknown): value is TensorLike {
  return (
    value !== null &&
    typeof value === 'object' &&
    Array.isArray((value as TensorLike).shape) &&
    typeof (value as TensorLike).dtype === 'string' &&
    typeof (value as { dispose?: unknown }).dispose === 'function'
  );
}

/**
 * A short description of any value for an error message: `0`, `NaN`, `'text'`, `a function fit`,
 * `a disposed float32 tensor of shape [2,3]`, `[1,2]`, `{"every":0}`, `an instance of Map`.
 *
 * @example
 * throw new RangeError(`Timer: option average should be a boolean, got ${describeValue(options.average)}.`);
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `'${clip(value)}'`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'boolean':
    case 'symbol':
      return String(value);
    case 'function':
      return value.name ? `a function ${value.name}` : 'an anonymous function';
  }
  if (value === null) return 'null';
  if (isTensorLike(value)) {
    return `a ${value.isDisposed ? 'disposed ' : ''}${value.dtype} tensor of shape [${value.shape.join(',')}]`;
  }
  if (ArrayBuffer.isView(value)) {
    return `a ${Object.prototype.toString.call(value).slice(8, -1)} of length ${(value as unknown as ArrayLike<unknown>).length}`;
  }
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
    // The given value's own class (Map, Date, a user's class); built-in names survive minification.
    const ctor: unknown = proto?.constructor;
    const name = typeof ctor === 'function' ? ctor.name : undefined;
    return name ? `an instance of ${name}` : 'an object';
  }
  try {
    const text = JSON.stringify(value, (_key, item: unknown) => {
      if (typeof item === 'function') return `[function${item.name ? ` ${item.name}` : ''}]`;
      if (typeof item === 'number' && !Number.isFinite(item)) return String(item);
      if (typeof item === 'bigint') return `${item}n`;
      if (isTensorLike(item)) return `[tensor [${item.shape.join(',')}]]`;
      return item;
    });
    if (text !== undefined) return clip(text);
  } catch {
    // a cycle: fall through
  }
  return Array.isArray(value)
    ? `an array of length ${value.length}`
    : `an object with keys {${Object.keys(value as object).join(', ')}}`;
}
