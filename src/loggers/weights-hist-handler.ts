import type * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine';
import { checkOptions } from '../internal';
import { type BaseLogger, type LogHandler, wallTimeNow } from './base-logger';
import { readTensors } from './read-values';
import { selectWeights, tagPrefix, type WeightsHandlerOptions } from './weights-common';

const WHERE = 'WeightsHistHandler';

/**
 * Logs a histogram of each weight, tagged `[${tag}/]weights/${weightName}`, at the engine's counter for the event:
 * PyTorch Ignite's `WeightsHistHandler` (TensorBoard only). All weights are read back in one read, without blocking
 * the step.
 *
 * @example
 * tbLogger.attach(trainer, new WeightsHistHandler(model), Events.EPOCH_COMPLETED);
 */
export class WeightsHistHandler implements LogHandler {
  readonly #weights: tf.LayerVariable[];
  readonly #tags: string[];

  /**
   * @param model - a `tf.LayersModel`; its trainable weights are logged.
   * @param options - `{ tag?, whitelist? }`, see {@link WeightsHandlerOptions}.
   */
  constructor(model: tf.LayersModel, options: WeightsHandlerOptions = {}) {
    const { tag, whitelist } = checkOptions(WHERE, options, ['tag', 'whitelist']);
    this.#weights = selectWeights(WHERE, model, whitelist);
    const prefix = `${tagPrefix(WHERE, tag)}weights/`;
    this.#tags = this.#weights.map((w) => `${prefix}${w.originalName}`);
  }

  /** Logs the histograms. Called by the engine through the logger. */
  handle(engine: Engine<any, any>, logger: BaseLogger, eventName: string): Promise<void> | undefined {
    const step = engine.getEventAttribValue(eventName);
    const wallTime = wallTimeNow();
    return logger.schedule(readTensors(this.#weights.map((w) => w.read())), (values) => {
      this.#tags.forEach((tag, i) => {
        logger.addHistogram(tag, values[i]!, step, wallTime);
      });
    });
  }
}
