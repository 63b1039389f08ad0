// State dicts for tfjs objects that have none of their own: a LayersModel's weights (by variable name) and an
// Optimizer's slots (named, with Adam's bias-correction accumulators so that resuming is bit-exact).
// Taking a state has two steps: capture (clones of the variables: cheap, and later steps cannot change them) and
// read (`await data()` of each clone into typed arrays, disposing it). The results are plain data plus typed arrays.
import * as tf from '@tensorflow/tfjs';
import { invalidMessage, isPlainObject } from '../../internal';
import { CheckpointError } from '../../storage';

/** A tensor as checkpoint data: its name, shape, dtype and values. */
export interface TensorRecord {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

/** The state of a `tf.LayersModel`: every weight, keyed by its variable name (e.g. `hidden/kernel`). */
export interface LayersModelState {
  kind: 'tfjs-layers-model';
  weights: TensorRecord[];
}

/** The state of a `tf.Optimizer`: its class, its iteration count, its named slots and hidden accumulators. */
export interface OptimizerState {
  kind: 'tfjs-optimizer';
  className: string;
  iterations: number;
  /** The optimizer's slot variables in `getWeights()` order, each named `<variable name>/<slot>` (e.g. `hidden/kernel/m`). */
  slots: TensorRecord[];
  /** Scalars tfjs does not save but resuming needs: Adam's `accBeta1` / `accBeta2`. */
  extra: Record<string, number>;
}

/** Something that did not load, with why: `model/hidden/kernel: shape [3,4] in the checkpoint, [3,5] here`. */
export interface LoadIssue {
  path: string;
  reason: string;
}

const DTYPE_ARRAYS = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

const shapeText = (shape: readonly number[]): string => `[${shape.join(',')}]`;

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((size, i) => size === b[i]);

/** A tensor taken at one moment: a clone of it (sharing its data), named, read back later. */
interface CapturedTensor {
  name: string;
  tensor: tf.Tensor;
}

/** A model's weights as they were when {@link captureModel} was called; {@link readModelCapture} reads them. */
export interface ModelCapture {
  kind: 'model';
  weights: CapturedTensor[];
}

/** An optimizer's state as it was when {@link captureOptimizer} was called; {@link readOptimizerCapture} reads it. */
export interface OptimizerCapture {
  kind: 'optimizer';
  className: string;
  iterations: number;
  slots: CapturedTensor[];
  /** Adam's `accBeta1` / `accBeta2`, as one-value tensors. */
  extra: CapturedTensor[];
}

/** Clones `tensor` under `name`, checking first that a checkpoint can hold its dtype. */
function captureTensor(name: string, tensor: tf.Tensor, where: string): CapturedTensor {
  const dtype = tensor.dtype;
  if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'bool') {
    throw new TypeError(
      `${where}: tensor '${name}' has dtype ${dtype}, which checkpoints cannot hold (float32, int32 and bool can).`,
    );
  }
  return { name, tensor: tf.clone(tensor) };
}

/** Reads a captured tensor back (`await data()`) and disposes the clone. */
async function readCaptured({ name, tensor }: CapturedTensor): Promise<TensorRecord> {
  try {
    const data = (await tensor.data()) as TensorRecord['data'];
    return { name, shape: [...tensor.shape], dtype: tensor.dtype as TensorRecord['dtype'], data };
  } finally {
    tensor.dispose();
  }
}

/** Reads every captured tensor back (all reads started at once); disposes every clone, also when a read fails. */
async function readAll(captured: readonly CapturedTensor[]): Promise<TensorRecord[]> {
  const results = await Promise.allSettled(captured.map(readCaptured));
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<TensorRecord>).value);
}

/** Disposes the clones of a capture that will not be read (a failed or abandoned save); safe to call twice. */
export function disposeCapture(capture: ModelCapture | OptimizerCapture): void {
  const tensors = capture.kind === 'model' ? capture.weights : [...capture.slots, ...capture.extra];
  for (const { tensor } of tensors) tensor.dispose();
}

/** Checks that `value` is a well-formed tensor record; returns why not, or null. */
function recordProblem(value: unknown): string | null {
  const record = value as TensorRecord;
  if (record === null || typeof record !== 'object') return 'is not an object';
  if (typeof record.name !== 'string') return 'has no name';
  if (!Array.isArray(record.shape) || !record.shape.every((size) => Number.isInteger(size) && size >= 0)) {
    return `'${record.name}' has no valid shape`;
  }
  const Class = DTYPE_ARRAYS[record.dtype as keyof typeof DTYPE_ARRAYS];
  if (Class === undefined || !Object.hasOwn(DTYPE_ARRAYS, record.dtype)) return `'${record.name}' has an unknown dtype`;
  if (!(record.data instanceof Class)) return `'${record.name}' should hold a ${Class.name} for dtype ${record.dtype}`;
  const size = record.shape.reduce((a, b) => a * b, 1);
  if (record.data.length !== size) {
    return `'${record.name}' holds ${record.data.length} values but its shape ${shapeText(record.shape)} needs ${size}`;
  }
  return null;
}

