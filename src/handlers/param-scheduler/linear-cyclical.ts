// LinearCyclicalScheduler: a triangle wave between two values.
import { checkBoolean, checkOptions } from '../../internal';
import { checkNumEvents, type SimulatedValue, simulate } from './base';
import { CYCLICAL_OPTIONS, CyclicalScheduler, type CyclicalSchedulerOptions } from './cyclical';
import { fakeTarget, type ParamTarget, readParam } from './param-scheduler';

/** Options of {@link LinearCyclicalScheduler}. */
export interface LinearCyclicalSchedulerOptions extends CyclicalSchedulerOptions {
  /** If true, only one half cycle: linear from `startValue` to `endValue`, then restart (default false). */
  monotonic?: boolean;
}

/**
 * Moves the parameter linearly from `startValue` to `endValue` over half a cycle and back over the other half
 * (or, with `monotonic`, from start to end over the whole cycle).
 *
 * @example
 * const optimizer = tf.train.sgd(0.1);
 * // 0, 0.5, 1, 0.5, 0, 0.5, ... over cycles of 4 iterations
 * new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 4 }).attach(trainer);
 */
export class LinearCyclicalScheduler extends CyclicalScheduler {
  /** Whether only the rising (or falling) half of the cycle is used. */
  readonly monotonic: boolean;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link LinearCyclicalSchedulerOptions}.
   */
  constructor(optimizer: ParamTarget, options: LinearCyclicalSchedulerOptions) {
    super(optimizer, options);
    const where = 'LinearCyclicalScheduler';
    checkOptions(where, options, [...CYCLICAL_OPTIONS, 'monotonic']);
    const monotonic = checkBoolean(where, 'argument monotonic', options.monotonic ?? false);
    if (this.warmupDuration > 0 && !monotonic) {
      throw new RangeError(
        `${where}: invalid combination when warmupDuration > 0 and monotonic is false (warmupDuration: ${this.warmupDuration}); ` +
          'set warmupDuration: 0 or monotonic: true.',
      );
    }
    this.monotonic = monotonic;
  }

  protected override get schedulerName(): string {
    return 'LinearCyclicalScheduler';
  }

  /** The value for the current `eventIndex`. */
  getParam(): number {
    const progress = this.eventIndex / this.cycleSize;
    if (this.monotonic) return this.startValue + (this.endValue - this.startValue) * progress;
    return this.endValue + (this.startValue - this.endValue) * Math.abs(progress - 0.5) * 2;
  }

  /**
   * Returns the values the scheduler would set over `numEvents` events, without touching any optimizer.
   *
   * @example
   * LinearCyclicalScheduler.simulateValues(5, { startValue: 0, endValue: 1, cycleSize: 4 });
   * // [[0, 0], [1, 0.5], [2, 1], [3, 0.5], [4, 0]]
   */
  static simulateValues(numEvents: number, options: LinearCyclicalSchedulerOptions): SimulatedValue[] {
    checkNumEvents('LinearCyclicalScheduler', numEvents);
    const target = fakeTarget(options.paramName ?? 'learningRate');
    const scheduler = new LinearCyclicalScheduler(target, { ...options, saveHistory: false });
    return simulate(scheduler, numEvents, () => readParam(target, scheduler.paramName));
  }
}
