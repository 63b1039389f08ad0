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

  // Phase 2: load.
  const loaded: string[] = [];
  for (const { key, state } of entries) {
    const plan = plans.get(key);
    if (plan !== undefined) {
      skipped.push(...plan.issues);
      await plan.apply();
      if (kinds.get(key) === 'model' || plan.issues.length === 0) loaded.push(key);
      continue;
    }
    try {
      await (toLoad[key] as Stateful).loadStateDict(state);
    } catch (error) {
      throw new CheckpointError(
        `${where}: toLoad.${key}.loadStateDict() rejected the checkpoint's '${key}' entry: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    loaded.push(key);
  }
  return { loaded, skipped };
}
