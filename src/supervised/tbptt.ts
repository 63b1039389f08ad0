import * as tf from '@tensorflow/tfjs';
import { defineEvents, Engine, Events } from '../engine';
import { checkFunction, checkInteger, checkOptions, checkPlainObject, describeValue } from '../internal';
import {
  addRegularization,
  checkLoss,
  checkModel,
  checkOptimizer,
  cleanTapeOnError,
  collectTensors,
  defaultPrepareBatch,
  IGNITE_ONLY_OPTIONS,
  isLayersModel,
  OutputKeeper,
  type PrepareBatch,
  trainableVariables,
} from './common';
import type { LossFn } from './trainer';

/**
 * The events a truncated-BPTT trainer fires around each time chunk (the reference's `Tbptt_Events`).
 * `engine.state.timeIteration` counts the chunks done in the run, so filters work:
 * `trainer.on(TbpttEvents.TIME_ITERATION_COMPLETED({ every: 10 }), ...)`.
 */
export const TbpttEvents = defineEvents({
  TIME_ITERATION_STARTED: 'time_iteration_started',
  TIME_ITERATION_COMPLETED: 'time_iteration_completed',
});

/** A recurrent model as a function: one time chunk and the carried hidden state (null at a sequence's start) in, predictions and the new state out. */
export type RecurrentModelFn = (xChunk: tf.Tensor, hidden: tf.TensorContainer | null) => [any, tf.TensorContainer];

/** Options of {@link createSupervisedTbpttTrainer}. Any other key is a TypeError. */
export interface SupervisedTbpttTrainerOptions<Batch = any> {
  /** The length of the time chunks; the last one may be shorter. */
  tbpttStep: number;
  /** The time axis of `x` and `y`. Default 1: `[batch, time, features]`. */
  dim?: number;
  /** Turns a batch into `[x, y]` (applied to the whole sequence before it is split). Default: `[x, y]` or `{ x, y }`. */
  prepareBatch?: PrepareBatch<Batch>;
}

const WHERE = 'createSupervisedTbpttTrainer';

/**
 * Creates a trainer for recurrent models with truncated backpropagation through time: each batch's sequences are
 * split along `dim` into chunks of `tbpttStep` steps, and each chunk gets its own forward pass, loss and optimizer
 * update. The hidden state is carried from chunk to chunk but gradients stop at chunk boundaries.
 *
 * The model is either
 * - a function `(xChunk, hidden) => [yPred, newHidden]`: `hidden` is null for the first chunk of a batch, then the
 *   `newHidden` of the previous chunk, detached from its gradient (it is kept outside the gradient's scope, so the next
 *   chunk's gradient cannot reach back through it). The trainer disposes each state once the next one replaces it; or
 * - a `tf.LayersModel` with stateful recurrent layers: the trainer calls `model.resetStates()` at the start of each
 *   batch and `model.apply(xChunk, { training: true })` per chunk; the layers carry the state themselves.
 *
 * Fires `TbpttEvents.TIME_ITERATION_STARTED` / `TIME_ITERATION_COMPLETED` around each chunk; during the latter
 * `state.output` is that chunk's loss. After the iteration `state.output` is the mean chunk loss as a `tf.Scalar`,
 * with the lifetime rule of {@link createSupervisedTrainer} (valid until the next step starts; disposed at the end of
 * the run). A chunk's loss is valid until the iteration ends. Nothing is read back from the device.
 *
 * @param model - a function `(xChunk, hidden | null) => [yPred, hidden]`, or a `tf.LayersModel` with stateful RNNs.
 * @param optimizer - a `tf.Optimizer`.
 * @param lossFn - `(yPredChunk, yChunk) => tf.Scalar`.
 * @param options - `{ tbpttStep, dim = 1, prepareBatch }`.
 * @returns an `Engine` with the {@link TbpttEvents} registered.
 * @example
 * const cell = (x, h) => { const next = tf.tanh(tf.add(tf.matMul(tf.squeeze(x, [1]), wx), tf.matMul(h ?? zeros, wh))); return [next, next]; };
 * const trainer = createSupervisedTbpttTrainer(stepThroughChunk, tf.train.sgd(0.1), tf.losses.meanSquaredError, { tbpttStep: 5 });
 */
