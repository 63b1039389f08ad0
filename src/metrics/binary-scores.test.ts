import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AveragePrecision } from './average-precision';
import { type BinaryCase, batchesOf, fixtures, nums } from './fixtures.test-util';
import { BatchWise, NotComputableError } from './metric';
import { computeOver, identityEngine, useCpu } from './metric.test-util';
import { PrecisionRecallCurve } from './precision-recall-curve';
import { RocAuc } from './roc-auc';
import { RocCurve } from './roc-curve';
import { expectMidEpochRoundTrip } from './state-dict.test-util';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));

/** The case's batches as [scores, labels] tensors; `column` gives (N, 1) shapes. */
function batches(c: BinaryCase, column = false): [tf.Tensor, tf.Tensor][] {
  const pairs = batchesOf(nums(c.scores) as number[], c.y, c.batches, (rows, which) =>
    column
      ? tf.tensor2d(rows as number[], [rows.length, 1])
      : tf.tensor1d(rows as number[], which === 'y' ? 'int32' : 'float32'),
  );
  owned.push(...pairs.flat());
  return pairs;
}

const curve = (value: Record<string, number[]>, expected: Record<string, (number | string)[]>) => {
  for (const key of Object.keys(expected)) {
    expect(value[key]!.length, key).toBe(expected[key]!.length);
    const want = nums(expected[key] as never) as number[];
    const ok = value[key]!.every((v, i) => v === want[i] || Math.abs(v - want[i]!) < 1e-12);
    expect(ok, `${key}: ${value[key]} vs ${want}`).toBe(true);
  }
};

