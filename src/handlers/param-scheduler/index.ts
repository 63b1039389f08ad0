// Parameter schedulers, one a file. base.ts holds what every scheduler shares whatever it sets (BaseParamScheduler);
// param-scheduler.ts the optimizer's version (ParamScheduler), which the others here extend.
export {
  BaseParamScheduler,
  type ParamSchedulerOptions,
  type ParamSchedulerStateDict,
  type SimulatedValue,
} from './base';
export { ConcatScheduler, type ConcatSchedulerOptions } from './concat';
export { CosineAnnealingScheduler } from './cosine-annealing';
export { CyclicalScheduler, type CyclicalSchedulerOptions } from './cyclical';
export { LinearCyclicalScheduler, type LinearCyclicalSchedulerOptions } from './linear-cyclical';
export { ParamScheduler, type ParamTarget } from './param-scheduler';
export { PiecewiseLinear, type PiecewiseLinearOptions } from './piecewise-linear';
export { type ReduceLROnPlateauOptions, ReduceLROnPlateauScheduler } from './reduce-lr-on-plateau';
export { createLrSchedulerWithWarmup, type LrSchedulerWithWarmupOptions } from './warmup';
