// Checkpoint.loadObjects: restores Stateful objects, tfjs models and optimizers from a checkpoint, checking all of it
// before loading any of it. Also the checks of what `toSave` / `toLoad` may hold.
import * as tf from '@tensorflow/tfjs';
import type { Stateful } from '../../engine';
import {
  checkBoolean,
  checkPlainObject,
  describeValue,
  failType,
  findUnsafeKey,
  isPlainObject,
  planLoad,
  plansLoad,
  UNSAFE_KEYS,
  unsafeKeyMessage,
} from '../../internal';
import { CheckpointError, type Saver } from '../../storage';
import {
  checkOptimizerSaveable,
  type LoadIssue,
  type LoadPlan,
  mismatchError,
  planModelLoad,
  planOptimizerLoad,
} from './tf-state';

/** What `toSave` / `toLoad` may hold: Stateful objects, tfjs LayersModels (weights by name) and tfjs Optimizers. */
export type Checkpointable = Stateful | tf.LayersModel | tf.Optimizer;

/** What {@link Checkpoint.loadObjects} loaded, and what it skipped (only with `strict: false`). */
export interface LoadReport {
  /** The keys of `toLoad` that were loaded (a model loaded in part is listed here and its gaps in `skipped`). */
  loaded: string[];
  /** What was not loaded and why: `model/hidden/kernel: shape [3,4] in the checkpoint, [3,5] in the model`. */
  skipped: LoadIssue[];
}

/** Arguments of {@link Checkpoint.loadObjects}. */
export interface LoadObjectsOptions {
  /** The objects to restore, keyed as they were saved. */
  toLoad: Record<string, Checkpointable>;
  /** A loaded checkpoint (what `saver.load()` returned), or where to load it from: `{ saver, filename }`. */
  checkpoint: Record<string, unknown> | { saver: Saver; filename: string };
  /** Fail on anything missing or mismatched, before loading anything (default true); false loads what matches. */
  strict?: boolean;
}

/** How an object of `toSave` / `toLoad` is saved and loaded. */
export type Kind = 'stateful' | 'model' | 'optimizer';

const kindOf = (value: unknown, method: 'stateDict' | 'loadStateDict'): Kind | null => {
  if (value === null || typeof value !== 'object') return null;
  if (typeof (value as Record<string, unknown>)[method] === 'function') return 'stateful';
  if (value instanceof tf.LayersModel) return 'model';
  if (value instanceof tf.Optimizer) return 'optimizer';
  return null;
};

/**
 * Checks `toSave` (method `stateDict`) or `toLoad` (method `loadStateDict`): a non-empty object of named objects,
 * each Stateful, a tf.LayersModel or a tf.Optimizer; returns each key's kind.
 */
export function kindsOf(where: string, objects: unknown, method: 'stateDict' | 'loadStateDict'): Map<string, Kind> {
  const subject = method === 'stateDict' ? 'toSave' : 'toLoad';
  const record = checkPlainObject(where, `argument ${subject}`, objects, 'an object of named objects');
  const keys = Object.keys(record);
  if (keys.length === 0) {
    throw new TypeError(
      `${where}: argument ${subject} is empty; pass the objects to ${method === 'stateDict' ? 'save' : 'load'}, e.g. { model, optimizer, trainer }.`,
    );
  }
  const kinds = new Map<string, Kind>();
  for (const key of keys) {
    if (UNSAFE_KEYS.has(key)) throw new TypeError(`${where}: ${subject} may not use the key '${key}'; rename it.`);
    const kind = kindOf(record[key], method);
    if (kind === null) {
      const fix =
        method === 'stateDict'
          ? 'should have a stateDict() method or be a tf.LayersModel or tf.Optimizer'
          : 'cannot be loaded: it should have a loadStateDict(stateDict) method or be a tf.LayersModel or tf.Optimizer';
      throw new TypeError(`${where}: ${subject}.${key} ${fix}, got ${describeValue(record[key])}.`);
    }
    if (kind === 'optimizer' && method === 'stateDict') checkOptimizerSaveable(record[key] as tf.Optimizer, key);
    kinds.set(key, kind);
  }
  return kinds;
}

