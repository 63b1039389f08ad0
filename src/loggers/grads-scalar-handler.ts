import * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine';
import { checkOptions } from '../internal';
import { type GradientWatch, watchGradients } from '../supervised';
import { type BaseLogger, type LogHandler, wallTimeNow } from './base-logger';
import { readTensors } from './read-values';
import {
  checkReduction,
  gradientsOf,
  type Reduction,
  reduceAll,
  selectWeights,
  tagPrefix,
  type WeightsScalarHandlerOptions,
} from './weights-common';

const WHERE = 'GradsScalarHandler';

/**
 * Logs one number per gradient of the last training step, `reduction(gradient)` (the L2 norm by default), tagged
 * `[${tag}/]grads_${reductionName}/${weightName}` at the engine's counter for the event: PyTorch Ignite's
 * `GradsScalarHandler`. It asks the model's supervised trainer for its gradients ({@link watchGradients}) from its
 * creation until the logger closes (or {@link close} is called); log on an event after a step, e.g.
 * `ITERATION_COMPLETED`.
 *
 * @example
 * logger.attach(trainer, new GradsScalarHandler(model), Events.ITERATION_COMPLETED({ every: 100 }));
 * // tags 'grads_norm/dense/kernel', ...
 */
export class GradsScalarHandler implements LogHandler {
  readonly #model: tf.LayersModel;
  readonly #names: string[];
  readonly #reduce: Reduction;
  readonly #tags: string[];
  readonly #watch: GradientWatch;

  /**
   * @param model - a `tf.LayersModel` trained by `createSupervisedTrainer`.
   * @param options - `{ reduction?, tag?, whitelist? }`, see {@link WeightsScalarHandlerOptions}.
   */
  constructor(model: tf.LayersModel, options: WeightsScalarHandlerOptions = {}) {
    const { reduction = tf.norm, tag, whitelist } = checkOptions(WHERE, options, ['reduction', 'tag', 'whitelist']);
    this.#names = selectWeights(WHERE, model, whitelist).map((w) => w.originalName);
    const checked = checkReduction(WHERE, reduction);
    this.#reduce = checked.reduce;
    const prefix = `${tagPrefix(WHERE, tag)}grads_${checked.name}/`;
    this.#tags = this.#names.map((name) => `${prefix}${name}`);
    this.#model = model;
    this.#watch = watchGradients(model);
  }

  /** Logs the reduced gradients of the last step. Called by the engine through the logger. */
  handle(engine: Engine<any, any>, logger: BaseLogger, eventName: string): Promise<void> | undefined {
    const step = engine.getEventAttribValue(eventName);
    const wallTime = wallTimeNow();
    if (this.#names.length === 0) return undefined;
    const reduced = reduceAll(this.#reduce, gradientsOf(WHERE, this.#watch, this.#model, this.#names));
    const read = readTensors([reduced]);
    reduced.dispose();
    return logger.schedule(read, ([values]) => {
      logger.addScalars(Object.fromEntries(this.#tags.map((tag, i) => [tag, values![i]!])), step, wallTime);
    });
  }

  /** Stops asking the trainer for gradients. Called by the logger's `close()`. */
  close(): void {
    this.#watch.remove();
  }
}
