import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchesOf, fixtures } from './fixtures.test-util';
import { NotComputableError } from './metric';
import { computeOver, identityEngine, useCpu } from './metric.test-util';
import { MultiLabelConfusionMatrix } from './multilabel-confusion-matrix';
import { expectMidEpochRoundTrip } from './state-dict.test-util';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));
const keep = <T extends tf.Tensor>(t: T): T => {
  owned.push(t);
  return t;
};

const docYTrue = [
  [0, 0, 1],
  [0, 0, 0],
  [0, 0, 0],
  [1, 0, 0],
  [0, 1, 1],
];
const docYPred = [
  [1, 1, 0],
  [1, 0, 1],
  [1, 0, 0],
  [1, 0, 1],
  [1, 1, 0],
];

describe('MultiLabelConfusionMatrix', () => {
  it('matches scikit-learn multilabel_confusion_matrix, fed in batches', async () => {
    for (const c of fixtures.multilabel) {
      const pairs = batchesOf(c.scores, c.y, c.batches, (rows, which) =>
        which === 'yPred'
          ? tf
              .tensor2d(rows as number[][])
              .greater(0.5)
              .cast('int32')
          : tf.tensor2d(rows as number[][], undefined, 'int32'),
      );
      owned.push(...pairs.flat());
      const value = await computeOver(new MultiLabelConfusionMatrix({ numClasses: c.numClasses }), pairs);
      expect(value).toEqual(c.multilabelConfusionMatrix);
    }
  });

  it("the reference's doc example, on an engine; normalized; (N, H, C) inputs count positions", async () => {
    const engine = identityEngine();
    new MultiLabelConfusionMatrix({ numClasses: 3 }).attach(engine, 'mlcm');
    new MultiLabelConfusionMatrix({ numClasses: 3, normalized: true }).attach(engine, 'norm');
    const { metrics } = await engine.run([
      [keep(tf.tensor2d(docYPred, undefined, 'int32')), keep(tf.tensor2d(docYTrue))],
    ]);
    expect(metrics.mlcm).toEqual([
      [
        [0, 4],
        [0, 1],
      ],
      [
        [3, 1],
        [0, 1],
      ],
      [
        [1, 2],
        [2, 0],
      ],
    ]);
    expect(metrics.norm[2]).toEqual([
      [0.2, 0.4],
      [0.4, 0],
    ]);
    const spatial = await computeOver(new MultiLabelConfusionMatrix({ numClasses: 3 }), [
      [
        keep(tf.tensor3d([docYPred.slice(0, 2), docYPred.slice(2, 4)])),
        keep(tf.tensor3d([docYTrue.slice(0, 2), docYTrue.slice(2, 4)])),
      ],
      [keep(tf.tensor3d([docYPred.slice(4)])), keep(tf.tensor3d([docYTrue.slice(4)]))],
    ]);
    expect(spatial).toEqual(metrics.mlcm);
  });

  it('values other than 0/1 throw at compute(), naming the value; shapes and options are checked', async () => {
    const metric = new MultiLabelConfusionMatrix({ numClasses: 3 });
    metric.update([keep(tf.tensor2d([[0.2, 0.9, 1]])), keep(tf.tensor2d([[0, 1, 1]]))]);
    await expect(metric.compute()).rejects.toThrow(
      /^MultiLabelConfusionMatrix: yPred should hold 0 or 1 \(multilabel predictions\), got 0.9 since the last reset(.|\n)*compute\(\) reads results back(.|\n)*threshold probabilities in outputTransform/,
    );
    await expect(
      computeOver(new MultiLabelConfusionMatrix({ numClasses: 2 }), [
        [keep(tf.tensor2d([[0, 1]])), keep(tf.tensor2d([[2, 1]]))],
      ]),
    ).rejects.toThrow(/MultiLabelConfusionMatrix: y should hold 0 or 1 \(multilabel targets\), got 2/);
    expect(() => metric.update([keep(tf.zeros([2, 4])), keep(tf.zeros([2, 4]))])).toThrow(
      'MultiLabelConfusionMatrix: yPred and y should have the same shape (N, ..., 3) (numClasses on the last axis), got yPred [2,4] and y [2,4].',
    );
    expect(() => new MultiLabelConfusionMatrix({ numClasses: 1 })).toThrow(
      /option numClasses should be an integer >= 2/,
    );
    expect(() => new MultiLabelConfusionMatrix(undefined as never)).toThrow(/option numClasses should be an integer/);
    expect(() => new MultiLabelConfusionMatrix({ numClasses: 2, normalize: true } as never)).toThrow(
      /unknown option 'normalize'. Did you mean 'normalized'\?/,
    );
    await expect(new MultiLabelConfusionMatrix({ numClasses: 2 }).compute()).rejects.toThrow(NotComputableError);
  });

  it('a mid-epoch state dict round trip; loads are checked first', async () => {
    const c = fixtures.multilabel[0]!;
    const pairs = batchesOf(c.scores, c.y, [30, 30, 60], (rows, which) =>
      which === 'yPred'
        ? tf
            .tensor2d(rows as number[][])
            .greater(0.5)
            .cast('float32')
        : tf.tensor2d(rows as number[][]),
    );
    owned.push(...pairs.flat());
    await expectMidEpochRoundTrip(() => new MultiLabelConfusionMatrix({ numClasses: 4 }), pairs, 2);
    const metric = new MultiLabelConfusionMatrix({ numClasses: 4 });
    metric.update(pairs[0]!);
    const sd = await metric.stateDict();
    expect(sd).toMatchObject({ numExamples: 30, positions: 30 });
    expect(() =>
      metric.loadStateDict({ ...sd, sums: { counts: { shape: [3, 3], values: Array(9).fill(1) } } }),
    ).toThrow(
      "MultiLabelConfusionMatrix.loadStateDict: state dict entry 'sums' entry 'counts' shape should be [3, 4], got [3,3].",
    );
    expect(() => metric.loadStateDict({ ...sd, sums: { other: sd.sums.counts! } })).toThrow(TypeError);
    expect(() => metric.loadStateDict({ ...sd, positions: 1.5 })).toThrow(
      /'positions' should be a non-negative integer/,
    );
    expect(await metric.compute()).toEqual(
      await computeOver(new MultiLabelConfusionMatrix({ numClasses: 4 }), [pairs[0]!]),
    );
  });
});
