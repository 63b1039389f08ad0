export { Attachable, EventHandler } from './attachable';
export {
  BasicTimeProfiler,
  type BasicTimeProfilerResults,
  type ProfiledEvent,
  type ProfilerOptions,
  type TimeStats,
} from './basic-time-profiler';
export * from './checkpoint';
export {
  EarlyStopping,
  type EarlyStoppingOptions,
  type EarlyStoppingStateDict,
} from './early-stopping';
export { EMAHandler, type EMAHandlerOptions, type EMAHandlerStateDict } from './ema-handler';
export {
  EpochOutputStore,
  type EpochOutputStoreOptions,
  type EpochOutputStoreStateDict,
  type StoredTensor,
} from './epoch-output-store';
export {
  HandlersTimeProfiler,
  type HandlersTimeProfilerResults,
  type HandlerTimeStats,
} from './handlers-time-profiler';
export {
  FastaiLRFinder,
  type FastaiLRFinderOptions,
  type LRFinderHandle,
  type LRFinderResults,
  type LRFinderSavable,
} from './lr-finder';
export {
  BaseParamScheduler,
  ConcatScheduler,
  type ConcatSchedulerOptions,
  CosineAnnealingScheduler,
  CyclicalScheduler,
  type CyclicalSchedulerOptions,
  createLrSchedulerWithWarmup,
  ExpStateScheduler,
  type ExpStateSchedulerOptions,
  LambdaStateScheduler,
  LinearCyclicalScheduler,
  type LinearCyclicalSchedulerOptions,
  type LrSchedulerWithWarmupOptions,
  MultiStepStateScheduler,
  type MultiStepStateSchedulerOptions,
  ParamGroupScheduler,
  type ParamGroupSchedulerOptions,
  type ParamGroupSchedulerStateDict,
  ParamScheduler,
  type ParamSchedulerOptions,
  type ParamSchedulerStateDict,
  type ParamTarget,
  PiecewiseLinear,
  type PiecewiseLinearOptions,
  PiecewiseLinearStateScheduler,
  type PiecewiseLinearStateSchedulerOptions,
  type ReduceLROnPlateauOptions,
  ReduceLROnPlateauScheduler,
  type SimulatedGroupValues,
  type SimulatedValue,
  type StateLambda,
  StateParamScheduler,
  type StateParamSchedulerOptions,
  StepStateScheduler,
  type StepStateSchedulerOptions,
} from './param-scheduler';
// The package's ProgressBar (this folder's handler plus the page's displays) is exported from src/browser.
export { type ProgressBarAttachOptions, StreamProgressSink, type WritableLike } from './progress-bar';
export {
  formatProgressLine,
  formatProgressText,
  type ProgressInfo,
  type ProgressSink,
} from './progress-format';
export {
  type ResumableCheckpointOptions,
  type ResumableRun,
  ResumableTraining,
  type ResumableTrainingOptions,
  type ResumeReport,
  setupResumableTraining,
} from './resumable';
export { ScalarHistory, type ScalarHistoryOptions, type ScalarHistoryStateDict } from './scalar-history';
export { TerminateOnNan, type TerminateOnNanOptions } from './terminate-on-nan';
export { TimeLimit, type TimeLimitOptions } from './time-limit';
export { Timer, type TimerEvents, type TimerOptions } from './timer';
