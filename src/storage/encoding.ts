// Splits checkpoint data into a JSON-safe skeleton and its typed arrays, and puts them back together.
// Every saver stores the two parts separately: the skeleton is small, the typed arrays stay binary.
import {
  describeValue,
  findUnsafeKey,
  formatPath,
  isPlainObject,
  type PathSegment,
  UNSAFE_KEYS,
  unsafeKeyMessage,
} from '../internal';
import { CheckpointError } from './errors';

/** The typed array classes a checkpoint may hold, by name. */
export const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint8ClampedArray,
  Uint16Array,
  Uint32Array,
  BigInt64Array,
  BigUint64Array,
} as const;

/** The name of a typed-array class a checkpoint may hold. */
export type TypedArrayName = keyof typeof TYPED_ARRAYS;
/** A typed array a checkpoint may hold. */
export type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;

/** Where a typed array sat in the data, its class and its size. */
export interface BufferEntry {
  path: PathSegment[];
  type: TypedArrayName;
  byteLength: number;
}

/** Values JSON cannot hold, and where they sat. */
export interface SpecialEntry {
  path: PathSegment[];
  value: 'NaN' | 'Infinity' | '-Infinity' | '-0' | 'undefined';
}

/** The JSON-safe part of encoded data: the skeleton (typed arrays and specials replaced by null) and where they go. */
export interface EncodedHeader {
  plain: unknown;
  buffers: BufferEntry[];
  specials: SpecialEntry[];
}

/** Encoded data: the header and the typed arrays, in `header.buffers` order. */
export interface EncodedCheckpoint {
  header: EncodedHeader;
  views: AnyTypedArray[];
  /** Bytes of the typed arrays plus the JSON header: about what storing it takes. */
  bytes: number;
}

/** The class name of a typed array, or null for anything else. */
export function typedArrayName(value: unknown): TypedArrayName | null {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return null;
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  return Object.hasOwn(TYPED_ARRAYS, tag) ? (tag as TypedArrayName) : null;
}

/**
 * Splits `data` into a JSON-safe header and its typed arrays without copying them (a view over part of a larger
 * buffer is copied to its own, so that storing it does not store the whole buffer).
 * Throws a TypeError, naming the path, for anything that is not plain data or a typed array, for cycles, and for
 * the keys in {@link UNSAFE_KEYS}.
 */
export function encodeCheckpoint(data: unknown, where: string): EncodedCheckpoint {
  const buffers: BufferEntry[] = [];
  const specials: SpecialEntry[] = [];
  const views: AnyTypedArray[] = [];
  const ancestors = new Set<object>();
  let bytes = 0;

  const walk = (value: unknown, path: PathSegment[]): unknown => {
    switch (typeof value) {
      case 'string':
      case 'boolean':
        return value;
      case 'number':
        if (Number.isFinite(value) && !Object.is(value, -0)) return value;
        specials.push({ path, value: Object.is(value, -0) ? '-0' : (String(value) as SpecialEntry['value']) });
        return null;
      case 'undefined':
        specials.push({ path, value: 'undefined' });
        return null;
      case 'object': {
        if (value === null) return null;
        const type = typedArrayName(value);
        if (type !== null) {
          const view = value as AnyTypedArray;
          const whole = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength;
          views.push(whole ? view : (view.slice() as AnyTypedArray));
          buffers.push({ path, type, byteLength: view.byteLength });
          bytes += view.byteLength;
          return null;
        }
        if (ancestors.has(value)) {
          throw new TypeError(
            `${where}: the data refers to itself at ${formatPath(path)}; checkpoint data must be a tree.`,
          );
        }
        if (!Array.isArray(value) && !isPlainObject(value)) {
          throw new TypeError(
            `${where}: checkpoint data may hold plain objects, arrays, numbers, strings, booleans, null and typed arrays; found ${describeValue(value)} at ${formatPath(path)}. Convert it to plain data in its stateDict().`,
          );
        }
        ancestors.add(value);
        let copy: unknown;
        if (Array.isArray(value)) {
          copy = Array.from(value, (item, index) => walk(item, [...path, index]));
        } else {
          const object: Record<string, unknown> = {};
          for (const key of Object.keys(value)) {
            if (UNSAFE_KEYS.has(key)) {
              throw new TypeError(
                `${where}: checkpoint data may not contain the key '${key}' (found at ${formatPath([...path, key])}); rename it in the stateDict().`,
              );
            }
            object[key] = walk((value as Record<string, unknown>)[key], [...path, key]);
          }
          copy = object;
        }
        ancestors.delete(value);
        return copy;
      }
      default:
        throw new TypeError(
          `${where}: checkpoint data may hold plain objects, arrays, numbers, strings, booleans, null and typed arrays; found ${describeValue(value)} at ${formatPath(path)}.`,
        );
    }
  };

  const plain = walk(data, []);
  const header: EncodedHeader = { plain, buffers, specials };
  bytes += JSON.stringify(header).length;
  return { header, views, bytes };
}

