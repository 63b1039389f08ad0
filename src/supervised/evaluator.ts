import * as tf from '@tensorflow/tfjs';
import { Engine } from '../engine';
import { checkFunction, checkOptions, checkPlainObject, failType } from '../internal';
import {
  checkModel,
  collectTensors,
  defaultPrepareBatch,
  detachBorrowed,
  forward,
  IGNITE_ONLY_OPTIONS,
  type ModelFn,
  OutputKeeper,
  type PrepareBatch,
  type SupervisedModel,
} from './common';

/** What {@link createSupervisedEvaluator} needs of a metric: attaching itself to an engine under a name. */
export interface AttachableMetric {
  attach(engine: Engine<any, any>, name: string): void;
}

/** Options of {@link createSupervisedEvaluator}. Any other key is a TypeError. */
export interface SupervisedEvaluatorOptions<Batch = any, Output = [tf.Tensor, tf.Tensor]> {
  /** Metrics attached (EpochWise) under their keys: `{ accuracy: new Accuracy() }`. */
  metrics?: Record<string, AttachableMetric>;
  /** Turns a batch into `[x, y]`. Default: accepts `[x, y]` or `{ x, y }`. */
  prepareBatch?: PrepareBatch<Batch>;
  /** Runs the model: `(model, x) => yPred`. Default: `model.apply(x, { training: false })`, or `model(x)`. */
  modelFn?: ModelFn;
  /** Builds `state.output` from `(x, y, yPred)`. Default: `[yPred, y]`, what metrics expect. */
  outputTransform?: (x: any, y: any, yPred: any) => Output;
}

const WHERE = 'createSupervisedEvaluator';

/**
 * Creates an engine that runs `model` in inference mode on each batch (inside `tf.tidy`, no gradients) and attaches
 * `metrics` to it, so `await evaluator.run(data)` leaves their values in `evaluator.state.metrics`.
 *
 * **`state.output`** is `[yPred, y]` (or what `outputTransform` returns), owned by the evaluator with the trainer's
 * lifetime rule: valid from ITERATION_COMPLETED until the next step starts, disposed when the run ends. Its `y` is a
 * `tf.clone` of the batch's tensor (the same data, a separate handle), so disposing the output leaves the batch intact.
 *
 * @param model - a `tf.LayersModel`, or a function `(x) => yPred`.
 * @param options - see {@link SupervisedEvaluatorOptions}.
 * @returns an `Engine` whose process function runs one inference step.
 * @example
 * const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new Accuracy() } });
 * trainer.on(Events.EPOCH_COMPLETED, async () => {
 *   await evaluator.run(valLoader);
 *   console.log(evaluator.state.metrics.accuracy);
 * });
 */
export function createSupervisedEvaluator<Batch = any, Output = [tf.Tensor, tf.Tensor]>(
  model: SupervisedModel,
  options: SupervisedEvaluatorOptions<Batch, Output> = {},
): Engine<Batch, Output> {
  checkModel(WHERE, model);
  checkOptions(WHERE, options, ['metrics', 'prepareBatch', 'modelFn', 'outputTransform'], IGNITE_ONLY_OPTIONS);
  const {
    metrics = {},
    prepareBatch = defaultPrepareBatch as unknown as PrepareBatch<Batch>,
    modelFn,
    outputTransform = ((_x: unknown, y: unknown, yPred: unknown) => [yPred, y]) as unknown as NonNullable<
      SupervisedEvaluatorOptions<Batch, Output>['outputTransform']
    >,
  } = options;
  checkFunction(WHERE, 'argument prepareBatch', prepareBatch, '(batch) => [x, y]');
  if (modelFn !== undefined) checkFunction(WHERE, 'argument modelFn', modelFn, '(model, x) => yPred');
  checkFunction(WHERE, 'argument outputTransform', outputTransform, '(x, y, yPred) => output');
  checkPlainObject(WHERE, 'argument metrics', metrics, 'an object of { name: metric }');
  for (const [name, metric] of Object.entries(metrics)) {
    if (typeof (metric as Partial<AttachableMetric> | null)?.attach !== 'function') {
      failType(WHERE, `metrics.${name}`, 'a Metric (with an attach method)', metric);
    }
  }

  const keeper = new OutputKeeper();
  const step = (engine: Engine<Batch, unknown>, batch: Batch): Output => {
    keeper.release(engine);
    const output = tf.tidy(() => {
      const [x, y] = prepareBatch(batch);
      const yPred = forward(model, modelFn, x, false);
      return detachBorrowed(outputTransform(x, y, yPred), collectTensors([batch, x, y])) as tf.TensorContainer;
    }) as Output;
    keeper.hold(output);
    return output;
  };

  const engine = new Engine<Batch, Output>(step);
  keeper.attach(engine);
  for (const [name, metric] of Object.entries(metrics)) metric.attach(engine, name);
  return engine;
}
