// State-dict helpers shared by the metrics (internal, not exported from kindling): reading device sums back as plain
// data, checking a saved state before anything changes, and the rule that lets a loaded metric survive the reset
// event of a resumed run.
import type { Engine } from '../engine';
import {
  checkInteger,
  checkOneOf,
  checkPlainObject,
  checkStateDict,
  failRange,
  failType,
  isPlainObject,
} from '../internal';
import type { DeviceState } from './device-state';
import type { ClassificationKind } from './inputs';

/** Device sums as plain data: entry name → `{ shape, values }` (values flattened, row-major). */
export type SumsState = Record<string, { shape: number[]; values: number[] }>;

/** A metric's remembered input kind: `{ kind, numClasses }`, or null before the first update. */
export type KindState = { kind: ClassificationKind; numClasses: number } | null;

/**
 * The device sums as they are at the call, as plain data (one `await data()`): what a metric's `stateDict()` saves.
 * Updates and resets after the call do not change the result ({@link DeviceState.capture}).
 */
export function captureSums(state: DeviceState): Promise<SumsState> {
  return state.capture();
}

/**
 * Checks saved sums against the entries a metric may hold: each present entry must be `{ shape, values }` with the
 * expected shape (when `expected[name]` is an array; `null` accepts any shape) and that many finite numbers. Unknown
 * entries are rejected. Returns the sums, copied.
 */
export function checkSums(
  where: string,
  subject: string,
  value: unknown,
  expected: Readonly<Record<string, readonly number[] | null>>,
): SumsState {
  const sums = checkPlainObject(where, subject, value, 'an object of { shape, values } entries as stateDict() returns');
  const out: SumsState = {};
  for (const [name, entry] of Object.entries(sums)) {
    const entrySubject = `${subject} entry '${name}'`;
    if (!Object.hasOwn(expected, name)) {
      failType(where, subject, `an object with entries among ${Object.keys(expected).join(', ') || 'none'}`, sums);
    }
    const { shape, values } = checkStateDict(where, entry, ['shape', 'values']) as { shape: unknown; values: unknown };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      failType(where, `${entrySubject} shape`, 'an array of non-negative integers', shape);
    }
    const want = expected[name];
    if (
      want !== null &&
      want !== undefined &&
      !(shape.length === want.length && shape.every((d, i) => d === want[i]))
    ) {
      failRange(
        where,
        `${entrySubject} shape`,
        `[${want.join(', ')}]`,
        shape,
        'Load a state saved by the same metric and options.',
      );
    }
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    const numbers = checkFiniteArray(where, `${entrySubject} values`, values);
    if (numbers.length !== size) {
      failRange(where, `${entrySubject} values`, `${size} numbers for shape [${shape.join(', ')}]`, values);
    }
    out[name] = { shape: [...(shape as number[])], values: numbers };
  }
  return out;
}

/** Checks an array of finite numbers (a plain array or a typed array); returns a plain copy. */
export function checkFiniteArray(where: string, subject: string, value: unknown): number[] {
  const isArray = Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
  if (!isArray) failType(where, subject, 'an array of finite numbers', value);
  const list = value as ArrayLike<unknown>;
  const out = new Array<number>(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      failRange(where, `${subject}[${i}]`, 'a finite number', v);
    }
    out[i] = v;
  }
  return out;
}

/** Checks a saved example count: a safe integer >= 0. */
export function checkCount(where: string, subject: string, value: unknown): number {
  return checkInteger(where, subject, value, { min: 0 });
}

/** Checks a saved input kind: null or `{ kind, numClasses }` with a kind among `kinds`. */
export function checkKind(
  where: string,
  subject: string,
  value: unknown,
  kinds: readonly ClassificationKind[] = ['binary', 'multiclass', 'multilabel'],
): KindState {
  if (value === null) return null;
  if (!isPlainObject(value)) failType(where, subject, 'null or { kind, numClasses } as stateDict() returns', value);
  const sd = checkStateDict(where, value, ['kind', 'numClasses']);
  const kind = checkOneOf(where, `${subject} kind`, sd.kind, kinds);
  const numClasses = checkInteger(where, `${subject} numClasses`, sd.numClasses, { min: 1 });
  if ((kind === 'binary') !== (numClasses === 1)) {
    failRange(where, `${subject} numClasses`, kind === 'binary' ? '1 for binary input' : 'at least 2', numClasses);
  }
  return { kind, numClasses };
}

/** The shape a per-class sum has for a kind: [C] (binary with an average counts two classes). */
export function classCount(kind: KindState, binaryClasses: number): number {
  if (kind === null) return 0;
  return kind.kind === 'binary' ? binaryClasses : kind.numClasses;
}

const loaded = new WeakSet<object>();

/** Marks a metric as just loaded from a state dict: the next reset event of a resumed run keeps its state. */
export function markLoaded(metric: object): void {
  loaded.add(metric);
}

/**
 * True when a metric loaded from a state dict should keep its state at this reset event (then forgets the mark):
 * at EPOCH_STARTED of an epoch resumed mid-way (some of its iterations are done: also all of them, for a state saved
 * before the epoch's EPOCH_COMPLETED), or at STARTED of a run that resumes (iteration > 0). A fresh epoch or run, or
 * any other event, resets as usual.
 */
export function keepsLoadedState(metric: object, engine: Engine<any, any>): boolean {
  if (!loaded.delete(metric)) return false;
  const { iteration, epoch, epochLength } = engine.state;
  if (engine.lastEventName === 'epoch_started') {
    return typeof epochLength === 'number' && epochLength > 0 && iteration > (epoch - 1) * epochLength;
  }
  if (engine.lastEventName === 'started') return iteration > 0;
  return false;
}

/**
 * The dry-run loader every built-in metric has (defined in internal/, shared with the engines and
 * Checkpoint.loadObjects): `metric[planLoad](stateDict)` checks the whole state dict and returns a function that
 * applies it (and cannot fail), so a composite metric can check all its parts before changing any.
 */
export { type PlansLoad, planLoad, plansLoad } from '../internal';

/** The state dict of a metric that keeps device sums and an example count (plus metric-specific `extra` keys). */
export interface SumsStateDict {
  /** Examples counted since the last reset. */
  numExamples: number;
  /** The device sums, read back. */
  sums: SumsState;
}

/**
 * Checks a `{ numExamples, sums, ...extra }` state dict: the outer keys (no unknown ones), the count, and the sums
 * against `expected` (see {@link checkSums}). Returns the checked values and the whole dict for the extra keys.
 */
export function checkSumsStateDict(
  where: string,
  stateDict: unknown,
  expected: Readonly<Record<string, readonly number[] | null>>,
  extra: readonly string[] = [],
): SumsStateDict & { stateDict: Record<string, unknown> } {
  const sd = checkStateDict(where, stateDict, ['numExamples', 'sums', ...extra]);
  const numExamples = checkCount(where, "state dict entry 'numExamples'", sd.numExamples);
  const sums = checkSums(where, "state dict entry 'sums'", sd.sums, expected);
  return { numExamples, sums, stateDict: sd };
}
