// Typed access to the scikit-learn reference values in fixtures/classification.json (written by
// fixtures/classification.py; the tests never need Python). Not a test itself, not exported from the package.
import * as tf from '@tensorflow/tfjs';
import raw from './fixtures/classification.json';

type Num = number | 'Infinity' | '-Infinity';

/** A binary scores case: scores, 0/1 labels, batch sizes and the reference values present for it. */
export interface BinaryCase {
  name: string;
  scores: Num[];
  y: number[];
  batches: number[];
  rocAuc?: number;
  rocCurve?: { fpr: Num[]; tpr: Num[]; thresholds: Num[] };
  rocCurveAll?: { fpr: Num[]; tpr: Num[]; thresholds: Num[] };
  averagePrecision?: number;
  precisionRecallCurve?: { precision: Num[]; recall: Num[]; thresholds: Num[] };
}

/** A Cohen's kappa case: labels and kappa for each weighting. */
export interface KappaCase {
  name: string;
  yPred: number[];
  y: number[];
  numClasses: number;
  batches: number[];
  none: number;
  linear: number;
  quadratic: number;
}

type Averages = Record<string, Num[]>;
type Report = Record<string, Record<string, number>>;

/** A multiclass case: scores (N, C), index labels, and scikit-learn's values. */
export interface MulticlassCase {
  name: string;
  scores: number[][];
  y: number[];
  numClasses: number;
  batches: number[];
  accuracy: number;
  precision: Averages;
  recall: Averages;
  f1: Num[];
  f2: Num[];
  confusionMatrix: number[][];
  jaccard: Num[];
  dice: Num[];
  report: Report;
}

/** A multilabel case: probabilities (N, C), 0/1 labels (N, C), and scikit-learn's values. */
export interface MultilabelCase {
  name: string;
  scores: number[][];
  y: number[][];
  numClasses: number;
  batches: number[];
  accuracy: number;
  precision: Averages;
  recall: Averages;
  f1: Num[];
  multilabelConfusionMatrix: number[][][];
  report: Report;
}

/** A binary labels case: probabilities (N), 0/1 labels, and scikit-learn's values. */
export interface BinaryLabelsCase {
  name: string;
  scores: number[];
  y: number[];
  batches: number[];
  accuracy: number;
  precision: Averages;
  recall: Averages;
}

/** All fixtures. */
export const fixtures = raw as unknown as {
  generator: string;
  binary: BinaryCase[];
  cohenKappa: KappaCase[];
  multiclass: MulticlassCase[];
  multilabel: MultilabelCase[];
  binaryLabels: BinaryLabelsCase[];
};

/** A fixture number: 'Infinity' strings become numbers. */
export function num(value: Num): number {
  return typeof value === 'number' ? value : Number(value);
}

/** Fixture numbers as numbers (a single number stays one). */
export function nums(values: Num[] | Num): number[] | number {
  return Array.isArray(values) ? values.map(num) : num(values);
}

/** Splits rows into consecutive batches of the given sizes. */
export function splitRows<T>(rows: readonly T[], sizes: readonly number[]): T[][] {
  const out: T[][] = [];
  let start = 0;
  for (const size of sizes) {
    out.push(rows.slice(start, start + size));
    start += size;
  }
  if (start !== rows.length) throw new Error(`batch sizes cover ${start} of ${rows.length} rows`);
  return out;
}

/** `[yPred, y]` tensor pairs of a case's rows in its batches; `make` builds each tensor. Dispose with tf.dispose. */
export function batchesOf<A, B>(
  yPred: readonly A[],
  y: readonly B[],
  sizes: readonly number[],
  make: (rows: A[] | B[], which: 'yPred' | 'y') => tf.Tensor = (rows) => tf.tensor(rows as number[]),
): [tf.Tensor, tf.Tensor][] {
  const p = splitRows(yPred, sizes);
  const t = splitRows(y, sizes);
  return p.map((rows, i) => [make(rows, 'yPred'), make(t[i]!, 'y')]);
}
