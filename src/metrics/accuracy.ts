import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkOptions } from '../internal';
import { type ClassificationKind, checkSameKind, classificationBatch, type PredictionPair, toPair } from './inputs';
import { targetRule } from './label-check';
import { checkKind, type KindState } from './metric-state';
import { SumCountMetric } from './sum-count';

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
 * Targets are checked: class indices outside [0, C), negative or non-integer ones, and binary, one-hot or multilabel
 * targets other than 0/1 throw a RangeError naming the bad value. The check runs on the device and is read back by
 * `compute()`, so a step never waits for it.
 *
 * @example
 * const acc = new Accuracy();
 * acc.attach(evaluator, 'accuracy');
 * await evaluator.run(batches); // evaluator.state.metrics.accuracy === 0.93
 */
export class Accuracy extends SumCountMetric<PredictionPair> {
  readonly #isMultilabel: boolean;
  #kind: { kind: ClassificationKind; numClasses: number } | null = null;

  /**
   * @param options.isMultilabel treat inputs as multilabel (default false).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(options: { isMultilabel?: boolean; outputTransform?: (output: any) => PredictionPair } = {}) {
    super(checkOptions('Accuracy', options, ['isMultilabel', 'outputTransform']) as typeof options);
    this.#isMultilabel = checkBoolean('Accuracy', 'option isMultilabel', options.isMultilabel ?? false);
  }

  protected override get metricName(): string {
    return 'Accuracy';
  }

  protected override get sumName(): string {
    return 'correct';
  }

  protected override extraState(): { kind: KindState } {
    return { kind: this.#kind === null ? null : { ...this.#kind } };
  }

  protected override get extraStateKeys(): readonly string[] {
    return ['kind'];
  }

  protected override planExtraLoad(where: string, stateDict: Record<string, unknown>): () => void {
    const kind = checkKind(where, "state dict entry 'kind'", stateDict.kind);
    return () => {
      this.#kind = kind;
    };
  }

  /** Frees the on-device count of correct predictions, zeroes the example count and forgets the input kind. */
  override reset(): void {
    super.reset();
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
      this.checkLabels('y', y, targetRule(batch, yPred, y));
      let correct: tf.Tensor;
      if (batch.kind === 'multilabel') correct = tf.all(tf.equal(batch.pred, batch.target), -1);
      else correct = tf.equal(batch.pred, batch.target);
      this.accumulate(tf.sum(tf.cast(correct, 'float32')), batch.count);
    });
  }
}
