import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkInteger, checkOptions, checkStateDict } from '../internal';
import { DeviceState } from './device-state';
import { type PredictionPair, toPair } from './inputs';
import { LabelCheck, zeroOneRule } from './label-check';
import { Metric, NotComputableError } from './metric';
import { captureSums, checkCount, checkSums, markLoaded, planLoad, type SumsState } from './metric-state';

/** Options of {@link MultiLabelConfusionMatrix}. */
export interface MultiLabelConfusionMatrixOptions {
  /** The number of labels C (> 1), the last axis of `yPred` and `y`. */
  numClasses: number;
  /** Divide each label's 2 × 2 matrix by its total (default false: counts). */
  normalized?: boolean;
  /** Maps the engine output to `[yPred, y]`. */
  outputTransform?: (output: any) => PredictionPair;
}

/** The state dict of a {@link MultiLabelConfusionMatrix}. */
export interface MultiLabelConfusionMatrixStateDict {
  numExamples: number;
  positions: number;
  sums: SumsState;
}

const WHERE = 'MultiLabelConfusionMatrix.loadStateDict';

/**
 * One 2 × 2 confusion matrix per label of multilabel data (the reference's `MultiLabelConfusionMatrix`, checked
 * against scikit-learn's `multilabel_confusion_matrix`): `m[c] = [[tn, fp], [fn, tp]]` for label c, over every
 * position since the last reset. Accumulated on the device (three sums per label, no readback in `update`).
 *
 * Inputs: `yPred` and `y` of the same shape (N, ..., C), labels on the last axis, both 0/1 (threshold probabilities in
 * `outputTransform`); other values throw a RangeError at `compute()`.
 *
 * @example
 * new MultiLabelConfusionMatrix({ numClasses: 3, outputTransform: ({ yPred, y }) => [tf.greater(yPred, 0.5), y] })
 *   .attach(evaluator, 'mlcm'); // [C][2][2]
 */
export class MultiLabelConfusionMatrix extends Metric<PredictionPair, number[][][]> {
  readonly #numClasses: number;
  readonly #normalized: boolean;
  readonly #state = new DeviceState('MultiLabelConfusionMatrix');
  readonly #labels = new LabelCheck('MultiLabelConfusionMatrix');
  #numExamples = 0;
  #positions = 0;

  /** @param options `{ numClasses, normalized, outputTransform }`, see {@link MultiLabelConfusionMatrixOptions}. */
  constructor(options: MultiLabelConfusionMatrixOptions) {
    const checked = checkOptions('MultiLabelConfusionMatrix', options, ['numClasses', 'normalized', 'outputTransform']);
    super(options);
    this.#numClasses = checkInteger('MultiLabelConfusionMatrix', 'option numClasses', checked.numClasses, { min: 2 });
    this.#normalized = checkBoolean('MultiLabelConfusionMatrix', 'option normalized', checked.normalized ?? false);
  }

  protected override get metricName(): string {
    return 'MultiLabelConfusionMatrix';
  }

  /** The number of labels. */
  get numClasses(): number {
    return this.#numClasses;
  }

  /** Frees the on-device sums and zeroes the counts. */
  reset(): void {
    this.#state.reset();
    this.#labels.reset();
    this.#numExamples = 0;
    this.#positions = 0;
  }

  /** Adds the batch's true positives, predicted and actual positives per label to the on-device sums (no readback). */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'MultiLabelConfusionMatrix');
    const c = this.#numClasses;
    const same = yPred.rank === y.rank && yPred.shape.every((d, i) => d === y.shape[i]);
    if (!same || yPred.rank < 2 || yPred.shape[yPred.rank - 1] !== c) {
      throw new RangeError(
        `MultiLabelConfusionMatrix: yPred and y should have the same shape (N, ..., ${c}) (numClasses on the last ` +
          `axis), got yPred [${yPred.shape}] and y [${y.shape}].`,
      );
    }
    const positions = yPred.size / c;
    tf.tidy(() => {
      const fix = 'Multilabel inputs are 0/1 per label; threshold probabilities in outputTransform.';
      this.#labels.add('yPred', yPred, zeroOneRule('multilabel predictions', fix));
      this.#labels.add('y', y, zeroOneRule('multilabel targets', fix));
      const p = tf.cast(tf.reshape(yPred, [positions, c]), 'float32');
      const t = tf.cast(tf.reshape(y, [positions, c]), 'float32');
      this.#state.add({ counts: tf.stack([tf.sum(tf.mul(p, t), 0), tf.sum(p, 0), tf.sum(t, 0)]) });
    });
    this.#numExamples += yPred.shape[0]!;
    this.#positions += positions;
  }

  /**
   * Reads the sums back once: `[C][2][2]` counts `[[tn, fp], [fn, tp]]` (or fractions of each label's total with
   * `normalized`); throws NotComputableError before any update and a RangeError for values other than 0/1.
   */
  async compute(): Promise<number[][][]> {
    if (this.#numExamples === 0) {
      throw new NotComputableError(
        'MultiLabelConfusionMatrix must have at least one example before it can be computed.',
      );
    }
    const c = this.#numClasses;
    const positions = this.#positions;
    const [sums] = await Promise.all([this.#state.read(), this.#labels.verify()]);
    const counts = sums.get('counts') ?? new Float64Array(3 * c);
    return Array.from({ length: c }, (_, k) => {
      const tp = counts[k]!;
      const fp = counts[c + k]! - tp;
      const fn = counts[2 * c + k]! - tp;
      const tn = positions - tp - fp - fn;
      const m = [
        [tn, fp],
        [fn, tp],
      ];
      return this.#normalized ? m.map((row) => row.map((v) => v / positions)) : m;
    });
  }

  /** The sums and counts as plain data (reads back once; throws if a bad value was seen). */
  override async stateDict(): Promise<MultiLabelConfusionMatrixStateDict> {
    const numExamples = this.#numExamples; // captured at the call, with the sums and the label check
    const positions = this.#positions;
    const [, sums] = await Promise.all([this.#labels.capture(), captureSums(this.#state)]);
    return { numExamples, positions, sums };
  }

  /** Restores the state; checks all of it first. */
  override loadStateDict(stateDict: MultiLabelConfusionMatrixStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const sd = checkStateDict(WHERE, stateDict, ['numExamples', 'positions', 'sums']);
    const numExamples = checkCount(WHERE, "state dict entry 'numExamples'", sd.numExamples);
    const positions = checkCount(WHERE, "state dict entry 'positions'", sd.positions);
    const sums = checkSums(WHERE, "state dict entry 'sums'", sd.sums, { counts: [3, this.#numClasses] });
    return () => {
      this.reset();
      this.#state.restore(sums);
      this.#numExamples = numExamples;
      this.#positions = positions;
      markLoaded(this);
    };
  }
}
