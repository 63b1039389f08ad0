// StepStateScheduler: an engine.state attribute decayed by gamma every stepSize events.
import { checkInteger, checkNumber } from '../../internal';
import type { SimulatedValue } from './base';
import {
  checkFiniteEntry,
  checkStateOptions,
  StateParamScheduler,
  type StateParamSchedulerOptions,
  simulateState,
} from './state-param-scheduler';

/** Options of {@link StepStateScheduler}. */
export interface StepStateSchedulerOptions extends StateParamSchedulerOptions {
  /** The value before any decay. */
  initialValue: number;
  /** The factor applied every `stepSize` events. */
  gamma: number;
  /** Events between two decays; a positive integer. */
  stepSize: number;
}

/**
 * Sets `engine.state[paramName]` to `initialValue * gamma ** floor(n / stepSize)` at the n-th event (PyTorch's
 * `StepLR`, Ignite's `StepStateScheduler`).
 *
 * @example
 * // state.alpha: 1 at epochs 1..4, 0.9 at 5..9, 0.81 at 10..14, ...
 * new StepStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.9, stepSize: 5, createNew: true })
 *   .attach(trainer, Events.EPOCH_COMPLETED);
 */
export class StepStateScheduler extends StateParamScheduler {
  /** The value before any decay. */
  initialValue: number;
  /** The factor applied every `stepSize` events. */
  gamma: number;
  /** Events between two decays. */
  stepSize: number;

  /** @param options - see {@link StepStateSchedulerOptions}; all but `saveHistory` and `createNew` are required. */
  constructor(options: StepStateSchedulerOptions) {
    super(checkStateOptions('StepStateScheduler', options, ['initialValue', 'gamma', 'stepSize']));
    this.initialValue = checkNumber('StepStateScheduler', 'argument initialValue', options.initialValue);
    this.gamma = checkNumber('StepStateScheduler', 'argument gamma', options.gamma);
    this.stepSize = checkInteger('StepStateScheduler', 'argument stepSize', options.stepSize, { min: 1 });
  }

  protected override get schedulerName(): string {
    return 'StepStateScheduler';
  }

  /** `initialValue * gamma ** floor(eventIndex / stepSize)`: the value set at the latest event. */
  getParam(): number {
    return this.initialValue * this.gamma ** Math.floor(this.eventIndex / this.stepSize);
  }

  protected ownState(): Record<string, unknown> {
    return { initialValue: this.initialValue, gamma: this.gamma, stepSize: this.stepSize };
  }

  protected checkOwnState(where: string, sd: Record<string, unknown>): () => void {
    const initialValue = checkFiniteEntry(where, sd, 'initialValue');
    const gamma = checkFiniteEntry(where, sd, 'gamma');
    const stepSize = checkInteger(where, "state dict entry 'stepSize'", sd.stepSize, { min: 1 });
    return () => {
      this.initialValue = initialValue;
      this.gamma = gamma;
      this.stepSize = stepSize;
    };
  }

  /**
   * The values the scheduler would set over `numEvents` events, on a throwaway engine: `[i, value at event i + 1]`.
   *
   * @example
   * StepStateScheduler.simulateValues(4, { paramName: 'p', initialValue: 1, gamma: 0.5, stepSize: 2 }); // 1, 0.5, 0.5, 0.25
   */
  static simulateValues(numEvents: number, options: StepStateSchedulerOptions): SimulatedValue[] {
    const scheduler = new StepStateScheduler({ ...options, saveHistory: false });
    return simulateState('StepStateScheduler', scheduler, numEvents);
  }
}
