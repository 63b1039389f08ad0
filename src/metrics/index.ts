export { Accuracy } from './accuracy';
export { Average, type AverageInput } from './average';
export {
  ConfusionMatrix,
  type ConfusionMatrixAverage,
  cmAccuracy,
  cmPrecision,
  cmRecall,
  DiceCoefficient,
  IoU,
  JaccardIndex,
  mIoU,
} from './confusion-matrix';
export { Fbeta, type FbetaOptions } from './fbeta';
export type { PredictionPair } from './inputs';
export { Loss } from './loss';
export { MeanAbsoluteError } from './mean-absolute-error';
export { MeanSquaredError } from './mean-squared-error';
export {
  type AnyMetric,
  BatchWise,
  EpochWise,
  Metric,
  MetricsLambda,
  type MetricUsage,
  type MetricValues,
  NotComputableError,
  RunningBatchWise,
  RunningEpochWise,
} from './metric';
export { Precision } from './precision';
export type { PrecisionRecallAverage, PrecisionRecallOptions } from './precision-recall';
export { Recall } from './recall';
export { RootMeanSquaredError } from './root-mean-squared-error';
export {
  RunningAverage,
  type RunningAverageInput,
  type RunningAverageOptions,
  type RunningAverageStateDict,
} from './running-average';
export { TopKCategoricalAccuracy } from './top-k-categorical-accuracy';
