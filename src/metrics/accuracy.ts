import * as tf from '@tensorflow/tfjs';
import { DeviceState } from './device-state';
import {
  type ClassificationKind,
  checkSameKind,
  classificationBatch,
  describeValue,
  type PredictionPair,
  toPair,
} from './inputs';
import { LabelCheck, targetRule } from './label-check';
import { Metric, NotComputableError } from './metric';
import {
  checkKind,
  checkSumsStateDict,
  type KindState,
  markLoaded,
  planLoad,
  readSums,
  type SumsStateDict,
} from './metric-state';

/**
 * The fraction of correct predictions, over all positions seen since the last reset.
 *
 * Inputs are `[yPred, y]` (or `{ yPred, y }`), classes on the last axis:
 * - binary: `yPred` and `y` of shape (N) or (N, ..., 1). `yPred` may hold probabilities: values above 0.5 count
 *   as 1 (the reference requires 0/1 predictions; 0/1 inputs give the same result).
 * - multiclass: `yPred` (N, ..., C) logits or probabilities (argmax is the prediction) with `y` (N, ...) class
 *   indices or one-hot `y` (N, ..., C).
 * - multilabel (`isMultilabel: true`): `yPred` and `y` (N, ..., C), thresholded at 0.5; a sample is correct only
 *   when all C labels match.
 *
 * Targets are checked: class indices outside [0, C), negative or non-integer ones, and binary, one-hot or multilabel
 * targets other than 0/1 throw a RangeError naming the bad value. The check runs on the device and is read back by
 * `compute()`, so a step never waits for it.
 *
 * @example
 * const acc = new Accuracy();
 * acc.attach(evaluator, 'accuracy');
 * await evaluator.run(batches); // evaluator.state.metrics.accuracy === 0.93
 */
export class Accuracy extends Metric<PredictionPair, number> {
  readonly #isMultilabel: boolean;
  readonly #state = new DeviceState('Accuracy');
  readonly #labels = new LabelCheck('Accuracy');
  #numExamples = 0;
  #kind: { kind: ClassificationKind; numClasses: number } | null = null;

  /**
   * @param options.isMultilabel treat inputs as multilabel (default false).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { isMultilabel?: boolean; outputTransform?: (output: any) => PredictionPair } = {}) {
    super(options);
    const { isMultilabel = false } = options;
    if (typeof isMultilabel !== 'boolean') {
      throw new TypeError(`Accuracy: option isMultilabel should be a boolean, got ${describeValue(isMultilabel)}.`);
    }
    this.#isMultilabel = isMultilabel;
  }

  /** Frees the on-device count of correct predictions, zeroes the example count and forgets the input kind. */
  reset(): void {
    this.#state.reset();
    this.#labels.reset();
    this.#numExamples = 0;
    this.#kind = null;
  }

  /**
   * Adds this batch's number of correct predictions to the on-device sum and its size to the example count (no
   * readback); throws a RangeError if the input kind or class count changes since the last reset.
   */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'Accuracy');
    tf.tidy(() => {
      const batch = classificationBatch(yPred, y, this.#isMultilabel, 'Accuracy');
      this.#kind = checkSameKind(this.#kind, batch, 'Accuracy');
      this.#labels.add('y', y, targetRule(batch, yPred, y));
      let correct: tf.Tensor;
      if (batch.kind === 'multilabel') correct = tf.all(tf.equal(batch.pred, batch.target), -1);
      else correct = tf.equal(batch.pred, batch.target);
      this.#state.add({ correct: tf.sum(tf.cast(correct, 'float32')) });
      this.#numExamples += batch.count;
    });
  }

  /**
   * Reads the correct count and the label check back (one `await data()` each) and returns the count over the number
   * of examples; throws NotComputableError before any update and a RangeError for a bad label.
   */
  async compute(): Promise<number> {
    if (this.#numExamples === 0) {
      throw new NotComputableError('Accuracy must have at least one example before it can be computed.');
    }
    const numExamples = this.#numExamples;
    const [sums] = await Promise.all([this.#state.read(), this.#labels.verify()]);
    return (sums.get('correct')?.[0] ?? 0) / numExamples;
  }

  /**
   * The example count, the input kind and the device sums as plain data, so that a resumed run continues this epoch's
   * value exactly. Reads the sums back once (`await data()`), and throws like `compute()` for a bad label.
   */
  override async stateDict(): Promise<SumsStateDict & { kind: KindState }> {
    await this.#labels.verify();
    return { numExamples: this.#numExamples, kind: this.#kind, sums: await readSums(this.#state) };
  }

  /** Restores a {@link stateDict}; checks all of it first (count, entry names, shapes, finite values). */
  override loadStateDict(stateDict: SumsStateDict & { kind: KindState }): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = 'Accuracy.loadStateDict';
    const checked = checkSumsStateDict(where, stateDict, { correct: [] }, ['kind']);
    const kind = checkKind(where, "state dict entry 'kind'", checked.stateDict.kind);
    return () => {
      this.reset();
      this.#state.restore(checked.sums);
      this.#numExamples = checked.numExamples;
      this.#kind = kind;
      markLoaded(this);
    };
  }
}
