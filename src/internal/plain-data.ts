// Paths into plain data and the search for keys that could reach a prototype. Imports nothing outside internal/.
import { UNSAFE_KEYS } from './is';

/** A step into nested data: an object key or an array index. */
export type PathSegment = string | number;

/** Formats a path for messages: `model.weights[3].data`. */
export function formatPath(path: readonly PathSegment[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** Where {@link findUnsafeKey} found a key of {@link UNSAFE_KEYS}. */
export interface UnsafeKey {
  key: string;
  /** The path to the key, the key included. */
  path: PathSegment[];
}

/**
 * The first own key in {@link UNSAFE_KEYS} (`__proto__`, `constructor`, `prototype`) at any depth of `data`, or null.
 * Typed arrays are not entered; cycles are visited once.
 *
 * @example
 * findUnsafeKey(JSON.parse('{"a": {"__proto__": {}}}')); // { key: '__proto__', path: ['a', '__proto__'] }
 */
export function findUnsafeKey(data: unknown): UnsafeKey | null {
  const stack: { value: unknown; path: PathSegment[] }[] = [{ value: data, path: [] }];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || seen.has(value)) continue;
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      if (typeof key !== 'string') continue;
      if (UNSAFE_KEYS.has(key)) return { key, path: [...path, key] };
      const child = (value as Record<string, unknown>)[key];
      stack.push({ value: child, path: [...path, Array.isArray(value) && /^\d+$/.test(key) ? Number(key) : key] });
    }
  }
  return null;
}

/** The message for loaded data that holds an unsafe key: `where` names the data, e.g. `'Checkpoint.loadObjects: the checkpoint'`. */
export function unsafeKeyMessage(where: string, found: UnsafeKey): string {
  return `${where} contains the key '${found.key}' at ${formatPath(found.path)}; checkpoints are plain data and never hold '__proto__', 'constructor' or 'prototype'. The checkpoint was not loaded: it may have been tampered with.`;
}
