import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfusionMatrix,
  cmAccuracy,
  cmPrecision,
  cmRecall,
  DiceCoefficient,
  IoU,
  JaccardIndex,
  mIoU,
} from './confusion-matrix';
import { NotComputableError } from './metric';
import { close, computeOver, disposePairs, identityEngine, type Pair, pair, useCpu } from './metric.test-util';

beforeAll(useCpu);

// The reference's doc example: targets [0, 1, 0, 1, 2], predictions [1, 1, 0, 1, 1]
const yTrue = [0, 1, 0, 1, 2];
const yPred = [
  [0, 1, 0],
  [0, 1, 0],
  [1, 0, 0],
  [0, 1, 0],
  [0, 1, 0],
];
const byHand = [
  [1, 1, 0],
  [0, 2, 0],
  [0, 1, 0],
];

describe('ConfusionMatrix', () => {
  let batches: Pair[] = [];
  beforeAll(() => {
    batches = [pair(yPred.slice(0, 2), yTrue.slice(0, 2), true), pair(yPred.slice(2), yTrue.slice(2), true)];
  });
  afterAll(() => disposePairs(batches));

  it('counts matrix[actual][predicted] over batches', async () => {
    expect(await computeOver(new ConfusionMatrix({ numClasses: 3 }), batches)).toEqual(byHand);
  });

  it('normalises by samples, rows (recall) and columns (precision)', async () => {
    const samples = await computeOver(new ConfusionMatrix({ numClasses: 3, average: 'samples' }), batches);
    expect(
      close(
        samples,
        byHand.map((row) => row.map((v) => v / 5)),
      ),
    ).toBe(true);
    const recall = await computeOver(new ConfusionMatrix({ numClasses: 3, average: 'recall' }), batches);
    expect(
      close(recall, [
        [0.5, 0.5, 0],
        [0, 1, 0],
        [0, 1, 0],
      ]),
    ).toBe(true);
    const precision = await computeOver(new ConfusionMatrix({ numClasses: 3, average: 'precision' }), batches);
    expect(
      close(precision, [
        [1, 0.25, 0],
        [0, 0.5, 0],
        [0, 0.25, 0],
      ]),
    ).toBe(true);
  });

  it('skips positions whose target is ignoreLabel; other targets outside [0, numClasses) are errors', async () => {
    const withIgnored = [
      pair(
        [
          [0, 1, 0],
          [1, 0, 0],
        ],
        [1, 255],
        true,
      ),
    ];
    await expect(computeOver(new ConfusionMatrix({ numClasses: 3 }), withIgnored)).rejects.toThrow(
      /ConfusionMatrix: y should hold class indices, integers in \[0, 3\), got 255 .*or skip a label with the ignoreLabel option/,
    );
    expect(() => new ConfusionMatrix({ numClasses: 3, ignoreLabel: 2.5 })).toThrow(
      'ConfusionMatrix: option ignoreLabel should be a safe integer, got 2.5.',
    );
    expect(await computeOver(new ConfusionMatrix({ numClasses: 3, ignoreLabel: 255 }), withIgnored)).toEqual([
      [0, 0, 0],
      [0, 1, 0],
      [0, 0, 0],
    ]);
    disposePairs(withIgnored);
  });

  it('IoU, mIoU, Dice, Jaccard, cmAccuracy/Precision/Recall on an engine (reference doc values)', async () => {
    const cm = new ConfusionMatrix({ numClasses: 3 });
    const engine = identityEngine();
    IoU(cm).attach(engine, 'iou');
    mIoU(cm, 0).attach(engine, 'miou');
    DiceCoefficient(cm, 0).attach(engine, 'dice');
    JaccardIndex(cm, 0).attach(engine, 'jaccard');
    cmAccuracy(cm).attach(engine, 'accuracy');
    cmPrecision(cm, false).attach(engine, 'precision');
    cmRecall(cm).attach(engine, 'recall');
    const { metrics } = await engine.run(batches);
    expect(close(metrics.iou, [0.5, 0.5, 0])).toBe(true);
    expect(metrics.miou).toBeCloseTo(0.25, 10);
    expect(close(metrics.dice, [2 / 3, 0])).toBe(true);
    expect(close(metrics.jaccard, [0.5, 0])).toBe(true);
    expect(metrics.accuracy).toBeCloseTo(3 / 5, 10);
    expect(close(metrics.precision, [1, 0.5, 0])).toBe(true);
    expect(metrics.recall).toBeCloseTo((0.5 + 1 + 0) / 3, 10);
  });

  it('errors: options, shapes, NotComputableError, helper arguments', async () => {
    expect(() => new ConfusionMatrix({ numClasses: 1 })).toThrow(/integer > 1/);
    expect(() => new ConfusionMatrix({ numClasses: 3, average: 'macro' as never })).toThrow(TypeError);
    expect(() => new ConfusionMatrix({ numClasses: 4 }).update(batches[0])).toThrow(/\(N, \.\.\., 4\).*yPred \[2,3\]/);
    await expect(new ConfusionMatrix({ numClasses: 3 }).compute()).rejects.toBeInstanceOf(NotComputableError);
    expect(() => IoU(new ConfusionMatrix({ numClasses: 3, average: 'recall' }))).toThrow(
      /average undefined or 'samples'/,
    );
    expect(() => mIoU(new ConfusionMatrix({ numClasses: 3 }), 3)).toThrow(/ignoreIndex/);
    expect(() => IoU({} as never)).toThrow(TypeError);
  });
});
