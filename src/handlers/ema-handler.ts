import * as tf from '@tensorflow/tfjs';
import { type Engine, type EventSpec, Events, type RemovableEventHandle, type Stateful } from '../engine';
import {
  checkEngine,
  checkInteger,
  checkKeyName,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkStateDict,
  failType,
} from '../internal';
import { mismatchError, modelStateDict, planModelLoad, type TensorRecord } from './checkpoint/tf-state';

/** Options of {@link EMAHandler}; names follow the reference's in camelCase. */
export interface EMAHandlerOptions {
  /** The weight of the online model in each update, in (0, 1) (default 0.0002): `ema = (1 - m) · ema + m · model`. */
  momentum?: number;
  /** The momentum of the first update; it moves linearly to `momentum` over `warmupIters` updates. Give both or neither. */
  momentumWarmup?: number;
  /** How many updates the warm-up lasts (a positive integer). Give both or neither. */
  warmupIters?: number;
  /**
   * What to do with non-trainable weights (batch-norm moving statistics): `'copy'` them from the model (default), or
   * `'update'` them with the same moving average (integer weights are always copied).
   */
  handleBuffers?: 'copy' | 'update';
}

/** What {@link EMAHandler.stateDict} returns: how many updates were made, and the EMA weights by variable name. */
export interface EMAHandlerStateDict {
  step: number;
  weights: TensorRecord[];
}

interface WeightPair {
  name: string;
  ema: tf.Variable;
  source: tf.Variable;
  isAveraged: boolean;
}

/**
 * Keeps an exponential moving average (EMA) of a model's weights in a second model, `emaModel`, which usually
 * evaluates better than the model itself: PyTorch Ignite's `EMAHandler`. Each update computes, on the device,
 *
 *     ema = (1 - momentum) · ema + momentum · model
 *
 * for every trainable weight (non-trainable ones are copied, or averaged with `handleBuffers: 'update'`). With
 * `momentumWarmup` and `warmupIters`, the momentum moves linearly from `momentumWarmup` (first update) to `momentum`
 * (update `warmupIters` and after). The current momentum is kept in `engine.state[name]`.
 *
 * `emaModel` is built from the model's config (same layers, same weight names) and starts with the model's weights;
 * give it to an evaluator. The handler is Stateful: its state dict holds the number of updates (so the warm-up
 * resumes exactly) and the EMA weights by variable name. Call {@link dispose} to free `emaModel`.
 *
 * @example
 * const ema = new EMAHandler(model, { momentum: 0.002, momentumWarmup: 0.2, warmupIters: 100 });
 * ema.attach(trainer); // after each iteration
 * const evaluator = createSupervisedEvaluator(ema.emaModel, { metrics: { accuracy: new Accuracy() } });
 * const checkpoint = new Checkpoint({ trainer, model, optimizer, ema }, saver);
 */
export class EMAHandler implements Stateful {
  /** The online model being averaged. */
  readonly model: tf.LayersModel;
  /** The averaged model: same architecture and weight names as `model`. */
  readonly emaModel: tf.LayersModel;
  /** The momentum after the warm-up. */
  readonly momentum: number;
  /** The momentum of the first update, or null without warm-up. */
  readonly momentumWarmup: number | null;
  /** The length of the warm-up in updates, or null without warm-up. */
  readonly warmupIters: number | null;
  /** What is done with non-trainable weights. */
  readonly handleBuffers: 'copy' | 'update';
  readonly #pairs: WeightPair[];
  #step = 0;
  #name = 'emaMomentum';

