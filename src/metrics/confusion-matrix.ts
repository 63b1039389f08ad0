import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOptions, checkPlainObject, describeValue, failType } from '../internal';
import { DeviceState } from './device-state';
import { CLASSIFICATION_SHAPES, classificationBatch, type PredictionPair, toPair } from './inputs';
import { LabelCheck, targetRule } from './label-check';
import { Metric, MetricsLambda, NotComputableError } from './metric';
import { captureSums, checkSumsStateDict, markLoaded, planLoad, type SumsStateDict } from './metric-state';

const AVERAGES: readonly unknown[] = ['samples', 'recall', 'precision'];

/** How {@link ConfusionMatrix} normalises: counts (undefined), by samples, by row (recall) or column (precision). */
export type ConfusionMatrixAverage = 'samples' | 'recall' | 'precision';

/**
 * The confusion matrix of a multiclass problem: `matrix[actual][predicted]` counts, accumulated on the device
 * (one-hot matmul, no readback). `yPred` (N, ..., C) scores with `y` (N, ...) class indices or one-hot (N, ..., C).
 * Targets are checked: an index outside [0, C), negative or non-integer (or a one-hot value other than 0/1) throws a
 * RangeError at `compute()` (the check runs on the device, so a step never waits for it). Positions whose target is
 * `ignoreLabel` (e.g. 255 in segmentation masks) are skipped: not counted and not checked.
 *
 * `average`: undefined gives counts; `'samples'` divides by the number of samples (the batch dimension, like the
 * reference); `'recall'` normalises each row, `'precision'` each column.
 *
 * @example
 * const cm = new ConfusionMatrix({ numClasses: 3 });
 * cm.attach(evaluator, 'cm');
 * mIoU(cm).attach(evaluator, 'mIoU');
 */
export class ConfusionMatrix extends Metric<PredictionPair, number[][]> {
  readonly #numClasses: number;
  readonly #average: ConfusionMatrixAverage | undefined;
  readonly #ignoreLabel: number | null;
  readonly #state = new DeviceState('ConfusionMatrix');
  readonly #labels = new LabelCheck('ConfusionMatrix');
  #numExamples = 0;

  /**
   * @param options.numClasses the number of classes C (> 1).
   * @param options.average undefined (counts), `'samples'`, `'recall'` or `'precision'`.
   * @param options.ignoreLabel a target index whose positions are skipped (e.g. 255 for unlabelled pixels).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: {
    numClasses: number;
    average?: ConfusionMatrixAverage;
    ignoreLabel?: number;
    outputTransform?: (output: any) => PredictionPair;
  }) {
    checkPlainObject('ConfusionMatrix', 'argument options', options, 'an options object { numClasses, ... }');
    super(
      checkOptions('ConfusionMatrix', options, [
        'numClasses',
        'average',
        'ignoreLabel',
        'outputTransform',
      ]) as typeof options,
    );
    const { numClasses, average, ignoreLabel } = options;
    this.#numClasses = checkInteger('ConfusionMatrix', 'option numClasses', numClasses, {
      min: 2,
      expected: 'an integer > 1',
    });
    if (!(average === undefined || AVERAGES.includes(average))) {
      failType('ConfusionMatrix', 'option average', "undefined, 'samples', 'recall' or 'precision'", average);
    }
    this.#average = average;
    this.#ignoreLabel =
      ignoreLabel === undefined ? null : checkInteger('ConfusionMatrix', 'option ignoreLabel', ignoreLabel);
  }

  protected override get metricName(): string {
    return 'ConfusionMatrix';
  }

  /** The number of classes. */
  get numClasses(): number {
    return this.#numClasses;
  }

  /** The normalisation in use (undefined: counts). */
  get average(): ConfusionMatrixAverage | undefined {
    return this.#average;
  }

  /** Frees the on-device (C, C) count matrix and zeroes the sample count. */
  reset(): void {
    this.#state.reset();
    this.#labels.reset();
    this.#numExamples = 0;
  }

