import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkNumber, checkOptions, failRange, failType } from '../../internal';
import { samePairShapes } from '../input-checks';
import type { PredictionPair } from '../inputs';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';
import { SumState } from '../sum-state';

/** Options of {@link SSIM}. */
export interface SSIMOptions {
  /** The range of the target's values (max - min possible), e.g. 1 for images in [0, 1] or 255 for 8-bit ones. */
  dataRange: number;
  /** Window size, odd and positive: one number, or [height, width]. Default 11. */
  kernelSize?: number | readonly [number, number];
  /** Standard deviation of the Gaussian window: one number, or [height, width]. Default 1.5. */
  sigma?: number | readonly [number, number];
  /** A Gaussian window (default) or a uniform one (the mean over the window). */
  gaussian?: boolean;
  /** Stabilises the luminance term: C1 = (k1 · dataRange)². Default 0.01. */
  k1?: number;
  /** Stabilises the contrast term: C2 = (k2 · dataRange)². Default 0.03. */
  k2?: number;
  /** Maps the engine output to `[yPred, y]`. */
  outputTransform?: (output: any) => PredictionPair;
}

/** The plain-data state of an {@link SSIM}. */
export interface SSIMStateDict {
  /** Σ of the images' mean SSIM. */
  sumOfSsim: number;
  /** Number of images. */
  numExamples: number;
}

/** The window and constants of an SSIM computation (internal). */
export interface SSIMWindow {
  /** Weights along the height, summing to 1; odd length. */
  height: Float32Array;
  /** Weights along the width, summing to 1; odd length. */
  width: Float32Array;
  c1: number;
  c2: number;
}

/**
 * The structural similarity index (SSIM) of images, like the reference: each image pair is padded by reflection,
 * filtered with a separable window (Gaussian 11 × 11, σ 1.5 by default), the SSIM map is averaged over every pixel
 * and channel of the image, and the images' values are averaged.
 *
 * Input: `[yPred, y]` (or `{ yPred, y }`), NHWC images (N, H, W, C) of the same shape and dtype, with H and W larger
 * than half the window. Channels are compared separately (a depthwise filter). Holds one scalar sum on the device and
 * the image count on the host.
 *
 * The uniform window (`gaussian: false`) is the mean over the whole kernelSize × kernelSize window, like
 * scikit-image's; the reference's own uniform kernel weighs only the 5 central taps of each axis.
 *
 * @example
 * new SSIM({ dataRange: 1 }).attach(evaluator, 'ssim');
 * new SSIM({ dataRange: 255, kernelSize: 7, gaussian: false });
 */
export class SSIM extends Metric<PredictionPair, number> {
  readonly #window: SSIMWindow;
  readonly #state = new SumState('SSIM', ['sumOfSsim'], ['numExamples']);

