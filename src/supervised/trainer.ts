import * as tf from '@tensorflow/tfjs';
import { DeterministicEngine } from '../data';
import { Engine, Events } from '../engine';
import { checkBoolean, checkFunction, checkInteger, checkOptions } from '../internal';
import {
  addRegularization,
  checkLoss,
  checkModel,
  checkOptimizer,
  cleanTapeOnError,
  collectTensors,
  defaultPrepareBatch,
  detachBorrowed,
  forward,
  IGNITE_ONLY_OPTIONS,
  type ModelFn,
  OutputKeeper,
  type PrepareBatch,
  type SupervisedModel,
  trainableVariables,
} from './common';
import { gradientSlotOf } from './gradients';

/** Computes a scalar loss from predictions and targets, e.g. `(yPred, y) => tf.losses.softmaxCrossEntropy(y, yPred)`. */
export type LossFn<YPred = any, Y = any> = (yPred: YPred, y: Y) => tf.Scalar;

/** Options of {@link createSupervisedTrainer}. Any other key is a TypeError. */
export interface SupervisedTrainerOptions<Batch = any, Output = tf.Scalar> {
  /** Turns a batch into `[x, y]`. Default: accepts `[x, y]` or `{ x, y }`. */
  prepareBatch?: PrepareBatch<Batch>;
  /** Runs the model: `(model, x) => yPred`. Default: `model.apply(x, { training: true })`, or `model(x)`. */
  modelFn?: ModelFn;
  /**
   * Builds `state.output` from the step's tensors `(x, y, yPred, loss)`. Default: the loss, a `tf.Scalar`.
   * Return tensors, or an array or plain object of them; the trainer owns (and disposes) what it returns.
   */
  outputTransform?: (x: any, y: any, yPred: any, loss: tf.Scalar) => Output;
  /** Apply the mean gradient of this many iterations at once. Default 1: an update every iteration. */
  gradientAccumulationSteps?: number;
  /** Return a `DeterministicEngine` (seeded, exactly resumable data order) instead of an `Engine`. Default false. */
  deterministic?: boolean;
}

const WHERE = 'createSupervisedTrainer';
const OPTION_NAMES = [
  'prepareBatch',
  'modelFn',
  'outputTransform',
  'gradientAccumulationSteps',
  'deterministic',
] as const;

/**
 * Creates an engine that trains `model` one batch per iteration: `prepareBatch`, forward, `lossFn`, gradients,
 * an optimizer update. Nothing is read back from the device during a step.
 *
 * **`state.output`** is the loss as a `tf.Scalar` (or what `outputTransform` returns). The trainer owns it: it is valid
 * from ITERATION_COMPLETED until the next step starts (the trainer disposes it then) and is disposed, and
 * `state.output` set to null, when the run ends (after your COMPLETED handlers; at TERMINATE when COMPLETED is
 * skipped). Read the number where you need it with `await readLoss(engine)`; `tf.clone` it to keep the tensor.
 * After `interrupt()` or an error it lives until the next step. Batch tensors belong to the data (a `DataLoader`
 * disposes the previous batch when it fetches the next): the trainer never disposes them, and hands out a clone
 * where `outputTransform` returns one. Tensors that `prepareBatch`, the model and `lossFn` create are disposed.
 *
 * With `gradientAccumulationSteps: G`, the gradients of each iteration are summed on the device and, at every
 * iteration divisible by G, the optimizer applies their sum divided by G (the mean over G batches, like scaling the
 * loss by 1/G in the reference). `state.output` stays the unscaled loss. A partial sum is dropped when a run ends
 * (completed, terminated or failed) and when a new run starts, so a run's first update never holds gradients of an
 * earlier one; an interrupted run keeps it and goes on with it when resumed.
 *
 * For a `LayersModel` the trained variables are its trainable weights and the loss includes its regularization
 * penalties, as in `model.fit`; for a function model they are all trainable variables the loss depends on.
 *
 * @param model - a `tf.LayersModel`, or a function `(x) => yPred` using `tf.variable`s.
 * @param optimizer - a `tf.Optimizer`, e.g. `tf.train.adam(1e-3)`.
 * @param lossFn - `(yPred, y) => tf.Scalar`.
 * @param options - see {@link SupervisedTrainerOptions}.
 * @returns an `Engine` (a `DeterministicEngine` with `deterministic: true`) whose process function is one step.
 * @example
 * const trainer = createSupervisedTrainer(model, tf.train.adam(1e-3), (yPred, y) => tf.losses.softmaxCrossEntropy(y, yPred));
 * trainer.on(Events.ITERATION_COMPLETED({ every: 50 }), async (engine) => {
 *   console.log(engine.state.iteration, await readLoss(engine));
 * });
 * await trainer.run(loader, { maxEpochs: 5 });
 */
