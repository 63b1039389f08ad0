import { checkBoolean, checkOptions } from '../internal';
import { BinaryScoresMetric, binaryCurve, needBothClasses, type Split } from './binary-scores';
import type { PredictionPair } from './inputs';

/** What {@link RocCurve} computes: false and true positive rates at each threshold (scores >= threshold). */
export interface RocCurveResult {
  /** False positive rate, increasing from 0 to 1. */
  fpr: number[];
  /** True positive rate, increasing from 0 to 1. */
  tpr: number[];
  /** Decreasing; the first is `Infinity` (nothing predicted positive, the point (0, 0)). */
  thresholds: number[];
}

/**
 * The ROC curve of binary scores over every sample since the last reset, like scikit-learn's `roc_curve` (the
 * reference's `RocCurve`): one point per distinct score (tied scores form one step), the first point (0, 0) at
 * threshold `Infinity`, and, with `dropIntermediate` (default true, as scikit-learn), points collinear with their
 * neighbours dropped.
 *
 * Inputs and memory as {@link RocAuc}: every score and label of the epoch is kept (8 bytes a sample) and read back
 * once in `compute()`. A single class present throws NotComputableError. Attached, the value is written under its
 * name only (its fields are not spread into `engine.state.metrics`).
 *
 * @example
 * new RocCurve().attach(evaluator, 'roc');
 * const { fpr, tpr, thresholds } = evaluator.state.metrics.roc;
 */
export class RocCurve extends BinaryScoresMetric<RocCurveResult> {
  readonly #dropIntermediate: boolean;

  /**
   * @param options.dropIntermediate drop points that do not change the curve's shape (default true).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { dropIntermediate?: boolean; outputTransform?: (output: any) => PredictionPair } = {}) {
    const { dropIntermediate = true } = checkOptions('RocCurve', options, ['dropIntermediate', 'outputTransform']);
    super(options);
    this.#dropIntermediate = checkBoolean('RocCurve', 'option dropIntermediate', dropIntermediate);
  }

  protected override get metricName(): string {
    return 'RocCurve';
  }

  /** The curve from the distinct thresholds, like scikit-learn. */
  protected computeFromSplit(split: Split): RocCurveResult {
    needBothClasses('RocCurve', split, 'the ROC curve');
    let { thresholds, tps, fps } = binaryCurve(split);
    if (this.#dropIntermediate && fps.length > 2) {
      const keep = (i: number) =>
        i === 0 ||
        i === fps.length - 1 ||
        fps[i + 1]! - 2 * fps[i]! + fps[i - 1]! !== 0 ||
        tps[i + 1]! - 2 * tps[i]! + tps[i - 1]! !== 0;
      const kept = fps.map((_, i) => i).filter(keep);
      thresholds = kept.map((i) => thresholds[i]!);
      tps = kept.map((i) => tps[i]!);
      fps = kept.map((i) => fps[i]!);
    }
    const p = split.positives.length;
    const n = split.negatives.length;
    return {
      fpr: [0, ...fps.map((fp) => fp / n)],
      tpr: [0, ...tps.map((tp) => tp / p)],
      thresholds: [Infinity, ...thresholds],
    };
  }
}
