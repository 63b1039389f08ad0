// Regression and divergence metrics against scikit-learn and SciPy (fixtures/regression.py → regression.json).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import fixtures from '../fixtures/regression.json';
import { NotComputableError } from '../metric';
import { type Pair, useCpu } from '../metric.test-util';
import { CosineSimilarity } from './cosine-similarity';
import { JSDivergence } from './js-divergence';
import { KLDivergence } from './kl-divergence';
import { MaximumAbsoluteError } from './maximum-absolute-error';
import { MeanAbsoluteRelativeError } from './mean-absolute-relative-error';
import { MedianAbsoluteError } from './median-absolute-error';
import { PearsonCorrelation } from './pearson-correlation';
import { R2Score } from './r2-score';

beforeAll(useCpu);

/** Splits rows into batches of the given sizes (the rest in a last batch). */
function batches(yPred: unknown[], y: unknown[], sizes: number[], column = false): Pair[] {
  const out: Pair[] = [];
  let start = 0;
  for (const size of [...sizes, yPred.length]) {
    if (start >= yPred.length) break;
    const end = Math.min(start + size, yPred.length);
    const p = yPred.slice(start, end) as number[];
    out.push([column ? tf.tensor2d(p, [p.length, 1]) : tf.tensor(p), tf.tensor(y.slice(start, end) as number[])]);
    start = end;
  }
  return out;
}

async function over<T>(metric: { update(o: Pair): unknown; compute(): Promise<T> }, pairs: Pair[]): Promise<T> {
  for (const p of pairs) metric.update(p);
  const value = await metric.compute();
  tf.dispose(pairs);
  return value;
}

describe('regression metrics match scikit-learn / SciPy', () => {
  for (const c of fixtures.regression) {
    it(`${c.name}: R2Score, PearsonCorrelation, MedianAbsoluteError, MaximumAbsoluteError, MeanAbsoluteRelativeError`, async () => {
      const split = () => batches(c.yPred, c.y, [3, 1, 7]);
      expect(await over(new R2Score(), split())).toBeCloseTo(c.r2, 5);
      expect(await over(new PearsonCorrelation(), batches(c.yPred, c.y, [5], true))).toBeCloseTo(c.pearson, 5);
      expect(await over(new MedianAbsoluteError(), split())).toBeCloseTo(c.medianAbsoluteError, 5);
      expect(await over(new MaximumAbsoluteError(), split())).toBeCloseTo(c.maximumAbsoluteError, 5);
      expect(c.meanAbsoluteRelativeError).not.toBeNull();
      expect(await over(new MeanAbsoluteRelativeError(), split())).toBeCloseTo(c.meanAbsoluteRelativeError!, 5);
    });
  }

  it('CosineSimilarity: mean of per-sample similarities over flattened (N, 3, 4) samples', async () => {
    const { yPred, y, value } = fixtures.cosine;
    const pairs: Pair[] = [
      [tf.tensor(yPred.slice(0, 4)), tf.tensor(y.slice(0, 4))],
      [tf.tensor(yPred.slice(4)), tf.tensor(y.slice(4))],
    ];
    expect(await over(new CosineSimilarity(), pairs)).toBeCloseTo(value, 5);
  });

  for (const c of fixtures.divergence) {
    it(`KLDivergence and JSDivergence of logits, ${c.name}, classes on the last axis`, async () => {
      const split = (): Pair[] => {
        const half = Math.ceil(c.yPred.length / 2);
        return [
          [tf.tensor(c.yPred.slice(0, half) as number[][]), tf.tensor(c.y.slice(0, half) as number[][])],
          [tf.tensor(c.yPred.slice(half) as number[][]), tf.tensor(c.y.slice(half) as number[][])],
        ];
      };
      expect(await over(new KLDivergence(), split())).toBeCloseTo(c.kl, 5);
      expect(await over(new JSDivergence(), split())).toBeCloseTo(c.js, 5);
    });
  }
});

