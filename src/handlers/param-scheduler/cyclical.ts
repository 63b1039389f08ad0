// CyclicalScheduler: the base of LinearCyclicalScheduler and CosineAnnealingScheduler.
import type { Engine } from '../../engine';
import { checkInteger, checkNumber, checkPlainObject, failRange, planLoad } from '../../internal';
import type { ParamSchedulerOptions, ParamSchedulerStateDict } from './base';
import { ParamScheduler, type ParamTarget } from './param-scheduler';

/** Options of the cyclical schedulers ({@link LinearCyclicalScheduler}, {@link CosineAnnealingScheduler}). */
export interface CyclicalSchedulerOptions extends ParamSchedulerOptions {
  /** Value at the start of each cycle. */
  startValue: number;
  /** Value in the middle (linear) or at the end (cosine) of each cycle. */
  endValue: number;
  /** Length of a cycle in events; at least 2. With iteration events, usually the epoch length. */
  cycleSize: number;
  /** Factor applied to `cycleSize` (and `warmupDuration`) at the end of each cycle; at least 1 (default 1). */
  cycleMult?: number;
  /** Factor applied to `startValue` at the end of each cycle (default 1). */
  startValueMult?: number;
  /** Factor applied to `endValue` at the end of each cycle (default 1). */
  endValueMult?: number;
  /** Events of linear warm-up from the last cycle's end value to the next start value, after each cycle (default 0). */
  warmupDuration?: number;
}

/** The option names of {@link CyclicalSchedulerOptions}, for `checkOptions`. */
export const CYCLICAL_OPTIONS = [
  'paramName',
  'saveHistory',
  'startValue',
  'endValue',
  'cycleSize',
  'cycleMult',
  'startValueMult',
  'endValueMult',
  'warmupDuration',
] as const;

const CYCLICAL_KEYS = [
  'startValue',
  'endValue',
  'cycleSize',
  'cycleMult',
  'cycle',
  'startValueMult',
  'endValueMult',
  'warmupDuration',
  'totalCycleSize',
] as const;

/**
 * Base of the schedulers that repeat a cycle of `cycleSize` events, optionally followed by a warm-up back to the
 * start value; cycles may grow (`cycleMult`) and their values scale (`startValueMult`, `endValueMult`).
 *
 * @example
 * class SquareWave extends CyclicalScheduler {
 *   protected override get schedulerName() { return 'SquareWave'; }
 *   getParam() { return this.eventIndex < this.cycleSize / 2 ? this.startValue : this.endValue; }
 * }
 */
