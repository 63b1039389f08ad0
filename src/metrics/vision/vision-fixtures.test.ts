// PSNR and SSIM against scikit-image and a SciPy implementation of the reference (fixtures/vision.py → vision.json).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from '../fixtures/vision.json';
import { NotComputableError } from '../metric';
import { type Pair, useCpu } from '../metric.test-util';
import { PSNR } from './psnr';
import { SSIM, type SSIMOptions, ssimIndexMap } from './ssim';

beforeAll(useCpu);

type Images = number[][][][];
const images = fixtures.images as Record<string, Images>;

/** Two batches: the first image, then the rest. */
function split(yPred: Images, y: Images): Pair[] {
  return [
    [tf.tensor4d(yPred.slice(0, 1)), tf.tensor4d(y.slice(0, 1))],
    [tf.tensor4d(yPred.slice(1)), tf.tensor4d(y.slice(1))],
  ];
}

async function over(metric: PSNR | SSIM, pairs: Pair[]): Promise<number> {
  for (const p of pairs) metric.update(p);
  const value = await metric.compute();
  tf.dispose(pairs);
  return value;
}

describe('PSNR matches scikit-image, per image and averaged', () => {
  for (const c of fixtures.psnr) {
    it(c.name, async () => {
      expect(await over(new PSNR({ dataRange: c.dataRange }), split(c.yPred as Images, c.y as Images))).toBeCloseTo(
        c.value,
        4,
      );
      // one image at a time gives each image's value
      const single = await over(new PSNR({ dataRange: c.dataRange }), [
        [tf.tensor4d((c.yPred as Images).slice(2, 3)), tf.tensor4d((c.y as Images).slice(2, 3))],
      ]);
      expect(single).toBeCloseTo(c.perImage[2]!, 4);
    });
  }

  it('identical images give 10 log10(dataRange² / 1e-10), like the reference', async () => {
    const a = tf.ones([2, 3, 3, 1]);
    expect(await over(new PSNR({ dataRange: 1 }), [[a, a.clone()]])).toBeCloseTo(100, 3);
  });
});

describe('SSIM matches the reference and scikit-image', () => {
  for (const c of fixtures.ssim) {
    const options = c.options as SSIMOptions;
    const yPred = images[c.yPred]!;
    const y = images[c.y]!;

    it(`${c.name}: the metric equals the reference's definition (SciPy, reflection padding, whole image)`, async () => {
      expect(await over(new SSIM(options), split(yPred, y))).toBeCloseTo(c.full, 5);
    });

    if (c.skimagePerImage !== undefined) {
      it(`${c.name}: the SSIM map inside its border equals scikit-image's structural_similarity`, async () => {
        const size = options.kernelSize as number;
        const weights = options.gaussian
          ? gaussian(size, options.sigma as number)
          : new Float32Array(size).fill(1 / size);
        const c1 = (0.01 * options.dataRange) ** 2;
        const c2 = (0.03 * options.dataRange) ** 2;
        const b = c.border!;
        const inner = tf.tidy(() => {
          const map = ssimIndexMap(tf.tensor4d(yPred), tf.tensor4d(y), { height: weights, width: weights, c1, c2 });
          const [n, h, w, ch] = map.shape;
          return tf.mean(tf.slice(map, [0, b, b, 0], [n, h - 2 * b, w - 2 * b, ch]), [1, 2, 3]);
        });
        const values = Array.from(await inner.data());
        inner.dispose();
        for (const [i, v] of values.entries()) expect(v).toBeCloseTo(c.skimagePerImage![i]!, 5);
      });
    }
  }

  it('identical images give 1; options and shapes are checked', async () => {
    const a = tf.randomUniform([2, 12, 12, 3], 0, 1, 'float32', 3);
    expect(await over(new SSIM({ dataRange: 1 }), [[a, a.clone()]])).toBeCloseTo(1, 5);
    const before = tf.memory().numTensors;
    const small = tf.zeros([1, 5, 9, 1]);
    const gray = tf.zeros([1, 9, 9]);
    const ints = tf.zeros([1, 9, 9, 1], 'int32');
    const floats = tf.zeros([1, 9, 9, 1]);
    expect(() => new SSIM({ dataRange: 1 }).update([small, small])).toThrow(
      'SSIM.update: yPred should be images larger than 5 × 5 pixels (half the 11 × 11 window), got a float32 tensor of shape [1,5,9,1]. Use a smaller kernelSize for small images.',
    );
    expect(() => new SSIM({ dataRange: 1 }).update([gray, gray])).toThrow(
      'SSIM.update: yPred should be of shape (N, H, W, C), got a float32 tensor of shape [1,9,9].',
    );
    expect(() => new SSIM({ dataRange: 1, kernelSize: 3 }).update([ints, floats])).toThrow(
      /SSIM.update: yPred and y should have the same dtype, got yPred int32 and y float32/,
    );
    expect(() => new SSIM({ dataRange: 1, kernelSize: 4 })).toThrow(
      'SSIM: option kernelSize should be an odd positive integer or a pair [height, width] of them, got 4.',
    );
    expect(() => new SSIM({ dataRange: 1, sigma: [1, -1] })).toThrow(/SSIM: option sigma should be a positive number/);
    expect(() => new SSIM({} as SSIMOptions)).toThrow(
      'SSIM: option dataRange should be a positive number, got undefined. Give the range of the values, e.g. new SSIM({ dataRange: 1 }) for images in [0, 1], 255 for 8-bit ones.',
    );
    expect(() => new PSNR({ dataRange: 1, data_range: 1 } as never)).toThrow(
      /PSNR: unknown option 'data_range'. Did you mean 'dataRange'\?/,
    );
    tf.dispose([small, gray, ints, floats]);
    expect(tf.memory().numTensors).toBe(before); // a rejected update leaves nothing behind
    await expect(new SSIM({ dataRange: 1 }).compute()).rejects.toBeInstanceOf(NotComputableError);
    await expect(new PSNR({ dataRange: 1 }).compute()).rejects.toThrow('PSNR must have at least one example');
  });
});

function gaussian(size: number, sigma: number): Float32Array {
  const half = (size - 1) / 2;
  const w = Array.from({ length: size }, (_, i) => Math.exp(-0.5 * ((i - half) / sigma) ** 2));
  const total = w.reduce((a, b) => a + b, 0);
  return Float32Array.from(w, (v) => v / total);
}
