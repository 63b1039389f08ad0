// Shared checks for the regression, vision, general and text metrics (issue 15): exported from the package root,
// no tensor leaks under every usage, state dicts that round-trip mid-epoch (by hand, through JSON, and through a
// resumed DeterministicEngine), all-or-nothing loadStateDict, and literal class names for a minified build.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeterministicEngine } from '../data/deterministic-engine';
import { Engine } from '../engine';
import * as kindling from '../index';
import { Entropy } from './general/entropy';
import { Frequency } from './general/frequency';
import { GeometricAverage } from './general/geometric-average';
import { MetricGroup } from './general/metric-group';
import { VariableAccumulation } from './general/variable-accumulation';
import { BatchWise, EpochWise, type Metric, type MetricUsage, RunningBatchWise, RunningEpochWise } from './metric';
import { useCpu } from './metric.test-util';
import { Bleu } from './nlp/bleu';
import { Rouge } from './nlp/rouge';
import { CosineSimilarity } from './regression/cosine-similarity';
import { JSDivergence } from './regression/js-divergence';
import { KLDivergence } from './regression/kl-divergence';
import { MaximumAbsoluteError } from './regression/maximum-absolute-error';
import { MeanAbsoluteRelativeError } from './regression/mean-absolute-relative-error';
import { MedianAbsoluteError } from './regression/median-absolute-error';
import { PearsonCorrelation } from './regression/pearson-correlation';
import { R2Score } from './regression/r2-score';
import { expectCapturedAtCall } from './state-dict.test-util';
import { PSNR } from './vision/psnr';
import { SSIM } from './vision/ssim';

beforeAll(useCpu);

/** A clock that advances 250 ms per reading, so Frequency's values do not depend on the machine. */
function fakeClock(): () => number {
  let t = 0;
  return () => {
    t += 250;
    return t;
  };
}

type AnyMetric = Metric<any, any>;
interface Case {
  name: string;
  make: () => AnyMetric;
  /** Four update inputs (tensors are created once in beforeAll and disposed in afterAll). */
  inputs: () => unknown[];
}

const tensors: tf.Tensor[] = [];
const keep = <T extends tf.Tensor>(t: T): T => {
  tensors.push(t);
  return t;
};
const seeded = (shape: number[], seed: number, min = 0, max = 1) =>
  keep(tf.randomUniform(shape, min, max, 'float32', seed));
let regression: [tf.Tensor, tf.Tensor][] = [];
let logits: [tf.Tensor, tf.Tensor][] = [];
let images: [tf.Tensor, tf.Tensor][] = [];
let positives: tf.Tensor[] = [];
beforeAll(() => {
  regression = [0, 1, 2, 3].map((b) => [seeded([5], 10 + b, 1, 2), seeded([5, 1], 20 + b, 1, 2)]);
  logits = [0, 1, 2, 3].map((b) => [seeded([3, 4], 30 + b, -2, 2), seeded([3, 4], 40 + b, -2, 2)]);
  images = [0, 1, 2, 3].map((b) => {
    const y = seeded([2, 12, 12, 3], 50 + b);
    return [keep(tf.clipByValue(tf.add(y, seeded([2, 12, 12, 3], 60 + b, -0.1, 0.1)), 0, 1)), y];
  });
  positives = [0, 1, 2, 3].map((b) => seeded([3, 2], 70 + b, 0.5, 2));
});
afterAll(() => tf.dispose(tensors));

const words = (s: string) => s.split(' ');
const text = [
  [[words('the cat sat on the mat')], [[words('the cat is on the mat'), words('a cat sat on a mat')]]],
  [
    [words('a quick brown fox'), words('hello there')],
    [[words('the quick brown fox')], [words('hello world')]],
  ],
  [[words('it is raining today')], [[words('today it rains'), words('it is raining')]]],
  [[words('one two three four five')], [[words('one two three four five six')]]],
];