export abstract class CyclicalScheduler extends ParamScheduler {
  /** Value at the start of the current cycle; multiplied by `startValueMult` after each cycle. */
  startValue: number;
  /**
   * Value in the middle (linear) or at the end (cosine) of the current cycle; multiplied by `endValueMult` after each
   * cycle.
   */
  endValue: number;
  /** Length of the current cycle in events; multiplied by `cycleMult` (truncated) after each cycle. */
  cycleSize: number;
  /** Factor applied to `cycleSize` and `warmupDuration` at the end of each cycle. */
  cycleMult: number;
  /** Number of completed cycles. */
  cycle = 0;
  /** Factor applied to `startValue` at the end of each cycle. */
  startValueMult: number;
  /** Factor applied to `endValue` at the end of each cycle. */
  endValueMult: number;
  /** Events of linear warm-up from `endValue` back to `startValue` after the current cycle. */
  warmupDuration: number;
  /** `cycleSize + warmupDuration`. */
  totalCycleSize: number;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link CyclicalSchedulerOptions}.
   */
  constructor(optimizer: ParamTarget, options: CyclicalSchedulerOptions) {
    super(optimizer, options);
    const where = this.schedulerName;
    checkPlainObject(where, 'argument options', options, 'an options object { startValue, endValue, cycleSize, ... }');
    this.startValue = checkNumber(where, 'argument startValue', options.startValue);
    this.endValue = checkNumber(where, 'argument endValue', options.endValue);
    this.cycleSize = checkInteger(where, 'argument cycleSize', options.cycleSize, {
      min: 2,
      expected: 'positive and larger than 1',
    });
    this.cycleMult = checkNumber(where, 'argument cycleMult', options.cycleMult ?? 1, {
      min: 1,
      fix: 'A factor below 1 would shrink the cycles to zero events.',
    });
    this.startValueMult = checkNumber(where, 'argument startValueMult', options.startValueMult ?? 1);
    this.endValueMult = checkNumber(where, 'argument endValueMult', options.endValueMult ?? 1);
    this.warmupDuration = checkInteger(where, 'argument warmupDuration', options.warmupDuration ?? 0, { min: 0 });
    this.totalCycleSize = this.warmupDuration + this.cycleSize;
  }

  protected override get schedulerName(): string {
    return 'CyclicalScheduler';
  }

  /**
   * Handles cycle boundaries, then sets the parameter like {@link ParamScheduler.handle}: after `cycleSize` events
   * `startValue` is scaled; after `cycleSize + warmupDuration` the next cycle starts (`eventIndex` back to 0, one more
   * `cycle`, `cycleSize`/`warmupDuration` grown by `cycleMult`, `endValue` scaled). Called by the engine.
   */
  override handle(engine: Engine<any, any> | null, name?: string): void {
    if (this.eventIndex !== 0 && this.eventIndex === this.cycleSize) {
      this.startValue *= this.startValueMult;
    }
    if (this.eventIndex !== 0 && this.eventIndex === this.totalCycleSize) {
      this.eventIndex = 0;
      this.cycleSize = Math.trunc(this.cycleSize * this.cycleMult);
      this.warmupDuration = Math.trunc(this.warmupDuration * this.cycleMult);
      this.totalCycleSize = this.warmupDuration + this.cycleSize;
      this.cycle += 1;
      this.endValue *= this.endValueMult;
    }
    super.handle(engine, name);
  }

  /** The base state plus the cycle state (`startValue`, `endValue`, `cycleSize`, the mults, `cycle`, warm-up sizes). */
  override stateDict(): ParamSchedulerStateDict {
    const sd = super.stateDict();
    for (const key of CYCLICAL_KEYS) sd[key] = this[key];
    return sd;
  }

  /** Checks the cycle state too: finite values and factors, sizes that fit together, `eventIndex` within the cycle. */
  override [planLoad](stateDict: unknown): () => void {
    const apply = super[planLoad](stateDict);
    const where = `${this.schedulerName}.loadStateDict`;
    const sd = stateDict as Record<string, unknown>;
    const entry = (key: string) => `state dict entry '${key}'`;
    const values = {
      startValue: checkNumber(where, entry('startValue'), sd.startValue),
      endValue: checkNumber(where, entry('endValue'), sd.endValue),
      cycleSize: checkInteger(where, entry('cycleSize'), sd.cycleSize, { min: 2 }),
      cycleMult: checkNumber(where, entry('cycleMult'), sd.cycleMult, { min: 1 }),
      cycle: checkInteger(where, entry('cycle'), sd.cycle, { min: 0 }),
      startValueMult: checkNumber(where, entry('startValueMult'), sd.startValueMult),
      endValueMult: checkNumber(where, entry('endValueMult'), sd.endValueMult),
      warmupDuration: checkInteger(where, entry('warmupDuration'), sd.warmupDuration, { min: 0 }),
      totalCycleSize: checkInteger(where, entry('totalCycleSize'), sd.totalCycleSize, { min: 2 }),
    };
    const total = values.cycleSize + values.warmupDuration;
    if (values.totalCycleSize !== total) {
      failRange(
        where,
        entry('totalCycleSize'),
        `cycleSize + warmupDuration = ${values.cycleSize} + ${values.warmupDuration} = ${total}`,
        values.totalCycleSize,
        'Load the state dict stateDict() returned, unedited.',
      );
    }
    checkInteger(where, entry('eventIndex'), sd.eventIndex, {
      min: 0,
      max: total,
      fix: 'A cycle restarts at 0 once eventIndex reaches cycleSize + warmupDuration.',
    });
    return () => {
      apply();
      Object.assign(this, values);
    };
  }

  /** During the warm-up after a cycle: linear from `endValue` to `startValue`; otherwise the cycle's value. */
  protected override currentValue(): number {
    if (this.eventIndex > this.cycleSize) {
      const progress = (this.eventIndex - this.cycleSize) / this.warmupDuration;
      return this.endValue + (this.startValue - this.endValue) * progress;
    }
    return this.getParam();
  }
}
