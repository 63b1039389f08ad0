import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { Average } from './average';
import { Fbeta } from './fbeta';
import {
  BatchWise,
  EpochWise,
  Metric,
  MetricsLambda,
  type MetricUsage,
  NotComputableError,
  RunningBatchWise,
  RunningEpochWise,
} from './metric';
import { close, disposePairs, identityEngine, type Pair, pair, useCpu } from './metric.test-util';
import { Precision } from './precision';
import { Recall } from './recall';

beforeAll(useCpu);

/** An engine whose output is the iteration number; records `state.metrics[name]` after each `event`. */
function iterationEngine(name: string, metric: Metric<any, any>, usage: MetricUsage, event = usage.COMPLETED) {
  const engine = new Engine<number, number>((e) => e.state.iteration);
  metric.attach(engine, name, usage);
  const seen: unknown[] = [];
  engine.on(event, (e) => {
    seen.push(e.state.metrics[name]);
  });
  return { engine, seen };
}

const data = [0, 0, 0]; // 3 iterations per epoch; the output is the iteration number

describe('Metric usages on a real Engine', () => {
  it('EpochWise: reset at each epoch, one value per epoch', async () => {
    const { engine, seen } = iterationEngine('mean', new Average(), EpochWise);
    const state = await engine.run(data, { maxEpochs: 2 });
    expect(seen).toEqual([2, 5]); // mean(1,2,3), mean(4,5,6)
    expect(state.metrics.mean).toBe(5);
  });

  it('BatchWise: one value per iteration', async () => {
    const { engine, seen } = iterationEngine('v', new Average(), BatchWise);
    await engine.run(data, { maxEpochs: 2 });
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('RunningBatchWise: never reset within the run, computed at each iteration; reset by a new run', async () => {
    const { engine, seen } = iterationEngine('v', new Average(), RunningBatchWise);
    await engine.run(data, { maxEpochs: 2 });
    expect(seen).toEqual([1, 1.5, 2, 2.5, 3, 3.5]);
    seen.length = 0;
    await engine.run(data); // the last run is done: a new run of 1 epoch, STARTED fires again
    expect(seen).toEqual([1, 1.5, 2]);
  });

  it('RunningEpochWise: updated and computed at each EPOCH_COMPLETED, never reset within the run', async () => {
    const { engine, seen } = iterationEngine('v', new Average(), RunningEpochWise);
    await engine.run(data, { maxEpochs: 3 });
    expect(seen).toEqual([3, 4.5, 6]); // outputs at epoch ends: 3, 6, 9
  });

  it('isAttached is per usage; detach removes the metric and its handlers', async () => {
    const engine = new Engine<number, number>((e) => e.state.iteration);
    const avg = new Average();
    avg.attach(engine, 'avg', BatchWise);
    expect(avg.isAttached(engine, BatchWise)).toBe(true);
    expect(avg.isAttached(engine)).toBe(false);
    expect(avg.isAttached(engine, RunningBatchWise)).toBe(false);
    avg.detach(engine, BatchWise);
    expect(avg.isAttached(engine, BatchWise)).toBe(false);
    const state = await engine.run(data, { maxEpochs: 1 });
    expect(state.metrics).not.toHaveProperty('avg');
    await expect(avg.compute()).rejects.toBeInstanceOf(NotComputableError); // never updated
  });

  it('detaching one usage keeps the handlers another usage shares', async () => {
    const avg = new Average();
    const { engine, seen } = iterationEngine('epoch', avg, EpochWise);
    avg.attach(engine, 'batch', BatchWise);
    avg.detach(engine, BatchWise);
    expect(avg.isAttached(engine, EpochWise)).toBe(true);
    const state = await engine.run(data, { maxEpochs: 2 });
    expect(seen).toEqual([2, 5]);
    expect(state.metrics).not.toHaveProperty('batch');
  });

  it('attach under two names writes both', async () => {
    const engine = new Engine<number, number>((e) => e.state.iteration);
    const avg = new Average();
    avg.attach(engine, 'a');
    avg.attach(engine, 'b');
    const state = await engine.run(data, { maxEpochs: 1 });
    expect(state.metrics).toMatchObject({ a: 2, b: 2 });
  });

  it('rejects a usage that is not a usage value and a bad name', () => {
    const engine = new Engine<number, number>((e) => e.state.iteration);
    expect(() => new Average().attach(engine, 'x', 'epoch_wise' as never)).toThrow(/EpochWise, BatchWise/);
    expect(() => new Average().attach(engine, '')).toThrow(TypeError);
  });

  it('spreads an object result into state.metrics and rejects a conflicting name', async () => {
    class Stats extends Metric<number, { low: number; high: number }> {
      #values: number[] = [];
      reset() {
        this.#values = [];
      }
      update(value: number) {
        this.#values.push(value);
      }
      compute() {
        if (this.#values.length === 0) throw new NotComputableError('Stats: no data');
        return { low: Math.min(...this.#values), high: Math.max(...this.#values) };
      }
    }
    const engine = new Engine<number, number>((e) => e.state.iteration * 10);
    new Stats().attach(engine, 'stats');
    const state = await engine.run(data, { maxEpochs: 1 });
    expect(state.metrics).toEqual({ stats: { low: 10, high: 30 }, low: 10, high: 30 });

    const clash = new Engine<number, number>((e) => e.state.iteration);
    new Stats().attach(clash, 'low');
    await expect(clash.run(data, { maxEpochs: 1 })).rejects.toThrow(/conflicts with a key of its result/);
  });

  it("rejects what is not an engine, and names that would reach state.metrics' prototype", () => {
    const engine = new Engine<number, number>((e) => e.state.iteration);
    for (const notEngine of [{}, null, 5]) {
      expect(() => new Average().attach(notEngine as never, 'avg')).toThrow(
        /^Average\.attach: argument engine should be an Engine \(e\.g\. the trainer or an evaluator\), got/,
      );
    }
    expect(() => new Average().detach({} as never)).toThrow(/^Average\.detach: argument engine should be an Engine/);
    expect(() => new Average().isAttached(5 as never)).toThrow(/^Average\.isAttached: argument engine/);
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      expect(() => new Average().attach(engine, name)).toThrow(
        `Average.attach: argument name should be a name other than '__proto__', 'constructor' and 'prototype', got '${name}'.`,
      );
    }
    expect(engine.hasEventHandler(() => {})).toBe(false);
  });

  it('refuses to spread a result with a __proto__ key into state.metrics', async () => {
    const engine = new Engine<number, number>((e) => e.state.iteration);
    const polluting = new MetricsLambda(() => JSON.parse('{"__proto__": {"polluted": true}, "a": 1}'), new Average());
    polluting.attach(engine, 'lambda');
    await expect(engine.run(data, { maxEpochs: 1 })).rejects.toThrow(
      /^MetricsLambda: its result has the key '__proto__', which would reach the prototype of engine\.state\.metrics/,
    );
    expect(Object.getPrototypeOf(engine.state.metrics)).toBe(Object.prototype);
    expect((engine.state.metrics as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('outputTransform picks the value from the engine output', async () => {
    const engine = new Engine<number, { loss: number }>((e) => ({ loss: e.state.iteration * 2 }));
    new Average({ outputTransform: (out: { loss: number }) => out.loss }).attach(engine, 'loss');
    const state = await engine.run(data, { maxEpochs: 1 });
    expect(state.metrics.loss).toBe(4);
    expect(() => new Average({ outputTransform: 3 as never })).toThrow(/outputTransform should be a function/);
  });
});

describe('Composition and MetricsLambda', () => {
  // 3 classes; predictions argmax: [0, 1, 1, 2, 0, 1], targets: [0, 1, 2, 2, 1, 1]
  const scores = [
    [0.9, 0.05, 0.05],
    [0.1, 0.8, 0.1],
    [0.2, 0.5, 0.3],
    [0.1, 0.2, 0.7],
    [0.6, 0.3, 0.1],
    [0.3, 0.4, 0.3],
  ];
  const labels = [0, 1, 2, 2, 1, 1];
  // by hand: class 0: tp 1, predicted 2, actual 1; class 1: tp 2, predicted 3, actual 3; class 2: tp 1, predicted 1, actual 2
  const p = [1 / 2, 2 / 3, 1];
  const r = [1, 2 / 3, 1 / 2];
  const f1 = p.map((pi, i) => (2 * pi * r[i]) / (pi + r[i]));
  let batches: Pair[] = [];
  beforeAll(() => {
    batches = [pair(scores.slice(0, 4), labels.slice(0, 4), true), pair(scores.slice(4), labels.slice(4), true)];
  });
  afterAll(() => disposePairs(batches));

  it('precision.mul(recall).mul(2).div(precision.add(recall)) equals F1 by hand and Fbeta(1)', async () => {
    const precision = new Precision({ average: false });
    const recall = new Recall({ average: false });
    const engine = identityEngine();
    const composed = precision.mul(recall).mul(2).div(precision.add(recall));
    composed.attach(engine, 'f1');
    new Fbeta({ beta: 1, average: false }).attach(engine, 'fbeta');
    const state = await engine.run(batches, { maxEpochs: 2 });
    expect(close(state.metrics.f1, f1)).toBe(true);
    expect(close(state.metrics.fbeta, f1)).toBe(true);
    expect(state.metrics).not.toHaveProperty('precision');
    expect(composed.isAttached(engine)).toBe(true);
    expect(precision.isAttached(engine)).toBe(false); // only partially attached, through the lambda
  });

  it('detaching a lambda removes its dependencies handlers, unless they are attached by themselves', async () => {
    const precision = new Precision({ average: false });
    const recall = new Recall({ average: false });
    const engine = identityEngine();
    precision.attach(engine, 'precision');
    const sum = precision.add(recall);
    sum.attach(engine, 'sum');
    sum.detach(engine);
    expect(sum.isAttached(engine)).toBe(false);
    const state = await engine.run(batches, { maxEpochs: 1 });
    expect(close(state.metrics.precision, p)).toBe(true);
    expect(state.metrics).not.toHaveProperty('sum');
    await expect(recall.compute()).rejects.toBeInstanceOf(NotComputableError); // recall no longer updated
  });

  it('arithmetic with numbers, arrays and bad operands', async () => {
    class Constant extends Metric<unknown, number | number[]> {
      constructor(readonly value: number | number[]) {
        super();
      }
      reset() {}
      update() {}
      compute() {
        return this.value;
      }
    }
    const a = new Constant([1, 2, 4]);
    const b = new Constant(2);
    expect(await a.add(b).compute()).toEqual([3, 4, 6]);
    expect(await a.sub(1).compute()).toEqual([0, 1, 3]);
    expect(await a.mul(a).compute()).toEqual([1, 4, 16]);
    expect(await a.div(b).compute()).toEqual([0.5, 1, 2]);
    expect(await b.pow(3).compute()).toBe(8);
    await expect(a.add(new Constant([1, 2])).compute()).rejects.toThrow(RangeError);
    expect(() => a.add('1' as never)).toThrow(TypeError);
  });

  it('MetricsLambda works by hand (update/compute) but not while attached', async () => {
    const precision = new Precision({ average: true });
    const recall = new Recall({ average: true });
    const lambda = new MetricsLambda((pv, rv) => [pv, rv], precision, recall);
    lambda.update(batches[0]);
    lambda.update(batches[1]);
    const [pm, rm] = (await lambda.compute()) as [number, number];
    expect(pm).toBeCloseTo((p[0] + p[1] + p[2]) / 3, 6);
    expect(rm).toBeCloseTo((r[0] + r[1] + r[2]) / 3, 6);
    const engine = identityEngine();
    expect(() => lambda.attach(engine, 'x')).toThrow(/reset\(\) before attaching/);
    lambda.reset();
    lambda.attach(engine, 'x');
    expect(() => lambda.update(batches[0])).toThrow(/attached/);
    lambda.detach(engine);
    lambda.update(batches[0]);
    lambda.reset();
    await expect(precision.compute()).rejects.toBeInstanceOf(NotComputableError); // reset reaches the dependencies
  });

  it('a lambda of constants passes them through', async () => {
    const avg = new Average();
    const scaled = new MetricsLambda((value, factor) => (value as number) * factor, avg, 10);
    const engine = new Engine<number, number>((e) => e.state.iteration);
    scaled.attach(engine, 'scaled');
    expect(scaled.isAttached(engine)).toBe(true);
    expect(avg.isAttached(engine)).toBe(false);
    const seen: number[] = [];
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      seen.push(e.state.metrics.scaled);
    });
    await engine.run(data, { maxEpochs: 2 });
    expect(seen).toEqual([20, 50]);
  });
});
