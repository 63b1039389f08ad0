// Accuracy, Precision, Recall, Fbeta, ConfusionMatrix, DiceCoefficient and JaccardIndex against scikit-learn, in every
// input mode (binary, multiclass, multilabel) and every average, fed in batches.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Accuracy } from './accuracy';
import { ConfusionMatrix, DiceCoefficient, IoU, JaccardIndex } from './confusion-matrix';
import { Fbeta } from './fbeta';
import { batchesOf, fixtures, nums } from './fixtures.test-util';
import { close, computeOver, identityEngine, useCpu } from './metric.test-util';
import { Precision } from './precision';
import type { PrecisionRecallAverage } from './precision-recall';
import { Recall } from './recall';

beforeAll(useCpu);

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));

/** scikit-learn's name of each average → kindling's. */
const AVERAGES: [string, PrecisionRecallAverage][] = [
  ['none', null],
  ['macro', 'macro'],
  ['micro', 'micro'],
  ['weighted', 'weighted'],
  ['samples', 'samples'],
  ['binary', false],
];

/** Counts are exact; only 'samples' sums per-sample fractions on the device in float32 (7 digits). */
const expectClose = (actual: unknown, expected: unknown, what: string) =>
  expect(
    close(actual, expected, what.endsWith('samples') ? 6 : 12),
    `${what}: ${JSON.stringify(actual)} vs ${JSON.stringify(expected)}`,
  ).toBe(true);

describe('against scikit-learn', () => {
  for (const c of fixtures.multiclass) {
    it(`multiclass, ${c.name}: accuracy, precision/recall (every average), F1, F2, confusion matrix, Jaccard, Dice`, async () => {
      const pairs = batchesOf(c.scores, c.y, c.batches, (rows, which) =>
        which === 'yPred' ? tf.tensor2d(rows as number[][]) : tf.tensor1d(rows as number[], 'int32'),
      );
      const oneHot = pairs.map(([p, y]) => [p, tf.oneHot(y, c.numClasses)] as [tf.Tensor, tf.Tensor]);
      owned.push(...pairs.flat(), ...oneHot.map(([, y]) => y));
      expect(await computeOver(new Accuracy(), pairs)).toBeCloseTo(c.accuracy, 12);
      expect(await computeOver(new Accuracy(), oneHot)).toBeCloseTo(c.accuracy, 12);
      for (const [name, average] of AVERAGES) {
        if (!(name in c.precision)) continue;
        expectClose(
          await computeOver(new Precision({ average }), pairs),
          nums(c.precision[name]!),
          `precision ${name}`,
        );
        expectClose(await computeOver(new Recall({ average }), oneHot), nums(c.recall[name]!), `recall ${name}`);
      }
      expectClose(
        await computeOver(new Precision({ average: false }), pairs),
        nums(c.precision.none!),
        'precision false',
      );
      expectClose(await computeOver(new Fbeta({ beta: 1, average: false }), pairs), nums(c.f1), 'f1');
      expectClose(await computeOver(new Fbeta({ beta: 2, average: false }), pairs), nums(c.f2), 'f2');
      const engine = identityEngine();
      const cm = new ConfusionMatrix({ numClasses: c.numClasses });
      cm.attach(engine, 'cm');
      JaccardIndex(cm).attach(engine, 'jaccard');
      IoU(cm).attach(engine, 'iou');
      DiceCoefficient(cm).attach(engine, 'dice');
      const { metrics } = await engine.run(pairs);
      expect(metrics.cm).toEqual(c.confusionMatrix);
      expectClose(metrics.jaccard, nums(c.jaccard), 'jaccard');
      expectClose(metrics.iou, nums(c.jaccard), 'iou');
      expectClose(metrics.dice, nums(c.dice), 'dice');
    });
  }

  for (const c of fixtures.multilabel) {
    it(`multilabel, ${c.name}: subset accuracy, precision/recall (every average incl. samples), F1`, async () => {
      const pairs = batchesOf(c.scores, c.y, c.batches, (rows) => tf.tensor2d(rows as number[][]));
      owned.push(...pairs.flat());
      expect(await computeOver(new Accuracy({ isMultilabel: true }), pairs)).toBeCloseTo(c.accuracy, 12);
      for (const [name, average] of AVERAGES) {
        if (!(name in c.precision)) continue;
        expectClose(
          await computeOver(new Precision({ average, isMultilabel: true }), pairs),
          nums(c.precision[name]!),
          `precision ${name}`,
        );
        expectClose(
          await computeOver(new Recall({ average, isMultilabel: true }), pairs),
          nums(c.recall[name]!),
          `recall ${name}`,
        );
      }
      const p = new Precision({ average: false, isMultilabel: true });
      const r = new Recall({ average: false, isMultilabel: true });
      expectClose(
        await computeOver(new Fbeta({ beta: 1, average: false, precision: p, recall: r }), pairs),
        nums(c.f1),
        'f1',
      );
    });
  }

  for (const c of fixtures.binaryLabels) {
    it(`binary, ${c.name}: accuracy and precision/recall (binary, per class, every average)`, async () => {
      const pairs = batchesOf(c.scores, c.y, c.batches);
      owned.push(...pairs.flat());
      expect(await computeOver(new Accuracy(), pairs)).toBeCloseTo(c.accuracy, 12);
      for (const [name, average] of AVERAGES) {
        if (!(name in c.precision)) continue;
        expectClose(
          await computeOver(new Precision({ average }), pairs),
          nums(c.precision[name]!),
          `precision ${name}`,
        );
        expectClose(await computeOver(new Recall({ average }), pairs), nums(c.recall[name]!), `recall ${name}`);
      }
    });
  }
});