const toTensor = (record: TensorRecord): tf.Tensor => tf.tensor(record.data, record.shape, record.dtype);

/** The CheckpointError (`MISMATCH`) a strict load throws for `issues`, listing the first few. */
export function mismatchError(where: string, key: string, issues: readonly LoadIssue[], hint: string): CheckpointError {
  const shown = issues.slice(0, 8).map((issue) => `${issue.path}: ${issue.reason}`);
  if (issues.length > shown.length) shown.push(`and ${issues.length - shown.length} more`);
  return new CheckpointError(`${where}: cannot load '${key}': ${shown.join('; ')}. ${hint}`, { code: 'MISMATCH' });
}

// ------------------------------------------------------------------------------------------------ LayersModel

/**
 * Takes a model's weights as they are now, synchronously: a clone of each (no copy of the data, and later steps,
 * which assign new values to the variables, cannot change it), named by its variable's name
 * (`LayerVariable.originalName`, e.g. `hidden/kernel`: the layer's name, then the weight's).
 * Throws a TypeError if two weights share a name or a weight has a dtype checkpoints cannot hold.
 * Read it with {@link readModelCapture}, or free it with {@link disposeCapture}.
 */
export function captureModel(model: tf.LayersModel, where = 'Checkpoint'): ModelCapture {
  const seen = new Set<string>();
  for (const weight of model.weights) {
    if (seen.has(weight.originalName)) {
      throw new TypeError(
        `${where}: model '${model.name}' has two weights named '${weight.originalName}'; checkpoints match weights by name, so give its layers unique names.`,
      );
    }
    seen.add(weight.originalName);
  }
  const weights: CapturedTensor[] = [];
  try {
    for (const weight of model.weights) weights.push(captureTensor(weight.originalName, weight.read(), where));
  } catch (error) {
    for (const { tensor } of weights) tensor.dispose();
    throw error;
  }
  return { kind: 'model', weights };
}

/** Reads a {@link captureModel} back into a {@link LayersModelState} (`await data()`), freeing its clones. */
export async function readModelCapture(capture: ModelCapture): Promise<LayersModelState> {
  return { kind: 'tfjs-layers-model', weights: await readAll(capture.weights) };
}

/**
 * Reads a model's weights into a {@link LayersModelState}, each weight named by its variable's name
 * (`LayerVariable.originalName`, e.g. `hidden/kernel`: the layer's name, then the weight's): the weights as they
 * were at the call. Throws a TypeError if two weights share a name.
 */
export function modelStateDict(model: tf.LayersModel, where = 'Checkpoint'): Promise<LayersModelState> {
  try {
    return readModelCapture(captureModel(model, where));
  } catch (error) {
    return Promise.reject(error);
  }
}

/** What loading a state into an object would do: the issues found, and how to apply the parts that match. */
export interface LoadPlan {
  issues: LoadIssue[];
  /** A hint for the error message when the plan's issues make a strict load fail. */
  hint: string;
  /** Loads what matches; with issues, only the parts that match (model weights) or nothing (optimizer). */
  apply(): Promise<void>;
}

/**
 * Plans loading a {@link LayersModelState} into `model`: weights match by name, with shape and dtype checks. Throws
 * a CheckpointError when `state` is not a model state at all; otherwise returns the issues (missing, unexpected or
 * mismatched weights, naming both shapes) and an `apply()` that loads the weights that match.
 */
