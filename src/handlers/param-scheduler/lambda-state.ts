// LambdaStateScheduler: an engine.state attribute set by a function of the event count.
import { checkFunction, describeValue } from '../../internal';
import type { SimulatedValue } from './base';
import {
  checkStateOptions,
  StateParamScheduler,
  type StateParamSchedulerOptions,
  simulateState,
} from './state-param-scheduler';

/** The schedule of a {@link LambdaStateScheduler}: the value for the n-th event (n counts from 1). */
export type StateLambda = (eventIndex: number) => number;

/**
 * Sets `engine.state[paramName]` to `lambdaFn(n)` at the n-th event, n counting from 1 (Ignite's
 * `LambdaStateScheduler`). The function is code, not state: its state dict holds the event count only, so give the
 * same function when you build the scheduler again to resume it.
 *
 * @example
 * // state.param: 0.9, 0.81, ..., 1.0 at epoch 9, 0.9 at epoch 10
 * new LambdaStateScheduler((n) => 0.9 ** (n % 9), { paramName: 'param', createNew: true })
 *   .attach(trainer, Events.EPOCH_COMPLETED);
 */
export class LambdaStateScheduler extends StateParamScheduler {
  /** The schedule: the value for the n-th event. */
  readonly lambdaFn: StateLambda;

  /**
   * @param lambdaFn - `(eventIndex) => value`, called at each event with the event count (1, 2, ...); it must return
   *   a number.
   * @param options - `{ paramName, saveHistory?, createNew? }`.
   */
  constructor(lambdaFn: StateLambda, options: StateParamSchedulerOptions) {
    super(checkStateOptions('LambdaStateScheduler', options, []));
    this.lambdaFn = checkFunction('LambdaStateScheduler', 'argument lambdaFn', lambdaFn, '(eventIndex) => number');
  }

  protected override get schedulerName(): string {
    return 'LambdaStateScheduler';
  }

  /** `lambdaFn(eventIndex)`: the value for the latest event. */
  getParam(): number {
    const value: unknown = this.lambdaFn(this.eventIndex);
    if (typeof value !== 'number') {
      throw new TypeError(
        `LambdaStateScheduler: lambdaFn should return a number, got ${describeValue(value)} for event ${this.eventIndex}.`,
      );
    }
    return value;
  }

  protected ownState(): Record<string, unknown> {
    return {};
  }

  protected checkOwnState(): () => void {
    return () => {};
  }

  /**
   * The values the scheduler would set over `numEvents` events, on a throwaway engine: `[i, lambdaFn(i + 1)]`.
   *
   * @example
   * LambdaStateScheduler.simulateValues(3, (n) => 10 * n, { paramName: 'p' }); // [[0, 10], [1, 20], [2, 30]]
   */
  static simulateValues(
    numEvents: number,
    lambdaFn: StateLambda,
    options: StateParamSchedulerOptions,
  ): SimulatedValue[] {
    const scheduler = new LambdaStateScheduler(lambdaFn, { ...options, saveHistory: false });
    return simulateState('LambdaStateScheduler', scheduler, numEvents);
  }
}
