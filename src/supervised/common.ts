import * as tf from '@tensorflow/tfjs';
import type { Engine, RemovableEventHandle } from '../engine';
import { Events } from '../engine';
import { describeValue, failType, isPlainObject } from '../internal';

/** A model the supervised helpers can drive: a tfjs `LayersModel`, or a function from inputs to predictions. */
export type SupervisedModel<X = any, Y = any> = tf.LayersModel | ((x: X) => Y);

/** Turns a batch into `[x, y]`. The default accepts `[x, y]` or `{ x, y }`. */
export type PrepareBatch<Batch = any, X = any, Y = any> = (batch: Batch) => readonly [X, Y];

/** Runs the model on `x`; the default is `model.apply(x, { training })` for a `LayersModel`, `model(x)` for a function. */
export type ModelFn<M = any, X = any, Y = any> = (model: M, x: X) => Y;

/**
 * Options of Ignite's supervised helpers that have no counterpart here, with what to do instead: the helpers reject
 * every unknown option, and these get a sentence rather than a list.
 */
export const IGNITE_ONLY_OPTIONS: Readonly<Record<string, string>> = Object.freeze({
  device: 'kindling runs on the current tfjs backend: choose it with selectBackend() or tf.setBackend().',
  non_blocking: 'tfjs steps never block on the device: nothing is read back during a step.',
  nonBlocking: 'tfjs steps never block on the device: nothing is read back during a step.',
});

/**
 * The default `prepareBatch`: a batch `[x, y]` or `{ x, y }` becomes `[x, y]`, the same tensors, not copies.
 *
 * @param batch - `[x, y]` or `{ x, y }`.
 * @returns `[x, y]`.
 * @example
 * const [x, y] = defaultPrepareBatch({ x: tf.ones([2, 3]), y: tf.zeros([2, 1]) });
 */
export function defaultPrepareBatch<X = tf.Tensor, Y = tf.Tensor>(batch: readonly [X, Y] | { x: X; y: Y }): [X, Y] {
  if (Array.isArray(batch) && batch.length === 2) return [batch[0], batch[1]];
  if (batch !== null && typeof batch === 'object' && 'x' in batch && 'y' in batch) return [batch.x, batch.y];
  throw new TypeError(
    `prepareBatch: a batch should be [x, y] or { x, y }, got ${describeBatch(batch)}. ` +
      'Pass the option prepareBatch: (batch) => [x, y] to convert batches of another shape.',
  );
}

function describeBatch(batch: unknown): string {
  if (batch instanceof tf.Tensor) return `a tensor of shape [${batch.shape}]`;
  if (Array.isArray(batch)) return `an array of length ${batch.length}`;
  if (batch !== null && typeof batch === 'object') return `an object with keys [${Object.keys(batch).join(', ')}]`;
  return describeValue(batch);
}

/** True for a tfjs `LayersModel` (a `Sequential` included). */
export function isLayersModel(model: unknown): model is tf.LayersModel {
  return model instanceof tf.LayersModel;
}

/** Checks the arguments every helper shares; throws a TypeError naming the bad one. */
export function checkModel(where: string, model: unknown): void {
  if (!isLayersModel(model) && typeof model !== 'function') {
    failType(where, 'argument model', 'a tf.LayersModel or a function (x) => yPred', model);
  }
}

/**
 * Asserts `optimizer` is a tf.Optimizer (has minimize, applyGradients, computeGradients); else throws a TypeError
 * naming `where`.
 */
export function checkOptimizer(where: string, optimizer: unknown): asserts optimizer is tf.Optimizer {
  const candidate = optimizer as Partial<tf.Optimizer> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.minimize !== 'function' ||
    typeof candidate.applyGradients !== 'function' ||
    typeof candidate.computeGradients !== 'function'
  ) {
    failType(where, 'argument optimizer', 'a tf.Optimizer such as tf.train.adam(1e-3)', optimizer);
  }
}

/** Runs the model forward: `modelFn(model, x)` if given, else `model.apply(x, { training })` or `model(x)`. */
export function forward(model: SupervisedModel, modelFn: ModelFn | undefined, x: unknown, training: boolean): any {
  if (modelFn !== undefined) return modelFn(model, x);
  if (isLayersModel(model)) return model.apply(x as tf.Tensor | tf.Tensor[], { training });
  return model(x);
}

/** The variables a step trains: a LayersModel's trainable weights, or every trainable variable for a function model. */
export function trainableVariables(model: SupervisedModel): tf.Variable[] | undefined {
  if (!isLayersModel(model)) return undefined;
  return model.trainableWeights.map((weight) => weight.read() as tf.Variable);
}

/** The model's regularization penalties (what `model.fit` adds to the loss); none for a function model. */
export function addRegularization(model: SupervisedModel, loss: tf.Scalar): tf.Scalar {
  if (!isLayersModel(model)) return loss;
  const penalties = model.calculateLosses();
  return penalties.length === 0 ? loss : tf.addN([loss, ...penalties]);
}