export function planModelLoad(model: tf.LayersModel, state: unknown, key: string, where: string): LoadPlan {
  const saved = state as LayersModelState;
  if (
    saved === null ||
    typeof saved !== 'object' ||
    saved.kind !== 'tfjs-layers-model' ||
    !Array.isArray(saved.weights)
  ) {
    throw new CheckpointError(
      `${where}: cannot load '${key}': the checkpoint's entry is not the state of a tf.LayersModel (expected { kind: 'tfjs-layers-model', weights }). Check that the key names the same object it was saved from.`,
      { code: 'MISMATCH' },
    );
  }
  const byName = new Map<string, TensorRecord>();
  for (const record of saved.weights) {
    const problem = recordProblem(record);
    if (problem !== null)
      throw new CheckpointError(`${where}: cannot load '${key}': a weight ${problem}.`, { code: 'CORRUPT' });
    if (byName.has(record.name)) {
      throw new CheckpointError(
        `${where}: cannot load '${key}': the checkpoint holds two weights named '${record.name}'.`,
        {
          code: 'CORRUPT',
        },
      );
    }
    byName.set(record.name, record);
  }
  const issues: LoadIssue[] = [];
  const matches: { weight: tf.LayerVariable; record: TensorRecord }[] = [];
  const known = new Set<string>();
  for (const weight of model.weights) {
    const name = weight.originalName;
    known.add(name);
    const record = byName.get(name);
    if (record === undefined) {
      issues.push({ path: `${key}/${name}`, reason: 'missing from the checkpoint' });
    } else if (!sameShape(record.shape, weight.shape as number[])) {
      issues.push({
        path: `${key}/${name}`,
        reason: `shape ${shapeText(record.shape)} in the checkpoint, ${shapeText(weight.shape as number[])} in the model`,
      });
    } else if (record.dtype !== weight.dtype) {
      issues.push({
        path: `${key}/${name}`,
        reason: `dtype ${record.dtype} in the checkpoint, ${weight.dtype} in the model`,
      });
    } else {
      matches.push({ weight, record });
    }
  }
  for (const name of byName.keys()) {
    if (!known.has(name)) issues.push({ path: `${key}/${name}`, reason: 'in the checkpoint but not in the model' });
  }
  const names = model.weights.map((w) => w.originalName).join(', ');
  return {
    issues,
    hint: `The model's weights are ${names || '(none)'}. Weights match by name (layer name/weight name): build the model with the same layer names, or pass strict: false to load the weights that match.`,
    async apply() {
      for (const { weight, record } of matches) {
        const value = toTensor(record);
        // Assign to the variable itself: LayerVariable.write() would re-apply constraints and could change bits.
        (weight.read() as tf.Variable).assign(value);
        value.dispose();
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------ Optimizer

type OptimizerInternals = tf.Optimizer & { accBeta1?: unknown; accBeta2?: unknown };

/** The hidden scalar accumulators of each optimizer class that tfjs's getWeights() leaves out. */
const HIDDEN_SCALARS: Record<string, readonly ('accBeta1' | 'accBeta2')[]> = { Adam: ['accBeta1', 'accBeta2'] };

/**
 * Throws a TypeError if tfjs cannot read this optimizer's state (its getWeights() is missing or, as for Adamax in
 * tfjs 4.x, not implemented), so that the problem shows when the Checkpoint is made rather than at the first save.
 */
export function checkOptimizerSaveable(optimizer: tf.Optimizer, key: string, where = 'Checkpoint'): void {
  const className = optimizer.getClassName();
  if (className === 'Adamax' || optimizer.getWeights === tf.Optimizer.prototype.getWeights) {
    throw new TypeError(
      `${where}: toSave.${key} is a tfjs ${className} optimizer, whose state tfjs cannot read or restore (its getWeights()/setWeights() are not implemented), so a checkpoint could not resume it. Use an optimizer that implements them (sgd, momentum, adagrad, adadelta, rmsprop, adam), or leave it out of toSave.`,
    );
  }
}

/**
 * Takes an optimizer's state as it is now: its iteration count, a clone of each slot (named, in `getWeights()`
 * order) and of its hidden accumulators. Only microtasks pass before it resolves (tfjs's `getWeights()` is async),
 * so a training loop waiting for it cannot take a step meanwhile. Read it with {@link readOptimizerCapture}, or free
 * it with {@link disposeCapture}.
 */
export async function captureOptimizer(optimizer: tf.Optimizer, where = 'Checkpoint'): Promise<OptimizerCapture> {
  const className = optimizer.getClassName();
  const weights = await optimizer.getWeights();
  const iterations = optimizer.iterations ?? 0; // undefined before the first step of some optimizers
  const slots: CapturedTensor[] = [];
  const extra: CapturedTensor[] = [];
  try {
    for (const { name, tensor } of weights) if (name !== 'iter') slots.push(captureTensor(name, tensor, where));
    for (const field of HIDDEN_SCALARS[className] ?? []) {
      const variable = (optimizer as OptimizerInternals)[field];
      if (variable instanceof tf.Variable) extra.push(captureTensor(field, variable, where));
    }
  } catch (error) {
    for (const { tensor } of [...slots, ...extra]) tensor.dispose();
    throw error;
  } finally {
    // getWeights() makes a new tensor for the iteration count; the slots are the optimizer's own variables.
    for (const { tensor } of weights) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  return { kind: 'optimizer', className, iterations, slots, extra };
}

/** Reads a {@link captureOptimizer} back into an {@link OptimizerState} (`await data()`), freeing its clones. */
export async function readOptimizerCapture(capture: OptimizerCapture): Promise<OptimizerState> {
  // Each read disposes its own clones, so a failure of one leaves none of the other's.
  const [slots, scalars] = await Promise.all([readAll(capture.slots), readAll(capture.extra)]);
  const extra: Record<string, number> = {};
  for (const { name, data } of scalars) extra[name] = data[0]!;
  return { kind: 'tfjs-optimizer', className: capture.className, iterations: capture.iterations, slots, extra };
}

/** Reads an optimizer's state: iteration count, named slots in `getWeights()` order, hidden accumulators. */
export async function optimizerStateDict(optimizer: tf.Optimizer, where = 'Checkpoint'): Promise<OptimizerState> {
  return readOptimizerCapture(await captureOptimizer(optimizer, where));
}

/** A CheckpointError (`CORRUPT`) in the one message shape, about an entry of the optimizer state under `key`. */
function corruptEntry(where: string, key: string, entry: string, expected: string, value: unknown): CheckpointError {
  return new CheckpointError(
    invalidMessage(
      where,
      `the optimizer state '${key}': its entry '${entry}'`,
      expected,
      value,
      'The checkpoint is damaged or was edited: load one the optimizer saved, unchanged.',
    ),
    { code: 'CORRUPT' },
  );
}

/**
 * Checks an optimizer state's scalars: `iterations` an int32 step count, and `extra` exactly the hidden
 * accumulators of its class (Adam's `accBeta1` / `accBeta2`, the powers beta^t: numbers in [0, 1]).
 */
function checkOptimizerScalars(saved: OptimizerState, key: string, where: string): void {
  const { iterations, extra } = saved as { iterations: unknown; extra: unknown };
  if (!Number.isSafeInteger(iterations) || (iterations as number) < 0 || (iterations as number) > 2147483647) {
    throw corruptEntry(where, key, 'iterations', 'an integer in [0, 2147483647] (its int32 step count)', iterations);
  }
  const hidden = HIDDEN_SCALARS[saved.className] ?? [];
  if (extra === undefined && hidden.length === 0) return;
  if (!isPlainObject(extra)) {
    throw corruptEntry(where, key, 'extra', `an object of its hidden scalars (${hidden.join(', ') || 'none'})`, extra);
  }
  for (const name of Object.keys(extra)) {
    if (!(hidden as readonly string[]).includes(name)) {
      throw corruptEntry(
        where,
        key,
        `extra.${name}`,
        `absent (${saved.className} keeps ${hidden.join(', ') || 'none'})`,
        extra[name],
      );
    }
  }
  for (const name of hidden) {
    const value = extra[name];
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw corruptEntry(where, key, `extra.${name}`, 'a number in [0, 1] (a power beta^t)', value);
    }
  }
}

/**
 * Plans loading an {@link OptimizerState} into `optimizer`. Slots are matched by name: an optimizer that already has
 * slots gets the saved ones in its own order; a fresh one gets them in the saved order (the order its next update
 * uses). Checks the class, the slot names, and that each slot's shape equals its variable's. `apply()` restores the
 * iteration count, the slots and Adam's accumulators exactly, and disposes the slots it replaces; with issues it
 * does nothing. Throws a CheckpointError when `state` is not an optimizer state at all (`MISMATCH`), or when its
 * step count or hidden scalars (Adam's `accBeta1` / `accBeta2`) are out of range, unknown or missing (`CORRUPT`).
 */
export async function planOptimizerLoad(
  optimizer: tf.Optimizer,
  state: unknown,
  key: string,
  where: string,
): Promise<LoadPlan> {
  const saved = state as OptimizerState;
  if (
    saved === null ||
    typeof saved !== 'object' ||
    saved.kind !== 'tfjs-optimizer' ||
    !Array.isArray(saved.slots) ||
    typeof saved.className !== 'string'
  ) {
    throw new CheckpointError(
      `${where}: cannot load '${key}': the checkpoint's entry is not the state of a tf.Optimizer (expected { kind: 'tfjs-optimizer', className, iterations, slots }). Check that the key names the same object it was saved from.`,
      { code: 'MISMATCH' },
    );
  }
  for (const record of saved.slots) {
    const problem = recordProblem(record);
    if (problem !== null)
      throw new CheckpointError(`${where}: cannot load '${key}': a slot ${problem}.`, { code: 'CORRUPT' });
  }
  checkOptimizerScalars(saved, key, where);
  const className = optimizer.getClassName();
  const current = await optimizer.getWeights();
  for (const { tensor } of current) if (!(tensor instanceof tf.Variable)) tensor.dispose();
  const currentNames = current.map((w) => w.name).filter((name) => name !== 'iter');
  const issues: LoadIssue[] = [];
  let slots = saved.slots;
  if (saved.className !== className) {
    issues.push({ path: key, reason: `the checkpoint holds ${saved.className} state, the optimizer is ${className}` });
  } else if (currentNames.length > 0 && slots.length > 0) {
    const savedByName = new Map(slots.map((record) => [record.name, record]));
    const missing = currentNames.filter((name) => !savedByName.has(name));
    const unexpected = slots.filter((record) => !currentNames.includes(record.name)).map((r) => r.name);
    if (missing.length > 0 || unexpected.length > 0) {
      issues.push({
        path: key,
        reason: `the optimizer's slots do not match the checkpoint's (missing: ${missing.join(', ') || 'none'}; unexpected: ${unexpected.join(', ') || 'none'})`,
      });
    } else {
      slots = currentNames.map((name) => savedByName.get(name)!);
    }
  }
  if (issues.length === 0) {
    const variables = tf.engine().registeredVariables;
    for (const record of slots) {
      const variable = variables[record.name.slice(0, record.name.lastIndexOf('/'))];
      if (variable !== undefined && !sameShape(variable.shape, record.shape)) {
        issues.push({
          path: `${key}/${record.name}`,
          reason: `shape ${shapeText(record.shape)} in the checkpoint, but variable '${variable.name}' has shape ${shapeText(variable.shape)}`,
        });
      }
    }
  }
  return {
    issues,
    hint: 'Load optimizer state into the same kind of optimizer training the same variables, or pass strict: false to skip it.',
    async apply() {
      if (issues.length > 0) return;
      // The slot variables setWeights() replaces without disposing them.
      const before = (await optimizer.getWeights()).map((w) => w.tensor);
      for (const tensor of before) if (!(tensor instanceof tf.Variable)) tensor.dispose();
      const iter = tf.scalar(saved.iterations, 'int32');
      const tensors = slots.map(toTensor);
      try {
        await optimizer.setWeights([
          { name: 'iter', tensor: iter },
          ...slots.map((record, i) => ({ name: record.name, tensor: tensors[i]! })),
        ]);
      } finally {
        iter.dispose();
        for (const tensor of tensors) tensor.dispose();
      }
      for (const tensor of before) if (tensor instanceof tf.Variable && !tensor.isDisposed) tensor.dispose();
      for (const field of HIDDEN_SCALARS[className] ?? []) {
        const variable = (optimizer as OptimizerInternals)[field];
        const value = saved.extra?.[field];
        if (variable instanceof tf.Variable && typeof value === 'number') {
          const scalar = tf.scalar(value, 'float32');
          variable.assign(scalar);
          scalar.dispose();
        }
      }
    },
  };
}

/**
 * Loads a {@link LayersModelState} into `model` (see {@link planModelLoad}). With `strict` (default) any issue throws
 * a CheckpointError (`MISMATCH`) before anything is loaded; without, what matches is loaded and the issues returned.
 */
export async function loadModelStateDict(
  model: tf.LayersModel,
  state: unknown,
  options: { strict?: boolean; key?: string; where?: string } = {},
): Promise<LoadIssue[]> {
  const { strict = true, key = 'model', where = 'loadModelStateDict' } = options;
  const plan = planModelLoad(model, state, key, where);
  if (strict && plan.issues.length > 0) throw mismatchError(where, key, plan.issues, plan.hint);
  await plan.apply();
  return plan.issues;
}

/**
 * Loads an {@link OptimizerState} into `optimizer` (see {@link planOptimizerLoad}). With `strict` (default) a mismatch
 * throws a CheckpointError (`MISMATCH`); without, the optimizer is left as it was and the issues are returned.
 */
export async function loadOptimizerStateDict(
  optimizer: tf.Optimizer,
  state: unknown,
  options: { strict?: boolean; key?: string; where?: string } = {},
): Promise<LoadIssue[]> {
  const { strict = true, key = 'optimizer', where = 'loadOptimizerStateDict' } = options;
  const plan = await planOptimizerLoad(optimizer, state, key, where);
  if (strict && plan.issues.length > 0) throw mismatchError(where, key, plan.issues, plan.hint);
  await plan.apply();
  return plan.issues;
}