  /** @param options `{ dataRange, kernelSize?, sigma?, gaussian?, k1?, k2?, outputTransform? }`, see {@link SSIMOptions}. */
  constructor(options: SSIMOptions) {
    const {
      dataRange,
      kernelSize = 11,
      sigma = 1.5,
      gaussian = true,
      k1 = 0.01,
      k2 = 0.03,
      ...rest
    } = checkOptions('SSIM', options, ['dataRange', 'kernelSize', 'sigma', 'gaussian', 'k1', 'k2', 'outputTransform']);
    super(rest as Pick<SSIMOptions, 'outputTransform'>);
    const range = checkNumber('SSIM', 'option dataRange', dataRange, {
      min: 0,
      minExclusive: true,
      fix: 'Give the range of the values, e.g. new SSIM({ dataRange: 1 }) for images in [0, 1], 255 for 8-bit ones.',
    });
    const [kh, kw] = pairOf(
      'kernelSize',
      kernelSize,
      'an odd positive integer',
      (v) => Number.isInteger(v) && v > 0 && v % 2 === 1,
    );
    const [sh, sw] = pairOf('sigma', sigma, 'a positive number', (v) => Number.isFinite(v) && v > 0);
    const isGaussian = checkBoolean('SSIM', 'option gaussian', gaussian);
    const positive = { min: 0, minExclusive: true } as const;
    const c1 = (checkNumber('SSIM', 'option k1', k1, positive) * range) ** 2;
    const c2 = (checkNumber('SSIM', 'option k2', k2, positive) * range) ** 2;
    this.#window = {
      height: isGaussian ? gaussianWindow(kh, sh) : uniformWindow(kh),
      width: isGaussian ? gaussianWindow(kw, sw) : uniformWindow(kw),
      c1,
      c2,
    };
  }

  protected override get metricName(): string {
    return 'SSIM';
  }

  /** Frees the device sum and zeroes the count. */
  reset(): void {
    this.#state.reset();
  }

  /**
   * Adds the mean SSIM of each image of the batch to the device sum (no readback).
   *
   * @example
   * ssim.update([restored, original]); // both (N, H, W, C)
   */
  update(output: PredictionPair): void {
    tf.tidy(() => {
      const [yPred, y] = samePairShapes(output, 'SSIM', 4, '(N, H, W, C)');
      const fix = 'SSIM takes NHWC images (N, H, W, C); add the missing axes with tf.expandDims in outputTransform.';
      if (yPred.rank !== 4) failRange('SSIM.update', 'yPred', 'NHWC images of shape (N, H, W, C)', yPred, fix);
      if (yPred.dtype !== y.dtype) {
        throw new TypeError(
          `SSIM.update: yPred and y should have the same dtype, got yPred ${yPred.dtype} and y ${y.dtype}. ` +
            'Cast both to float32 on the same scale (and set dataRange to match) in outputTransform.',
        );
      }
      const [, h, w] = yPred.shape as number[];
      const padH = (this.#window.height.length - 1) / 2;
      const padW = (this.#window.width.length - 1) / 2;
      if (h! <= padH || w! <= padW) {
        failRange(
          'SSIM.update',
          'yPred',
          `images larger than ${padH} × ${padW} pixels (half the ${this.#window.height.length} × ${this.#window.width.length} window)`,
          yPred,
          'Use a smaller kernelSize for small images.',
        );
      }
      const map = ssimIndexMap(yPred as tf.Tensor4D, y as tf.Tensor4D, this.#window);
      this.#state.add({ sumOfSsim: tf.sum(tf.mean(map, [1, 2, 3])) });
      this.#state.count('numExamples', yPred.shape[0]!);
    });
  }

  /**
   * Reads the sum back once and returns the mean SSIM; throws NotComputableError before any image.
   *
   * @example
   * const similarity = await ssim.compute();
   */
  async compute(): Promise<number> {
    if (this.#state.counts.numExamples === 0) {
      throw new NotComputableError('SSIM must have at least one example before it can be computed.');
    }
    const { sums, counts } = await this.#state.read();
    return sums.sumOfSsim / counts.numExamples;
  }

  /**
   * The sum (read back with `await data()`) and the count, as plain numbers.
   *
   * @example
   * const saved = await ssim.stateDict();
   */
  override async stateDict(): Promise<SSIMStateDict> {
    return this.#state.stateDict();
  }

  /**
   * Restores a state from {@link stateDict}; checks every entry before changing anything.
   *
   * @example
   * ssim.loadStateDict(saved);
   */
  override loadStateDict(stateDict: SSIMStateDict): void {
    this.#state.loadStateDict(stateDict);
    markLoaded(this);
  }
}

/**
 * The SSIM map of NHWC images, the same size as the images (internal; exported for tests). The images are padded by
 * reflection without repeating the edge, and the five local statistics (means, variances, covariance) come from one
 * depthwise filtering pass per axis over the five inputs stacked along the batch axis. Call inside `tf.tidy`.
 */
export function ssimIndexMap(yPred: tf.Tensor4D, y: tf.Tensor4D, window: SSIMWindow): tf.Tensor4D {
  const p = tf.cast(yPred, 'float32');
  const t = tf.cast(y, 'float32');
  const channels = p.shape[3];
  const kh = window.height.length;
  const kw = window.width.length;
  // The five inputs stacked along the batch axis (slicing them apart again is a contiguous copy, unlike the channel axis).
  const n = p.shape[0];
  const stacked = tf.concat([p, t, tf.mul(p, p), tf.mul(t, t), tf.mul(p, t)], 0) as tf.Tensor4D;
  const padH = (kh - 1) / 2;
  const padW = (kw - 1) / 2;
  const padded: tf.Tensor4D = tf.mirrorPad(
    stacked,
    [
      [0, 0],
      [padH, padH],
      [padW, padW],
      [0, 0],
    ],
    'reflect',
  );
  const filterH = tf.tile(tf.tensor4d(window.height, [kh, 1, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
  const filterW = tf.tile(tf.tensor4d(window.width, [1, kw, 1, 1]), [1, 1, channels, 1]) as tf.Tensor4D;
  const filtered = tf.depthwiseConv2d(tf.depthwiseConv2d(padded, filterH, 1, 'valid'), filterW, 1, 'valid');
  const [muP, muT, pp, tt, pt] = tf.split(filtered, [n, n, n, n, n], 0) as [
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor4D,
    tf.Tensor4D,
  ];
  const muPP = tf.square(muP);
  const muTT = tf.square(muT);
  const muPT = tf.mul(muP, muT);
  const a1 = tf.add(tf.mul(muPT, 2), window.c1);
  const a2 = tf.add(tf.mul(tf.sub(pt, muPT), 2), window.c2);
  const b1 = tf.add(tf.add(muPP, muTT), window.c1);
  const b2 = tf.add(tf.add(tf.sub(pp, muPP), tf.sub(tt, muTT)), window.c2);
  return tf.div(tf.mul(a1, a2), tf.mul(b1, b2));
}

/** The reference's Gaussian window: exp(-x² / 2σ²) at x = -(k-1)/2 … (k-1)/2, normalised to sum 1. */
function gaussianWindow(size: number, sigma: number): Float32Array {
  const half = (size - 1) / 2;
  const weights = Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const total = weights.reduce((a, b) => a + b, 0);
  return Float32Array.from(weights, (v) => v / total);
}

function uniformWindow(size: number): Float32Array {
  return new Float32Array(size).fill(1 / size);
}

/** One number for both axes, or [height, width]; each checked by `isValid`. */
function pairOf(name: string, value: unknown, expected: string, isValid: (v: number) => boolean): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((v) => typeof v === 'number')) {
    failType('SSIM', `option ${name}`, `${expected} or a pair [height, width] of them`, value);
  }
  if (!pair.every(isValid)) failRange('SSIM', `option ${name}`, `${expected} or a pair [height, width] of them`, value);
  return [pair[0], pair[1]];
}