export function createSupervisedTrainer<Batch = any, Output = tf.Scalar>(
  model: SupervisedModel,
  optimizer: tf.Optimizer,
  lossFn: LossFn,
  options: SupervisedTrainerOptions<Batch, Output> = {},
): Engine<Batch, Output> {
  checkModel(WHERE, model);
  checkOptimizer(WHERE, optimizer);
  checkFunction(WHERE, 'argument lossFn', lossFn, '(yPred, y) => tf.Scalar');
  checkOptions(WHERE, options, OPTION_NAMES, IGNITE_ONLY_OPTIONS);
  const {
    prepareBatch = defaultPrepareBatch as unknown as PrepareBatch<Batch>,
    modelFn,
    outputTransform = ((_x: unknown, _y: unknown, _yPred: unknown, loss: tf.Scalar) => loss) as unknown as NonNullable<
      SupervisedTrainerOptions<Batch, Output>['outputTransform']
    >,
    gradientAccumulationSteps = 1,
    deterministic = false,
  } = options;
  checkFunction(WHERE, 'argument prepareBatch', prepareBatch, '(batch) => [x, y]');
  if (modelFn !== undefined) checkFunction(WHERE, 'argument modelFn', modelFn, '(model, x) => yPred');
  checkFunction(WHERE, 'argument outputTransform', outputTransform, '(x, y, yPred, loss) => output');
  checkInteger(WHERE, 'argument gradientAccumulationSteps', gradientAccumulationSteps, {
    min: 1,
    fix: 'Use 1 (the default) for no gradient accumulation.',
  });
  checkBoolean(WHERE, 'argument deterministic', deterministic);

  const accumulator = new GradientAccumulator(optimizer, gradientAccumulationSteps);
  const keeper = new OutputKeeper(() => {
    accumulator.reset();
    gradientSlotOf(model)?.release();
  });

  const step = (engine: Engine<Batch, unknown>, batch: Batch): Output => {
    keeper.release(engine);
    const output = tf.tidy(() => {
      const [x, y] = prepareBatch(batch);
      let yPred: unknown;
      const lossOf = cleanTapeOnError((): tf.Scalar => {
        const prediction = forward(model, modelFn, x, true);
        const loss = lossFn(prediction, y);
        checkLoss(WHERE, loss);
        const total = addRegularization(model, loss);
        // Kept so that it outlives the gradient's scope; disposed below unless the output holds it.
        yPred = prediction;
        for (const tensor of collectTensors(prediction)) tf.keep(tensor);
        return total;
      });
      let loss: tf.Scalar;
      // Gradients are kept for loggers only while watchGradients(model) asks for them.
      const watched = gradientSlotOf(model);
      if (gradientAccumulationSteps === 1 && watched === null) {
        loss = optimizer.minimize(lossOf, true, trainableVariables(model)) as tf.Scalar;
      } else {
        const { value, grads } = optimizer.computeGradients(lossOf, trainableVariables(model));
        loss = value;
        watched?.publish(grads, model);
        if (gradientAccumulationSteps === 1) optimizer.applyGradients(grads);
        else accumulator.add(grads, engine.state.iteration);
      }
      let result: Output | undefined;
      try {
        result = detachBorrowed(outputTransform(x, y, yPred, loss), collectTensors([batch, x, y]));
        return result as tf.TensorContainer;
      } finally {
        const kept = collectTensors(result);
        tf.dispose([...collectTensors(yPred)].filter((tensor) => !kept.has(tensor)));
      }
    }) as Output;
    keeper.hold(output);
    return output;
  };

  const engine: Engine<Batch, Output> = deterministic ? new DeterministicEngine(step) : new Engine(step);
  keeper.attach(engine);
  if (gradientAccumulationSteps > 1) {
    // A new run (STARTED: not fired when an interrupted run resumes) starts from an empty sum; a failed run drops its
    // partial sum at once, freeing its tensors (an EXCEPTION_RAISED handler cannot do it: having one would make the
    // engine swallow the error).
    engine.on(Events.STARTED, () => accumulator.reset());
    const run = engine.run.bind(engine);
    engine.run = async (...args: Parameters<typeof run>) => {
      try {
        return await run(...args);
      } catch (error) {
        accumulator.reset();
        throw error;
      }
    };
    // The partial gradient sum lives on the device and is in no state dict: refuse to save mid-window rather
    // than let a resume silently diverge.
    const stateDict = engine.stateDict.bind(engine);
    engine.stateDict = () => {
      if (accumulator.isPending) {
        throw new Error(
          `${WHERE}: cannot save the trainer's state at iteration ${engine.state.iteration}, inside a gradient accumulation ` +
            `window of ${gradientAccumulationSteps} iterations: the partial gradient sum is not saved, so a resume would diverge. ` +
            `Save at window boundaries, e.g. on Events.ITERATION_COMPLETED({ every: ${gradientAccumulationSteps} }).`,
        );
      }
      return stateDict();
    };
  }
  return engine;
}

/** Sums gradients on the device across iterations and applies their mean every `steps` iterations. */
class GradientAccumulator {
  #optimizer: tf.Optimizer;
  #steps: number;
  #sums: Map<string, tf.Tensor> | null = null;

  constructor(optimizer: tf.Optimizer, steps: number) {
    this.#optimizer = optimizer;
    this.#steps = steps;
  }

  /** Adds one iteration's gradients (called inside a tidy); applies the mean when `iteration % steps === 0`. */
  add(grads: tf.NamedTensorMap, iteration: number): void {
    const sums = this.#sums ?? new Map<string, tf.Tensor>();
    for (const [name, grad] of Object.entries(grads)) {
      const previous = sums.get(name);
      sums.set(name, tf.keep(previous === undefined ? grad : tf.add(previous, grad)));
      previous?.dispose();
    }
    this.#sums = sums;
    if (iteration % this.#steps === 0) {
      const steps = tf.scalar(this.#steps);
      this.#optimizer.applyGradients(
        [...sums].map(([name, sum]) => ({ name, tensor: tf.div(sum, steps) as tf.Tensor })),
      );
      this.reset();
    }
  }

  /** True while gradients are summed but not yet applied. */
  get isPending(): boolean {
    return this.#sums !== null;
  }

  /** Drops a partial sum. */
  reset(): void {
    if (this.#sums !== null) tf.dispose([...this.#sums.values()]);
    this.#sums = null;
  }
}