/** See {@link Checkpoint.loadObjects}. */
export async function loadObjects({ toLoad, checkpoint, strict = true }: LoadObjectsOptions): Promise<LoadReport> {
  const where = 'Checkpoint.loadObjects';
  const kinds = kindsOf(where, toLoad, 'loadStateDict');
  checkBoolean(where, 'option strict', strict);
  const keys = [...kinds.keys()];

  let data: unknown;
  const source = checkpoint as { saver?: Saver; filename?: unknown };
  if (!isPlainObject(checkpoint)) {
    failType(where, 'argument checkpoint', 'a loaded checkpoint object or { saver, filename }', checkpoint);
  }
  if (typeof source.saver?.load === 'function' && typeof source.filename === 'string') {
    data = await source.saver.load(source.filename);
  } else {
    data = checkpoint;
  }
  const unsafe = findUnsafeKey(data);
  if (unsafe !== null) {
    throw new CheckpointError(unsafeKeyMessage(`${where}: the checkpoint`, unsafe), { code: 'UNSAFE_KEY' });
  }
  if (!isPlainObject(data)) {
    throw new CheckpointError(`${where}: the checkpoint should be an object, got ${describeValue(data)}.`, {
      code: 'MISMATCH',
    });
  }

  // Phase 1: find every problem before touching any object.
  const entries: { key: string; state: unknown }[] = [];
  const skipped: LoadIssue[] = [];
  if (keys.length === 1 && !Object.hasOwn(data, keys[0]!)) {
    entries.push({ key: keys[0]!, state: data });
  } else {
    for (const key of keys) {
      if (Object.hasOwn(data, key)) entries.push({ key, state: data[key] });
      else
        skipped.push({
          path: key,
          reason: `not found in the checkpoint (its keys: ${Object.keys(data).join(', ')})`,
        });
    }
  }
  if (strict && skipped.length > 0) {
    throw new CheckpointError(
      `${where}: ${skipped.map((issue) => `object '${issue.path}' from toLoad is ${issue.reason}`).join('; ')}. Use the keys the checkpoint was saved with, or pass strict: false to load the others.`,
      { code: 'MISMATCH' },
    );
  }
  const plans = new Map<string, LoadPlan>();
  for (const { key, state } of entries) {
    const kind = kinds.get(key);
    if (kind === 'model') plans.set(key, planModelLoad(toLoad[key] as tf.LayersModel, state, key, where));
    else if (kind === 'optimizer')
      plans.set(key, await planOptimizerLoad(toLoad[key] as tf.Optimizer, state, key, where));
  }
  if (strict) {
    for (const [key, plan] of plans)
      if (plan.issues.length > 0) throw mismatchError(where, key, plan.issues, plan.hint);
  }
  // Stateful objects: those with a dry-run loader (engines, metrics) check their entry now; the others are loaded
  // first in phase 2, each after a snapshot of its state that puts it back if a later one fails.
  const checked = new Map<string, () => void | Promise<void>>();
  const snapshots = new Map<string, { state: unknown } | null>();
  for (const { key, state } of entries) {
    if (kinds.get(key) !== 'stateful') continue;
    const object = toLoad[key] as Stateful;
    if (plansLoad(object)) {
      try {
        checked.set(key, object[planLoad](state));
      } catch (error) {
        throw rejected(where, key, error, []);
      }
    } else {
      snapshots.set(key, await snapshotOf(object));
    }
  }

  // Phase 2: load. Objects that can be put back come first, one that cannot (its stateDict() failed) after them,
  // then the checked ones; models and optimizers last: their checked loads cannot fail.
  const order = [
    ...[...snapshots].filter(([, snapshot]) => snapshot !== null).map(([key]) => key),
    ...[...snapshots].filter(([, snapshot]) => snapshot === null).map(([key]) => key),
    ...checked.keys(),
  ];
  const applied: string[] = [];
  for (const key of order) {
    const state = entries.find((entry) => entry.key === key)!.state;
    try {
      const apply = checked.get(key);
      await (apply === undefined ? (toLoad[key] as Stateful).loadStateDict(state) : apply());
    } catch (error) {
      throw rejected(where, key, error, await putBack(toLoad, applied, snapshots));
    }
    applied.push(key);
  }
  for (const plan of plans.values()) await plan.apply();

  const loaded: string[] = [];
  for (const { key } of entries) {
    const plan = plans.get(key);
    if (plan !== undefined) {
      skipped.push(...plan.issues);
      if (kinds.get(key) === 'model' || plan.issues.length === 0) loaded.push(key);
    } else {
      loaded.push(key);
    }
  }
  return { loaded, skipped };
}

/** A copy of a Stateful object's state to put it back with, or null when its `stateDict()` fails or is not data. */
async function snapshotOf(object: Stateful): Promise<{ state: unknown } | null> {
  try {
    return { state: structuredClone(await object.stateDict()) };
  } catch {
    return null;
  }
}

/** Loads the snapshots of the `applied` objects back, newest first; returns what could not be put back. */
async function putBack(
  toLoad: Record<string, Checkpointable>,
  applied: readonly string[],
  snapshots: ReadonlyMap<string, { state: unknown } | null>,
): Promise<string[]> {
  const left: string[] = [];
  for (const key of [...applied].reverse()) {
    const snapshot = snapshots.get(key);
    try {
      if (snapshot === undefined || snapshot === null) throw new Error('no snapshot');
      await (toLoad[key] as Stateful).loadStateDict(snapshot.state);
    } catch {
      left.push(key);
    }
  }
  return left;
}

/** The error of an object that rejected its entry; says that nothing else was loaded, or what stayed loaded. */
function rejected(where: string, key: string, error: unknown, left: readonly string[]): CheckpointError {
  const outcome =
    left.length === 0
      ? 'Nothing was loaded.'
      : `The objects loaded before it were put back as they were, except ${left.map((k) => `'${k}'`).join(', ')}: no state to put back could be taken (stateDict() failed), so ${left.length === 1 ? 'it stays' : 'they stay'} loaded.`;
  return new CheckpointError(
    `${where}: toLoad.${key}.loadStateDict() rejected the checkpoint's '${key}' entry: ${error instanceof Error ? error.message : String(error)} ${outcome}`,
    { cause: error },
  );
}
