import * as tf from '@tensorflow/tfjs';
import { checkOptions, describeValue } from '../../internal';
import { checkNumeric, lastAxisRows } from '../input-checks';
import { isTensor } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { LOGIT_SHAPES } from '../regression/kl-divergence';
import { SumState } from '../sum-state';

/** What {@link Entropy} takes: `[yPred, y]` (y is not used), `[yPred]` or `{ yPred }`. */
export type EntropyInput = readonly [yPred: tf.Tensor, y?: unknown] | { readonly yPred: tf.Tensor };

/** The plain-data state of an {@link Entropy}. */
export interface EntropyStateDict {
  /** Σ of the rows' entropies. */
  sumOfEntropies: number;
  /** Number of rows (samples times positions). */
  numExamples: number;
}

/**
 * The mean entropy `-Σ_c p_c log p_c` (in nats) of the predicted distributions, `p = softmax(yPred)`: how unsure the
 * model is. Only the predictions are used.
 *
 * Input: `[yPred, y]` (the engine output of an evaluator; y is ignored), `[yPred]` or `{ yPred }`, with yPred logits
 * of shape (N, C), or (N, ..., C) for per-position distributions (e.g. NHWC segmentation maps); classes on the
 * **last** axis (the reference, in PyTorch, puts them on axis 1). Each position counts as one sample. Holds one
 * scalar sum on the device and the count on the host.
 *
 * @example
 * new Entropy().attach(evaluator, 'entropy');
 */
export class Entropy extends Metric<EntropyInput, number> {
  readonly #state = new SumState('Entropy', ['sumOfEntropies'], ['numExamples']);

  /** @param options.outputTransform maps the engine output to `[yPred, y]`, `[yPred]` or `{ yPred }`. */
  constructor(options: { outputTransform?: (output: any) => EntropyInput } = {}) {
    super(checkOptions('Entropy', options, ['outputTransform']) as typeof options);
  }

  protected override get metricName(): string {
    return 'Entropy';
  }

  /** Frees the device sum and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the batch's entropies to the device sum (no readback).
   *
   * @example
   * entropy.update([logits, labels]); // logits (N, C) or (N, ..., C)
   */
  update(output: EntropyInput): void {
    const yPred = Array.isArray(output) ? output[0] : (output as { yPred?: unknown } | null)?.yPred;
    if (!isTensor(yPred)) {
      throw new TypeError(
        `Entropy: update expects [yPred, y], [yPred] or { yPred } with yPred a tensor of logits, got ${describeValue(output)}. ` +
          'Pick the predictions with the outputTransform option.',
      );
    }
    checkNumeric('Entropy.update', 'yPred', yPred);
    if (yPred.rank < 2) {
      throw new RangeError(
        `Entropy.update: yPred should be of shape ${LOGIT_SHAPES}, got a ${yPred.dtype} tensor of shape [${yPred.shape}].`,
      );
    }
    tf.tidy(() => {
      const logP = tf.logSoftmax(lastAxisRows(yPred));
      this.#state.add({ sumOfEntropies: tf.neg(tf.sum(tf.mul(tf.exp(logP), logP))) });
      this.#state.count('numExamples', logP.shape[0]);
    });
  }

  /**
   * Reads the sum back once and returns the mean entropy in nats; throws NotComputableError before any sample.
   *
   * @example
   * const nats = await entropy.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('Entropy must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    return sums.sumOfEntropies / counts.numExamples;
  }

  /**
   * The sum (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await entropy.stateDict();
   */
  override async stateDict(): Promise<EntropyStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * entropy.loadStateDict(saved);
   */
  override loadStateDict(stateDict: EntropyStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
