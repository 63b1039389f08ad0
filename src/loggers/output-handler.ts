import * as tf from '@tensorflow/tfjs';
import { type Engine, getLogger } from '../engine';
import type { GlobalStepTransform } from '../handlers/checkpoint';
import {
  checkFunction,
  checkInteger,
  checkOptions,
  checkString,
  describeValue,
  failType,
  isPlainObject,
} from '../internal';
import type { BaseLogger, LogHandler } from './base-logger';
import { wallTimeNow } from './base-logger';
import { readTensors } from './read-values';

/** Options of {@link OutputHandler}; names follow the reference's in camelCase. Give at least one of the three sources. */
export interface OutputHandlerOptions {
  /** The common prefix of the tags, e.g. `'training'`: values are tagged `${tag}/${name}`. */
  tag: string;
  /** Metrics to log from `engine.state.metrics`: a list of names, or `'all'`. */
  metricNames?: readonly string[] | 'all';
  /**
   * Picks values from `engine.state.output`: an object of named values (`(loss) => ({ loss })`), or one value, logged
   * as `${tag}/output`. Values may be numbers, scalar or 1-D tensors (one tag per element, `/0`, `/1`, ...), and arrays
   * or objects of them (nested names joined with `/`).
   */
  outputTransform?: (output: any) => unknown;
  /** State attributes to log, e.g. `['alpha']` for `engine.state.alpha`. */
  stateAttributes?: readonly string[];
  /**
   * The step of each value (default: the engine's counter for the event: `state.iteration` on iteration events,
   * `state.epoch` on epoch events). Use `globalStepFromEngine(trainer)` to log an evaluator at the trainer's step.
   */
  globalStepTransform?: GlobalStepTransform;
}

type Leaf = { tag: string; value: number } | { tag: string; tensor: number; index: number };

const WHERE = 'OutputHandler';

/**
 * Logs an engine's output, metrics and state attributes as scalars tagged `${tag}/${name}`, at the step of
 * `globalStepTransform` (PyTorch Ignite's `OutputHandler`). Works with any kindling logger. Tensor values are read
 * without blocking the step (see {@link BaseLogger.schedule}). Values that are not numbers or scalar / 1-D tensors are
 * skipped with a warning (once per name).
 *
 * @example
 * logger.attach(evaluator, new OutputHandler({
 *   tag: 'validation', metricNames: ['accuracy', 'loss'], globalStepTransform: globalStepFromEngine(trainer),
 * }), Events.COMPLETED);
 */
export class OutputHandler implements LogHandler {
  /** The tags' prefix. */
  readonly tag: string;
  readonly #metricNames: readonly string[] | 'all' | null;
  readonly #outputTransform: ((output: any) => unknown) | null;
  readonly #stateAttributes: readonly string[] | null;
  readonly #globalStepTransform: GlobalStepTransform;
  readonly #warned = new Set<string>();

  /** @param options - `{ tag, metricNames?, outputTransform?, stateAttributes?, globalStepTransform? }`. */
  constructor(options: OutputHandlerOptions) {
    const { tag, metricNames, outputTransform, stateAttributes, globalStepTransform } = checkOptions(WHERE, options, [
      'tag',
      'metricNames',
      'outputTransform',
      'stateAttributes',
      'globalStepTransform',
    ]);
    this.tag = checkString(WHERE, 'option tag', tag);
    if (metricNames !== undefined && metricNames !== 'all' && !isStringList(metricNames)) {
      failType(WHERE, 'option metricNames', "an array of metric names or 'all'", metricNames);
    }
    if (stateAttributes !== undefined && !isStringList(stateAttributes)) {
      failType(WHERE, 'option stateAttributes', 'an array of state attribute names', stateAttributes);
    }
    if (metricNames === undefined && outputTransform === undefined && stateAttributes === undefined) {
      throw new TypeError(
        `${WHERE}: give at least one of the options metricNames, outputTransform or stateAttributes; there is nothing to log.`,
      );
    }
    this.#metricNames = (metricNames as readonly string[] | 'all' | undefined) ?? null;
    this.#outputTransform =
      outputTransform === undefined
        ? null
        : checkFunction(WHERE, 'option outputTransform', outputTransform, '(output) => values');
    this.#stateAttributes = (stateAttributes as readonly string[] | undefined) ?? null;
    this.#globalStepTransform =
      globalStepTransform === undefined
        ? (engine, event) => engine.getEventAttribValue(event!)
        : checkFunction(WHERE, 'option globalStepTransform', globalStepTransform, '(engine, eventName) => step');
  }

  /** Logs the values now (tensors once read). Called by the engine through the logger. */
  handle(engine: Engine<any, any>, logger: BaseLogger, eventName: string): Promise<void> | undefined {
    const wallTime = wallTimeNow();
    const step = checkInteger(
      WHERE,
      "the global step (globalStepTransform's result)",
      this.#globalStepTransform(engine, eventName),
    );
    const values: Record<string, unknown> = {};
    if (this.#metricNames === 'all') Object.assign(values, engine.state.metrics);
    else if (this.#metricNames !== null) {
      for (const name of this.#metricNames) {
        if (name in engine.state.metrics) values[name] = engine.state.metrics[name];
        else
          this.#warn(
            name,
            `metric '${name}' is missing in the engine's state.metrics (${Object.keys(engine.state.metrics).join(', ') || 'none'})`,
          );
      }
    }
    if (this.#outputTransform !== null) {
      const output = this.#outputTransform(engine.state.output);
      if (isPlainObject(output)) Object.assign(values, output);
      else values.output = output;
    }
    if (this.#stateAttributes !== null) {
      for (const name of this.#stateAttributes) values[name] = engine.state[name];
    }
    const leaves: Leaf[] = [];
    const tensors: tf.Tensor[] = [];
    this.#flatten(values, this.tag, leaves, tensors);
    if (leaves.length === 0) return undefined;
    const write = (read: Float32Array[]) => {
      const scalars: Record<string, number> = {};
      for (const leaf of leaves) scalars[leaf.tag] = 'value' in leaf ? leaf.value : read[leaf.tensor]![leaf.index]!;
      logger.addScalars(scalars, step, wallTime);
    };
    if (tensors.length === 0) {
      write([]);
      return undefined;
    }
    return logger.schedule(readTensors(tensors), write);
  }

  #flatten(value: unknown, tag: string, leaves: Leaf[], tensors: tf.Tensor[]): void {
    if (typeof value === 'number') {
      leaves.push({ tag, value });
    } else if (value instanceof tf.Tensor && !value.isDisposed && value.rank <= 1) {
      const tensor = tensors.push(value) - 1;
      if (value.rank === 0) leaves.push({ tag, tensor, index: 0 });
      else for (let index = 0; index < value.size; index++) leaves.push({ tag: `${tag}/${index}`, tensor, index });
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) this.#flatten(value[i], `${tag}/${i}`, leaves, tensors);
    } else if (isPlainObject(value)) {
      for (const [key, item] of Object.entries(value)) this.#flatten(item, `${tag}/${key}`, leaves, tensors);
    } else {
      this.#warn(
        tag,
        `cannot log '${tag}': ${describeValue(value)} is not a number or a scalar or 1-D tensor; skipped`,
      );
    }
  }

  #warn(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    getLogger().warn(`${WHERE}: ${message}.`);
  }
}

function isStringList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
