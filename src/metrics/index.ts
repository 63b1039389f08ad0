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
export { Entropy, type EntropyInput, type EntropyStateDict } from './general/entropy';
export { Frequency, type FrequencyOptions, type FrequencyStateDict } from './general/frequency';
export {
  GeometricAverage,
  type GeometricAverageInput,
  type GeometricAverageStateDict,
} from './general/geometric-average';
export { MetricGroup, type MetricGroupStateDict, type MetricGroupValues } from './general/metric-group';
export {
  type NestedNumbers,
  VariableAccumulation,
  type VariableAccumulationInput,
  type VariableAccumulationResult,
  type VariableAccumulationStateDict,
} from './general/variable-accumulation';
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
export {
  Bleu,
  type BleuMacroStateDict,
  type BleuMicroStateDict,
  type BleuOptions,
  type BleuSmooth,
  type BleuStateDict,
} from './nlp/bleu';
export { Rouge, type RougeOptions, type RougeStateDict, type RougeValues, type RougeVariant } from './nlp/rouge';
export type { TextPair, Token } from './nlp/tokens';
export { Precision } from './precision';
export type { PrecisionRecallAverage, PrecisionRecallOptions, PrecisionRecallStateDict } from './precision-recall';
export { PrecisionRecallCurve, type PrecisionRecallCurveResult } from './precision-recall-curve';
export { Recall } from './recall';
export { CosineSimilarity, type CosineSimilarityStateDict } from './regression/cosine-similarity';
export { JSDivergence, type JSDivergenceStateDict } from './regression/js-divergence';
export { KLDivergence, type KLDivergenceStateDict } from './regression/kl-divergence';
export { MaximumAbsoluteError, type MaximumAbsoluteErrorStateDict } from './regression/maximum-absolute-error';
export {
  MeanAbsoluteRelativeError,
  type MeanAbsoluteRelativeErrorStateDict,
} from './regression/mean-absolute-relative-error';
export { MedianAbsoluteError, type MedianAbsoluteErrorStateDict } from './regression/median-absolute-error';
export { PearsonCorrelation, type PearsonCorrelationStateDict } from './regression/pearson-correlation';
export { R2Score, type R2ScoreStateDict } from './regression/r2-score';
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
export { PSNR, type PSNROptions, type PSNRStateDict } from './vision/psnr';
export { SSIM, type SSIMOptions, type SSIMStateDict } from './vision/ssim';
