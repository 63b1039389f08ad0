import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkStateDict, failType } from '../internal';
import { DeviceState } from './device-state';
import { type ClassificationKind, checkSameKind, classificationBatch, type PredictionPair, toPair } from './inputs';
import { LabelCheck, targetRule } from './label-check';
import { Metric, NotComputableError } from './metric';
import {
  captureSums,
  checkKind,
  checkSums,
  type KindState,
  markLoaded,
  planLoad,
  type SumsState,
} from './metric-state';

/**
 * How {@link Precision} and {@link Recall} combine classes: `false` gives one value per class (an array; a number
 * for binary input), `null` one value per class for binary input too (classes 0 and 1, as scikit-learn's
 * `average=None`), `true` or `'macro'` their mean, `'micro'` one ratio over all classes' counts, `'weighted'` the
 * mean weighted by each class's number of actual positives, `'samples'` (multilabel only) the mean over samples.
 */
export type PrecisionRecallAverage = boolean | null | 'macro' | 'micro' | 'weighted' | 'samples';

/** What Precision and Recall options have in common. */
export interface PrecisionRecallOptions {
  /** See {@link PrecisionRecallAverage}; default false (per class), like the reference. */
  average?: PrecisionRecallAverage;
  /** Treat inputs as multilabel (default false). */
  isMultilabel?: boolean;
  /** Maps the engine output to `[yPred, y]`. */
  outputTransform?: (output: any) => PredictionPair;
}

/** The option names of {@link PrecisionRecallOptions}, for `checkOptions`. */
export const PRECISION_RECALL_OPTIONS = ['average', 'isMultilabel', 'outputTransform'] as const;

/** The state dict of {@link Precision} and {@link Recall}. */
export interface PrecisionRecallStateDict {
  /** Whether any batch was seen since the last reset. */
  isUpdated: boolean;
  /** The input kind of the batches seen, or null. */
  kind: KindState;
  /** The device sums, read back: numerator, denominator (and weight for 'weighted'). */
  sums: SumsState;
}

const EPS = 1e-20;
const AVERAGES: readonly unknown[] = [true, false, null, 'macro', 'micro', 'weighted', 'samples'];

/**
 * Shared by Precision and Recall: true positives over predicted positives (precision) or over actual positives
 * (recall), accumulated per class on the device. A class with a zero denominator scores 0, like the reference.
 * Targets are checked like {@link Accuracy}'s (on the device, read back by `compute()`).
 */
export abstract class PrecisionRecallBase extends Metric<PredictionPair, number | number[]> {
  readonly #owner: string;
  readonly #average: false | null | 'macro' | 'micro' | 'weighted' | 'samples';
  readonly #isMultilabel: boolean;
  readonly #state: DeviceState;
  readonly #labels: LabelCheck;
  #kind: { kind: ClassificationKind; numClasses: number } | null = null;
  #isUpdated = false;

  /** True for precision (divide by predicted positives), false for recall (by actual positives). */
  protected abstract readonly isPrecision: boolean;

  constructor(owner: string, options: PrecisionRecallOptions = {}) {
    super(options);
    const { average = false, isMultilabel = false } = options;
    if (!AVERAGES.includes(average)) {
      failType(owner, 'option average', "true, false, null, 'macro', 'micro', 'weighted' or 'samples'", average);
    }
    checkBoolean(owner, 'option isMultilabel', isMultilabel);
    this.#owner = owner;
    this.#average = average === true ? 'macro' : average;
    this.#isMultilabel = isMultilabel;
    this.#state = new DeviceState(owner);
    this.#labels = new LabelCheck(owner);
  }

  /** The averaging in use: `false` or `null` (per class), `'macro'`, `'micro'`, `'weighted'` or `'samples'`. */
  get average(): false | null | 'macro' | 'micro' | 'weighted' | 'samples' {
    return this.#average;
  }

  /** Whether inputs are read as multilabel. */
  get isMultilabel(): boolean {
    return this.#isMultilabel;
  }

  /** Frees the on-device numerator, denominator (and weight) sums and forgets the input kind. */
  reset(): void {
    this.#state.reset();
    this.#labels.reset();
    this.#kind = null;
    this.#isUpdated = false;
  }

