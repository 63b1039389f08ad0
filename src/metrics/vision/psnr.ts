import * as tf from '@tensorflow/tfjs';
import { checkNumber, checkOptions } from '../../internal';
import { samePairShapes } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** Options of {@link PSNR}. */
export interface PSNROptions {
  /** The range of the target's values (max - min possible), e.g. 1 for images in [0, 1] or 255 for 8-bit ones. */
  dataRange: number;
  /** Maps the engine output to `[yPred, y]`. */
  outputTransform?: (output: any) => PredictionPair;
}

/** The plain-data state of a {@link PSNR}. */
export interface PSNRStateDict {
  /** Σ of the images' PSNR, in dB. */
  sumOfPsnr: number;
  /** Number of images. */
  numExamples: number;
}

/**
 * Peak signal-to-noise ratio, per image and averaged over images like the reference:
 * `10 log10(dataRange² / (MSE + 1e-10))` dB, the MSE taken over every value of one image (all axes but the first).
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`) of the same shape and dtype, the first axis the batch: NHWC images
 * (N, H, W, C), or any (N, ...). Holds one scalar sum on the device and the image count on the host.
 *
 * @example
 * new PSNR({ dataRange: 1 }).attach(evaluator, 'psnr');
 */
export class PSNR extends Metric<PredictionPair, number> {
  readonly #dataRange: number;
  readonly #state = new SumState('PSNR', ['sumOfPsnr'], ['numExamples']);

  /** @param options `{ dataRange, outputTransform? }`, see {@link PSNROptions}. */
  constructor(options: PSNROptions) {
    const { dataRange, ...rest } = checkOptions('PSNR', options, ['dataRange', 'outputTransform']);
    super(rest as Pick<PSNROptions, 'outputTransform'>);
    this.#dataRange = checkNumber('PSNR', 'option dataRange', dataRange, {
      min: 0,
      minExclusive: true,
      fix: 'Give the range of the values, e.g. new PSNR({ dataRange: 1 }) for images in [0, 1], 255 for 8-bit ones.',
    });
  }

  protected override get metricName(): string {
    return 'PSNR';
  }

  /** Frees the device sum and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the PSNR of each image of the batch to the device sum (no readback).
   *
   * @example
   * psnr.update([restored, original]); // both (N, H, W, C)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = samePairShapes(output, 'PSNR', 2, '(N, H, W, C) or (N, ...)');
      if (yPred.dtype !== y.dtype) {
        throw new TypeError(
          `PSNR.update: yPred and y should have the same dtype, got yPred ${yPred.dtype} and y ${y.dtype}. ` +
            'Cast both to float32 on the same scale (and set dataRange to match) in outputTransform.',
        );
      }
      const n = yPred.shape[0]!;
      const diff = tf.sub(tf.cast(tf.reshape(yPred, [n, -1]), 'float32'), tf.cast(tf.reshape(y, [n, -1]), 'float32'));
      const mse = tf.mean(tf.square(diff), 1);
      const ratio = tf.div(this.#dataRange ** 2, tf.add(mse, 1e-10));
      this.#state.add({ sumOfPsnr: tf.sum(tf.mul(tf.log(ratio), 10 / Math.LN10)) });
      this.#state.count('numExamples', n);
    });
  }

  /**
   * Reads the sum back once and returns the mean PSNR in dB; throws NotComputableError before any image.
   *
   * @example
   * const db = await psnr.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('PSNR must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    return sums.sumOfPsnr / counts.numExamples;
  }

  /**
   * The sum (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await psnr.stateDict();
   */
  override async stateDict(): Promise<PSNRStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * psnr.loadStateDict(saved);
   */
  override loadStateDict(stateDict: PSNRStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}
