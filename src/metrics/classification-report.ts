import { checkBoolean, checkKeyName, checkNumber, checkOptions, failRange, failType } from '../internal';
import type { PredictionPair } from './inputs';
import { MetricsLambda } from './metric';
import { Precision } from './precision';
import { Recall } from './recall';

/** Options of {@link ClassificationReport}. */
export interface ClassificationReportOptions {
  /** true: compute() returns an object; false (default, as the reference): the same as a JSON string. */
  outputDict?: boolean;
  /** Weight of recall in the F score (default 1: `'f1-score'`); the key is `` `f${beta}-score` ``. */
  beta?: number;
  /** Treat inputs as multilabel (default false). */
  isMultilabel?: boolean;
  /** Names of the classes, in class-index order (default `'0'`, `'1'`, ...). */
  labels?: readonly string[];
  /** Maps the engine output to `[yPred, y]`. */
  outputTransform?: (output: any) => PredictionPair;
}

/** One row of a {@link ClassificationReport}: precision, recall and the F score (keyed `` `f${beta}-score` ``). */
export type ClassificationReportRow = Record<string, number>;

/** The report as an object: one row per class (by label) and `'macro avg'`. */
export type ClassificationReportDict = Record<string, ClassificationReportRow>;

/**
 * Precision, recall and F-beta per class and their macro average, like scikit-learn's `classification_report`
 * (the reference's `ClassificationReport`; no support column, as the reference). A {@link MetricsLambda} over a
 * {@link Precision} and a {@link Recall} with `average: null`, so it accumulates on the device, checks labels like
 * them, and its state dict is theirs.
 *
 * Inputs as {@link Precision}: binary (two rows, classes 0 and 1), multiclass, or multilabel with `isMultilabel`.
 * With `outputDict` the value is an object, and attached it is also spread into `engine.state.metrics` key by key
 * (`'0'`, `'1'`, ..., `'macro avg'`), like the reference's default.
 *
 * @example
 * new ClassificationReport({ outputDict: true }).attach(evaluator, 'report');
 * evaluator.state.metrics.report['macro avg']['f1-score'];
 */
export class ClassificationReport extends MetricsLambda<ClassificationReportDict | string, [Precision, Recall]> {
  /** @param options `{ outputDict, beta, isMultilabel, labels, outputTransform }`, see {@link ClassificationReportOptions}. */
  constructor(options: ClassificationReportOptions = {}) {
    const checked = checkOptions('ClassificationReport', options, [
      'outputDict',
      'beta',
      'isMultilabel',
      'labels',
      'outputTransform',
    ]);
    const outputDict = checkBoolean('ClassificationReport', 'option outputDict', checked.outputDict ?? false);
    const beta = checkNumber('ClassificationReport', 'option beta', checked.beta ?? 1, { min: 0, minExclusive: true });
    const isMultilabel = checkBoolean('ClassificationReport', 'option isMultilabel', checked.isMultilabel ?? false);
    const labels = checked.labels;
    if (labels !== undefined && !(Array.isArray(labels) && labels.every((l) => typeof l === 'string'))) {
      failType('ClassificationReport', 'option labels', 'an array of class names (strings)', labels);
    }
    // The names become keys of the report, beside 'macro avg': each must be usable and distinct.
    const seen = new Set<string>(['macro avg']);
    for (const [i, label] of (labels ?? []).entries()) {
      checkKeyName('ClassificationReport', `option labels: the name at ${i}`, label);
      if (seen.has(label)) {
        failRange(
          'ClassificationReport',
          `option labels: the name at ${i}`,
          "a name used once and other than 'macro avg' (the keys of the report)",
          label,
        );
      }
      seen.add(label);
    }
    const { outputTransform } = options;
    const precision = new Precision({ average: null, isMultilabel, outputTransform });
    const recall = new Recall({ average: null, isMultilabel, outputTransform });
    super(
      (p, r) => {
        const ps = typeof p === 'number' ? [p] : p;
        const rs = typeof r === 'number' ? [r] : r;
        const names = labels ?? ps.map((_, i) => String(i));
        if (names.length !== ps.length) {
          failRange('ClassificationReport', 'option labels', `${ps.length} names (one per class of the input)`, labels);
        }
        const b2 = beta * beta;
        const fKey = `f${beta}-score`;
        const fs = ps.map((pi, i) => ((1 + b2) * pi * rs[i]!) / (b2 * pi + rs[i]! + 1e-15));
        const mean = (v: number[]) => v.reduce((a, x) => a + x, 0) / v.length;
        const report: ClassificationReportDict = {};
        names.forEach((name, i) => {
          report[name] = { precision: ps[i]!, recall: rs[i]!, [fKey]: fs[i]! };
        });
        report['macro avg'] = { precision: mean(ps), recall: mean(rs), [fKey]: mean(fs) };
        return outputDict ? report : JSON.stringify(report);
      },
      precision,
      recall,
    );
  }

  protected override get metricName(): string {
    return 'ClassificationReport';
  }
}