  /**
   * Adds this batch's true positives and predicted (precision) or actual (recall) positives to the on-device sums:
   * per class, summed (`'micro'`) or per sample (`'samples'`), plus actual positives per class for `'weighted'`
   * (no readback).
   */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, this.#owner);
    const average = this.#average;
    tf.tidy(() => {
      const batch = classificationBatch(yPred, y, this.#isMultilabel, this.#owner);
      if (average === 'samples' && batch.kind !== 'multilabel') {
        throw new RangeError(
          `${this.#owner}: average 'samples' needs multilabel input (isMultilabel: true), got ${batch.kind} input ` +
            `yPred [${yPred.shape}] and y [${y.shape}].`,
        );
      }
      this.#kind = checkSameKind(this.#kind, batch, this.#owner);
      this.#labels.add('y', y, targetRule(batch, yPred, y));
      let pred = batch.pred;
      let target = batch.target;
      if (batch.kind === 'multiclass' || (batch.kind === 'binary' && average !== false)) {
        // Binary input with an average is scored as two classes, 0 and 1, like the reference.
        const depth = batch.kind === 'binary' ? 2 : batch.numClasses;
        pred = tf.cast(tf.oneHot(tf.cast(pred, 'int32'), depth), 'float32');
        target = tf.cast(tf.oneHot(tf.cast(target, 'int32'), depth), 'float32');
      }
      const correct = tf.mul(pred, target);
      const positives = this.isPrecision ? pred : target;
      if (average === 'samples') {
        const perSample = tf.div(tf.sum(correct, 1), tf.add(tf.sum(positives, 1), EPS));
        this.#state.add({ numerator: tf.sum(perSample), denominator: batch.count });
      } else if (average === 'micro') {
        this.#state.add({ numerator: tf.sum(correct), denominator: tf.sum(positives) });
      } else {
        this.#state.add({ numerator: tf.sum(correct, 0), denominator: tf.sum(positives, 0) });
        if (average === 'weighted') this.#state.add({ weight: tf.sum(target, 0) });
      }
    });
    this.#isUpdated = true;
  }

  /**
   * Reads the sums back once: per-class ratios (`average: false`; a number for binary input), their mean (`'macro'`),
   * their support-weighted mean (`'weighted'`) or one ratio (`'micro'`, `'samples'`); throws NotComputableError before
   * any update.
   */
  async compute(): Promise<number | number[]> {
    if (!this.#isUpdated) {
      throw new NotComputableError(`${this.#owner} must have at least one example before it can be computed.`);
    }
    const average = this.#average;
    const isScalar = (this.#state.shapeOf('numerator') ?? []).length === 0;
    const [sums] = await Promise.all([this.#state.read(), this.#labels.verify()]);
    const numerator = sums.get('numerator') ?? new Float64Array(0);
    const denominator = sums.get('denominator') ?? new Float64Array(0);
    const eps = average === 'samples' ? 0 : EPS;
    const fraction = Array.from(numerator, (n, i) => n / (denominator[i] + eps));
    if (average === 'weighted') {
      const weight = sums.get('weight') ?? new Float64Array(0);
      const total = weight.reduce((a, b) => a + b, 0);
      return fraction.reduce((acc, f, i) => acc + f * weight[i], 0) / (total + EPS);
    }
    if (average === 'macro') return fraction.reduce((a, b) => a + b, 0) / fraction.length;
    return isScalar ? fraction[0] : fraction;
  }

  /**
   * The device sums, the input kind and whether it was updated, as plain data, so that a resumed run continues this
   * epoch's value exactly. Reads the sums back once (`await data()`), and throws like `compute()` for a bad label.
   */
  override async stateDict(): Promise<PrecisionRecallStateDict> {
    const isUpdated = this.#isUpdated; // captured at the call, with the sums and the label check
    const kind = this.#kind === null ? null : { ...this.#kind };
    const [, sums] = await Promise.all([this.#labels.capture(), captureSums(this.#state)]);
    return { isUpdated, kind, sums };
  }

  /** Restores a {@link stateDict}; checks all of it first (entry names, shapes for the saved kind, finite values). */
  override loadStateDict(stateDict: PrecisionRecallStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = `${this.#owner}.loadStateDict`;
    const sd = checkStateDict(where, stateDict, ['isUpdated', 'kind', 'sums']);
    const isUpdated = checkBoolean(where, "state dict entry 'isUpdated'", sd.isUpdated);
    const kind = checkKind(where, "state dict entry 'kind'", sd.kind);
    const average = this.#average;
    // The shape of each sum follows update(): one number (micro, samples, binary per class), else one per class.
    const perClass = kind === null ? null : [kind.kind === 'binary' ? 2 : kind.numClasses];
    const one = average === 'micro' || average === 'samples' || (kind?.kind === 'binary' && average === false);
    const shape = one ? [] : perClass;
    const sums = checkSums(where, "state dict entry 'sums'", sd.sums, {
      numerator: shape,
      denominator: shape,
      ...(average === 'weighted' ? { weight: perClass } : {}),
    });
    return () => {
      this.reset();
      this.#state.restore(sums);
      this.#kind = kind;
      this.#isUpdated = isUpdated;
      markLoaded(this);
    };
  }
}
