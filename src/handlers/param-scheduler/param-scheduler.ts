// ParamScheduler: the base of the schedulers that set an optimizer's parameter (the learning rate by default).
import type { Engine } from '../../engine';
import { describeValue, failType } from '../../internal';
import { BaseParamScheduler, type ParamSchedulerOptions } from './base';

/**
 * What a scheduler acts on: a tfjs optimizer (`tf.train.sgd(0.1)`, `tf.train.adam()`, ...) or any object with a
 * numeric property named like the scheduler's `paramName`.
 */
export type ParamTarget = object;

/**
 * Sets `target[paramName] = value`. For `'learningRate'` it calls the optimizer's `setLearningRate` when there is one:
 * tfjs's SGD and Momentum optimizers keep the rate in a tensor built by that method, so assigning the property alone
 * would not change their steps. Adam, Adamax, Adagrad, Adadelta and RMSProp read `this.learningRate` at every step.
 */
export function writeParam(target: ParamTarget, paramName: string, value: number): void {
  const record = target as Record<string, unknown> & { setLearningRate?: (learningRate: number) => void };
  if (paramName === 'learningRate' && typeof record.setLearningRate === 'function') {
    record.setLearningRate(value);
  } else {
    record[paramName] = value;
  }
}

/** Reads `target[paramName]`. */
export function readParam(target: ParamTarget, paramName: string): number {
  return (target as Record<string, number>)[paramName];
}

/** Throws unless `target[paramName]` is a number (the value a scheduler sets); returns `paramName`. */
function checkTargetParam(where: string, subject: string, target: ParamTarget, paramName: string): string {
  const current = (target as Record<string, unknown>)[paramName];
  if (typeof current !== 'number') {
    throw new TypeError(
      `${where}: the optimizer should have a numeric property ${describeValue(paramName)} (${subject}), got ` +
        `${describeValue(current)}. tfjs optimizers have 'learningRate'; pass a paramName the optimizer has.`,
    );
  }
  return paramName;
}

/** A stand-in optimizer for `simulateValues`. */
export function fakeTarget(paramName: string, value = 0): ParamTarget {
  return { [paramName]: value };
}

/**
 * Base of the schedulers that set an optimizer's parameter (the learning rate by default) at every call.
 *
 * A scheduler is a handler: attach it with `scheduler.attach(engine)` (at `ITERATION_STARTED`) or
 * `engine.on(Events.ITERATION_STARTED, scheduler)`. Each call computes the value for the current `eventIndex`, writes
 * it to the optimizer, optionally records it in `engine.state.paramHistory[paramName]`, then advances `eventIndex` by
 * one. Schedulers set absolute values, whatever the optimizer held before.
 *
 * @example
 * class StepDecay extends ParamScheduler {
 *   protected override get schedulerName() { return 'StepDecay'; }
 *   getParam() { return 0.1 * 0.5 ** Math.floor(this.eventIndex / 100); }
 * }
 * new StepDecay(tf.train.sgd(0.1)).attach(trainer);
 */
export abstract class ParamScheduler extends BaseParamScheduler {
  /** The optimizer whose parameter is set. */
  readonly optimizer: ParamTarget;

  /**
   * @param optimizer - a tfjs optimizer, or an object with a numeric property `paramName`.
   * @param options - `{ paramName?, saveHistory? }`.
   */
  constructor(optimizer: ParamTarget, options: ParamSchedulerOptions = {}) {
    super(options);
    const where = this.schedulerName;
    if (optimizer === null || typeof optimizer !== 'object') {
      failType(where, 'argument optimizer', 'a tfjs optimizer, e.g. tf.train.sgd(0.1)', optimizer);
    }
    checkTargetParam(where, 'argument paramName', optimizer, this.paramName);
    this.optimizer = optimizer;
  }

  /** A loaded `paramName` must name a numeric property of the optimizer, as the constructor's does. */
  protected override checkParamName(where: string, subject: string, value: unknown): string {
    return checkTargetParam(where, subject, this.optimizer, super.checkParamName(where, subject, value));
  }

  /** Writes `value` to the optimizer's `paramName` (through `setLearningRate` where the optimizer needs it). */
  protected applyValue(_engine: Engine<any, any> | null, value: number): void {
    writeParam(this.optimizer, this.paramName, value);
  }
}
