// Classification metrics (issue 15 and the first ones), for npm run bench:metrics.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  AveragePrecision,
  ClassificationReport,
  CohenKappa,
  ConfusionMatrix,
  EpochMetric,
  Fbeta,
  Loss,
  MultiLabelConfusionMatrix,
  mIoU,
  Precision,
  PrecisionRecallCurve,
  Recall,
  RocAuc,
  RocCurve,
  TopKCategoricalAccuracy,
} from '../../src/metrics';
import type { MetricBenchCase } from './types';

export const cases: MetricBenchCase[] = [
  { name: 'Accuracy', make: () => new Accuracy(), input: (b) => [b.scores, b.labels] },
  { name: 'Accuracy (one-hot y)', make: () => new Accuracy(), input: (b) => [b.scores, b.oneHot] },
  {
    name: 'Accuracy (multilabel)',
    make: () => new Accuracy({ isMultilabel: true }),
    input: (b) => [b.scores, b.multilabel],
  },
  {
    name: 'Loss (softmax cross-entropy)',
    make: () => new Loss((p, y) => tf.losses.softmaxCrossEntropy(y, p) as tf.Scalar),
    input: (b) => [b.scores, b.oneHot],
  },
  { name: 'Precision (macro)', make: () => new Precision({ average: 'macro' }), input: (b) => [b.scores, b.labels] },
  {
    name: 'Precision (weighted)',
    make: () => new Precision({ average: 'weighted' }),
    input: (b) => [b.scores, b.labels],
  },
  {
    name: 'Precision (samples, multilabel)',
    make: () => new Precision({ average: 'samples', isMultilabel: true }),
    input: (b) => [b.scores, b.multilabel],
  },
  { name: 'Recall (per class)', make: () => new Recall(), input: (b) => [b.scores, b.labels] },
  { name: 'Fbeta (F1)', make: () => new Fbeta({ beta: 1 }), input: (b) => [b.scores, b.labels] },
  { name: 'ConfusionMatrix', make: () => new ConfusionMatrix({ numClasses: 10 }), input: (b) => [b.scores, b.labels] },
  { name: 'mIoU', make: () => mIoU(new ConfusionMatrix({ numClasses: 10 })), input: (b) => [b.scores, b.labels] },
  {
    name: 'TopKCategoricalAccuracy (k 5)',
    make: () => new TopKCategoricalAccuracy(),
    input: (b) => [b.scores, b.labels],
  },
  {
    name: 'MultiLabelConfusionMatrix',
    make: () => new MultiLabelConfusionMatrix({ numClasses: 10 }),
    input: (b) => [b.multilabelPred, b.multilabel],
  },
  {
    name: 'CohenKappa (numClasses)',
    make: () => new CohenKappa({ numClasses: 10 }),
    input: (b) => [b.predictedLabels, b.labels],
  },
  { name: 'CohenKappa (stored labels)', make: () => new CohenKappa(), input: (b) => [b.predictedLabels, b.labels] },
  { name: 'ClassificationReport', make: () => new ClassificationReport(), input: (b) => [b.scores, b.labels] },
  { name: 'RocAuc', make: () => new RocAuc(), input: (b) => [b.binaryScores, b.binaryLabels] },
  { name: 'RocCurve', make: () => new RocCurve(), input: (b) => [b.binaryScores, b.binaryLabels] },
  { name: 'AveragePrecision', make: () => new AveragePrecision(), input: (b) => [b.binaryScores, b.binaryLabels] },
  {
    name: 'PrecisionRecallCurve',
    make: () => new PrecisionRecallCurve(),
    input: (b) => [b.binaryScores, b.binaryLabels],
  },
  { name: 'EpochMetric (N × C outputs)', make: () => new EpochMetric(() => 0), input: (b) => [b.scores, b.targets] },
];
