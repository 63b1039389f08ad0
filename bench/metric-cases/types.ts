// The shape of a metric benchmark case (npm run bench:metrics). One file per family in bench/metric-cases/ exports
// `cases: MetricBenchCase[]`; bench/metrics.bench.ts loads every file here, so a family is added without editing it.
import type * as tf from '@tensorflow/tfjs';
import type { Metric } from '../../src/metrics';

/** One batch of N = 1024 samples and C = 10 classes/features, prepared once; cases pick what their update takes. */
export interface BenchBatch {
  readonly n: number;
  readonly c: number;
  /** (N, C) float32 scores in [0, 1). */
  readonly scores: tf.Tensor2D;
  /** (N) int32 class indices in [0, C). */
  readonly labels: tf.Tensor1D;
  /** (N, C) float32 one-hot of `labels`. */
  readonly oneHot: tf.Tensor2D;
  /** (N, C) float32 0/1 multilabel targets. */
  readonly multilabel: tf.Tensor2D;
  /** (N, C) int32 0/1 multilabel predictions (scores > 0.5). */
  readonly multilabelPred: tf.Tensor2D;
  /** (N) float32 binary scores in [0, 1). */
  readonly binaryScores: tf.Tensor1D;
  /** (N) int32 0/1 binary labels. */
  readonly binaryLabels: tf.Tensor1D;
  /** (N) int32 predicted class indices (argmax of `scores`). */
  readonly predictedLabels: tf.Tensor1D;
  /** (N, C) float32 regression targets (scores plus noise). */
  readonly targets: tf.Tensor2D;
}

/** A metric to time: `make` builds it, `input` gives what `update` takes (called once; tensors made here are freed). */
export interface MetricBenchCase {
  readonly name: string;
  readonly make: () => Metric<any, any>;
  readonly input: (batch: BenchBatch) => unknown;
}