/** Thrown by {@link decodeCheckpoint} for data that does not fit its header; savers turn it into a CORRUPT error. */
export class CorruptDataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptDataError';
  }
}

const SPECIAL_VALUES: Record<SpecialEntry['value'], number | undefined> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
  undefined: undefined,
};

/**
 * Puts encoded data back together: checks the header, puts each typed array and special value back at its path.
 * Mutates `header.plain` and returns it. Throws {@link CorruptDataError} when the parts do not fit, and a
 * CheckpointError (`UNSAFE_KEY`) for a key in {@link UNSAFE_KEYS}.
 */
export function decodeCheckpoint(header: unknown, views: readonly unknown[]): unknown {
  if (header === null || typeof header !== 'object') throw new CorruptDataError('its header is missing');
  const { plain, buffers, specials } = header as Partial<EncodedHeader>;
  if (!Array.isArray(buffers) || !Array.isArray(specials) || !('plain' in header)) {
    throw new CorruptDataError('its header lacks plain, buffers or specials');
  }
  assertSafeKeys(plain, 'the stored data');
  if (views.length !== buffers.length) {
    throw new CorruptDataError(`it should hold ${buffers.length} typed arrays, found ${views.length}`);
  }
  let root = plain;
  buffers.forEach((entry: BufferEntry, index) => {
    const view = views[index];
    const type = typedArrayName(view);
    if (entry === null || typeof entry !== 'object' || !Object.hasOwn(TYPED_ARRAYS, entry.type)) {
      throw new CorruptDataError(`typed array entry ${index} of its header is malformed`);
    }
    if (type !== entry.type || (view as AnyTypedArray).byteLength !== entry.byteLength) {
      throw new CorruptDataError(
        `typed array ${index} (${formatPath(entry.path ?? [])}) should be a ${entry.type} of ${entry.byteLength} bytes, found ${type === null ? describeValue(view) : `a ${type} of ${(view as AnyTypedArray).byteLength} bytes`}`,
      );
    }
    root = setAtPath(root, entry.path, view);
  });
  for (const entry of specials as SpecialEntry[]) {
    if (entry === null || typeof entry !== 'object' || !(entry.value in SPECIAL_VALUES)) {
      throw new CorruptDataError('a special-value entry of its header is malformed');
    }
    root = setAtPath(root, entry.path, SPECIAL_VALUES[entry.value]);
  }
  return root;
}

/** Replaces the null placeholder at `path` with `value`; returns the (possibly replaced) root. */
function setAtPath(root: unknown, path: unknown, value: unknown): unknown {
  if (!Array.isArray(path)) throw new CorruptDataError('a path in its header is not an array');
  if (path.length === 0) {
    if (root !== null) throw new CorruptDataError('a placeholder at the root is not null');
    return value;
  }
  let container: unknown = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i];
    const isLast = i === path.length - 1;
    let ok: boolean;
    if (Array.isArray(container)) {
      ok = typeof segment === 'number' && Number.isInteger(segment) && segment >= 0 && segment < container.length;
    } else {
      ok =
        container !== null &&
        typeof container === 'object' &&
        typeof segment === 'string' &&
        !UNSAFE_KEYS.has(segment) &&
        Object.hasOwn(container, segment);
    }
    if (!ok) throw new CorruptDataError(`the path ${formatPath(path as PathSegment[])} in its header leads nowhere`);
    const holder = container as Record<PathSegment, unknown>;
    if (isLast) {
      if (holder[segment as PathSegment] !== null) {
        throw new CorruptDataError(`the placeholder at ${formatPath(path as PathSegment[])} is not null`);
      }
      holder[segment as PathSegment] = value;
    } else {
      container = holder[segment as PathSegment];
    }
  }
  return root;
}

/**
 * Throws a CheckpointError (`UNSAFE_KEY`) if `data` holds, at any depth, an own key in {@link UNSAFE_KEYS}
 * (`__proto__`, `constructor`, `prototype`): loaded checkpoints are data only. Typed arrays are not entered.
 */
export function assertSafeKeys(data: unknown, where: string): void {
  const found = findUnsafeKey(data);
  if (found !== null) throw new CheckpointError(unsafeKeyMessage(where, found), { code: 'UNSAFE_KEY' });
}