  /** Adds this batch's (actual, predicted) counts to the on-device matrix with a one-hot matmul (no readback). */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'ConfusionMatrix');
    const classes = yPred.shape[yPred.rank - 1];
    if (yPred.rank < 2 || classes !== this.#numClasses) {
      throw new RangeError(
        `ConfusionMatrix: yPred should have shape (N, ..., ${this.#numClasses}) (numClasses on the last axis), ` +
          `got yPred [${yPred.shape}] and y [${y.shape}].`,
      );
    }
    tf.tidy(() => {
      const batch = classificationBatch(yPred, y, false, 'ConfusionMatrix');
      if (batch.kind !== 'multiclass') {
        throw new RangeError(
          `ConfusionMatrix: expected multiclass input, got yPred [${yPred.shape}] and y [${y.shape}]. Expected ${CLASSIFICATION_SHAPES}.`,
        );
      }
      const isIndex = y.rank !== yPred.rank || y.shape[y.rank - 1] !== this.#numClasses;
      const ignore = this.#ignoreLabel;
      let target = batch.target;
      let checked = y;
      if (ignore !== null && isIndex) {
        const flat = tf.reshape(y, [-1]);
        const kept = tf.notEqual(flat, ignore);
        // One-hot of -1 is a row of zeros: not counted. (Full-size fills: where() must not broadcast, see LabelCheck.)
        target = tf.where(kept, target, tf.fill(target.shape, -1, 'int32'));
        checked = tf.where(kept, flat, tf.zerosLike(flat));
      }
      const fix = ignore === null ? ', or skip a label with the ignoreLabel option (e.g. 255)' : '';
      this.#labels.add('y', checked, targetRule(batch, yPred, y, fix));
      const actual = tf.oneHot(target, this.#numClasses, 1, 0, 'float32');
      const predicted = tf.oneHot(batch.pred, this.#numClasses, 1, 0, 'float32');
      this.#state.add({ matrix: tf.matMul(actual, predicted, true, false) });
    });
    this.#numExamples += yPred.shape[0];
  }

  /**
   * Reads the matrix back once: `matrix[actual][predicted]` counts, or normalised as `average` says; throws
   * NotComputableError before any update and a RangeError for a bad target.
   */
  async compute(): Promise<number[][]> {
    if (this.#numExamples === 0) {
      throw new NotComputableError('ConfusionMatrix must have at least one example before it can be computed.');
    }
    const numExamples = this.#numExamples;
    const c = this.#numClasses;
    const [sums] = await Promise.all([this.#state.read(), this.#labels.verify()]);
    const flat = sums.get('matrix') ?? new Float64Array(c * c);
    const matrix = Array.from({ length: c }, (_, i) => Array.from(flat.subarray(i * c, (i + 1) * c)));
    if (this.#average === 'samples') return matrix.map((row) => row.map((v) => v / numExamples));
    if (this.#average === 'recall') {
      return matrix.map((row) => {
        const total = row.reduce((a, b) => a + b, 0);
        return row.map((v) => v / (total + 1e-15));
      });
    }
    if (this.#average === 'precision') {
      const totals = matrix[0].map((_, j) => matrix.reduce((a, row) => a + row[j], 0));
      return matrix.map((row) => row.map((v, j) => v / (totals[j] + 1e-15)));
    }
    return matrix;
  }
  /**
   * The sample count and the device matrix as plain data, so that a resumed run continues this epoch's value exactly.
   * Reads the matrix back once (`await data()`), and throws like `compute()` for a bad label.
   */
  override async stateDict(): Promise<SumsStateDict> {
    const numExamples = this.#numExamples; // captured at the call, with the sums and the label check
    const [, sums] = await Promise.all([this.#labels.capture(), captureSums(this.#state)]);
    return { numExamples, sums };
  }

  /** Restores a {@link stateDict}; checks all of it first (count, entry names, shapes, finite values). */
  override loadStateDict(stateDict: SumsStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const c = this.#numClasses;
    const checked = checkSumsStateDict('ConfusionMatrix.loadStateDict', stateDict, { matrix: [c, c] });
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      markLoaded(this);
    };
  }
}

function checkConfusionMatrix(cm: unknown, owner: string, ignoreIndex?: number): asserts cm is ConfusionMatrix {
  if (!(cm instanceof ConfusionMatrix)) {
    throw new TypeError(`${owner}: argument cm should be a ConfusionMatrix, got ${describeValue(cm)}.`);
  }
  if (!(cm.average === undefined || cm.average === 'samples')) {
    throw new RangeError(
      `${owner}: the ConfusionMatrix should have average undefined or 'samples', got '${cm.average}'.`,
    );
  }
  if (
    ignoreIndex !== undefined &&
    !(Number.isInteger(ignoreIndex) && ignoreIndex >= 0 && ignoreIndex < cm.numClasses)
  ) {
    throw new RangeError(
      `${owner}: ignoreIndex should be an integer in [0, ${cm.numClasses}), got ${describeValue(ignoreIndex)}.`,
    );
  }
}

const diag = (m: number[][]) => m.map((row, i) => row[i]);
const rowSums = (m: number[][]) => m.map((row) => row.reduce((a, b) => a + b, 0));
const colSums = (m: number[][]) => m[0].map((_, j) => m.reduce((a, row) => a + row[j], 0));
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const without = (v: number[], index?: number) => (index === undefined ? v : v.filter((_, i) => i !== index));

/**
 * Intersection over union per class from a {@link ConfusionMatrix}: `cm[i][i] / (row_i + col_i - cm[i][i])`.
 *
 * @param cm a ConfusionMatrix with average undefined or 'samples'.
 * @param ignoreIndex a class to leave out (e.g. the background).
 * @returns a MetricsLambda giving one value per class.
 * @example
 * IoU(new ConfusionMatrix({ numClasses: 3 })).attach(evaluator, 'iou'); // [0.5, 0.5, 0]
 */
export function IoU(cm: ConfusionMatrix, ignoreIndex?: number): MetricsLambda<number[]> {
  checkConfusionMatrix(cm, 'IoU', ignoreIndex);
  return new MetricsLambda((m: number[][]) => {
    const d = diag(m);
    const rows = rowSums(m);
    const cols = colSums(m);
    return without(
      d.map((v, i) => v / (rows[i] + cols[i] - v + 1e-15)),
      ignoreIndex,
    );
  }, cm);
}

/**
 * Mean intersection over union from a {@link ConfusionMatrix}: the mean of {@link IoU}.
 *
 * @example
 * mIoU(new ConfusionMatrix({ numClasses: 3 }), 0).attach(evaluator, 'mIoU');
 */
export function mIoU(cm: ConfusionMatrix, ignoreIndex?: number): MetricsLambda<number> {
  checkConfusionMatrix(cm, 'mIoU', ignoreIndex);
  const iou = IoU(cm, ignoreIndex);
  return new MetricsLambda((values: number[]) => mean(values), iou);
}

/** Accuracy from a {@link ConfusionMatrix}: the trace over the total. */
export function cmAccuracy(cm: ConfusionMatrix): MetricsLambda<number> {
  checkConfusionMatrix(cm, 'cmAccuracy');
  return new MetricsLambda(
    (m: number[][]) => diag(m).reduce((a, b) => a + b, 0) / (rowSums(m).reduce((a, b) => a + b, 0) + 1e-15),
    cm,
  );
}

/** Precision from a {@link ConfusionMatrix}: per class, or their mean when `average` (default true). */
export function cmPrecision(cm: ConfusionMatrix, average = true): MetricsLambda<number | number[]> {
  checkConfusionMatrix(cm, 'cmPrecision');
  return new MetricsLambda((m: number[][]) => {
    const cols = colSums(m);
    const values = diag(m).map((v, j) => v / (cols[j] + 1e-15));
    return average ? mean(values) : values;
  }, cm);
}

/** Recall from a {@link ConfusionMatrix}: per class, or their mean when `average` (default true). */
export function cmRecall(cm: ConfusionMatrix, average = true): MetricsLambda<number | number[]> {
  checkConfusionMatrix(cm, 'cmRecall');
  return new MetricsLambda((m: number[][]) => {
    const rows = rowSums(m);
    const values = diag(m).map((v, i) => v / (rows[i] + 1e-15));
    return average ? mean(values) : values;
  }, cm);
}

/** Dice coefficient per class from a {@link ConfusionMatrix}: `2·cm[i][i] / (row_i + col_i)`. */
export function DiceCoefficient(cm: ConfusionMatrix, ignoreIndex?: number): MetricsLambda<number[]> {
  checkConfusionMatrix(cm, 'DiceCoefficient', ignoreIndex);
  return new MetricsLambda((m: number[][]) => {
    const rows = rowSums(m);
    const cols = colSums(m);
    return without(
      diag(m).map((v, i) => (2 * v) / (rows[i] + cols[i] + 1e-15)),
      ignoreIndex,
    );
  }, cm);
}

/** Jaccard index per class from a {@link ConfusionMatrix}: the same as {@link IoU}. */
export function JaccardIndex(cm: ConfusionMatrix, ignoreIndex?: number): MetricsLambda<number[]> {
  return IoU(cm, ignoreIndex);
}
