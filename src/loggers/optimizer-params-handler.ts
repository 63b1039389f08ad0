import type { Engine } from '../engine';
import { checkOptions, checkString, failType } from '../internal';
import type { BaseLogger, LogHandler } from './base-logger';

/** Options of {@link OptimizerParamsHandler}. */
export interface OptimizerParamsHandlerOptions {
  /** The optimizer, e.g. `tf.train.adam(1e-3)`, or any object with the numeric property. */
  optimizer: object;
  /** The parameter: `'lr'` (default, the reference's name, read from `learningRate`) or a property name, e.g. `'beta1'`. */
  paramName?: string;
  /** A prefix for the tag, e.g. `'generator'`. */
  tag?: string;
}

const WHERE = 'OptimizerParamsHandler';

/**
 * Logs an optimizer parameter, the learning rate by default, as `[${tag}/]${paramName}/group_0` at the engine's
 * counter for the event (PyTorch Ignite's `OptimizerParamsHandler`; a tfjs optimizer is one parameter group, and the
 * tag keeps the reference's name so that runs line up in one TensorBoard).
 *
 * @example
 * logger.attach(trainer, new OptimizerParamsHandler({ optimizer }), Events.ITERATION_STARTED); // tag 'lr/group_0'
 */
export class OptimizerParamsHandler implements LogHandler {
  readonly #optimizer: Record<string, unknown>;
  readonly #paramName: string;
  readonly #property: string;
  readonly #tag: string;

  /** @param options - `{ optimizer, paramName?, tag? }`, see {@link OptimizerParamsHandlerOptions}. */
  constructor(options: OptimizerParamsHandlerOptions) {
    const { optimizer, paramName = 'lr', tag } = checkOptions(WHERE, options, ['optimizer', 'paramName', 'tag']);
    this.#paramName = checkString(WHERE, 'option paramName', paramName);
    this.#property = this.#paramName === 'lr' ? 'learningRate' : this.#paramName;
    if (optimizer === null || typeof optimizer !== 'object') {
      failType(WHERE, 'option optimizer', 'a tfjs optimizer, e.g. tf.train.adam(1e-3)', optimizer);
    }
    this.#optimizer = optimizer as Record<string, unknown>;
    this.#read();
    this.#tag = tag === undefined ? '' : `${checkString(WHERE, 'option tag', tag)}/`;
  }

  /** Logs the parameter's current value. Called by the engine through the logger. */
  handle(engine: Engine<any, any>, logger: BaseLogger, eventName: string): void {
    logger.addScalar(`${this.#tag}${this.#paramName}/group_0`, this.#read(), engine.getEventAttribValue(eventName));
  }

  #read(): number {
    const value = this.#optimizer[this.#property];
    if (typeof value !== 'number') {
      failType(
        WHERE,
        `the optimizer's '${this.#property}'`,
        'a number',
        value,
        "tfjs optimizers have 'learningRate' (paramName 'lr'); pass the name of a numeric property.",
      );
    }
    return value;
  }
}
