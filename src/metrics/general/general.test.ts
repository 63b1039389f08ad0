// Entropy and GeometricAverage against SciPy (fixtures/general.py → general.json); VariableAccumulation, Frequency and
// MetricGroup against hand-computed values.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../../engine';
import fixtures from '../fixtures/general.json';
import { BatchWise, Metric, NotComputableError } from '../metric';
import { type Pair, useCpu } from '../metric.test-util';
import { MaximumAbsoluteError } from '../regression/maximum-absolute-error';
import { R2Score } from '../regression/r2-score';
import { RunningAverage } from '../running-average';
import { Entropy } from './entropy';
import { Frequency } from './frequency';
import { GeometricAverage } from './geometric-average';
import { MetricGroup } from './metric-group';
import { VariableAccumulation } from './variable-accumulation';

beforeAll(useCpu);

describe('Entropy matches SciPy', () => {
  for (const c of fixtures.entropy) {
    it(`${c.name}, classes on the last axis, in two batches; y is ignored`, async () => {
      const entropy = new Entropy();
      const logits = c.yPred as number[][];
      const a = tf.tensor(logits.slice(0, 1));
      const b = tf.tensor(logits.slice(1));
      entropy.update([a, tf.tensor1d([0])]);
      entropy.update({ yPred: b });
      expect(await entropy.compute()).toBeCloseTo(c.value, 5);
      tf.dispose([a, b]);
    });
  }

  it('rejects a vector and a missing yPred', () => {
    const v = tf.zeros([3]);
    expect(() => new Entropy().update([v])).toThrow(
      'Entropy.update: yPred should be of shape (N, C) or (N, ..., C) (classes on the last axis), got a float32 tensor of shape [3].',
    );
    expect(() => new Entropy().update({ y: v } as never)).toThrow(
      /Entropy: update expects \[yPred, y\], \[yPred\] or \{ yPred \}/,
    );
    v.dispose();
  });
});

describe('GeometricAverage matches SciPy', () => {
  const g = fixtures.geometricAverage;

  it('of numbers, and of (N, D) batches per column', async () => {
    const numbers = new GeometricAverage();
    for (const x of g.numbers) numbers.update(x);
    expect(await numbers.compute()).toBeCloseTo(g.numbersValue, 10);
    const columns = new GeometricAverage();
    const a = tf.tensor2d(g.columns.slice(0, 4));
    const b = tf.tensor2d(g.columns.slice(4));
    columns.update(a);
    columns.update(b);
    const value = (await columns.compute()) as number[];
    for (const [i, v] of value.entries()) expect(v).toBeCloseTo(g.columnsValue[i]!, 5);
    tf.dispose([a, b]);
  });

  it('a scalar tensor counts as one sample; zeros give 0 and negatives NaN, like the reference', async () => {
    const mixed = new GeometricAverage();
    const t = tf.scalar(4);
    mixed.update(t);
    mixed.update(1);
    expect(await mixed.compute()).toBeCloseTo(2, 6);
    const columns = new GeometricAverage();
    const x = tf.tensor2d([
      [1, 0, -1],
      [4, 5, 4],
    ]);
    columns.update(x);
    const [first, second, third] = (await columns.compute()) as number[];
    expect(first).toBeCloseTo(2, 6);
    expect(second).toBe(0);
    expect(third).toBeNaN();
    expect((await columns.stateDict()).logSum.every(Number.isFinite)).toBe(true);
    tf.dispose([t, x]);
    await expect(new GeometricAverage().compute()).rejects.toBeInstanceOf(NotComputableError);
    expect(() => new GeometricAverage().update('2' as never)).toThrow(
      /GeometricAverage: update expects a number or a tensor, got '2'/,
    );
  });
});

describe('VariableAccumulation', () => {
  it('folds outputs with op on the device and counts samples like the reference', async () => {
    const sum = new VariableAccumulation((acc, x) => tf.add(acc, x.rank > 1 ? tf.sum(x, 0) : x));
    const batch = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const vector = tf.tensor1d([10, 20]);
    sum.update(batch); // 2 samples
    sum.update(vector); // 1 sample
    sum.update(5); // 1 sample, broadcast
    expect(await sum.compute()).toEqual([[19, 31], 4]);
    const max = new VariableAccumulation((acc, x) => tf.maximum(acc, x));
    for (const v of [-3, 7, 2]) max.update(v);
    expect(await max.compute()).toEqual([7, 3]);
    expect(await new VariableAccumulation((a) => a).compute()).toEqual([0, 0]);
    tf.dispose([batch, vector]);
  });

  it('an op may return the accumulator or the output itself; neither is disposed under the caller', async () => {
    const last = new VariableAccumulation((_acc, x) => x);
    const x = tf.tensor1d([1, 2]);
    last.update(x);
    last.update(x);
    expect(x.isDisposed).toBe(false);
    expect(await last.compute()).toEqual([[1, 2], 2]);
    const same = new VariableAccumulation((acc) => acc);
    same.update(3);
    same.update(3);
    expect(await same.compute()).toEqual([0, 2]);
    x.dispose();
  });

  it('checks op, its result and the input', () => {
    expect(() => new VariableAccumulation(3 as never)).toThrow(
      'VariableAccumulation: argument op should be a function (accumulator, output) => tf.Tensor, got 3.',
    );
    const bad = new VariableAccumulation(() => 1 as never);
    const before = tf.memory().numTensors;
    expect(() => bad.update(1)).toThrow(
      'VariableAccumulation: op should return a tensor (the new accumulator), got 1.',
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() => bad.update(null as never)).toThrow(
      /VariableAccumulation: update expects a number or a tensor, got null/,
    );
  });
});