const cases: Case[] = [
  { name: 'R2Score', make: () => new R2Score(), inputs: () => regression },
  { name: 'PearsonCorrelation', make: () => new PearsonCorrelation(), inputs: () => regression },
  { name: 'MedianAbsoluteError', make: () => new MedianAbsoluteError(), inputs: () => regression },
  { name: 'MaximumAbsoluteError', make: () => new MaximumAbsoluteError(), inputs: () => regression },
  { name: 'MeanAbsoluteRelativeError', make: () => new MeanAbsoluteRelativeError(), inputs: () => regression },
  { name: 'CosineSimilarity', make: () => new CosineSimilarity(), inputs: () => logits },
  { name: 'KLDivergence', make: () => new KLDivergence(), inputs: () => logits },
  { name: 'JSDivergence', make: () => new JSDivergence(), inputs: () => logits },
  { name: 'PSNR', make: () => new PSNR({ dataRange: 1 }), inputs: () => images },
  { name: 'SSIM', make: () => new SSIM({ dataRange: 1 }), inputs: () => images },
  { name: 'Entropy', make: () => new Entropy(), inputs: () => logits },
  { name: 'GeometricAverage', make: () => new GeometricAverage(), inputs: () => positives },
  {
    name: 'VariableAccumulation',
    make: () => new VariableAccumulation((acc, x) => tf.add(acc, tf.sum(x, 0))),
    inputs: () => positives,
  },
  { name: 'Frequency', make: () => new Frequency({ now: fakeClock() }), inputs: () => [32, 32, 16, 8] },
  {
    name: 'MetricGroup',
    make: () =>
      new MetricGroup({ r2: new R2Score(), median: new MedianAbsoluteError(), max: new MaximumAbsoluteError() }),
    inputs: () => regression,
  },
  { name: 'Bleu', make: () => new Bleu({ smooth: 'smooth1' }), inputs: () => text },
  { name: 'Bleu (micro)', make: () => new Bleu({ average: 'micro', smooth: 'nltk_smooth2' }), inputs: () => text },
  { name: 'Rouge', make: () => new Rouge({ variants: [1, 'L', 3] }), inputs: () => text },
];

/** Recursive closeness for numbers, arrays and plain objects (NaN equals NaN). */
function expectClose(actual: unknown, expected: unknown, digits = 5, path = 'value'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    if (Number.isNaN(expected)) expect(actual, path).toBeNaN();
    else expect(actual as number, path).toBeCloseTo(expected, digits);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), path).toBe(true);
    expect((actual as unknown[]).length, path).toBe(expected.length);
    for (const [i, e] of expected.entries()) expectClose((actual as unknown[])[i], e, digits, `${path}[${i}]`);
  } else {
    expect(Object.keys(actual as object), path).toEqual(Object.keys(expected as object));
    for (const [k, e] of Object.entries(expected as object)) expectClose((actual as any)[k], e, digits, `${path}.${k}`);
  }
}

