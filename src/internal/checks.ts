// Argument, option and state-dict checks shared by every folder, so that each check is one line and every message
// has one shape: `{where}: {subject} should be {expected}, got {value}. {fix}`. Imports nothing outside internal/.
//
// `where` names the class or function literally ('Checkpoint', 'Engine.run'): a minifier renames classes, so
// messages never read the class name from the constructor. `subject` says what was wrong: 'argument nSaved', 'option alpha',
// "state dict entry 'iteration'".
import { describeValue } from './describe';
import { isPlainObject, UNSAFE_KEYS } from './is';

/** Builds the one message shape. */
export function invalidMessage(where: string, subject: string, expected: string, value: unknown, fix?: string): string {
  return `${where}: ${subject} should be ${expected}, got ${describeValue(value)}.${fix ? ` ${fix}` : ''}`;
}

/** Throws a TypeError (wrong kind of value) with the one message shape. */
export function failType(where: string, subject: string, expected: string, value: unknown, fix?: string): never {
  throw new TypeError(invalidMessage(where, subject, expected, value, fix));
}

/** Throws a RangeError (right kind, bad value) with the one message shape. */
export function failRange(where: string, subject: string, expected: string, value: unknown, fix?: string): never {
  throw new RangeError(invalidMessage(where, subject, expected, value, fix));
}

/** Bounds and wording for the number checks. */
export interface NumberRule {
  /** Smallest allowed value (inclusive unless `minExclusive`). */
  min?: number;
  /** Largest allowed value (inclusive unless `maxExclusive`). */
  max?: number;
  minExclusive?: boolean;
  maxExclusive?: boolean;
  /** Also accept null (the check then returns null). */
  nullable?: boolean;
  /** Replaces the generated "a positive integer"-style wording. */
  expected?: string;
  /** The remedy appended to the message. */
  fix?: string;
}

function describeBounds(kind: 'integer' | 'number', rule: NumberRule): string {
  const { min, max, minExclusive = false, maxExclusive = false } = rule;
  const noun = kind === 'integer' ? 'integer' : 'finite number';
  const article = kind === 'integer' ? 'an' : 'a';
  let text: string;
  if (kind === 'integer' && min === 1 && max === undefined) text = 'a positive integer';
  else if (min === 0 && max === undefined) text = minExclusive ? `a positive ${kind}` : `a non-negative ${noun}`;
  else if (min !== undefined && max !== undefined)
    text = `${article} ${noun} in ${minExclusive ? '(' : '['}${min}, ${max}${maxExclusive ? ')' : ']'}`;
  else if (min !== undefined) text = `${article} ${noun} ${minExclusive ? '>' : '>='} ${min}`;
  else if (max !== undefined) text = `${article} ${noun} ${maxExclusive ? '<' : '<='} ${max}`;
  else text = kind === 'integer' ? 'a safe integer' : 'a finite number';
  return rule.nullable ? `${text} or null` : text;
}

function checkBounds(value: number, rule: NumberRule): boolean {
  const { min, max, minExclusive = false, maxExclusive = false } = rule;
  if (min !== undefined && (minExclusive ? value <= min : value < min)) return false;
  if (max !== undefined && (maxExclusive ? value >= max : value > max)) return false;
  return true;
}

/** Checks a safe integer (|n| <= 2^53 - 1) within bounds: TypeError for a non-number, RangeError otherwise. */
export function checkInteger(
  where: string,
  subject: string,
  value: unknown,
  rule: NumberRule & { nullable: true },
): number | null;
export function checkInteger(where: string, subject: string, value: unknown, rule?: NumberRule): number;
export function checkInteger(where: string, subject: string, value: unknown, rule: NumberRule = {}): number | null {
  if (value === null && rule.nullable) return null;
  const expected = rule.expected ?? describeBounds('integer', rule);
  if (typeof value !== 'number') failType(where, subject, expected, value, rule.fix);
  if (!Number.isSafeInteger(value) || !checkBounds(value, rule)) failRange(where, subject, expected, value, rule.fix);
  return value;
}

/** Checks a finite number within bounds: TypeError for a non-number, RangeError for NaN, ±Infinity or out of bounds. */
export function checkNumber(
  where: string,
  subject: string,
  value: unknown,
  rule: NumberRule & { nullable: true },
): number | null;
export function checkNumber(where: string, subject: string, value: unknown, rule?: NumberRule): number;
export function checkNumber(where: string, subject: string, value: unknown, rule: NumberRule = {}): number | null {
  if (value === null && rule.nullable) return null;
  const expected = rule.expected ?? describeBounds('number', rule);
  if (typeof value !== 'number') failType(where, subject, expected, value, rule.fix);
  if (!Number.isFinite(value) || !checkBounds(value, rule)) failRange(where, subject, expected, value, rule.fix);
  return value;
}

/** Checks a boolean. */
export function checkBoolean(where: string, subject: string, value: unknown, fix?: string): boolean {
  if (typeof value !== 'boolean') failType(where, subject, 'a boolean', value, fix);
  return value;
}

/** Checks a string (non-empty unless `allowEmpty`). */
export function checkString(
  where: string,
  subject: string,
  value: unknown,
  options: { allowEmpty?: boolean; fix?: string } = {},
): string {
  if (typeof value !== 'string' || (!options.allowEmpty && value.length === 0)) {
    failType(where, subject, options.allowEmpty ? 'a string' : 'a non-empty string', value, options.fix);
  }
  return value;
}

/**
 * Checks a name that becomes a key of plain data (a metric's key in `state.metrics`, a chart series, a state
 * attribute): a non-empty string other than `__proto__`, `constructor` and `prototype`, which would reach a prototype.
 */
