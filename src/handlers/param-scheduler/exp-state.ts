// ExpStateScheduler: an engine.state attribute decayed by gamma at every event.
import { checkNumber } from '../../internal';
import type { SimulatedValue } from './base';
import {
  checkFiniteEntry,
  checkStateOptions,
  StateParamScheduler,
  type StateParamSchedulerOptions,
  simulateState,
} from './state-param-scheduler';

/** Options of {@link ExpStateScheduler}. */
export interface ExpStateSchedulerOptions extends StateParamSchedulerOptions {
  /** The value before any decay (`initialValue * gamma ** 0`). */
  initialValue: number;
  /** The factor applied at each event. */
  gamma: number;
}

/**
 * Sets `engine.state[paramName]` to `initialValue * gamma ** n` at the n-th event (PyTorch's `ExponentialLR` closed
 * form, Ignite's `ExpStateScheduler`): the first event sets `initialValue * gamma`.
 *
 * @example
 * // state.temperature: 0.9, 0.81, 0.729, 0.6561 at the ends of epochs 1..4
 * new ExpStateScheduler({ paramName: 'temperature', initialValue: 1, gamma: 0.9, createNew: true })
 *   .attach(trainer, Events.EPOCH_COMPLETED);
 */
export class ExpStateScheduler extends StateParamScheduler {
  /** The value before any decay. */
  initialValue: number;
  /** The factor applied at each event. */
  gamma: number;

  /** @param options - see {@link ExpStateSchedulerOptions}; `paramName`, `initialValue` and `gamma` are required. */
  constructor(options: ExpStateSchedulerOptions) {
    super(checkStateOptions('ExpStateScheduler', options, ['initialValue', 'gamma']));
    this.initialValue = checkNumber('ExpStateScheduler', 'argument initialValue', options.initialValue);
    this.gamma = checkNumber('ExpStateScheduler', 'argument gamma', options.gamma);
  }

  protected override get schedulerName(): string {
    return 'ExpStateScheduler';
  }

  /** `initialValue * gamma ** eventIndex`: the value set at the latest event. */
  getParam(): number {
    return this.initialValue * this.gamma ** this.eventIndex;
  }

  protected ownState(): Record<string, unknown> {
    return { initialValue: this.initialValue, gamma: this.gamma };
  }

  protected checkOwnState(where: string, sd: Record<string, unknown>): () => void {
    const initialValue = checkFiniteEntry(where, sd, 'initialValue');
    const gamma = checkFiniteEntry(where, sd, 'gamma');
    return () => {
      this.initialValue = initialValue;
      this.gamma = gamma;
    };
  }

  /**
   * The values the scheduler would set over `numEvents` events, on a throwaway engine: `[i, value at event i + 1]`.
   *
   * @example
   * ExpStateScheduler.simulateValues(3, { paramName: 'p', initialValue: 1, gamma: 0.9 }); // [[0, 0.9], [1, 0.81], [2, 0.729]]
   */
  static simulateValues(numEvents: number, options: ExpStateSchedulerOptions): SimulatedValue[] {
    const scheduler = new ExpStateScheduler({ ...options, saveHistory: false });
    return simulateState('ExpStateScheduler', scheduler, numEvents);
  }
}
