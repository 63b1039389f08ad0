import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { Accuracy } from './accuracy';
import { EpochWise, NotComputableError, RunningEpochWise } from './metric';
import { close, disposePairs, identityEngine, type Pair, pair, useCpu } from './metric.test-util';
import { RunningAverage } from './running-average';

beforeAll(useCpu);

/** The running average by hand: first value as is, then v * alpha + (1 - alpha) * x. */
function emaByHand(values: number[], alpha: number, start: number | null = null): number[] {
  let v = start;
  return values.map((x) => {
    v = v === null ? x : v * alpha + (1 - alpha) * x;
    return v;
  });
}

/** An engine whose output is the iteration number (or its scalar tensor), recording `metrics[name]` per event. */
function recordingEngine<O>(output: (iteration: number) => O, name: string, event = Events.ITERATION_COMPLETED) {
  const engine = new Engine<number, O>((e) => output(e.state.iteration));
  const seen: number[] = [];
  return {
    engine,
    seen,
    record: () =>
      engine.on(event, (e) => {
        seen.push(e.state.metrics[name]);
      }),
  };
}

describe('RunningAverage, output mode', () => {
  it('averages numbers with RunningBatchWise by default, across epochs', async () => {
    const { engine, seen, record } = recordingEngine((i) => i, 'avg');
    new RunningAverage({ alpha: 0.5, outputTransform: (x: number) => x }).attach(engine, 'avg');
    record();
    await engine.run([0, 0, 0], { maxEpochs: 2 });
    expect(close(seen, emaByHand([1, 2, 3, 4, 5, 6], 0.5))).toBe(true);
  });

  it('averages scalar tensors on the device and frees them', async () => {
    const { engine, seen, record } = recordingEngine((i) => tf.scalar(i * 2), 'loss');
    const ra = new RunningAverage({ outputTransform: (x: tf.Scalar) => x });
    ra.attach(engine, 'loss');
    record();
    engine.on(Events.ITERATION_COMPLETED, (e) => (e.state.output as tf.Tensor).dispose());
    const before = tf.memory().numTensors;
    await engine.run([0, 0, 0, 0]);
    expect(close(seen, emaByHand([2, 4, 6, 8], 0.98))).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stateDict / loadStateDict: a resumed run continues the average', async () => {
    const first = recordingEngine((i) => i, 'avg');
    const ra = new RunningAverage({ alpha: 0.5, outputTransform: (x: number) => x });
    ra.attach(first.engine, 'avg');
    await first.engine.run([0, 0]);
    const saved = JSON.parse(JSON.stringify(ra.stateDict()));
    expect(saved).toEqual({ value: emaByHand([1, 2], 0.5)[1] });

    const second = recordingEngine((i) => i + 10, 'avg');
    const resumed = new RunningAverage({ alpha: 0.5, outputTransform: (x: number) => x });
    resumed.loadStateDict(saved);
    resumed.attach(second.engine, 'avg');
    second.record();
    await second.engine.run([0, 0]);
    expect(close(second.seen, emaByHand([11, 12], 0.5, 1.5))).toBe(true);
    expect(() => resumed.loadStateDict({ value: 'x' } as never)).toThrow(/expected \{ value/);
  });

  it('stateDict needs the device value read back first', async () => {
    const ra = new RunningAverage({ outputTransform: (x) => x });
    expect(ra.stateDict()).toEqual({ value: null });
    const x = tf.scalar(3);
    ra.update(x);
    expect(() => ra.stateDict()).toThrow(/await metric.compute\(\)/);
    expect(await ra.compute()).toBe(3);
    expect(ra.stateDict()).toEqual({ value: 3 });
    x.dispose();
  });

  it('validates options and inputs; NotComputableError before the first update', async () => {
    expect(() => new RunningAverage()).toThrow(/got neither/);
    expect(() => new RunningAverage({ src: new Accuracy(), outputTransform: (x) => x })).toThrow(/not both/);
    expect(() => new RunningAverage({ outputTransform: (x) => x, alpha: 0 })).toThrow(/\(0, 1\]/);
    expect(() => new RunningAverage({ src: {} as never })).toThrow(/should be a Metric/);
    const vector = tf.tensor1d([1, 2]);
    expect(() => new RunningAverage({ outputTransform: (x) => x }).update(vector)).toThrow(/one value/);
    vector.dispose();
    await expect(new RunningAverage({ outputTransform: (x) => x }).compute()).rejects.toBeInstanceOf(
      NotComputableError,
    );
  });
});

describe('RunningAverage, src mode', () => {
  // Batch accuracies: 1/2, 1, 0, 1/2
  let batches: Pair[] = [];
  const accuracies = [0.5, 1, 0, 0.5];
  beforeAll(() => {
    batches = [
      pair(
        [
          [0, 1],
          [0, 1],
        ],
        [1, 0],
        true,
      ),
      pair(
        [
          [1, 0],
          [0, 1],
        ],
        [0, 1],
        true,
      ),
      pair(
        [
          [1, 0],
          [1, 0],
        ],
        [1, 1],
        true,
      ),
      pair(
        [
          [1, 0],
          [1, 0],
        ],
        [0, 1],
        true,
      ),
    ];
  });
  afterAll(() => disposePairs(batches));

  it('averages the source metric per batch (RunningBatchWise)', async () => {
    const engine = identityEngine();
    const ra = new RunningAverage({ src: new Accuracy(), alpha: 0.9 });
    ra.attach(engine, 'acc');
    expect(ra.isAttached(engine)).toBe(true);
    const seen: number[] = [];
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.state.metrics.acc);
    });
    await engine.run(batches);
    expect(close(seen, emaByHand(accuracies, 0.9))).toBe(true);
  });

  it('averages the source metric per epoch (RunningEpochWise)', async () => {
    const engine = identityEngine();
    new RunningAverage({ src: new Accuracy(), alpha: 0.5 }).attach(engine, 'acc', RunningEpochWise);
    const seen: number[] = [];
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      seen.push(e.state.metrics.acc);
    });
    await engine.run(batches, { maxEpochs: 2, epochLength: 2 }); // epochs see batches 1-2, then 3-4
    expect(close(seen, emaByHand([0.75, 0.25], 0.5))).toBe(true);
  });

  it('detach stops feeding the source metric', async () => {
    const engine = identityEngine();
    const src = new Accuracy();
    const ra = new RunningAverage({ src });
    ra.attach(engine, 'acc', EpochWise);
    ra.detach(engine, EpochWise);
    expect(ra.isAttached(engine, EpochWise)).toBe(false);
    const state = await engine.run(batches);
    expect(state.metrics).not.toHaveProperty('acc');
    await expect(src.compute()).rejects.toBeInstanceOf(NotComputableError);
  });
});
