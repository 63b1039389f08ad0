import { beforeAll, describe, expect, it } from 'vitest';
import { NotComputableError } from './metric';
import { computeOver, disposePairs, pair, useCpu } from './metric.test-util';
import { TopKCategoricalAccuracy } from './top-k-categorical-accuracy';

beforeAll(useCpu);

/** Plain-JS top-k: stable descending sort (ties: lower index first), is the label among the first k? */
function topKByHand(scores: number[][], labels: number[], k: number): number {
  let correct = 0;
  scores.forEach((row, i) => {
    const order = row.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    if (order.slice(0, k).some(([, j]) => j === labels[i])) correct += 1;
  });
  return correct / scores.length;
}

describe('TopKCategoricalAccuracy', () => {
  const scores = [
    [0.1, 0.4, 0.3, 0.2],
    [0.5, 0.1, 0.1, 0.3],
    [0.25, 0.25, 0.25, 0.25],
    [0.9, 0.05, 0.03, 0.02],
    [0.3, 0.3, 0.2, 0.2],
  ];
  const labels = [2, 2, 1, 3, 1];

  it('matches a sort by hand for k = 1, 2, 3 (ties rank the lower index first)', async () => {
    const batches = [pair(scores.slice(0, 3), labels.slice(0, 3), true), pair(scores.slice(3), labels.slice(3), true)];
    for (const k of [1, 2, 3]) {
      const expected = topKByHand(scores, labels, k);
      expect(await computeOver(new TopKCategoricalAccuracy({ k }), batches)).toBeCloseTo(expected, 10);
    }
    expect(topKByHand(scores, labels, 2)).toBe(3 / 5);
    expect(await computeOver(new TopKCategoricalAccuracy({ k: 4 }), batches)).toBe(1);
    disposePairs(batches);
  });

  it('errors: k too large, bad k, NotComputableError', async () => {
    const batch = pair(scores, labels, true);
    expect(() => new TopKCategoricalAccuracy().update(batch)).toThrow(/k = 5 is larger than the number of classes 4/);
    expect(() => new TopKCategoricalAccuracy({ k: 0 })).toThrow(RangeError);
    await expect(new TopKCategoricalAccuracy().compute()).rejects.toBeInstanceOf(NotComputableError);
    disposePairs([batch]);
  });
});