  /**
   * @param model - a built `tf.LayersModel` (its layers must be serializable, as for `model.save`).
   * @param options - `{ momentum?, momentumWarmup?, warmupIters?, handleBuffers? }`, see {@link EMAHandlerOptions}.
   */
  constructor(model: tf.LayersModel, options: EMAHandlerOptions = {}) {
    const where = 'EMAHandler';
    if (!(model instanceof tf.LayersModel)) failType(where, 'argument model', 'a tf.LayersModel', model);
    const {
      momentum = 0.0002,
      momentumWarmup,
      warmupIters,
      handleBuffers = 'copy',
    } = checkOptions(where, options, ['momentum', 'momentumWarmup', 'warmupIters', 'handleBuffers']);
    const open = { min: 0, max: 1, minExclusive: true, maxExclusive: true };
    this.momentum = checkNumber(where, 'option momentum', momentum, open);
    if ((momentumWarmup === undefined) !== (warmupIters === undefined)) {
      throw new TypeError(
        `${where}: options momentumWarmup and warmupIters go together, got only ${momentumWarmup === undefined ? 'warmupIters' : 'momentumWarmup'}. Give both for a warm-up, or neither.`,
      );
    }
    this.momentumWarmup =
      momentumWarmup === undefined ? null : checkNumber(where, 'option momentumWarmup', momentumWarmup, open);
    this.warmupIters =
      warmupIters === undefined ? null : checkInteger(where, 'option warmupIters', warmupIters, { min: 1 });
    this.handleBuffers = checkOneOf(where, 'option handleBuffers', handleBuffers, ['copy', 'update'] as const);
    if (model.weights.length === 0) {
      throw new TypeError(
        `${where}: model '${model.name}' has no weights yet; build it first (give the first layer an inputShape, or call model.build()).`,
      );
    }
    this.model = model;
    this.emaModel = cloneArchitecture(model);
    this.#pairs = pairWeights(model, this.emaModel, this.handleBuffers);
    tf.tidy(() => {
      for (const { ema, source } of this.#pairs) ema.assign(source);
    });
  }

  /** How many updates were made (the warm-up's position). */
  get step(): number {
    return this.#step;
  }

  /**
   * The momentum of update number `step` (counted from 1): the warm-up's linear ramp, then `momentum`.
   *
   * @example
   * new EMAHandler(model, { momentum: 0.01, momentumWarmup: 0.1, warmupIters: 10 }).momentumAt(1); // 0.1
   */
  momentumAt(step: number): number {
    checkInteger('EMAHandler.momentumAt', 'argument step', step, { min: 1 });
    if (this.momentumWarmup === null || this.warmupIters === null) return this.momentum;
    const ramp =
      this.momentumWarmup + ((this.momentum - this.momentumWarmup) * (step - 1)) / Math.max(1, this.warmupIters - 1);
    return this.momentum >= this.momentumWarmup ? Math.min(this.momentum, ramp) : Math.max(this.momentum, ramp);
  }

  /**
   * Updates the EMA on `event` (default `ITERATION_COMPLETED`) and keeps the current momentum in `engine.state[name]`
   * (default `'emaMomentum'`; set now to the next update's momentum when absent). Use a distinct name per handler.
   *
   * @returns a handle that removes it.
   * @example
   * ema.attach(trainer, 'emaMomentum', Events.ITERATION_COMPLETED({ every: 5 }));
   */
  attach(
    engine: Engine<any, any>,
    name = 'emaMomentum',
    event: EventSpec = Events.ITERATION_COMPLETED,
  ): RemovableEventHandle {
    checkEngine('EMAHandler.attach', 'argument engine', engine);
    this.#name = checkKeyName('EMAHandler.attach', 'argument name', name);
    if (!(name in engine.state)) engine.state[name] = this.momentumAt(this.#step + 1);
    return engine.addEventHandler(event, this);
  }

  /** One update, with its momentum stored in `engine.state[name]`. Called by the engine. */
  handle(engine: Engine<any, any>): void {
    engine.state[this.#name] = this.update();
  }

  /**
   * One EMA update of every weight, on the device (nothing is read back).
   *
   * @returns the momentum used.
   */
  update(): number {
    const momentum = this.momentumAt(this.#step + 1);
    tf.tidy(() => {
      const keep = tf.scalar(1 - momentum);
      const take = tf.scalar(momentum);
      for (const { ema, source, isAveraged } of this.#pairs) {
        ema.assign(isAveraged ? tf.add(tf.mul(ema, keep), tf.mul(source, take)) : source);
      }
    });
    this.#step += 1;
    return momentum;
  }

  /**
   * The number of updates and the EMA weights by variable name, read with `await data()`: both as they are at the
   * call (the weights are cloned then), so updates made before it resolves do not change it.
   */
  async stateDict(): Promise<EMAHandlerStateDict> {
    const step = this.#step;
    const { weights } = await modelStateDict(this.emaModel, 'EMAHandler.stateDict');
    return { step, weights };
  }

  /**
   * Restores a {@link stateDict}: every weight must match `emaModel` by name, shape and dtype; nothing changes
   * unless all of it loads.
   */
  async loadStateDict(stateDict: EMAHandlerStateDict): Promise<void> {
    const where = 'EMAHandler.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['step', 'weights']);
    const step = checkInteger(where, "state dict entry 'step'", sd.step, { min: 0 });
    const plan = planModelLoad(this.emaModel, { kind: 'tfjs-layers-model', weights: sd.weights }, 'weights', where);
    if (plan.issues.length > 0) throw mismatchError(where, 'weights', plan.issues, plan.hint);
    await plan.apply();
    this.#step = step;
  }

  /** Frees `emaModel`'s weights. The handler cannot update afterwards. */
  dispose(): void {
    this.emaModel.dispose();
  }
}

/** A new model of the same class and config (same layer and weight names), its weights zeros until assigned. */
function cloneArchitecture(model: tf.LayersModel): tf.LayersModel {
  const Class = model.constructor as typeof tf.LayersModel;
  try {
    // fastWeightInit: zeros instead of random initializers, so making the copy draws nothing from Math.random.
    return Class.fromConfig(Class, model.getConfig(), {}, true) as tf.LayersModel;
  } catch (cause) {
    throw new TypeError(
      `EMAHandler: cannot copy model '${model.name}' from its config (${(cause as Error).message}). Register custom layers with tf.serialization.registerClass.`,
      { cause },
    );
  }
}

/** Pairs each EMA weight with the model's weight of the same name. */
function pairWeights(model: tf.LayersModel, emaModel: tf.LayersModel, handleBuffers: 'copy' | 'update'): WeightPair[] {
  const byName = new Map(emaModel.weights.map((weight) => [weight.originalName, weight]));
  return model.weights.map((weight) => {
    const twin = byName.get(weight.originalName);
    if (twin === undefined || byName.size !== model.weights.length) {
      throw new TypeError(
        `EMAHandler: model '${model.name}' does not rebuild with the same weight names from its config (no copy of '${weight.originalName}'); give its layers unique names.`,
      );
    }
    const isFloat = weight.dtype === 'float32';
    return {
      name: weight.originalName,
      ema: twin.read() as tf.Variable,
      source: weight.read() as tf.Variable,
      isAveraged: isFloat && (weight.trainable || handleBuffers === 'update'),
    };
  });
}
