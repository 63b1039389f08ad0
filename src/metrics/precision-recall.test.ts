import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fbeta } from './fbeta';
import { NotComputableError } from './metric';
import { close, computeOver, disposePairs, type Pair, pair, useCpu } from './metric.test-util';
import { Precision } from './precision';
import { Recall } from './recall';

beforeAll(useCpu);

/** Per-class counts from predicted and actual class lists, in plain JS. */
function counts(predicted: number[], actual: number[], numClasses: number) {
  const tp = new Array(numClasses).fill(0);
  const predictedCount = new Array(numClasses).fill(0);
  const actualCount = new Array(numClasses).fill(0);
  predicted.forEach((p, i) => {
    predictedCount[p] += 1;
    actualCount[actual[i]] += 1;
    if (p === actual[i]) tp[p] += 1;
  });
  return { tp, predictedCount, actualCount };
}
const ratio = (a: number[], b: number[]) => a.map((v, i) => (b[i] === 0 ? 0 : v / b[i]));
const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
const sum = (v: number[]) => v.reduce((x, y) => x + y, 0);
const oneHotRows = (classes: number[], c: number) =>
  classes.map((k) => Array.from({ length: c }, (_, j) => (j === k ? 1 : 0)));

// 4 classes; class 3 is never predicted and never a target.
const predicted = [0, 1, 1, 2, 0, 2, 2, 1];
const actual = [0, 1, 2, 2, 1, 2, 0, 1];
const C = 4;
const { tp, predictedCount, actualCount } = counts(predicted, actual, C);
const precisionPerClass = ratio(tp, predictedCount); // [1/2, 2/3, 2/3, 0]
const recallPerClass = ratio(tp, actualCount); // [1/2, 2/3, 2/3, 0]