export function checkKeyName(where: string, subject: string, value: unknown, fix?: string): string {
  const name = checkString(where, subject, value, { fix });
  if (UNSAFE_KEYS.has(name)) {
    failRange(
      where,
      subject,
      "a name other than '__proto__', 'constructor' and 'prototype'",
      name,
      fix ?? 'Pick another name.',
    );
  }
  return name;
}

/**
 * Checks an engine by its shape (`addEventHandler`, `hasEventHandler`, `removeEventHandler` and a `state` object):
 * internal/ imports no Engine, and an engine made by another copy of kindling passes too.
 */
export function checkEngine(where: string, subject: string, value: unknown, fix?: string): void {
  const engine = value as Record<string, unknown> | null;
  if (
    engine === null ||
    typeof engine !== 'object' ||
    typeof engine.addEventHandler !== 'function' ||
    typeof engine.hasEventHandler !== 'function' ||
    typeof engine.removeEventHandler !== 'function' ||
    engine.state === null ||
    typeof engine.state !== 'object'
  ) {
    failType(where, subject, 'an Engine (e.g. the trainer or an evaluator)', value, fix);
  }
}

/** Checks a function; `signature` shows its expected shape, e.g. `'(engine) => number'`. */
export function checkFunction<F extends (...args: any[]) => unknown>(
  where: string,
  subject: string,
  value: unknown,
  signature: string,
  fix?: string,
): F {
  if (typeof value !== 'function') failType(where, subject, `a function ${signature}`, value, fix);
  return value as F;
}

/** Checks that `value` is one of `choices` (compared with `===`); the message lists them. */
export function checkOneOf<const T>(
  where: string,
  subject: string,
  value: unknown,
  choices: readonly T[],
  fix?: string,
): T {
  if (!choices.includes(value as T)) {
    const list = choices.map((choice) => describeValue(choice));
    const expected = list.length === 1 ? list[0]! : `one of ${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
    failRange(where, subject, expected, value, fix);
  }
  return value as T;
}

/** Checks a plain object (`{...}`), e.g. an argument that is a record of named things. */
export function checkPlainObject(
  where: string,
  subject: string,
  value: unknown,
  expected = 'an object',
  fix?: string,
): Record<string, unknown> {
  if (!isPlainObject(value)) failType(where, subject, expected, value, fix);
  return value;
}

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The closest known name to `name`, when close enough to be a likely typo or variant (`preferred` → `prefer`). */
export function closestName(name: string, known: readonly string[]): string | null {
  const lower = name.toLowerCase().replace(/_/g, '');
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const c = candidate.toLowerCase();
    const d = c.startsWith(lower) || lower.startsWith(c) ? 1 : distance(lower, c);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : null;
}

function unknownKeyMessage(
  where: string,
  what: string,
  key: string,
  allowed: readonly string[],
  renamed: Readonly<Record<string, string>>,
): string {
  const hint = Object.hasOwn(renamed, key)
    ? ` ${renamed[key]}`
    : (() => {
        const close = closestName(key, allowed);
        return close === null ? '' : ` Did you mean '${close}'?`;
      })();
  const known = allowed.length === 0 ? 'none' : allowed.join(', ');
  const plural = what.endsWith('y') ? `${what.slice(0, -1)}ies` : `${what}s`;
  return `${where}: unknown ${what} '${key}'.${hint} Known ${plural}: ${known}.`;
}

/**
 * Checks an options object: `undefined` gives `{}`, anything but a plain object is a TypeError, and an unknown key is
 * a TypeError naming it, the closest known name, and every known one. `renamed` maps names users bring from elsewhere
 * (Ignite's `threshold`) to a sentence saying what to write instead.
 *
 * @example
 * const { prefer = 'webgpu' } = checkOptions('selectBackend', options, ['prefer', 'powerPreference']);
 */
export function checkOptions<K extends string>(
  where: string,
  options: unknown,
  allowed: readonly K[],
  renamed: Readonly<Record<string, string>> = {},
): Partial<Record<K, unknown>> {
  if (options === undefined) return {};
  if (!isPlainObject(options)) {
    failType(where, 'argument options', `an object with some of the keys ${allowed.join(', ')}`, options);
  }
  for (const key of Object.keys(options)) {
    if (!(allowed as readonly string[]).includes(key)) {
      throw new TypeError(unknownKeyMessage(where, 'option', key, allowed, renamed));
    }
  }
  return options as Partial<Record<K, unknown>>;
}

/**
 * Checks the outside of a state dict before its values are checked one by one: a plain object, no unsafe keys
 * (`__proto__`, `constructor`, `prototype`), every `required` key present and no key outside `required` + `optional`.
 *
 * @example
 * const sd = checkStateDict('EarlyStopping.loadStateDict', stateDict, ['counter', 'bestScore']);
 * checkInteger('EarlyStopping.loadStateDict', "state dict entry 'counter'", sd.counter, { min: 0 });
 */
export function checkStateDict(
  where: string,
  stateDict: unknown,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (!isPlainObject(stateDict)) {
    failType(where, 'argument stateDict', 'an object as stateDict() returns', stateDict);
  }
  for (const key of Object.keys(stateDict)) {
    if (UNSAFE_KEYS.has(key)) {
      throw new TypeError(`${where}: key '${key}' is not allowed in a state dict: state dicts are plain data.`);
    }
  }
  for (const key of required) {
    if (!Object.hasOwn(stateDict, key)) {
      throw new TypeError(
        `${where}: required state dict entry '${key}' is absent (got keys: ${Object.keys(stateDict).join(', ') || 'none'}). Pass what stateDict() returned.`,
      );
    }
  }
  const known = [...required, ...optional];
  for (const key of Object.keys(stateDict)) {
    if (!known.includes(key)) throw new TypeError(unknownKeyMessage(where, 'state dict entry', key, known, {}));
  }
  return stateDict;
}
