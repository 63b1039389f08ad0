import type * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine';
import { checkOptions } from '../internal';
import { type GradientWatch, watchGradients } from '../supervised';
import { type BaseLogger, type LogHandler, wallTimeNow } from './base-logger';
import { readTensors } from './read-values';
import { gradientsOf, selectWeights, tagPrefix, type WeightsHandlerOptions } from './weights-common';

const WHERE = 'GradsHistHandler';

/**
 * Logs a histogram of each gradient of the last training step, tagged `[${tag}/]grads/${weightName}`, at the engine's
 * counter for the event: PyTorch Ignite's `GradsHistHandler` (TensorBoard only). Like {@link GradsScalarHandler}, it
 * asks the model's supervised trainer for its gradients until the logger closes.
 *
 * @example
 * tbLogger.attach(trainer, new GradsHistHandler(model), Events.ITERATION_COMPLETED({ every: 500 }));
 */
export class GradsHistHandler implements LogHandler {
  readonly #model: tf.LayersModel;
  readonly #names: string[];
  readonly #tags: string[];
  readonly #watch: GradientWatch;

  /**
   * @param model - a `tf.LayersModel` trained by `createSupervisedTrainer`.
   * @param options - `{ tag?, whitelist? }`, see {@link WeightsHandlerOptions}.
   */
  constructor(model: tf.LayersModel, options: WeightsHandlerOptions = {}) {
    const { tag, whitelist } = checkOptions(WHERE, options, ['tag', 'whitelist']);
    this.#names = selectWeights(WHERE, model, whitelist).map((w) => w.originalName);
    const prefix = `${tagPrefix(WHERE, tag)}grads/`;
    this.#tags = this.#names.map((name) => `${prefix}${name}`);
    this.#model = model;
    this.#watch = watchGradients(model);
  }

  /** Logs the histograms of the last step's gradients. Called by the engine through the logger. */
  handle(engine: Engine<any, any>, logger: BaseLogger, eventName: string): Promise<void> | undefined {
    const step = engine.getEventAttribValue(eventName);
    const wallTime = wallTimeNow();
    const read = readTensors(gradientsOf(WHERE, this.#watch, this.#model, this.#names));
    return logger.schedule(read, (values) => {
      this.#tags.forEach((tag, i) => {
        logger.addHistogram(tag, values[i]!, step, wallTime);
      });
    });
  }

  /** Stops asking the trainer for gradients. Called by the logger's `close()`. */
  close(): void {
    this.#watch.remove();
  }
}
