import { checkBoolean, checkNumber, checkOptions, checkPlainObject, describeValue, failType } from '../internal';
import type { PredictionPair } from './inputs';
import { MetricsLambda } from './metric';
import { Precision } from './precision';
import { Recall } from './recall';

/** Options of {@link Fbeta}. */
export interface FbetaOptions {
  /** Weight of recall relative to precision (> 0); 1 gives F1. */
  beta: number;
  /** true (default): the mean over classes, a number; false: one value per class. */
  average?: boolean;
  /** A Precision with `average: false` to reuse (e.g. one attached already); default: a new one. */
  precision?: Precision;
  /** A Recall with `average: false` to reuse; default: a new one. */
  recall?: Recall;
  /** Maps the engine output to `[yPred, y]` for the Precision/Recall it creates (not allowed with given ones). */
  outputTransform?: (output: any) => PredictionPair;
}

/**
 * The F-beta score `(1 + b²)·P·R / (b²·P + R)` from per-class {@link Precision} and {@link Recall}: a
 * {@link MetricsLambda}, so attaching it attaches both.
 *
 * @example
 * new Fbeta({ beta: 1 }).attach(evaluator, 'f1');                 // macro F1, a number
 * new Fbeta({ beta: 2, average: false }).attach(evaluator, 'f2'); // per class
 */
export class Fbeta extends MetricsLambda<number | number[], [Precision, Recall]> {
  constructor(options: FbetaOptions) {
    checkPlainObject('Fbeta', 'argument options', options, 'an options object { beta, ... }');
    checkOptions('Fbeta', options, ['beta', 'average', 'precision', 'recall', 'outputTransform']);
    const { beta, average = true, outputTransform } = options;
    checkNumber('Fbeta', 'option beta', beta, { min: 0, minExclusive: true });
    checkBoolean('Fbeta', 'option average', average);
    for (const [key, metric] of [
      ['precision', options.precision],
      ['recall', options.recall],
    ] as const) {
      if (metric === undefined) continue;
      if (outputTransform !== undefined) {
        throw new TypeError(
          `Fbeta: outputTransform should not be given with option ${key}; set it on the ${key} metric instead.`,
        );
      }
      const [expected, expectedName] = key === 'precision' ? [Precision, 'Precision'] : [Recall, 'Recall'];
      if (!(metric instanceof expected)) failType('Fbeta', `option ${key}`, `a ${expectedName}`, metric);
      if (metric.average !== false) {
        throw new RangeError(
          `Fbeta: the given ${key} metric should have average: false (per class), got ${describeValue(metric.average)}.`,
        );
      }
    }
    const precision = options.precision ?? new Precision({ average: false, outputTransform });
    const recall = options.recall ?? new Recall({ average: false, outputTransform });
    const b2 = beta * beta;
    super(
      (p, r) => {
        const score = (pi: number, ri: number) => ((1 + b2) * pi * ri) / (b2 * pi + ri + 1e-15);
        if (typeof p === 'number' && typeof r === 'number') return score(p, r);
        const ps = typeof p === 'number' ? [p] : p;
        const rs = typeof r === 'number' ? [r] : r;
        const scores = ps.map((pi, i) => score(pi, rs[i]));
        return average ? scores.reduce((a, b) => a + b, 0) / scores.length : scores;
      },
      precision,
      recall,
    );
  }

  protected override get metricName(): string {
    return 'Fbeta';
  }
}
