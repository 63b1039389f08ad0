// createLrSchedulerWithWarmup: a linear warm-up in front of any scheduler.
import { checkNumber, checkOptions, checkPlainObject, failRange, failType } from '../../internal';
import { ConcatScheduler } from './concat';
import { ParamScheduler, readParam } from './param-scheduler';
import { PiecewiseLinear } from './piecewise-linear';

/** Options of {@link createLrSchedulerWithWarmup}. */
export interface LrSchedulerWithWarmupOptions {
  /** Value at the start of the warm-up. */
  warmupStartValue: number;
  /** Warm-up length in events; an integer of at least 2. */
  warmupDuration: number;
  /** Value at the end of the warm-up (default: the optimizer's current value). */
  warmupEndValue?: number;
  /** If true, values are appended to `engine.state.paramHistory` (default false). */
  saveHistory?: boolean;
  /** If given, filled in place with `[event, value]` for as many events as its length. */
  outputSimulatedValues?: unknown[];
}

/**
 * Puts a linear warm-up in front of a scheduler: from `warmupStartValue` to `warmupEndValue` over `warmupDuration`
 * events, then `lrScheduler` from its first value. If `lrScheduler` starts at `warmupEndValue`, the warm-up stops one
 * event short so that value is not repeated.
 *
 * @param lrScheduler - the scheduler to run after the warm-up.
 * @param options - see {@link LrSchedulerWithWarmupOptions}.
 * @returns a {@link ConcatScheduler}; attach it like any scheduler.
 * @example
 * const cosine = new CosineAnnealingScheduler(optimizer, { startValue: 0.1, endValue: 0.001, cycleSize: 100 });
 * createLrSchedulerWithWarmup(cosine, { warmupStartValue: 0, warmupDuration: 10 }).attach(trainer);
 */
export function createLrSchedulerWithWarmup(
  lrScheduler: ParamScheduler,
  options: LrSchedulerWithWarmupOptions,
): ConcatScheduler {
  const where = 'createLrSchedulerWithWarmup';
  if (!(lrScheduler instanceof ParamScheduler)) {
    failType(where, 'argument lrScheduler', 'a parameter scheduler (e.g. CosineAnnealingScheduler)', lrScheduler);
  }
  checkPlainObject(where, 'argument options', options, 'an object { warmupStartValue, warmupDuration }');
  checkOptions(where, options, [
    'warmupStartValue',
    'warmupDuration',
    'warmupEndValue',
    'saveHistory',
    'outputSimulatedValues',
  ]);
  const { warmupDuration, saveHistory = false, outputSimulatedValues } = options;
  if (!Number.isSafeInteger(warmupDuration)) failType(where, 'argument warmupDuration', 'integer', warmupDuration);
  if (warmupDuration < 2) failRange(where, 'argument warmupDuration', 'at least 2 events', warmupDuration);
  const startValue = checkNumber(where, 'argument warmupStartValue', options.warmupStartValue);
  const endValue = checkNumber(
    where,
    'argument warmupEndValue',
    options.warmupEndValue ?? readParam(lrScheduler.optimizer, lrScheduler.paramName),
  );
  if (outputSimulatedValues !== undefined && !Array.isArray(outputSimulatedValues)) {
    failType(where, 'argument outputSimulatedValues', 'an array, e.g. new Array(100)', outputSimulatedValues);
  }
  const milestonesValues: [number, number][] = [
    [0, startValue],
    [warmupDuration - 1, endValue],
  ];
  if (lrScheduler.getParam() === endValue) {
    if (warmupDuration > 2) {
      const step = (endValue - startValue) / (warmupDuration - 1);
      milestonesValues[1] = [warmupDuration - 2, endValue - step];
    } else {
      milestonesValues.pop();
    }
  }
  const warmup = new PiecewiseLinear(lrScheduler.optimizer, {
    paramName: lrScheduler.paramName,
    milestonesValues,
    saveHistory,
  });
  const concatOptions = { schedulers: [warmup, lrScheduler], durations: [milestonesValues.at(-1)![0] + 1] };
  const combined = new ConcatScheduler({ ...concatOptions, saveHistory });
  if (outputSimulatedValues !== undefined) {
    const simulated = ConcatScheduler.simulateValues(outputSimulatedValues.length, concatOptions);
    simulated.forEach((value, i) => {
      outputSimulatedValues[i] = value;
    });
  }
  return combined;
}