describe('regression metrics: edge cases and input checks', () => {
  it('R2Score: constant targets are NotComputable; PearsonCorrelation gives 0 there (eps)', async () => {
    const flat = (): Pair => [tf.tensor1d([1, 2, 3]), tf.tensor1d([2, 2, 2])];
    await expect(over(new R2Score(), [flat()])).rejects.toThrow(/R2Score: the 3 target values y are all equal/);
    expect(await over(new PearsonCorrelation(), [flat()])).toBe(0);
  });

  it('MeanAbsoluteRelativeError: a zero target makes compute throw NotComputableError, not update', async () => {
    const metric = new MeanAbsoluteRelativeError();
    const pair: Pair = [tf.tensor1d([1, 2]), tf.tensor1d([0, 2])];
    expect(() => metric.update(pair)).not.toThrow();
    const error = await metric.compute().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotComputableError);
    expect(String(error)).toMatch(/MeanAbsoluteRelativeError: the ground truth has 1 value\(s\) equal to 0 among 2/);
    tf.dispose(pair);
  });

  it('MedianAbsoluteError: ties and a single value; integer targets are cast', async () => {
    expect(
      await over(new MedianAbsoluteError(), [[tf.tensor1d([1, 1, 1, 1]), tf.tensor1d([0, 2, 0, 2], 'int32')]]),
    ).toBe(1);
    expect(await over(new MedianAbsoluteError(), [[tf.tensor1d([3.5]), tf.tensor1d([1])]])).toBe(2.5);
  });

  it('every metric: NotComputableError before any update, naming the class', async () => {
    for (const [name, metric] of [
      ['R2Score', new R2Score()],
      ['PearsonCorrelation', new PearsonCorrelation()],
      ['MedianAbsoluteError', new MedianAbsoluteError()],
      ['MaximumAbsoluteError', new MaximumAbsoluteError()],
      ['MeanAbsoluteRelativeError', new MeanAbsoluteRelativeError()],
      ['CosineSimilarity', new CosineSimilarity()],
      ['KLDivergence', new KLDivergence()],
      ['JSDivergence', new JSDivergence()],
    ] as const) {
      const error = await metric.compute().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotComputableError);
      expect((error as Error).message.startsWith(name)).toBe(true);
    }
  });

  it('(N) / (N, 1) inputs only for the regression family; same shapes for the others; options checked', () => {
    const before = tf.memory().numTensors;
    const wide: Pair = [tf.zeros([4, 2]), tf.zeros([4, 2])];
    const short: Pair = [tf.zeros([4]), tf.zeros([3])];
    const vector: Pair = [tf.zeros([4]), tf.zeros([4])];
    const text = tf.tensor1d(['a', 'b']);
    const [two, twoByThree, twoByFour] = [tf.zeros([2]), tf.zeros([2, 3]), tf.zeros([2, 4])];
    expect(() => new R2Score().update(wide)).toThrow(
      'R2Score.update: yPred should be of shape (N) or (N, 1), got a float32 tensor of shape [4,2].',
    );
    expect(() => new MedianAbsoluteError().update(short)).toThrow(
      'MedianAbsoluteError.update: yPred and y should hold the same number of values N, got yPred of shape [4] and y of shape [3].',
    );
    expect(() => new PearsonCorrelation().update([text, text])).toThrow(
      /PearsonCorrelation.update: yPred should be a tensor of numbers/,
    );
    expect(() => new MaximumAbsoluteError().update([two, 3] as never)).toThrow(
      /MaximumAbsoluteError: update expects \[yPred, y\] or \{ yPred, y \} with two tensors/,
    );
    expect(() => new KLDivergence().update(vector)).toThrow(
      'KLDivergence.update: yPred should be of shape (N, C) or (N, ..., C) (classes on the last axis), got a float32 tensor of shape [4].',
    );
    expect(() => new JSDivergence().update([twoByThree, twoByFour])).toThrow(
      /JSDivergence.update: yPred and y should have the same shape .* got yPred of shape \[2,3\] and y of shape \[2,4\]/,
    );
    expect(() => new CosineSimilarity().update(vector)).toThrow(
      /CosineSimilarity.update: yPred should be of shape \(N, D\)/,
    );
    expect(() => new CosineSimilarity({ eps: 0 })).toThrow(
      'CosineSimilarity: option eps should be a positive number, got 0.',
    );
    expect(() => new PearsonCorrelation({ epsilon: 1 } as never)).toThrow(
      "PearsonCorrelation: unknown option 'epsilon'. Did you mean 'eps'? Known options: eps, outputTransform.",
    );
    expect(() => new R2Score({ outputTransform: 3 } as never)).toThrow(
      /R2Score: option outputTransform should be a function/,
    );
    tf.dispose([...wide, ...short, ...vector, text, two, twoByThree, twoByFour]);
    expect(tf.memory().numTensors).toBe(before); // a rejected update leaves nothing behind
  });
});
