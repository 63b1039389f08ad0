// Parameter schedulers, one a file. base.ts holds what every scheduler shares whatever it sets (BaseParamScheduler);
// param-scheduler.ts the optimizer's version (ParamScheduler), which the optimizer schedulers here extend;
// state-param-scheduler.ts the engine.state version (StateParamScheduler), which the *-state.ts schedulers extend.
export {
  BaseParamScheduler,
  type ParamSchedulerOptions,
  type ParamSchedulerStateDict,
  type SimulatedValue,
} from './base';
export { ConcatScheduler, type ConcatSchedulerOptions } from './concat';
export { CosineAnnealingScheduler } from './cosine-annealing';
export { CyclicalScheduler, type CyclicalSchedulerOptions } from './cyclical';
export { ExpStateScheduler, type ExpStateSchedulerOptions } from './exp-state';
export { LambdaStateScheduler, type StateLambda } from './lambda-state';
export { LinearCyclicalScheduler, type LinearCyclicalSchedulerOptions } from './linear-cyclical';
export { MultiStepStateScheduler, type MultiStepStateSchedulerOptions } from './multi-step-state';
export {
  ParamGroupScheduler,
  type ParamGroupSchedulerOptions,
  type ParamGroupSchedulerStateDict,
  type SimulatedGroupValues,
} from './param-group';
export { ParamScheduler, type ParamTarget } from './param-scheduler';
export { PiecewiseLinear, type PiecewiseLinearOptions } from './piecewise-linear';
export {
  PiecewiseLinearStateScheduler,
  type PiecewiseLinearStateSchedulerOptions,
} from './piecewise-linear-state';
export { type ReduceLROnPlateauOptions, ReduceLROnPlateauScheduler } from './reduce-lr-on-plateau';
export { StateParamScheduler, type StateParamSchedulerOptions } from './state-param-scheduler';
export { StepStateScheduler, type StepStateSchedulerOptions } from './step-state';
export { createLrSchedulerWithWarmup, type LrSchedulerWithWarmupOptions } from './warmup';
