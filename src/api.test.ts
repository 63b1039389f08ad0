// The public API contract (shared spec api.md): every name listed there is exported from the package root or
// from `kindling/node`, and the built package (dist/) resolves through its own name, as a Node script would import it.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kindling from './index';
import * as kindlingNode from './node';

const ROOT_NAMES = [
  'Engine',
  'Events',
  'defineEvents',
  'DeterministicEngine',
  'manualSeed',
  'keepRandomState',
  'getRandomState',
  'setRandomState',
  'DataLoader',
  'TensorDataset',
  'Metric',
  'EpochWise',
  'BatchWise',
  'RunningBatchWise',
  'RunningEpochWise',
  'Accuracy',
  'Loss',
  'Average',
  'RunningAverage',
  'MeanSquaredError',
  'MeanAbsoluteError',
  'RootMeanSquaredError',
  'Precision',
  'Recall',
  'Fbeta',
  'ConfusionMatrix',
  'TopKCategoricalAccuracy',
  'MetricsLambda',
  'NotComputableError',
  'createSupervisedTrainer',
  'createSupervisedEvaluator',
  'createSupervisedTbpttTrainer',
  'Checkpoint',
  'CheckpointEvents',
  'MemorySaver',
  'IndexedDBSaver',
  'globalStepFromEngine',
  'EarlyStopping',
  'TerminateOnNan',
  'Timer',
  'ProgressBar',
  'LinearCyclicalScheduler',
  'CosineAnnealingScheduler',
  'PiecewiseLinear',
  'ConcatScheduler',
  'createLrSchedulerWithWarmup',
] as const;

describe('public API (api.md)', () => {
  it.each(ROOT_NAMES)('exports %s from the package root', (name) => {
    expect((kindling as Record<string, unknown>)[name]).toBeDefined();
  });

  it('exports DiskSaver from kindling/node and not from the root', () => {
    expect(typeof kindlingNode.DiskSaver).toBe('function');
    expect((kindling as Record<string, unknown>).DiskSaver).toBeUndefined();
  });

  it('event constants carry their names and filters return new events', () => {
    expect(kindling.Events.ITERATION_COMPLETED.name).toBe('iteration_completed');
    const filtered = kindling.Events.ITERATION_COMPLETED({ every: 50 });
    expect(filtered).not.toBe(kindling.Events.ITERATION_COMPLETED);
    expect(filtered.name).toBe('iteration_completed');
  });

  it('the built package (npm run build) imports by its own name from a Node script', () => {
    expect(
      existsSync(new URL('../dist/index.js', import.meta.url)),
      'dist/index.js is missing: run npm run build',
    ).toBe(true);
    const script = `
        import { Engine, Events } from 'kindling';
        import { DiskSaver } from 'kindling/node';
        const engine = new Engine((_e, b) => b * 2);
        let completed = 0;
        engine.on(Events.ITERATION_COMPLETED({ every: 2 }), () => { completed++; });
        const state = await engine.run([1, 2, 3, 4], { maxEpochs: 2 });
        console.log(JSON.stringify({ iteration: state.iteration, output: state.output, completed, disk: typeof DiskSaver }));
      `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      iteration: 8,
      output: 8,
      completed: 4,
      disk: 'function',
    });
  });
});

// api.md, "More metrics": the classification metrics (issue 15).
const CLASSIFICATION_METRIC_NAMES = [
  'RocAuc',
  'AveragePrecision',
  'RocCurve',
  'PrecisionRecallCurve',
  'CohenKappa',
  'MultiLabelConfusionMatrix',
  'ClassificationReport',
  'EpochMetric',
  'DiceCoefficient',
  'JaccardIndex',
] as const;

describe('public API (api.md, more metrics: classification)', () => {
  it.each(CLASSIFICATION_METRIC_NAMES)('exports %s from the package root', (name) => {
    expect(typeof (kindling as Record<string, unknown>)[name]).toBe('function');
  });
});
