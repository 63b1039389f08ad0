import * as tf from '@tensorflow/tfjs';
import { checkInteger, checkOneOf, checkOptions, checkStateDict } from '../internal';
import { DeviceState } from './device-state';
import { OutputStore, type OutputsState } from './epoch-outputs';
import { type PredictionPair, toPair } from './inputs';
import { classIndexRule, LabelCheck, labelErrorMessage, showFloat32 } from './label-check';
import { Metric, NotComputableError } from './metric';
import { captureSums, checkCount, checkSums, markLoaded, planLoad, type SumsState } from './metric-state';

/** How {@link CohenKappa} weighs a disagreement between classes i and j: 1 (null), |i − j| or (i − j)². */
export type CohenKappaWeights = null | 'linear' | 'quadratic';

/** Options of {@link CohenKappa}. */
export interface CohenKappaOptions {
  /** null (default): unweighted kappa; `'linear'` or `'quadratic'`: weighted by the distance between class indices. */
  weights?: CohenKappaWeights;
  /**
   * The number of classes C. Given, a C × C confusion matrix is accumulated on the device (C² numbers of memory);
   * omitted, every label of the epoch is kept (8 bytes a sample) and C is the largest label + 1, as the reference.
   */
  numClasses?: number;
  /** Maps the engine output to `[yPred, y]`. */
  outputTransform?: (output: any) => PredictionPair;
}

/** The state dict of a {@link CohenKappa}: device sums with `numClasses`, else the stored labels. */
export type CohenKappaStateDict = { numExamples: number; sums: SumsState } | { outputs: OutputsState | null };

const WHERE = 'CohenKappa.loadStateDict';

/**
 * Cohen's kappa between predicted and true class labels over every sample since the last reset: unweighted, or
 * weighted linearly or quadratically by the distance between class indices (the reference's `CohenKappa`, checked
 * against scikit-learn's `cohen_kappa_score` with `labels=range(C)`).
 *
 * Inputs: `yPred` and `y` class labels (integers >= 0) of shape (N) or (N, 1); take the argmax of scores in
 * `outputTransform`. Labels outside [0, numClasses) (or negative or non-integer ones) throw a RangeError at
 * `compute()`. When both raters use one and the same class only, kappa is 0/0: NotComputableError.
 *
 * @example
 * new CohenKappa({ weights: 'quadratic', numClasses: 5, outputTransform: ({ yPred, y }) => [tf.argMax(yPred, -1), y] })
 *   .attach(evaluator, 'qwk');
 */
export class CohenKappa extends Metric<PredictionPair, number> {
  readonly #weights: CohenKappaWeights;
  readonly #numClasses: number | null;
  readonly #matrix = new DeviceState('CohenKappa');
  readonly #labels = new LabelCheck('CohenKappa');
  readonly #store = new OutputStore('CohenKappa');
  #numExamples = 0;

  /** @param options `{ weights, numClasses, outputTransform }`, see {@link CohenKappaOptions}. */
  constructor(options: CohenKappaOptions = {}) {
    const checked = checkOptions('CohenKappa', options, ['weights', 'numClasses', 'outputTransform']);
    super(options);
    const { weights = null, numClasses } = checked;
    this.#weights = checkOneOf('CohenKappa', 'option weights', weights, [null, 'linear', 'quadratic'] as const);
    this.#numClasses =
      numClasses === undefined ? null : checkInteger('CohenKappa', 'option numClasses', numClasses, { min: 2 });
  }

  protected override get metricName(): string {
    return 'CohenKappa';
  }

  /** The weighting: null, `'linear'` or `'quadratic'`. */
  get weights(): CohenKappaWeights {
    return this.#weights;
  }

  /** Frees the confusion matrix or the stored labels. */
  reset(): void {
    this.#matrix.reset();
    this.#labels.reset();
    this.#store.reset();
    this.#numExamples = 0;
  }

