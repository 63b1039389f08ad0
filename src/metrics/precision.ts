import { checkOptions } from '../internal';
import { PRECISION_RECALL_OPTIONS, PrecisionRecallBase, type PrecisionRecallOptions } from './precision-recall';

/**
 * Precision: true positives / predicted positives, per class or averaged (see {@link PrecisionRecallAverage}).
 * Inputs as for {@link Accuracy} (binary, multiclass with index or one-hot targets, multilabel). A class never
 * predicted has precision 0.
 *
 * @example
 * new Precision({ average: true }).attach(evaluator, 'precision'); // macro average, a number
 * new Precision().attach(evaluator, 'precisionPerClass');          // average false: [p0, p1, ...]
 */
export class Precision extends PrecisionRecallBase {
  protected readonly isPrecision = true;

  /** @param options `{ average, isMultilabel, outputTransform }`, see {@link PrecisionRecallOptions}. */
  constructor(options: PrecisionRecallOptions = {}) {
    super('Precision', checkOptions('Precision', options, PRECISION_RECALL_OPTIONS) as typeof options);
  }

  protected override get metricName(): string {
    return 'Precision';
  }
}
