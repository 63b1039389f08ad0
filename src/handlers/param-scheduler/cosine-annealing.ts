// CosineAnnealingScheduler: half a cosine wave per cycle, with restarts.
import { checkOptions } from '../../internal';
import { checkNumEvents, type SimulatedValue, simulate } from './base';
import { CYCLICAL_OPTIONS, CyclicalScheduler, type CyclicalSchedulerOptions } from './cyclical';
import { fakeTarget, type ParamTarget, readParam } from './param-scheduler';

/**
 * Anneals the parameter from `startValue` to `endValue` along half a cosine wave over each cycle (Smith 2017;
 * SGDR-style restarts).
 *
 * @example
 * // 0, 0.1464, 0.5, 0.8536, 0, ... over cycles of 4 iterations
 * new CosineAnnealingScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 4 }).attach(trainer);
 */
export class CosineAnnealingScheduler extends CyclicalScheduler {
  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link CyclicalSchedulerOptions}.
   */
  constructor(optimizer: ParamTarget, options: CyclicalSchedulerOptions) {
    super(optimizer, options);
    checkOptions('CosineAnnealingScheduler', options, CYCLICAL_OPTIONS);
  }

  protected override get schedulerName(): string {
    return 'CosineAnnealingScheduler';
  }

  /** The value for the current `eventIndex`. */
  getParam(): number {
    const progress = this.eventIndex / this.cycleSize;
    return this.startValue + ((this.endValue - this.startValue) / 2) * (1 - Math.cos(Math.PI * progress));
  }

  /**
   * Returns the values the scheduler would set over `numEvents` events, without touching any optimizer.
   *
   * @example
   * CosineAnnealingScheduler.simulateValues(3, { startValue: 0, endValue: 1, cycleSize: 4 }); // [[0, 0], [1, 0.1464...], [2, 0.5]]
   */
  static simulateValues(numEvents: number, options: CyclicalSchedulerOptions): SimulatedValue[] {
    checkNumEvents('CosineAnnealingScheduler', numEvents);
    const target = fakeTarget(options.paramName ?? 'learningRate');
    const scheduler = new CosineAnnealingScheduler(target, { ...options, saveHistory: false });
    return simulate(scheduler, numEvents, () => readParam(target, scheduler.paramName));
  }
}