  /**
   * Adds the batch's (true, predicted) pairs to the on-device confusion matrix (with `numClasses`) or keeps the labels
   * on the device (without); no readback.
   */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'CohenKappa');
    const isLabels = (t: tf.Tensor) => t.rank === 1 || (t.rank === 2 && t.shape[1] === 1);
    if (!isLabels(yPred) || !isLabels(y) || yPred.shape[0] !== y.shape[0]) {
      throw new RangeError(
        `CohenKappa: yPred and y should be class labels of shape (N) or (N, 1), got yPred [${yPred.shape}] and ` +
          `y [${y.shape}]. For scores, take the argmax in outputTransform: ({ yPred, y }) => [tf.argMax(yPred, -1), y].`,
      );
    }
    const c = this.#numClasses;
    if (c === null) {
      this.#store.append(yPred, y, [], []);
    } else {
      tf.tidy(() => {
        const fix = `The metric was built with numClasses: ${c}; fix the labels or numClasses.`;
        this.#labels.add('y', y, classIndexRule(c, fix));
        this.#labels.add('yPred', yPred, classIndexRule(c, fix));
        const actual = tf.oneHot(tf.cast(tf.reshape(y, [-1]), 'int32'), c, 1, 0, 'float32');
        const predicted = tf.oneHot(tf.cast(tf.reshape(yPred, [-1]), 'int32'), c, 1, 0, 'float32');
        this.#matrix.add({ matrix: tf.matMul(actual, predicted, true, false) });
      });
    }
    this.#numExamples += yPred.shape[0]!;
  }

  /**
   * Reads the confusion matrix (or the labels) back once and returns kappa; throws NotComputableError before any
   * update or when kappa is 0/0, and a RangeError for a bad label.
   */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError('CohenKappa must have at least one example before it can be computed.');
    }
    const { matrix, numClasses } = await this.#confusion();
    return kappa(matrix, numClasses, this.#weights);
  }

  async #confusion(): Promise<{ matrix: Float64Array; numClasses: number }> {
    const c = this.#numClasses;
    if (c !== null) {
      const [sums] = await Promise.all([this.#matrix.read(), this.#labels.verify()]);
      return { matrix: sums.get('matrix') ?? new Float64Array(c * c), numClasses: c };
    }
    const { yPred, y } = await this.#store.read();
    let max = 0;
    for (const [subject, labels] of [
      ['y', y],
      ['yPred', yPred],
    ] as const) {
      let bad = 0;
      let example = 0;
      for (const label of labels) {
        if (!(Number.isInteger(label) && label >= 0)) {
          if (bad === 0) example = label;
          bad += 1;
        } else if (label > max) max = label;
      }
      if (bad > 0) {
        throw new RangeError(
          labelErrorMessage(
            'CohenKappa',
            subject,
            'class labels, integers >= 0',
            `${showFloat32(example)} (${bad} bad label${bad === 1 ? '' : 's'})`,
            'Pass class indices (take the argmax of scores in outputTransform).',
          ),
        );
      }
    }
    const numClasses = max + 1;
    const matrix = new Float64Array(numClasses * numClasses);
    for (let i = 0; i < y.length; i++) matrix[y[i]! * numClasses + yPred[i]!]! += 1;
    return { matrix, numClasses };
  }

  /** The confusion matrix (with `numClasses`) or the stored labels, as plain data; reads back once. */
  override async stateDict(): Promise<CohenKappaStateDict> {
    if (this.#numClasses === null) return { outputs: await this.#store.capture() };
    const numExamples = this.#numExamples; // captured at the call, with the sums and the label check
    const [, sums] = await Promise.all([this.#labels.capture(), captureSums(this.#matrix)]);
    return { numExamples, sums };
  }

  /** Restores the state; checks all of it first (the form must match the `numClasses` option). */
  override loadStateDict(stateDict: CohenKappaStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const c = this.#numClasses;
    if (c === null) {
      const sd = checkStateDict(WHERE, stateDict, ['outputs']);
      const apply = this.#store.planRestore(WHERE, 'outputs', sd.outputs, (r) => r.length === 0);
      const rows = (sd.outputs as { y?: unknown[] } | null)?.y?.length ?? 0;
      return () => {
        this.reset();
        apply();
        this.#numExamples = rows;
        markLoaded(this);
      };
    }
    const sd = checkStateDict(WHERE, stateDict, ['numExamples', 'sums']);
    const numExamples = checkCount(WHERE, "state dict entry 'numExamples'", sd.numExamples);
    const sums = checkSums(WHERE, "state dict entry 'sums'", sd.sums, { matrix: [c, c] });
    return () => {
      this.reset();
      this.#matrix.restore(sums);
      this.#numExamples = numExamples;
      markLoaded(this);
    };
  }
}

/** Kappa from a C × C confusion matrix (rows: y, columns: yPred), as scikit-learn: 1 − Σ w·C / Σ w·E. */
function kappa(matrix: Float64Array, c: number, weights: CohenKappaWeights): number {
  const rows = new Float64Array(c);
  const cols = new Float64Array(c);
  let n = 0;
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      const v = matrix[i * c + j]!;
      rows[i]! += v;
      cols[j]! += v;
      n += v;
    }
  }
  let observed = 0;
  let expected = 0;
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      const w = weights === null ? (i === j ? 0 : 1) : weights === 'linear' ? Math.abs(i - j) : (i - j) ** 2;
      observed += w * matrix[i * c + j]!;
      expected += (w * rows[i]! * cols[j]!) / n;
    }
  }
  if (expected === 0) {
    throw new NotComputableError(
      'CohenKappa: both yPred and y hold one and the same class only since the last reset, so the agreement expected ' +
        'by chance is 1 and kappa is 0/0. Evaluate on data with more than one class.',
    );
  }
  return 1 - observed / expected;
}