describe('Precision and Recall', () => {
  let batches: Pair[] = [];
  beforeAll(() => {
    const scores = oneHotRows(predicted, C).map((row) => row.map((v) => v * 0.7 + 0.1));
    batches = [pair(scores.slice(0, 5), actual.slice(0, 5), true), pair(scores.slice(5), actual.slice(5), true)];
  });
  afterAll(() => disposePairs(batches));

  it('per class (average false), a never-predicted class scores 0', async () => {
    expect(precisionPerClass).toEqual([1 / 2, 2 / 3, 2 / 3, 0]);
    expect(close(await computeOver(new Precision(), batches), precisionPerClass)).toBe(true);
    expect(close(await computeOver(new Recall({ average: false }), batches), recallPerClass)).toBe(true);
  });

  it('macro (true), micro and weighted', async () => {
    expect(await computeOver(new Precision({ average: true }), batches)).toBeCloseTo(mean(precisionPerClass), 6);
    expect(await computeOver(new Recall({ average: 'macro' }), batches)).toBeCloseTo(mean(recallPerClass), 6);
    const micro = sum(tp) / predicted.length;
    expect(await computeOver(new Precision({ average: 'micro' }), batches)).toBeCloseTo(micro, 6);
    expect(await computeOver(new Recall({ average: 'micro' }), batches)).toBeCloseTo(micro, 6);
    const weighted = (perClass: number[]) => sum(perClass.map((v, i) => v * actualCount[i])) / sum(actualCount);
    expect(await computeOver(new Precision({ average: 'weighted' }), batches)).toBeCloseTo(
      weighted(precisionPerClass),
      6,
    );
    expect(await computeOver(new Recall({ average: 'weighted' }), batches)).toBeCloseTo(weighted(recallPerClass), 6);
  });

  it('one-hot targets give the same result as indices', async () => {
    const scores = oneHotRows(predicted, C);
    const oneHot = [pair(scores, oneHotRows(actual, C))];
    expect(close(await computeOver(new Precision(), oneHot), precisionPerClass)).toBe(true);
    disposePairs(oneHot);
  });

  it('binary: one ratio with average false, two classes averaged otherwise', async () => {
    // predictions > 0.5: 1 1 0 0 1 ; targets 1 0 0 1 1 -> tp 2, predicted 3, actual 3
    const binary = [pair([0.9, 0.6, 0.4, 0.1, 0.7], [1, 0, 0, 1, 1])];
    expect(await computeOver(new Precision(), binary)).toBeCloseTo(2 / 3, 6);
    expect(await computeOver(new Recall(), binary)).toBeCloseTo(2 / 3, 6);
    // as two classes: class 0 predicted {2,3}, actual {1,2}: tp 1 -> precision 1/2, recall 1/2; class 1: 2/3, 2/3
    expect(await computeOver(new Precision({ average: true }), binary)).toBeCloseTo((1 / 2 + 2 / 3) / 2, 6);
    disposePairs(binary);
  });

  it('multilabel per label and samples', async () => {
    const yPred = [
      [0.9, 0.8, 0.1],
      [0.2, 0.9, 0.9],
      [0.1, 0.1, 0.1],
    ];
    const y = [
      [1, 0, 1],
      [0, 1, 1],
      [1, 0, 0],
    ];
    // predicted 0/1 rows: [1,1,0] [0,1,1] [0,0,0]
    // per label: tp [1,1,1], predicted [1,2,1], actual [2,1,2]
    const batch = [pair(yPred, y)];
    const precision = await computeOver(new Precision({ isMultilabel: true }), batch);
    expect(close(precision, [1, 1 / 2, 1])).toBe(true);
    const recall = await computeOver(new Recall({ isMultilabel: true }), batch);
    expect(close(recall, [1 / 2, 1, 1 / 2])).toBe(true);
    // samples: per row tp/predicted: 1/2, 2/2, 0 (no prediction) -> mean 1/2; recall per row: 1/2, 2/2, 0/1 -> 1/2
    expect(await computeOver(new Precision({ isMultilabel: true, average: 'samples' }), batch)).toBeCloseTo(0.5, 6);
    expect(await computeOver(new Recall({ isMultilabel: true, average: 'samples' }), batch)).toBeCloseTo(0.5, 6);
    disposePairs(batch);
  });

  it('all correct gives 1 per class, all wrong gives 0', async () => {
    const right = [pair(oneHotRows([0, 1, 2], 3), [0, 1, 2], true)];
    const wrong = [pair(oneHotRows([1, 2, 0], 3), [0, 1, 2], true)];
    expect(await computeOver(new Precision(), right)).toEqual([1, 1, 1]);
    expect(await computeOver(new Recall(), wrong)).toEqual([0, 0, 0]);
    disposePairs([...right, ...wrong]);
  });

  it('errors: NotComputableError, bad average, samples on multiclass, shape mismatch', async () => {
    await expect(new Precision().compute()).rejects.toBeInstanceOf(NotComputableError);
    expect(() => new Recall({ average: 'mean' as never })).toThrow(/average should be/);
    expect(() => new Precision({ average: 'samples' }).update(batches[0])).toThrow(/samples' needs multilabel/);
    const bad = pair([[0.1, 0.9]], [0, 1, 1]);
    expect(() => new Recall().update(bad)).toThrow(/yPred \[1,2\] and y \[3\]/);
    disposePairs([bad]);
  });
});

describe('Fbeta', () => {
  let batches: Pair[] = [];
  beforeAll(() => {
    batches = [pair(oneHotRows(predicted, C), actual, true)];
  });
  afterAll(() => disposePairs(batches));

  it('matches (1 + b²)PR / (b²P + R) by hand, averaged or per class', async () => {
    const f = (b: number) =>
      precisionPerClass.map((p, i) => {
        const r = recallPerClass[i];
        return p + r === 0 ? 0 : ((1 + b * b) * p * r) / (b * b * p + r);
      });
    expect(await computeOver(new Fbeta({ beta: 2 }), batches)).toBeCloseTo(mean(f(2)), 6);
    expect(close(await computeOver(new Fbeta({ beta: 0.5, average: false }), batches), f(0.5))).toBe(true);
  });

  it('reuses given per-class metrics and validates options', () => {
    const precision = new Precision();
    expect(new Fbeta({ beta: 1, precision }).args[0]).toBe(precision);
    expect(() => new Fbeta({ beta: 0 })).toThrow(/positive number/);
    expect(() => new Fbeta({ beta: 1, precision: new Precision({ average: true }) })).toThrow(/average: false/);
    expect(() => new Fbeta({ beta: 1, recall: new Recall(), outputTransform: (x) => x })).toThrow(TypeError);
  });
});
