import { checkOptions } from '../internal';
import { BinaryScoresMetric, needBothClasses, type Split, walkThresholds } from './binary-scores';
import type { PredictionPair } from './inputs';

/**
 * Area under the ROC curve of binary scores, over every sample since the last reset, computed like scikit-learn's
 * `roc_auc_score` (the reference's `ROC_AUC`): tied scores form one step of the curve (they count half).
 *
 * Inputs: `yPred` scores, probabilities or logits of shape (N) or (N, 1); `y` 0/1 labels of shape (N) or (N, 1).
 * Holds every score and label of the epoch (8 bytes a sample: on the device until `compute()` reads them back with one
 * `await data()`, then on the host). `compute()` sorts once on the host, O(n log n). Labels other than 0/1 and
 * non-finite scores throw a RangeError at `compute()`; a single class present throws NotComputableError.
 *
 * @example
 * new RocAuc({ outputTransform: ({ yPred, y }) => [tf.sigmoid(yPred), y] }).attach(evaluator, 'auc');
 */
export class RocAuc extends BinaryScoresMetric<number> {
  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    checkOptions('RocAuc', options, ['outputTransform']);
    super(options);
  }

  protected override get metricName(): string {
    return 'RocAuc';
  }

  /** The trapezoidal area under (fpr, tpr) over the distinct thresholds, from integer counts. */
  protected computeFromSplit(split: Split): number {
    needBothClasses('RocAuc', split, 'ROC AUC');
    let area = 0;
    let previousTp = 0;
    let previousFp = 0;
    walkThresholds(split, (_threshold, tp, fp) => {
      area += (fp - previousFp) * (tp + previousTp);
      previousTp = tp;
      previousFp = fp;
    });
    return area / (2 * split.positives.length * split.negatives.length);
  }
}
