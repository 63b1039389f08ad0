import * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine';
import { checkOptions } from '../internal';
import { type BaseLogger, type LogHandler, wallTimeNow } from './base-logger';
import { readTensors } from './read-values';
import {
  checkReduction,
  type Reduction,
  reduceAll,
  selectWeights,
  tagPrefix,
  type WeightsScalarHandlerOptions,
} from './weights-common';

const WHERE = 'WeightsScalarHandler';

/**
 * Logs one number per weight, `reduction(weight)` (the L2 norm by default), tagged
 * `[${tag}/]weights_${reductionName}/${weightName}` at the engine's counter for the event: PyTorch Ignite's
 * `WeightsScalarHandler`. The reductions run on the device and are read back together, without blocking the step.
 *
 * @example
 * logger.attach(trainer, new WeightsScalarHandler(model), Events.ITERATION_COMPLETED({ every: 100 }));
 * // tags 'weights_norm/dense/kernel', 'weights_norm/dense/bias', ...
 */
export class WeightsScalarHandler implements LogHandler {
  readonly #weights: tf.LayerVariable[];
  readonly #reduce: Reduction;
  readonly #tags: string[];

  /**
   * @param model - a `tf.LayersModel`; its trainable weights are logged.
   * @param options - `{ reduction?, tag?, whitelist? }`, see {@link WeightsScalarHandlerOptions}.
   */
  constructor(model: tf.LayersModel, options: WeightsScalarHandlerOptions = {}) {
    const { reduction = tf.norm, tag, whitelist } = checkOptions(WHERE, options, ['reduction', 'tag', 'whitelist']);
    this.#weights = selectWeights(WHERE, model, whitelist);
    const checked = checkReduction(WHERE, reduction);
    this.#reduce = checked.reduce;
    const prefix = `${tagPrefix(WHERE, tag)}weights_${checked.name}/`;
    this.#tags = this.#weights.map((w) => `${prefix}${w.originalName}`);
  }

  /** Logs the reduced weights. Called by the engine through the logger. */
  handle(engine: Engine<any, any>, logger: BaseLogger, eventName: string): Promise<void> | undefined {
    const step = engine.getEventAttribValue(eventName);
    const wallTime = wallTimeNow();
    if (this.#weights.length === 0) return undefined;
    const reduced = reduceAll(
      this.#reduce,
      this.#weights.map((w) => w.read()),
    );
    const read = readTensors([reduced]);
    reduced.dispose();
    return logger.schedule(read, ([values]) => {
      logger.addScalars(Object.fromEntries(this.#tags.map((tag, i) => [tag, values![i]!])), step, wallTime);
    });
  }
}
