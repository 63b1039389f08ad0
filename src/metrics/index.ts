export { Accuracy } from './accuracy';
export { Average, type AverageInput } from './average';
export { AveragePrecision } from './average-precision';
export type { BinaryScoresStateDict } from './binary-scores';
export {
  ClassificationReport,
  type ClassificationReportDict,
  type ClassificationReportOptions,
  type ClassificationReportRow,
} from './classification-report';
export { CohenKappa, type CohenKappaOptions, type CohenKappaStateDict, type CohenKappaWeights } from './cohen-kappa';
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
export { EpochMetric, type EpochMetricStateDict } from './epoch-metric';
export type { OutputDtype, OutputsState } from './epoch-outputs';
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
export type { KindState, SumsState, SumsStateDict } from './metric-state';
export {
  MultiLabelConfusionMatrix,
  type MultiLabelConfusionMatrixOptions,
  type MultiLabelConfusionMatrixStateDict,
} from './multilabel-confusion-matrix';
export { Precision } from './precision';
export type { PrecisionRecallAverage, PrecisionRecallOptions, PrecisionRecallStateDict } from './precision-recall';
export { PrecisionRecallCurve, type PrecisionRecallCurveResult } from './precision-recall-curve';
export { Recall } from './recall';
export { RocAuc } from './roc-auc';
export { RocCurve, type RocCurveResult } from './roc-curve';
export { RootMeanSquaredError } from './root-mean-squared-error';
export {
  RunningAverage,
  type RunningAverageInput,
  type RunningAverageOptions,
  type RunningAverageStateDict,
} from './running-average';
export { TopKCategoricalAccuracy } from './top-k-categorical-accuracy';
