// MultiStepStateScheduler: an engine.state attribute decayed by gamma at each milestone.
import { checkNumber } from '../../internal';
import type { SimulatedValue } from './base';
import {
  checkFiniteEntry,
  checkMilestones,
  checkStateOptions,
  StateParamScheduler,
  type StateParamSchedulerOptions,
  simulateState,
} from './state-param-scheduler';

/** Options of {@link MultiStepStateScheduler}. */
export interface MultiStepStateSchedulerOptions extends StateParamSchedulerOptions {
  /** The value before any decay. */
  initialValue: number;
  /** The factor applied at each milestone. */
  gamma: number;
  /** Event counts at which the value decays; increasing integers. */
  milestones: readonly number[];
}

/** How many of the sorted `milestones` are `<= n` (Python's `bisect_right`). */
function countReached(milestones: readonly number[], n: number): number {
  let low = 0;
  let high = milestones.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (milestones[middle]! <= n) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Sets `engine.state[paramName]` to `initialValue * gamma ** k` at the n-th event, where k is the number of
 * milestones `<= n` (PyTorch's `MultiStepLR`, Ignite's `MultiStepStateScheduler`).
 *
 * @example
 * // state.alpha: 1, 1, 0.9, 0.9, 0.9, 0.81, ... at the ends of epochs 1, 2, 3, ...
 * new MultiStepStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.9, milestones: [3, 6, 9], createNew: true })
 *   .attach(trainer, Events.EPOCH_COMPLETED);
 */
export class MultiStepStateScheduler extends StateParamScheduler {
  /** The value before any decay. */
  initialValue: number;
  /** The factor applied at each milestone. */
  gamma: number;
  /** Event counts at which the value decays, increasing. */
  milestones: number[];

  /** @param options - see {@link MultiStepStateSchedulerOptions}; all but `saveHistory` and `createNew` are required. */
  constructor(options: MultiStepStateSchedulerOptions) {
    const where = 'MultiStepStateScheduler';
    super(checkStateOptions(where, options, ['initialValue', 'gamma', 'milestones']));
    this.initialValue = checkNumber(where, 'argument initialValue', options.initialValue);
    this.gamma = checkNumber(where, 'argument gamma', options.gamma);
    this.milestones = checkMilestones(where, 'argument milestones', options.milestones, true);
  }

  protected override get schedulerName(): string {
    return 'MultiStepStateScheduler';
  }

  /** `initialValue * gamma ** (milestones <= eventIndex)`: the value set at the latest event. */
  getParam(): number {
    return this.initialValue * this.gamma ** countReached(this.milestones, this.eventIndex);
  }

  protected ownState(): Record<string, unknown> {
    return { initialValue: this.initialValue, gamma: this.gamma, milestones: [...this.milestones] };
  }

  protected checkOwnState(where: string, sd: Record<string, unknown>): () => void {
    const initialValue = checkFiniteEntry(where, sd, 'initialValue');
    const gamma = checkFiniteEntry(where, sd, 'gamma');
    const milestones = checkMilestones(where, "state dict entry 'milestones'", sd.milestones, true);
    return () => {
      this.initialValue = initialValue;
      this.gamma = gamma;
      this.milestones = milestones;
    };
  }

  /**
   * The values the scheduler would set over `numEvents` events, on a throwaway engine: `[i, value at event i + 1]`.
   *
   * @example
   * MultiStepStateScheduler.simulateValues(4, { paramName: 'p', initialValue: 1, gamma: 0.5, milestones: [2, 3] }); // 1, 0.5, 0.25, 0.25
   */
  static simulateValues(numEvents: number, options: MultiStepStateSchedulerOptions): SimulatedValue[] {
    const scheduler = new MultiStepStateScheduler({ ...options, saveHistory: false });
    return simulateState('MultiStepStateScheduler', scheduler, numEvents);
  }
}