/** The same state dict with its first number (depth first) replaced by NaN. */
function withNaN(value: unknown): unknown {
  let done = false;
  const walk = (v: unknown): unknown => {
    if (done) return v;
    if (typeof v === 'number') {
      done = true;
      return Number.NaN;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value);
}

const root = kindling as Record<string, unknown>;
const exported = [
  'R2Score',
  'PearsonCorrelation',
  'MedianAbsoluteError',
  'MaximumAbsoluteError',
  'MeanAbsoluteRelativeError',
  'CosineSimilarity',
  'KLDivergence',
  'JSDivergence',
  'PSNR',
  'SSIM',
  'Entropy',
  'GeometricAverage',
  'VariableAccumulation',
  'Frequency',
  'MetricGroup',
  'Bleu',
  'Rouge',
];

describe('regression, vision, general and text metrics', () => {
  it.each(exported)('%s is exported from the package root', (name) => {
    expect(typeof root[name]).toBe('function');
  });

  const usages: [string, MetricUsage][] = [
    ['EpochWise', EpochWise],
    ['BatchWise', BatchWise],
    ['RunningBatchWise', RunningBatchWise],
    ['RunningEpochWise', RunningEpochWise],
  ];

  for (const c of cases) {
    describe(c.name, () => {
      it('overrides metricName with its literal class name (a minifier renames classes)', () => {
        const metric = c.make();
        const className = c.name.split(' ')[0]!;
        expect(Object.hasOwn(Object.getPrototypeOf(metric), 'metricName')).toBe(true);
        expect((metric as unknown as { metricName: string }).metricName).toBe(className);
      });

      for (const [usageName, usage] of usages) {
        it(`no tensor leaks with ${usageName}: a 2-epoch run, detach, reset`, async () => {
          const metric = c.make();
          const engine = new Engine<unknown, unknown>((_e, batch) => batch);
          metric.attach(engine, 'm', usage);
          const before = tf.memory().numTensors;
          const state = await engine.run(c.inputs(), { maxEpochs: 2 });
          expect(state.metrics.m).toBeDefined();
          expect(tf.memory().numTensors).toBe(before);
          metric.detach(engine, usage);
          expect(metric.isAttached(engine, usage)).toBe(false);
          metric.reset();
          expect(tf.memory().numTensors).toBe(before);
        });
      }

      it('an update then reset frees what the update kept', () => {
        const metric = c.make();
        const before = tf.memory().numTensors;
        for (const input of c.inputs()) metric.update(input);
        metric.reset();
        expect(tf.memory().numTensors).toBe(before);
      });

      it('a mid-epoch state dict round-trips through JSON and gives the same value at the end', async () => {
        const inputs = c.inputs();
        const whole = c.make();
        for (const input of inputs) await whole.update(input);
        const expected = await whole.compute();

        const first = c.make();
        for (const input of inputs.slice(0, 2)) await first.update(input);
        const saved = JSON.parse(JSON.stringify(await first.stateDict()));
        const before = tf.memory().numTensors;
        const resumed = c.make();
        await resumed.loadStateDict(saved);
        for (const input of inputs.slice(2)) await resumed.update(input);
        if (c.name !== 'Frequency') expectClose(await resumed.compute(), expected); // Frequency: see the clock test
        // stateDict() does not change the value of the metric it was taken from
        for (const input of inputs.slice(2)) await first.update(input);
        if (c.name !== 'Frequency') expectClose(await first.compute(), expected);
        resumed.reset();
        first.reset();
        expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
      });

      it.skipIf(c.name === 'Frequency')(
        'stateDict() takes the state at the call: an update or a reset before it resolves does not change it',
        async () => {
          const inputs = c.inputs();
          const twin = c.make();
          for (const input of inputs.slice(0, 2)) await twin.update(input);
          const expected = JSON.parse(JSON.stringify(await twin.stateDict()));
          await expectCapturedAtCall(c.make, inputs, 2, expected);
        },
      );

      it('loadStateDict checks everything before changing anything, naming the class', async () => {
        const metric = c.make();
        for (const input of c.inputs().slice(0, 2)) await metric.update(input);
        const saved = JSON.parse(JSON.stringify(await metric.stateDict()));
        const value = await metric.compute();
        const where = c.name === 'MetricGroup' ? 'R2Score' : c.name.split(' ')[0]!;
        const unknownKey = { ...saved, bogus: 1 };
        await expect(async () => metric.loadStateDict(unknownKey)).rejects.toThrow(
          new RegExp(`^${c.name.split(' ')[0]}.loadStateDict: unknown state dict entry 'bogus'`),
        );
        await expect(async () => metric.loadStateDict(withNaN(saved))).rejects.toThrow(
          new RegExp(`^${where}.loadStateDict: state dict entry`),
        );
        await expect(async () => metric.loadStateDict(null)).rejects.toThrow(TypeError);
        expectClose(await metric.compute(), value, 12);
      });
    });
  }
});

describe('resuming a DeterministicEngine gives the epoch values of an uninterrupted run', () => {
  // 4 iterations per epoch over 8 batches, so consecutive epochs see different data. Saved at iteration 6, the middle
  // of epoch 2: the loaded state is kept at the resumed EPOCH_STARTED. Saved at iteration 4, the last iteration of
  // epoch 1 (before its EPOCH_COMPLETED): the resumed run completes epoch 1 with the loaded state, then epoch 2 starts
  // afresh.
  for (const savedAt of [6, 4]) {
    for (const c of cases.filter((x) => x.name !== 'Frequency')) {
      it(`${c.name}, saved at iteration ${savedAt}`, async () => {
        const [a, b, c2, d] = c.inputs();
        const data = [a, b, c2, d, d, a, b, a]; // epoch 2: its halves differ, and it differs from epoch 1
        const values: unknown[] = [];
        let saved: { engine: Record<string, unknown>; metric: unknown } | null = null;
        const first = new DeterministicEngine<unknown, unknown>((_e, batch) => batch);
        const metric = c.make();
        metric.attach(first, 'm');
        first.on('iteration_completed', async (engine) => {
          if (engine.state.iteration === savedAt) {
            saved = { engine: engine.stateDict(), metric: await metric.stateDict() };
          }
        });
        first.on('epoch_completed', (engine) => {
          values.push(engine.state.metrics.m);
        });
        await first.run(data, { maxEpochs: 3, epochLength: 4 });

        const state = JSON.parse(JSON.stringify(saved));
        const second = new DeterministicEngine<unknown, unknown>((_e, batch) => batch);
        const resumed = c.make();
        await resumed.loadStateDict(state.metric);
        second.loadStateDict(state.engine);
        resumed.attach(second, 'm');
        const resumedValues: unknown[] = [];
        second.on('epoch_completed', (engine) => {
          resumedValues.push(engine.state.metrics.m);
        });
        await second.run(data);
        const fromEpoch = savedAt === 4 ? 1 : 2;
        expect(resumedValues.length).toBe(4 - fromEpoch); // epochs 2 and 3 (and 1, saved before its end)
        resumedValues.forEach((value, i) => {
          expectClose(value, values[fromEpoch - 1 + i]); // the epochs after the resumed one start afresh
        });
      });
    }
  }

  it('Frequency: a resumed count goes on from the saved elapsed time, not counting the pause', async () => {
    let clock = 0;
    const frequency = new Frequency({ now: () => clock });
    frequency.reset();
    clock += 2000;
    frequency.update(100); // 100 items in 2 s
    const saved = JSON.parse(JSON.stringify(frequency.stateDict()));
    expect(saved).toEqual({ items: 100, elapsed: 2 });
    const resumed = new Frequency({ now: () => clock });
    resumed.loadStateDict(saved);
    clock += 60_000; // the tab was closed for a minute
    const engine = new Engine<number, number>((_e, n) => {
      clock += 1000;
      return n;
    });
    engine.loadStateDict({ iteration: 1, epochLength: 3, maxEpochs: 1 });
    resumed.attach(engine, 'fps');
    await engine.run([50, 50, 50]);
    expect(engine.state.metrics.fps).toBeCloseTo(200 / 4, 10); // 100 + 2 × 50 items in 2 + 2 s
  });
});

describe('MetricGroup.loadStateDict is all or nothing across its metrics', () => {
  it('a bad entry for the last metric restores the metrics loaded before it', async () => {
    const group = new MetricGroup({ r2: new R2Score(), max: new MaximumAbsoluteError() });
    const [a, b] = regression;
    group.update(a);
    const saved = await group.stateDict();
    group.update(b);
    const value = await group.compute();
    const bad = { metrics: { r2: saved.metrics.r2, max: { maximum: -1 } } };
    await expect(group.loadStateDict(bad)).rejects.toThrow(
      "MaximumAbsoluteError.loadStateDict: state dict entry 'maximum' should be a non-negative finite number or null, got -1.",
    );
    expect(await group.compute()).toEqual(value);
    await expect(group.loadStateDict({ metrics: { r2: saved.metrics.r2 } })).rejects.toThrow(
      /MetricGroup.loadStateDict: required state dict entry 'max' is absent/,
    );
  });
});
