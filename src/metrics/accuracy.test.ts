import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accuracy } from './accuracy';
import { NotComputableError } from './metric';
import { close, computeOver, disposePairs, type Pair, pair, useCpu } from './metric.test-util';

beforeAll(useCpu);

/** Plain-JS accuracy of multiclass scores against indices. */
function accuracyByHand(batches: [number[][], number[]][]): number {
  let correct = 0;
  let total = 0;
  for (const [scores, labels] of batches) {
    scores.forEach((row, i) => {
      const argmax = row.indexOf(Math.max(...row));
      if (argmax === labels[i]) correct += 1;
      total += 1;
    });
  }
  return correct / total;
}

describe('Accuracy', () => {
  const owned: Pair[] = [];
  const keep = (p: Pair) => {
    owned.push(p);
    return p;
  };
  afterAll(() => disposePairs(owned));

  it('multiclass with index targets, over several batches', async () => {
    const batches: [number[][], number[]][] = [
      [
        [
          [0.1, 0.7, 0.2],
          [2, 1, 0],
          [0.3, 0.3, 0.4],
        ],
        [1, 0, 1],
      ],
      [
        [
          [5, -1, 0],
          [0, 0, 9],
        ],
        [2, 2],
      ],
    ];
    const expected = accuracyByHand(batches); // 3 of 5
    expect(expected).toBe(0.6);
    const value = await computeOver(
      new Accuracy(),
      batches.map(([p, y]) => keep(pair(p, y, true))),
    );
    expect(value).toBeCloseTo(0.6, 10);
  });

  it('multiclass with one-hot targets and with (N, 1) index targets', async () => {
    const scores = [
      [0.1, 0.9],
      [0.8, 0.2],
      [0.4, 0.6],
    ];
    const oneHot = await computeOver(new Accuracy(), [
      keep(
        pair(scores, [
          [0, 1],
          [0, 1],
          [0, 1],
        ]),
      ),
    ]);
    expect(oneHot).toBeCloseTo(2 / 3, 10);
    const column = await computeOver(new Accuracy(), [keep(pair(scores, [[1], [0], [0]], true))]);
    expect(column).toBeCloseTo(2 / 3, 10);
  });

  it('binary: probabilities above 0.5 count as 1; (N, 1) predictions with (N) targets', async () => {
    // predictions 0.9 0.2 0.5 0.51 -> 1 0 0 1 ; targets 1 0 1 0 -> 2 correct of 4
    const value = await computeOver(new Accuracy(), [keep(pair([[0.9], [0.2], [0.5], [0.51]], [1, 0, 1, 0]))]);
    expect(value).toBe(0.5);
    const zeroOne = await computeOver(new Accuracy(), [keep(pair([1, 0, 1], [1, 0, 0]))]);
    expect(zeroOne).toBeCloseTo(2 / 3, 10);
  });

  it('multilabel: a sample counts only when every label matches', async () => {
    const p = [
      [0.9, 0.1, 0.8],
      [0.2, 0.7, 0.6],
      [0.1, 0.1, 0.1],
    ];
    const y = [
      [1, 0, 1],
      [0, 1, 0],
      [0, 0, 0],
    ];
    const value = await computeOver(new Accuracy({ isMultilabel: true }), [keep(pair(p, y))]);
    expect(value).toBeCloseTo(2 / 3, 10);
  });

  it('all correct gives 1 and all wrong gives 0', async () => {
    const right = keep(
      pair(
        [
          [0, 1],
          [1, 0],
        ],
        [1, 0],
        true,
      ),
    );
    const wrong = keep(
      pair(
        [
          [0, 1],
          [1, 0],
        ],
        [0, 1],
        true,
      ),
    );
    expect(await computeOver(new Accuracy(), [right])).toBe(1);
    expect(await computeOver(new Accuracy(), [wrong])).toBe(0);
  });

  it('throws NotComputableError before any update, and again after reset', async () => {
    const acc = new Accuracy();
    await expect(acc.compute()).rejects.toBeInstanceOf(NotComputableError);
    acc.update(keep(pair([[0, 1]], [1], true)));
    expect(await acc.compute()).toBe(1);
    acc.reset();
    await expect(acc.compute()).rejects.toThrow(/at least one example/);
  });

  it('rejects mismatched shapes, naming both', () => {
    const acc = new Accuracy();
    expect(() => acc.update(keep(pair([[0.1, 0.9, 0]], [[1, 0]])))).toThrow(/yPred \[1,3\] and y \[1,2\]/);
    expect(() => new Accuracy({ isMultilabel: true }).update(keep(pair([0.1, 0.9], [1, 0])))).toThrow(RangeError);
    expect(() => acc.update([1, 2] as never)).toThrow(TypeError);
  });

  it('rejects a change of the number of classes within an epoch', () => {
    const acc = new Accuracy();
    acc.update(keep(pair([[0.1, 0.9]], [1], true)));
    expect(() => acc.update(keep(pair([[0.1, 0.9, 0]], [1], true)))).toThrow(
      /number of classes has changed from 2 to 3/,
    );
    acc.reset();
  });

  it('accepts { yPred, y } and holds no tensor after compute', async () => {
    const [yPred, y] = keep(pair([[0.2, 0.8]], [1], true));
    const before = tf.memory().numTensors;
    const acc = new Accuracy();
    acc.update({ yPred, y });
    expect(tf.memory().numTensors).toBe(before + 2); // the correct count and the label check
    expect(await acc.compute()).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    expect(close(await acc.compute(), 1)).toBe(true);
  });
});