export function createSupervisedTbpttTrainer<Batch = any>(
  model: RecurrentModelFn | tf.LayersModel,
  optimizer: tf.Optimizer,
  lossFn: LossFn,
  options: SupervisedTbpttTrainerOptions<Batch>,
): Engine<Batch, tf.Scalar> {
  checkModel(WHERE, model);
  checkOptimizer(WHERE, optimizer);
  checkFunction(WHERE, 'argument lossFn', lossFn, '(yPred, y) => tf.Scalar');
  checkPlainObject(WHERE, 'argument options', options, 'an object with tbpttStep');
  checkOptions(WHERE, options, ['tbpttStep', 'dim', 'prepareBatch'], IGNITE_ONLY_OPTIONS);
  const { tbpttStep, dim = 1, prepareBatch = defaultPrepareBatch as unknown as PrepareBatch<Batch> } = options;
  checkInteger(WHERE, 'argument tbpttStep', tbpttStep, { min: 1 });
  checkInteger(WHERE, 'argument dim', dim, { min: 0, expected: 'a non-negative integer (the time axis)' });
  checkFunction(WHERE, 'argument prepareBatch', prepareBatch, '(batch) => [x, y]');

  const keeper = new OutputKeeper();
  const step = async (engine: Engine<Batch, unknown>, batch: Batch): Promise<tf.Scalar> => {
    keeper.release(engine);
    const borrowed = collectTensors(batch);
    const owned: tf.Tensor[] = [];
    const losses: tf.Scalar[] = [];
    let hidden: tf.TensorContainer | null = null;
    try {
      const [x, y] = tf.tidy(() => prepareBatch(batch) as [tf.Tensor, tf.Tensor]);
      for (const tensor of collectTensors([x, y])) if (!borrowed.has(tensor)) owned.push(tensor);
      const [xChunks, yChunks] = splitInTime(x, y, tbpttStep, dim);
      owned.push(...xChunks, ...yChunks);
      if (isLayersModel(model)) model.resetStates();
      for (let t = 0; t < xChunks.length; t++) {
        engine.state.timeIteration = (engine.state.timeIteration ?? 0) + 1;
        await engine.fireEvent(TbpttEvents.TIME_ITERATION_STARTED);
        let nextHidden: tf.TensorContainer | null = null;
        const loss = tf.tidy(
          () =>
            optimizer.minimize(
              cleanTapeOnError(() => {
                let yPred: unknown;
                if (isLayersModel(model)) {
                  yPred = model.apply(xChunks[t], { training: true });
                } else {
                  const result = model(xChunks[t], hidden);
                  if (!Array.isArray(result) || result.length !== 2) {
                    throw new TypeError(
                      `${WHERE}: the model function should return [yPred, hidden], got ${describeValue(result)}.`,
                    );
                  }
                  [yPred, nextHidden] = result;
                }
                const chunkLoss = lossFn(yPred, yChunks[t]);
                checkLoss(WHERE, chunkLoss);
                const total = addRegularization(model, chunkLoss);
                // The new state leaves the gradient's scope here: the next chunk's tape starts from it.
                for (const tensor of collectTensors(nextHidden)) tf.keep(tensor);
                return total;
              }),
              true,
              trainableVariables(model),
            ) as tf.Scalar,
        );
        const survivors = collectTensors(nextHidden);
        tf.dispose([...collectTensors(hidden)].filter((tensor) => !survivors.has(tensor)));
        hidden = nextHidden;
        losses.push(loss);
        engine.state.output = loss;
        await engine.fireEvent(TbpttEvents.TIME_ITERATION_COMPLETED);
      }
      const mean = tf.tidy(() => tf.div(tf.addN(losses), losses.length)) as tf.Scalar;
      keeper.hold(mean);
      return mean;
    } finally {
      if (losses.includes(engine.state.output as tf.Scalar)) engine.state.output = null;
      tf.dispose([...owned, ...losses, ...collectTensors(hidden)]);
    }
  };

  const engine = new Engine<Batch, tf.Scalar>(step);
  engine.registerEvents(Object.values(TbpttEvents), {
    eventToAttr: { time_iteration_started: 'timeIteration', time_iteration_completed: 'timeIteration' },
  });
  engine.addEventHandler(Events.STARTED, (e: Engine<any, any>) => {
    if (e.state.iteration === 0) e.state.timeIteration = 0;
  });
  keeper.attach(engine);
  return engine;
}

/** Splits `x` and `y` along `dim` into chunks of `size` (the last may be shorter). */
function splitInTime(x: tf.Tensor, y: tf.Tensor, size: number, dim: number): [tf.Tensor[], tf.Tensor[]] {
  for (const [name, tensor] of [
    ['x', x],
    ['y', y],
  ] as const) {
    if (!(tensor instanceof tf.Tensor) || tensor.rank <= dim) {
      const given = tensor instanceof tf.Tensor ? `shape [${tensor.shape}]` : describeValue(tensor);
      throw new TypeError(`${WHERE}: ${name} should be a tensor with a time axis dim=${dim}, got ${given}.`);
    }
  }
  const length = x.shape[dim];
  if (y.shape[dim] !== length) {
    throw new RangeError(
      `${WHERE}: x and y should have the same length along the time axis dim=${dim}, got x [${x.shape}] and y [${y.shape}].`,
    );
  }
  const sizes: number[] = [];
  for (let start = 0; start < length; start += size) sizes.push(Math.min(size, length - start));
  return [tf.split(x, sizes, dim), tf.split(y, sizes, dim)];
}