describe('binary epoch metrics against scikit-learn', () => {
  it(`fixtures come from ${fixtures.generator}`, () => {
    expect(fixtures.binary.length).toBeGreaterThan(8);
  });

  for (const c of fixtures.binary) {
    describe(c.name, () => {
      if (c.rocAuc !== undefined) {
        it('RocAuc = roc_auc_score, fed in batches, (N) and (N, 1) shapes', async () => {
          expect(await computeOver(new RocAuc(), batches(c))).toBeCloseTo(c.rocAuc!, 12);
          expect(await computeOver(new RocAuc(), batches(c, true))).toBeCloseTo(c.rocAuc!, 12);
        });
        it('RocCurve = roc_curve (drop_intermediate true and false)', async () => {
          curve((await computeOver(new RocCurve(), batches(c))) as never, c.rocCurve!);
          curve((await computeOver(new RocCurve({ dropIntermediate: false }), batches(c))) as never, c.rocCurveAll!);
        });
      } else {
        it('RocAuc and RocCurve: a single class present is NotComputableError', async () => {
          await expect(computeOver(new RocAuc(), batches(c))).rejects.toThrow(NotComputableError);
          await expect(computeOver(new RocCurve(), batches(c))).rejects.toThrow(
            /RocCurve: only one class is present in y since the last reset \(4 positive and 0 negative/,
          );
        });
      }
      it('AveragePrecision = average_precision_score; PrecisionRecallCurve = precision_recall_curve', async () => {
        expect(await computeOver(new AveragePrecision(), batches(c))).toBeCloseTo(c.averagePrecision!, 12);
        curve((await computeOver(new PrecisionRecallCurve(), batches(c))) as never, c.precisionRecallCurve!);
      });
    });
  }

  it("the reference's doc examples", async () => {
    const [roc, pr] = [
      fixtures.binary.find((c) => c.name === 'ignite roc doc')!,
      fixtures.binary.find((c) => c.name === 'ignite pr doc')!,
    ];
    expect(await computeOver(new RocAuc(), batches(roc, true))).toBeCloseTo(0.6666666, 6);
    const rc = await computeOver(new RocCurve(), batches(roc));
    expect(rc.fpr.map((v) => Math.round(v * 1000) / 1000)).toEqual([0, 0.333, 0.333, 1]);
    expect(rc.tpr).toEqual([0, 0, 1, 1]);
    expect(rc.thresholds[0]).toBe(Infinity);
    const prc = await computeOver(new PrecisionRecallCurve(), batches(pr));
    expect(prc.precision.map((v) => Math.round(v * 1e4) / 1e4)).toEqual([0.5, 0.6667, 1, 1, 1]);
    expect(prc.recall).toEqual([1, 1, 1, 0.5, 0]);
  });
});

describe('binary epoch metrics: errors', () => {
  const pairOf = (scores: number[], y: number[]): [tf.Tensor, tf.Tensor] => {
    const p: [tf.Tensor, tf.Tensor] = [tf.tensor1d(scores), tf.tensor1d(y)];
    owned.push(...p);
    return p;
  };

  it('labels other than 0/1 throw at compute(), naming the metric, the value and the rule', async () => {
    const metric = new RocAuc();
    metric.update(pairOf([0.1, 0.9, 0.4], [0, 1, 2])); // accepted: no readback in update
    await expect(metric.compute()).rejects.toThrow(
      /^RocAuc: y should hold 0 or 1 \(binary targets\), got 2 \(1 bad label\) since the last reset \(labels are checked .* read when compute\(\) reads results back/,
    );
    await expect(computeOver(new AveragePrecision(), [pairOf([0.1, 0.2], [0.5, 1])])).rejects.toThrow(
      /AveragePrecision: y should hold 0 or 1 \(binary targets\), got 0.5/,
    );
    await expect(computeOver(new RocCurve(), [pairOf([0.1, 0.2], [-1, 1])])).rejects.toThrow(RangeError);
  });

  it('non-finite scores throw at compute()', async () => {
    await expect(computeOver(new RocAuc(), [pairOf([0.1, Number.NaN, 0.3], [0, 1, 1])])).rejects.toThrow(
      /RocAuc: yPred should hold finite scores, got NaN at sample 1/,
    );
  });

  it('no positives: NotComputableError for AveragePrecision and PrecisionRecallCurve; no data for all', async () => {
    await expect(computeOver(new AveragePrecision(), [pairOf([0.1, 0.3], [0, 0])])).rejects.toThrow(
      /AveragePrecision: y holds no positive sample since the last reset \(2 negatives\)/,
    );
    await expect(computeOver(new PrecisionRecallCurve(), [pairOf([0.1], [0])])).rejects.toThrow(NotComputableError);
    for (const metric of [new RocAuc(), new RocCurve(), new AveragePrecision(), new PrecisionRecallCurve()]) {
      await expect(metric.compute()).rejects.toThrow(NotComputableError);
    }
    await expect(new RocAuc().compute()).rejects.toThrow('RocAuc must have at least one example');
  });

  it('shapes and options are checked when given', () => {
    const scores2 = tf.zeros([3, 2]);
    const y = tf.zeros([3]);
    owned.push(scores2, y);
    expect(() => new RocAuc().update([scores2, y])).toThrow(
      /RocAuc: expects binary input, yPred scores and y 0\/1 labels of shape \(N\) or \(N, 1\), got yPred \[3,2\] and y \[3\]/,
    );
    expect(() => new AveragePrecision().update([y, tf.zeros([2])])).toThrow(RangeError);
    expect(() => new RocAuc().update([y] as never)).toThrow(/RocAuc: update expects \[yPred, y\]/);
    expect(() => new RocCurve({ dropIntermediate: 1 as never })).toThrow(
      'RocCurve: option dropIntermediate should be a boolean, got 1.',
    );
    expect(() => new RocAuc({ threshold: 0.5 } as never)).toThrow(/RocAuc: unknown option 'threshold'/);
    expect(() => new PrecisionRecallCurve({ outputTransform: 3 as never })).toThrow(TypeError);
  });
});

describe('binary epoch metrics: state, engine, composition', () => {
  const c = fixtures.binary.find((x) => x.name === 'informative with ties')!;

  it('a mid-epoch state dict round trip gives the uninterrupted value exactly', async () => {
    const data = batches(c);
    for (const make of [
      () => new RocAuc(),
      () => new RocCurve(),
      () => new AveragePrecision(),
      () => new PrecisionRecallCurve(),
    ]) {
      await expectMidEpochRoundTrip(make as never, data, 1);
      await expectMidEpochRoundTrip(make as never, data, 0);
    }
    expect(await expectMidEpochRoundTrip(() => new RocAuc(), data, 2)).toBeCloseTo(c.rocAuc!, 12);
  });

  it('loadStateDict checks everything before changing anything', async () => {
    const metric = new RocAuc();
    metric.update(batches(c)[0]!);
    const sd = await metric.stateDict();
    const value = await metric.compute();
    const bad = [
      null,
      {},
      { outputs: { ...sd.outputs, yPred: [0.5] } },
      { outputs: { ...sd.outputs, yPred: sd.outputs!.yPred.map((v, i) => (i === 3 ? Number.NaN : v)) } },
      { outputs: { ...sd.outputs, yPredRow: [2] } },
      { outputs: sd.outputs, extra: 1 },
      { outputs: { ...sd.outputs, yDtype: 'string' } },
    ];
    for (const b of bad)
      expect(() => metric.loadStateDict(b as never), JSON.stringify(b)?.slice(0, 80)).toThrow(/RocAuc\.loadStateDict/);
    expect(await metric.compute()).toBe(value);
    metric.loadStateDict({ outputs: null });
    await expect(metric.compute()).rejects.toThrow(NotComputableError);
  });

  it('on an engine, composed, and BatchWise; curves are written under their name only', async () => {
    const engine = identityEngine<[tf.Tensor, tf.Tensor]>();
    const auc = new RocAuc();
    auc.attach(engine, 'auc');
    auc.mul(100).attach(engine, 'auc%');
    new RocCurve().attach(engine, 'roc');
    new AveragePrecision().attach(engine, 'apBatch', BatchWise);
    const state = await engine.run(batches(c));
    expect(state.metrics.auc).toBeCloseTo(c.rocAuc!, 12);
    expect(state.metrics['auc%']).toBeCloseTo(100 * c.rocAuc!, 10);
    expect(Object.keys(state.metrics).sort()).toEqual(['apBatch', 'auc', 'auc%', 'roc']);
    const last = batches(c).at(-1)!;
    expect(state.metrics.apBatch).toBeCloseTo(await computeOver(new AveragePrecision(), [last]), 12);
  });
});
