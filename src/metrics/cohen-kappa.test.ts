import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CohenKappa } from './cohen-kappa';
import { batchesOf, fixtures } from './fixtures.test-util';
import { NotComputableError } from './metric';
import { computeOver, identityEngine, useCpu } from './metric.test-util';
import { expectMidEpochRoundTrip } from './state-dict.test-util';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));
const labels = (yPred: number[], y: number[], sizes = [yPred.length], column = false) => {
  const pairs = batchesOf(yPred, y, sizes, (rows) =>
    column ? tf.tensor2d(rows as number[], [rows.length, 1], 'int32') : tf.tensor1d(rows as number[], 'int32'),
  );
  owned.push(...pairs.flat());
  return pairs;
};

describe('CohenKappa against scikit-learn (cohen_kappa_score with labels=range(C))', () => {
  for (const c of fixtures.cohenKappa) {
    for (const weights of [null, 'linear', 'quadratic'] as const) {
      const expected = c[weights ?? 'none'];
      it(`${c.name}, weights ${weights}: with numClasses (device matrix) and without (stored labels)`, async () => {
        const data = labels(c.yPred, c.y, c.batches);
        expect(await computeOver(new CohenKappa({ weights, numClasses: c.numClasses }), data)).toBeCloseTo(
          expected,
          12,
        );
        expect(await computeOver(new CohenKappa({ weights }), data)).toBeCloseTo(expected, 12);
        expect(await computeOver(new CohenKappa({ weights }), labels(c.yPred, c.y, c.batches, true))).toBeCloseTo(
          expected,
          12,
        );
      });
    }
  }

  it("the reference's doc example on an engine: 0.4285...", async () => {
    const engine = identityEngine();
    new CohenKappa().attach(engine, 'ck');
    new CohenKappa({ numClasses: 3 }).mul(2).attach(engine, 'ck2');
    const { metrics } = await engine.run(labels([0, 0, 2, 2, 0, 2], [2, 0, 2, 2, 0, 1]));
    expect(metrics.ck).toBeCloseTo(0.4285714, 6);
    expect(metrics.ck2).toBeCloseTo(2 * 0.4285714, 6);
  });
});

describe('CohenKappa: labels, errors and state', () => {
  it('labels outside [0, numClasses) or non-integer throw at compute(), naming the value and the range', async () => {
    const metric = new CohenKappa({ numClasses: 3 });
    metric.update(labels([0, 1, 2], [0, 3, 1])[0]!);
    await expect(metric.compute()).rejects.toThrow(
      /^CohenKappa: y should hold class indices, integers in \[0, 3\), got 3 since the last reset \(labels are checked .*compute\(\) reads results back.*numClasses: 3/,
    );
    const floats: [tf.Tensor, tf.Tensor] = [tf.tensor1d([0, 1.5, -1]), tf.tensor1d([0, 1, 1])];
    owned.push(...floats);
    await expect(computeOver(new CohenKappa({ numClasses: 3 }), [floats])).rejects.toThrow(
      /CohenKappa: yPred should hold class indices, integers in \[0, 3\), got -1 since the last reset/,
    );
    await expect(computeOver(new CohenKappa(), [floats])).rejects.toThrow(
      /CohenKappa: yPred should hold class labels, integers >= 0, got 1.5 \(2 bad labels\)/,
    );
  });

  it('one and the same class only: NotComputableError; no data: NotComputableError', async () => {
    await expect(computeOver(new CohenKappa(), labels([1, 1], [1, 1]))).rejects.toThrow(
      /CohenKappa: both yPred and y hold one and the same class only/,
    );
    await expect(computeOver(new CohenKappa({ numClasses: 4, weights: 'linear' }), labels([2], [2]))).rejects.toThrow(
      NotComputableError,
    );
    await expect(new CohenKappa().compute()).rejects.toThrow('CohenKappa must have at least one example');
    // one class in y but several predicted is defined (as scikit-learn): here 0
    expect(await computeOver(new CohenKappa(), labels([0, 1], [0, 0]))).toBe(0);
  });

  it('options and shapes are checked', () => {
    expect(() => new CohenKappa({ weights: 'cubic' as never })).toThrow(
      "CohenKappa: option weights should be one of null, 'linear' or 'quadratic', got 'cubic'.",
    );
    expect(() => new CohenKappa({ numClasses: 1 })).toThrow(
      'CohenKappa: option numClasses should be an integer >= 2, got 1.',
    );
    expect(() => new CohenKappa({ num_classes: 3 } as never)).toThrow(/unknown option 'num_classes'/);
    const scores = tf.zeros([2, 3]);
    const y = tf.zeros([2]);
    owned.push(scores, y);
    expect(() => new CohenKappa().update([scores, y])).toThrow(/take the argmax in outputTransform/);
  });

  it('a mid-epoch state dict round trip, both modes; loads are checked first', async () => {
    const c = fixtures.cohenKappa[1]!;
    const data = labels(c.yPred, c.y, c.batches);
    await expectMidEpochRoundTrip(() => new CohenKappa({ weights: 'quadratic', numClasses: 4 }), data, 2);
    await expectMidEpochRoundTrip(() => new CohenKappa({ weights: 'linear' }), data, 1);
    const metric = new CohenKappa({ numClasses: 4 });
    metric.update(data[0]!);
    const sd = (await metric.stateDict()) as unknown as { numExamples: number; sums: { matrix: { values: number[] } } };
    expect(sd.numExamples).toBe(64);
    expect(sd.sums.matrix.values).toHaveLength(16);
    const value = await metric.compute();
    expect(() => metric.loadStateDict({ outputs: null })).toThrow(/required state dict entry 'numExamples' is absent/);
    expect(() => new CohenKappa().loadStateDict(sd as never)).toThrow(/required state dict entry 'outputs' is absent/);
    expect(() =>
      metric.loadStateDict({ numExamples: 3, sums: { matrix: { shape: [3, 3], values: Array(9).fill(0) } } }),
    ).toThrow("CohenKappa.loadStateDict: state dict entry 'sums' entry 'matrix' shape should be [4, 4], got [3,3].");
    expect(() => metric.loadStateDict({ numExamples: -1, sums: {} })).toThrow(/numExamples/);
    expect(await metric.compute()).toBe(value);
  });
});