describe('Frequency', () => {
  it('items per second since the reset, on a fake clock; the default usage writes it at every iteration', async () => {
    let clock = 0;
    const frequency = new Frequency({ now: () => clock, outputTransform: (batch: number[]) => batch.length });
    const engine = new Engine<number[], number[]>((_e, batch) => {
      clock += 500; // each batch takes 0.5 s
      return batch;
    });
    const seen: number[] = [];
    frequency.attach(engine, 'itemsPerSecond');
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.state.metrics.itemsPerSecond as number);
    });
    await engine.run(
      [
        [1, 2],
        [3, 4, 5, 6],
        [7, 8, 9, 10, 11, 12],
      ],
      { maxEpochs: 1 },
    );
    expect(seen).toEqual([2 / 0.5, 6 / 1, 12 / 1.5]);
    expect(frequency.isAttached(engine)).toBe(true);
    frequency.detach(engine);
    expect(frequency.isAttached(engine)).toBe(false);
  });

  it('rejects a bad count and computes nothing before time passes', () => {
    const frequency = new Frequency({ now: () => 0 });
    expect(() => frequency.compute()).toThrow(NotComputableError);
    expect(() => frequency.update(-1)).toThrow(
      /Frequency.update: the number of items should be a non-negative finite number, got -1. Map the engine output/,
    );
    expect(() => new Frequency({ clock: () => 0 } as never)).toThrow(/Frequency: unknown option 'clock'/);
  });
});

/** A metric whose update is asynchronous: counts updates after a microtask. */
class AsyncCount extends Metric<unknown, number> {
  #count = 0;
  reset(): void {
    this.#count = 0;
  }
  async update(): Promise<void> {
    await Promise.resolve();
    this.#count += 1;
  }
  compute(): number {
    return this.#count;
  }
}

describe('MetricGroup', () => {
  it('updates every metric through its own outputTransform and writes each value and the group', async () => {
    const before = tf.memory().numTensors;
    const group = new MetricGroup({
      r2: new R2Score(),
      batchSize: new RunningAverage({ outputTransform: ([yPred]: Pair) => yPred.shape[0]!, alpha: 0.5 }),
      updates: new AsyncCount(),
      maxError: new MaximumAbsoluteError({ outputTransform: ({ 0: yPred, 1: y }: Pair) => [y, yPred] }),
    });
    const engine = new Engine<Pair, Pair>((_e, batch) => batch);
    group.attach(engine, 'group');
    const batches: Pair[] = [
      [tf.tensor1d([1, 2, 3, 4]), tf.tensor1d([1.5, 2, 2.5, 4])],
      [tf.tensor1d([0, 1]), tf.tensor1d([0, 1.5])],
    ];
    const state = await engine.run(batches);
    const metrics = state.metrics as Record<string, any>;
    const r2 = new R2Score();
    for (const b of batches) r2.update(b);
    expect(metrics.r2).toBeCloseTo(await r2.compute(), 10);
    expect(metrics.batchSize).toBe(4 * 0.5 + 2 * 0.5);
    expect(metrics.updates).toBe(2); // asynchronous updates were awaited
    expect(metrics.group).toEqual({
      r2: metrics.r2,
      batchSize: metrics.batchSize,
      updates: 2,
      maxError: 0.5,
    });
    tf.dispose(batches.flat());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the group name may not shadow a metric; the argument is checked', async () => {
    const group = new MetricGroup({ r2: new R2Score() });
    const engine = new Engine<Pair, Pair>((_e, batch) => batch);
    group.attach(engine, 'r2', BatchWise);
    const batch: Pair = [tf.tensor1d([1, 2]), tf.tensor1d([1, 3])];
    await expect(engine.run([batch])).rejects.toThrow(
      /MetricGroup: the metric name 'r2' conflicts with a key of its result/,
    );
    expect(() => new MetricGroup({})).toThrow(/MetricGroup: argument metrics should be an object of metrics by name/);
    expect(() => new MetricGroup({ a: 1 } as never)).toThrow(
      "MetricGroup: argument metrics' 'a' should be a Metric, got 1.",
    );
    tf.dispose(batch);
  });
});