/** Asserts the loss function returned a scalar tensor; else throws a TypeError with how to reduce it. */
export function checkLoss(where: string, loss: unknown): asserts loss is tf.Scalar {
  if (!(loss instanceof tf.Tensor) || loss.rank !== 0) {
    const given = loss instanceof tf.Tensor ? `a tensor of shape [${loss.shape}]` : describeValue(loss);
    throw new TypeError(
      `${where}: lossFn(yPred, y) should return a scalar tensor, got ${given}. ` +
        'Reduce it, e.g. with tf.losses.softmaxCrossEntropy(y, yPred) or tf.mean(...).',
    );
  }
}

/**
 * Wraps a gradient's loss function so that, when it throws, the tensors the gradient tape saved for the backward pass
 * are disposed too: tfjs keeps them outside every `tidy` and would otherwise leak them (they are freed only by a
 * backward pass). Only the outermost tape (no higher-order gradient in progress) is cleaned.
 */
export function cleanTapeOnError<T>(lossOf: () => T): () => T {
  return () => {
    try {
      return lossOf();
    } catch (error) {
      const state = tf.engine().state as { activeTape?: { saved?: tf.Tensor[] }[] | null; gradientDepth?: number };
      if (state.gradientDepth === 1 && Array.isArray(state.activeTape)) {
        for (const node of state.activeTape) {
          if (node.saved !== undefined) tf.dispose(node.saved);
          node.saved = [];
        }
      }
      throw error;
    }
  };
}

/** Every tensor inside `value`, looking into arrays and plain objects (the shapes `tf.dispose` understands). */
export function collectTensors(value: unknown, into: Set<tf.Tensor> = new Set()): Set<tf.Tensor> {
  if (value instanceof tf.Tensor) into.add(value);
  else if (Array.isArray(value)) for (const item of value) collectTensors(item, into);
  else if (isPlainObject(value)) for (const item of Object.values(value)) collectTensors(item, into);
  return into;
}

/**
 * Makes `output` safe to dispose: a tensor the step does not own (a batch tensor, `x`, `y`, a variable) is replaced
 * by `tf.clone` of it, a new handle on the same data, so disposing the output never frees the batch or the weights.
 * Arrays and plain objects are copied, everything else is returned as it is.
 */
export function detachBorrowed<T>(output: T, borrowed: ReadonlySet<tf.Tensor>): T {
  if (output instanceof tf.Tensor) {
    return (borrowed.has(output) || output instanceof tf.Variable ? tf.clone(output) : output) as T;
  }
  if (Array.isArray(output)) return output.map((item) => detachBorrowed(item, borrowed)) as T;
  if (isPlainObject(output)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(output)) copy[key] = detachBorrowed(item, borrowed);
    return copy as T;
  }
  return output;
}

/**
 * Holds the output a supervised engine produced and enforces its lifetime: valid from ITERATION_COMPLETED until the
 * next step starts, disposed at the end of a run (COMPLETED, or TERMINATE when COMPLETED is skipped).
 */
export class OutputKeeper {
  #current: unknown = undefined;
  #hasOutput = false;
  #handles: RemovableEventHandle[] = [];
  #onRelease: () => void;

  constructor(onRelease: () => void = () => {}) {
    this.#onRelease = onRelease;
  }

  /** Takes ownership of `output`. */
  hold(output: unknown): void {
    this.#current = output;
    this.#hasOutput = true;
  }

  /** Disposes the held output; clears `engine.state.output` when it still points at it. */
  release(engine: Engine<any, any>): void {
    if (this.#hasOutput) {
      const output = this.#current;
      this.#current = undefined;
      this.#hasOutput = false;
      if (engine.state.output === output) engine.state.output = null;
      tf.dispose([...collectTensors(output)]);
    }
  }

  /**
   * Disposes the output (and whatever `onRelease` frees) when a run ends. The handlers are registered again at every
   * STARTED so that they run after the user's COMPLETED / TERMINATE handlers added before `run()`.
   */
  attach(engine: Engine<any, any>): void {
    const atEnd = (e: Engine<any, any>) => this.#end(e);
    const atTerminate = (e: Engine<any, any>) => {
      if (e.shouldTerminate === 'skip_completed') this.#end(e);
    };
    const register = (e: Engine<any, any>) => {
      for (const handle of this.#handles) handle.remove();
      this.#handles = [e.addEventHandler(Events.TERMINATE, atTerminate), e.addEventHandler(Events.COMPLETED, atEnd)];
    };
    engine.addEventHandler(Events.STARTED, register);
    register(engine);
  }

  #end(engine: Engine<any, any>): void {
    this.release(engine);
    this.#onRelease();
  }
}
