import { checkOptions } from '../internal';
import { needPositives } from './average-precision';
import { BinaryScoresMetric, binaryCurve, type Split } from './binary-scores';
import type { PredictionPair } from './inputs';

/** What {@link PrecisionRecallCurve} computes, ordered by increasing threshold (decreasing recall). */
export interface PrecisionRecallCurveResult {
  /** Precision at each threshold, then a final 1. */
  precision: number[];
  /** Recall at each threshold, then a final 0. */
  recall: number[];
  /** The distinct scores, increasing (one fewer than precision and recall). */
  thresholds: number[];
}

/**
 * The precision-recall curve of binary scores over every sample since the last reset, like scikit-learn's
 * `precision_recall_curve` (the reference's `PrecisionRecallCurve`): one point per distinct score, tied scores forming
 * one step, thresholds increasing, and a last point (recall 0, precision 1) without a threshold.
 *
 * Inputs and memory as {@link RocAuc}: every score and label of the epoch is kept (8 bytes a sample) and read back
 * once in `compute()`. No positive sample throws NotComputableError. Attached, the value is written under its name
 * only (its fields are not spread into `engine.state.metrics`).
 *
 * @example
 * new PrecisionRecallCurve().attach(evaluator, 'pr');
 * const { precision, recall, thresholds } = evaluator.state.metrics.pr;
 */
export class PrecisionRecallCurve extends BinaryScoresMetric<PrecisionRecallCurveResult> {
  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    checkOptions('PrecisionRecallCurve', options, ['outputTransform']);
    super(options);
  }

  protected override get metricName(): string {
    return 'PrecisionRecallCurve';
  }

  /** Precision and recall at each distinct threshold, reversed to increasing thresholds. */
  protected computeFromSplit(split: Split): PrecisionRecallCurveResult {
    needPositives('PrecisionRecallCurve', split);
    const { thresholds, tps, fps } = binaryCurve(split);
    const p = split.positives.length;
    const precision = tps.map((tp, i) => tp / (tp + fps[i]!)).reverse();
    const recall = tps.map((tp) => tp / p).reverse();
    return { precision: [...precision, 1], recall: [...recall, 0], thresholds: thresholds.reverse() };
  }
}
