// PiecewiseLinearStateScheduler: an engine.state attribute interpolated linearly between milestones.
import { checkNumber, describeValue, failRange, failType } from '../../internal';
import type { SimulatedValue } from './base';
import {
  checkMilestones,
  checkStateOptions,
  StateParamScheduler,
  type StateParamSchedulerOptions,
  simulateState,
} from './state-param-scheduler';

/** Options of {@link PiecewiseLinearStateScheduler}. */
export interface PiecewiseLinearStateSchedulerOptions extends StateParamSchedulerOptions {
  /** `[eventCount, value]` pairs with non-decreasing integer event counts; at least one pair. */
  milestonesValues: ReadonlyArray<readonly [number, number]>;
}

/**
 * Sets `engine.state[paramName]` by linear interpolation between `[eventCount, value]` milestones at the n-th event
 * (n counts from 1): the first value before the first milestone, the last after the last (Ignite's
 * `PiecewiseLinearStateScheduler`).
 *
 * @example
 * // state.param: 1 at epochs 1..5, then 0.96, 0.92, 0.88, 0.84, 0.8 at epoch 10, ... 0.6 from epoch 15
 * new PiecewiseLinearStateScheduler({
 *   paramName: 'param', milestonesValues: [[5, 1.0], [10, 0.8], [15, 0.6]], createNew: true,
 * }).attach(trainer, Events.EPOCH_COMPLETED);
 */
export class PiecewiseLinearStateScheduler extends StateParamScheduler {
  /** Milestone event counts, non-decreasing. */
  milestones: number[];
  /** Values at the milestones. */
  values: number[];

  /** @param options - see {@link PiecewiseLinearStateSchedulerOptions}. */
  constructor(options: PiecewiseLinearStateSchedulerOptions) {
    const where = 'PiecewiseLinearStateScheduler';
    super(checkStateOptions(where, options, ['milestonesValues']));
    const { milestonesValues } = options;
    if (!Array.isArray(milestonesValues)) {
      failType(where, 'argument milestonesValues', 'an array of [eventCount, value] pairs', milestonesValues);
    }
    if (milestonesValues.length < 1) {
      failRange(where, 'argument milestonesValues', 'an array with at least one pair', milestonesValues);
    }
    for (const pair of milestonesValues) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `${where}: argument milestonesValues should be an array of pairs [milestone, value], got ${describeValue(pair)} in it.`,
        );
      }
    }
    this.milestones = checkMilestones(
      where,
      'milestones of argument milestonesValues',
      milestonesValues.map(([milestone]) => milestone),
      false,
    );
    this.values = milestonesValues.map(([, value]) => checkNumber(where, 'a milestonesValues value', value));
  }

  protected override get schedulerName(): string {
    return 'PiecewiseLinearStateScheduler';
  }

  /** The interpolated value for the latest event. */
  getParam(): number {
    const { milestones, values, eventIndex } = this;
    const last = milestones.length - 1;
    if (eventIndex < milestones[0]!) return values[0]!;
    if (eventIndex >= milestones[last]!) return values[last]!;
    // the segment [milestones[i], milestones[i + 1]) holding eventIndex; milestones[0] <= eventIndex < milestones[last]
    let i = 0;
    while (milestones[i + 1]! <= eventIndex) i += 1;
    const start = milestones[i]!;
    const end = milestones[i + 1]!;
    return values[i]! + ((values[i + 1]! - values[i]!) * (eventIndex - start)) / (end - start);
  }

  protected ownState(): Record<string, unknown> {
    return { milestones: [...this.milestones], values: [...this.values] };
  }

  protected checkOwnState(where: string, sd: Record<string, unknown>): () => void {
    const milestones = checkMilestones(where, "state dict entry 'milestones'", sd.milestones, false);
    const { values } = sd;
    if (!Array.isArray(values) || values.length !== milestones.length || milestones.length === 0) {
      failType(
        where,
        "state dict entry 'values'",
        `an array of ${milestones.length || 'one or more'} numbers, one for each milestone`,
        values,
      );
    }
    values.forEach((value, i) => {
      checkNumber(where, `state dict entry 'values' [${i}]`, value);
    });
    return () => {
      this.milestones = milestones;
      this.values = [...(values as number[])];
    };
  }

  /**
   * The values the scheduler would set over `numEvents` events, on a throwaway engine: `[i, value at event i + 1]`.
   *
   * @example
   * PiecewiseLinearStateScheduler.simulateValues(4, { paramName: 'p', milestonesValues: [[2, 1], [4, 0]] }); // 1, 1, 0.5, 0
   */
  static simulateValues(numEvents: number, options: PiecewiseLinearStateSchedulerOptions): SimulatedValue[] {
    const scheduler = new PiecewiseLinearStateScheduler({ ...options, saveHistory: false });
    return simulateState('PiecewiseLinearStateScheduler', scheduler, numEvents);
  }
}
