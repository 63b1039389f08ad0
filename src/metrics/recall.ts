import { checkOptions } from '../internal';
import { PRECISION_RECALL_OPTIONS, PrecisionRecallBase, type PrecisionRecallOptions } from './precision-recall';

/**
 * Recall: true positives / actual positives, per class or averaged (see {@link PrecisionRecallAverage}).
 * Inputs as for {@link Accuracy} (binary, multiclass with index or one-hot targets, multilabel). A class absent
 * from the targets has recall 0.
 *
 * @example
 * new Recall({ average: 'weighted' }).attach(evaluator, 'recall');
 */
export class Recall extends PrecisionRecallBase {
  protected readonly isPrecision = false;

  /** @param options `{ average, isMultilabel, outputTransform }`, see {@link PrecisionRecallOptions}. */
  constructor(options: PrecisionRecallOptions = {}) {
    super('Recall', checkOptions('Recall', options, PRECISION_RECALL_OPTIONS) as typeof options);
  }

  protected override get metricName(): string {
    return 'Recall';
  }
}
