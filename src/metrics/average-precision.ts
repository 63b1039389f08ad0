import { checkOptions } from '../internal';
import { BinaryScoresMetric, type Split, walkThresholds } from './binary-scores';
import type { PredictionPair } from './inputs';
import { NotComputableError } from './metric';

/** Throws NotComputableError unless y held a positive sample. */
export function needPositives(owner: string, split: Split): void {
  if (split.positives.length === 0) {
    throw new NotComputableError(
      `${owner}: y holds no positive sample since the last reset (${split.negatives.length} negatives); recall, and ` +
        'so this metric, is not defined then. Evaluate on data that holds positives.',
    );
  }
}

/**
 * Average precision of binary scores over every sample since the last reset, like scikit-learn's
 * `average_precision_score` (the reference's `AveragePrecision`): `Σ (Rₖ − Rₖ₋₁) Pₖ` over the distinct thresholds from
 * the highest down, tied scores forming one step (no interpolation).
 *
 * Inputs and memory as {@link RocAuc}: every score and label of the epoch is kept (8 bytes a sample) and read back
 * once in `compute()`. No positive sample throws NotComputableError; all samples positive gives 1, as scikit-learn.
 *
 * @example
 * new AveragePrecision().attach(evaluator, 'ap');
 */
export class AveragePrecision extends BinaryScoresMetric<number> {
  /** @param options.outputTransform maps the engine output to `[yPred, y]`. */
  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    checkOptions('AveragePrecision', options, ['outputTransform']);
    super(options);
  }

  protected override get metricName(): string {
    return 'AveragePrecision';
  }

  /** The step integral of precision over recall. */
  protected computeFromSplit(split: Split): number {
    needPositives('AveragePrecision', split);
    const p = split.positives.length;
    let sum = 0;
    let previousRecall = 0;
    walkThresholds(split, (_threshold, tp, fp) => {
      const recall = tp / p;
      sum += (recall - previousRecall) * (tp / (tp + fp));
      previousRecall = recall;
    });
    return sum;
  }
}
