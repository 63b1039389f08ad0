// PiecewiseLinear: linear interpolation between [eventIndex, value] milestones.
import { checkInteger, checkNumber, checkOptions, describeValue, failRange, failType, planLoad } from '../../internal';
import {
  checkNumEvents,
  type ParamSchedulerOptions,
  type ParamSchedulerStateDict,
  type SimulatedValue,
  simulate,
} from './base';
import { fakeTarget, ParamScheduler, type ParamTarget, readParam } from './param-scheduler';

/** Options of {@link PiecewiseLinear}. */
export interface PiecewiseLinearOptions extends ParamSchedulerOptions {
  /** `[eventIndex, value]` pairs with non-decreasing integer event indices; at least one pair. */
  milestonesValues: ReadonlyArray<readonly [number, number]>;
}

/**
 * Interpolates the parameter linearly between milestones: the first value before the first milestone, the last value
 * after the last one.
 *
 * @example
 * // 1, 1, 0.9, 0.8, 0.5, 0.2, 0.2, ...
 * new PiecewiseLinear(optimizer, { milestonesValues: [[1, 1.0], [3, 0.8], [5, 0.2]] }).attach(trainer);
 */
export class PiecewiseLinear extends ParamScheduler {
  /** Milestone event indices. */
  milestones: number[];
  /** Values at the milestones. */
  values: number[];
  #index = 0;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link PiecewiseLinearOptions}.
   */
  constructor(optimizer: ParamTarget, options: PiecewiseLinearOptions) {
    super(optimizer, options);
    const where = 'PiecewiseLinear';
    checkOptions(where, options, ['paramName', 'saveHistory', 'milestonesValues']);
    const { milestonesValues } = options;
    if (!Array.isArray(milestonesValues)) {
      failType(where, 'argument milestonesValues', 'an array of [eventIndex, value] pairs', milestonesValues);
    }
    if (milestonesValues.length < 1) {
      failRange(where, 'argument milestonesValues', 'an array with at least one value', milestonesValues);
    }
    const milestones: number[] = [];
    const values: number[] = [];
    for (const pair of milestonesValues) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `${where}: argument milestonesValues should be an array of pairs [milestone, value], got ${describeValue(pair)} in it.`,
        );
      }
      const [milestone, value] = pair;
      if (typeof milestone !== 'number' || !Number.isInteger(milestone)) {
        failType(where, 'a milestone', 'an integer', milestone);
      }
      const previous = milestones.at(-1);
      if (previous !== undefined && milestone < previous) {
        throw new RangeError(
          `${where}: milestones should be increasing integers, got ${milestone} after the previous milestone ${previous}.`,
        );
      }
      milestones.push(milestone);
      values.push(checkNumber(where, 'a milestonesValues value', value));
    }
    this.milestones = milestones;
    this.values = values;
  }

  protected override get schedulerName(): string {
    return 'PiecewiseLinear';
  }

  /** The value for the current `eventIndex`. */
  getParam(): number {
    const { milestones, values, eventIndex } = this;
    const last = milestones.length - 1;
    if (eventIndex < milestones[0]) return values[0];
    if (eventIndex >= milestones[last]) return values[last];
    // Segments are visited in order, so the search resumes where it left off.
    if (this.#index >= last || milestones[this.#index] > eventIndex) this.#index = 0;
    while (!(milestones[this.#index] <= eventIndex && eventIndex < milestones[this.#index + 1])) this.#index += 1;
    const i = this.#index;
    const start = milestones[i];
    const end = milestones[i + 1];
    return values[i] + ((values[i + 1] - values[i]) * (eventIndex - start)) / (end - start);
  }

  /** The base state plus copies of `milestones` and `values`. */
  override stateDict(): ParamSchedulerStateDict {
    return { ...super.stateDict(), milestones: [...this.milestones], values: [...this.values] };
  }

  /** Checks the milestones too: as many non-decreasing integers as there are finite values, at least one. */
  override [planLoad](stateDict: unknown): () => void {
    const apply = super[planLoad](stateDict);
    const where = 'PiecewiseLinear.loadStateDict';
    const { milestones, values } = stateDict as Record<string, unknown>;
    if (!Array.isArray(milestones) || milestones.length === 0) {
      failType(where, "state dict entry 'milestones'", 'a non-empty array of event indices', milestones);
    }
    if (!Array.isArray(values) || values.length !== milestones.length) {
      failType(
        where,
        "state dict entry 'values'",
        `an array of ${milestones.length} values, one per milestone`,
        values,
      );
    }
    milestones.forEach((milestone, i) => {
      checkInteger(where, `state dict entry 'milestones' at ${i}`, milestone, {
        min: i === 0 ? undefined : milestones[i - 1],
        expected:
          i === 0 ? 'a safe integer' : `an integer >= the previous milestone ${describeValue(milestones[i - 1])}`,
      });
    });
    for (const [i, value] of values.entries()) checkNumber(where, `state dict entry 'values' at ${i}`, value);
    return () => {
      apply();
      this.milestones = [...milestones];
      this.values = [...values];
      this.#index = 0;
    };
  }

  /**
   * Returns the values the scheduler would set over `numEvents` events, without touching any optimizer.
   *
   * @example
   * PiecewiseLinear.simulateValues(4, { milestonesValues: [[1, 1], [3, 0.8]] }); // [[0, 1], [1, 1], [2, 0.9], [3, 0.8]]
   */
  static simulateValues(numEvents: number, options: PiecewiseLinearOptions): SimulatedValue[] {
    checkNumEvents('PiecewiseLinear', numEvents);
    const target = fakeTarget(options.paramName ?? 'learningRate');
    const scheduler = new PiecewiseLinear(target, { ...options, saveHistory: false });
    return simulate(scheduler, numEvents, () => readParam(target, scheduler.paramName));
  }
}
