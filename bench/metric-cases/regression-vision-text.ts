// Regression, vision, general and text metrics (issue 15), for npm run bench:metrics. Regression pairs are the
// (N) first column or the (N, C) matrices of the shared batch; images and token sequences are made here.
import * as tf from '@tensorflow/tfjs';
import {
  Bleu,
  CosineSimilarity,
  Entropy,
  Frequency,
  GeometricAverage,
  JSDivergence,
  KLDivergence,
  MaximumAbsoluteError,
  MeanAbsoluteError,
  MeanAbsoluteRelativeError,
  MeanSquaredError,
  MedianAbsoluteError,
  MetricGroup,
  PearsonCorrelation,
  PSNR,
  R2Score,
  Rouge,
  SSIM,
  VariableAccumulation,
} from '../../src/metrics';
import type { BenchBatch, MetricBenchCase } from './types';

/** The first column of predictions and targets: a regression pair of shape (N). */
const column = (b: BenchBatch) => [
  tf.reshape(tf.slice(b.scores, [0, 0], [b.n, 1]), [b.n]),
  tf.reshape(tf.slice(b.targets, [0, 0], [b.n, 1]), [b.n]),
];

/** 16 NHWC 32×32×3 images in [0, 1] and a noisy copy. */
const images = () => {
  const y = tf.randomUniform([16, 32, 32, 3], 0, 1, 'float32', 3);
  return [tf.clipByValue(tf.add(y, tf.randomNormal(y.shape, 0, 0.05, 'float32', 4)), 0, 1), y];
};

/** 64 candidate sentences of 12 tokens, each with two references drawn from a 50-word vocabulary. */
const sentences = () => {
  let seed = 7;
  const word = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return `w${seed % 50}`;
  };
  const sentence = () => Array.from({ length: 12 }, word);
  const candidates = Array.from({ length: 64 }, sentence);
  const references = candidates.map(() => [sentence(), sentence()]);
  return [candidates, references];
};

export const cases: MetricBenchCase[] = [
  { name: 'MeanSquaredError', make: () => new MeanSquaredError(), input: (b) => [b.scores, b.targets] },
  { name: 'MeanAbsoluteError', make: () => new MeanAbsoluteError(), input: (b) => [b.scores, b.targets] },
  { name: 'R2Score (N)', make: () => new R2Score(), input: column },
  { name: 'PearsonCorrelation (N)', make: () => new PearsonCorrelation(), input: column },
  { name: 'MedianAbsoluteError (N)', make: () => new MedianAbsoluteError(), input: column },
  { name: 'MaximumAbsoluteError (N)', make: () => new MaximumAbsoluteError(), input: column },
  {
    name: 'MeanAbsoluteRelativeError (N)',
    make: () => new MeanAbsoluteRelativeError(),
    input: (b) => [tf.add(column(b)[0]!, 1), tf.add(column(b)[1]!, 1)],
  },
  { name: 'CosineSimilarity', make: () => new CosineSimilarity(), input: (b) => [b.scores, b.targets] },
  { name: 'KLDivergence (logits)', make: () => new KLDivergence(), input: (b) => [b.scores, b.targets] },
  { name: 'JSDivergence (logits)', make: () => new JSDivergence(), input: (b) => [b.scores, b.targets] },
  { name: 'Entropy (logits)', make: () => new Entropy(), input: (b) => [b.scores, b.labels] },
  { name: 'GeometricAverage', make: () => new GeometricAverage(), input: (b) => tf.add(b.scores, 0.5) },
  {
    name: 'VariableAccumulation (column sums)',
    make: () => new VariableAccumulation((acc, x) => tf.add(acc, tf.sum(x, 0))),
    input: (b) => b.scores,
  },
  { name: 'Frequency', make: () => new Frequency(), input: (b) => b.n },
  {
    name: 'MetricGroup (R2Score + MedianAbsoluteError)',
    make: () => new MetricGroup({ r2: new R2Score(), median: new MedianAbsoluteError() }),
    input: column,
  },
  { name: 'PSNR (16×32×32×3)', make: () => new PSNR({ dataRange: 1 }), input: images },
  { name: 'SSIM (16×32×32×3)', make: () => new SSIM({ dataRange: 1 }), input: images },
  { name: 'Bleu (64 sentences)', make: () => new Bleu(), input: sentences },
  { name: 'Rouge (64 sentences)', make: () => new Rouge(), input: sentences },
];
