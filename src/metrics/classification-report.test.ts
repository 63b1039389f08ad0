import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClassificationReport } from './classification-report';
import { batchesOf, fixtures } from './fixtures.test-util';
import { NotComputableError } from './metric';
import { computeOver, identityEngine, useCpu } from './metric.test-util';
import { expectMidEpochRoundTrip } from './state-dict.test-util';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));

/** Expects two reports to agree to 12 decimals, row by row. */
function expectReport(actual: unknown, expected: Record<string, Record<string, number>>) {
  const report = actual as Record<string, Record<string, number>>;
  expect(Object.keys(report)).toEqual(Object.keys(expected));
  for (const [row, values] of Object.entries(expected)) {
    for (const [key, value] of Object.entries(values))
      expect(report[row]![key], `${row} ${key}`).toBeCloseTo(value, 12);
  }
}

describe('ClassificationReport', () => {
  it('multiclass and multilabel reports match scikit-learn classification_report (precision, recall, f1)', async () => {
    for (const c of fixtures.multiclass) {
      const pairs = batchesOf(c.scores, c.y, c.batches, (rows, which) =>
        which === 'yPred' ? tf.tensor2d(rows as number[][]) : tf.tensor1d(rows as number[], 'int32'),
      );
      owned.push(...pairs.flat());
      expectReport(await computeOver(new ClassificationReport({ outputDict: true }), pairs), c.report);
      const f2 = (await computeOver(new ClassificationReport({ outputDict: true, beta: 2 }), pairs)) as Record<
        string,
        Record<string, number>
      >;
      c.f2.forEach((value, i) => {
        expect(f2[String(i)]!['f2-score']).toBeCloseTo(value as number, 12);
      });
    }
    for (const c of fixtures.multilabel) {
      const pairs = batchesOf(c.scores, c.y, c.batches, (rows) => tf.tensor2d(rows as number[][]));
      owned.push(...pairs.flat());
      expectReport(
        await computeOver(new ClassificationReport({ outputDict: true, isMultilabel: true }), pairs),
        c.report,
      );
    }
  });

  it("the reference's multiclass doc example, as a JSON string by default; labels name the rows", async () => {
    const yTrue = tf.tensor1d([2, 0, 2, 1, 0, 1], 'int32');
    const yPred = tf.tensor2d([
      [0.0266, 0.1719, 0.3055],
      [0.6886, 0.3978, 0.8176],
      [0.923, 0.0197, 0.8395],
      [0.1785, 0.267, 0.6084],
      [0.8448, 0.7177, 0.7288],
      [0.7748, 0.9542, 0.8573],
    ]);
    owned.push(yTrue, yPred);
    const text = await computeOver(new ClassificationReport(), [[yPred, yTrue]]);
    expect(typeof text).toBe('string');
    const report = JSON.parse(text as string);
    expect(Object.keys(report)).toEqual(['0', '1', '2', 'macro avg']);
    expect(report['1']).toEqual({ precision: 1, recall: 0.5, 'f1-score': expect.closeTo(2 / 3, 10) });
    expect(report['macro avg'].precision).toBeCloseTo(0.6111111, 6);
    expect(report['macro avg']['f1-score']).toBeCloseTo(0.5222222, 6);
    const named = await computeOver(new ClassificationReport({ outputDict: true, labels: ['cat', 'dog', 'bird'] }), [
      [yPred, yTrue],
    ]);
    expect(Object.keys(named as object)).toEqual(['cat', 'dog', 'bird', 'macro avg']);
    await expect(computeOver(new ClassificationReport({ labels: ['a', 'b'] }), [[yPred, yTrue]])).rejects.toThrow(
      'ClassificationReport: option labels should be 3 names (one per class of the input), got ["a","b"].',
    );
  });

  it('binary input reports classes 0 and 1; on an engine its rows are spread into state.metrics', async () => {
    const c = fixtures.binaryLabels[0]!;
    const pairs = batchesOf(c.scores, c.y, c.batches);
    owned.push(...pairs.flat());
    const engine = identityEngine();
    new ClassificationReport({ outputDict: true }).attach(engine, 'report');
    const { metrics } = await engine.run(pairs);
    expect(metrics.report['0'].precision).toBeCloseTo(c.precision.none![0] as number, 12);
    expect(metrics.report['1'].recall).toBeCloseTo(c.recall.none![1] as number, 12);
    expect(metrics['macro avg']).toEqual(metrics.report['macro avg']);
  });

  it('errors, labels checked like Precision and Recall, and a mid-epoch state dict round trip', async () => {
    expect(() => new ClassificationReport({ beta: 0 })).toThrow(
      'ClassificationReport: option beta should be a positive number, got 0.',
    );
    expect(() => new ClassificationReport({ output_dict: true } as never)).toThrow(/unknown option 'output_dict'/);
    expect(() => new ClassificationReport({ labels: [1, 2] as never })).toThrow(
      /option labels should be an array of class names/,
    );
    await expect(new ClassificationReport().compute()).rejects.toThrow(NotComputableError);
    const bad: [tf.Tensor, tf.Tensor] = [tf.tensor2d([[0.1, 0.9]]), tf.tensor1d([2], 'int32')];
    owned.push(...bad);
    await expect(computeOver(new ClassificationReport(), [bad])).rejects.toThrow(
      /(Precision|Recall): y should hold class indices, integers in \[0, 2\), got 2/,
    );
    const c = fixtures.multiclass[0]!;
    const pairs = batchesOf(c.scores, c.y, c.batches, (rows, which) =>
      which === 'yPred' ? tf.tensor2d(rows as number[][]) : tf.tensor1d(rows as number[], 'int32'),
    );
    owned.push(...pairs.flat());
    await expectMidEpochRoundTrip(() => new ClassificationReport({ outputDict: true }), pairs, 1);
  });
});
