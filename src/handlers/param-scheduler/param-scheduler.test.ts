import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../../engine';
import {
  ConcatScheduler,
  CosineAnnealingScheduler,
  createLrSchedulerWithWarmup,
  LinearCyclicalScheduler,
  type ParamScheduler,
  PiecewiseLinear,
  ReduceLROnPlateauScheduler,
  type SimulatedValue,
} from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const cosineAt = (start: number, end: number, progress: number) =>
  start + ((end - start) / 2) * (1 - Math.cos(Math.PI * progress));

/** Asserts `[[0, v0], [1, v1], ...]` against the expected values, to 12 decimals. */
function expectValues(simulated: SimulatedValue[], expected: number[]): void {
  expect(simulated.map(([i]) => i)).toEqual(expected.map((_, i) => i));
  expect(simulated).toHaveLength(expected.length);
  simulated.forEach(([, v], i) => {
    expect(v, `event ${i}`).toBeCloseTo(expected[i], 12);
  });
}

/** The learning rate the optimizer holds while the process function runs, for each iteration of a run. */
async function ratesDuringRun(optimizer: tf.Optimizer, scheduler: ParamScheduler, iterations: number) {
  const seen: number[] = [];
  const trainer = new Engine(() => {
    seen.push((optimizer as any).learningRate);
  });
  trainer.on(Events.ITERATION_STARTED, scheduler);
  await trainer.run(new Array(iterations).fill(0), { maxEpochs: 1 });
  return seen;
}

describe('LinearCyclicalScheduler', () => {
  it('goes start -> end -> start over a cycle', () => {
    const values = LinearCyclicalScheduler.simulateValues(9, { startValue: 0, endValue: 1, cycleSize: 4 });
    expectValues(values, [0, 0.5, 1, 0.5, 0, 0.5, 1, 0.5, 0]);
  });

  it('grows cycles with cycleMult and scales values with endValueMult', () => {
    const options = { startValue: 0, endValue: 1, cycleSize: 2, cycleMult: 2, endValueMult: 0.5 };
    // cycle 0: size 2, end 1; cycle 1: size 4, end 0.5; cycle 2: size 8, end 0.25
    expectValues(LinearCyclicalScheduler.simulateValues(8, options), [0, 1, 0, 0.25, 0.5, 0.25, 0, 0.0625]);
  });

  it('monotonic with a warm-up back to the start value', () => {
    const options = { startValue: 1, endValue: 0, cycleSize: 4, monotonic: true, warmupDuration: 2 };
    expectValues(LinearCyclicalScheduler.simulateValues(8, options), [1, 0.75, 0.5, 0.25, 0, 0.5, 1, 0.75]);
    expect(() => new LinearCyclicalScheduler(tf.train.adam(0.1), { ...options, monotonic: false })).toThrow(
      /warmupDuration > 0 and monotonic/,
    );
  });

  it('startValueMult scales the start value after each cycle', () => {
    const options = { startValue: 1, endValue: 0, cycleSize: 2, startValueMult: 0.5 };
    // event 2 ends cycle 0: start becomes 0.5
    expectValues(LinearCyclicalScheduler.simulateValues(6, options), [1, 0, 0.5, 0, 0.25, 0]);
  });

  it('validates cycleSize and the optimizer', () => {
    const adam = tf.train.adam(0.1);
    expect(() => new LinearCyclicalScheduler(adam, { startValue: 0, endValue: 1, cycleSize: 1 })).toThrow(
      /cycleSize should be positive and larger than 1/,
    );
    expect(() => new LinearCyclicalScheduler({} as any, { startValue: 0, endValue: 1, cycleSize: 4 })).toThrow(
      /numeric property 'learningRate'/,
    );
    expect(() => LinearCyclicalScheduler.simulateValues(-1, { startValue: 0, endValue: 1, cycleSize: 4 })).toThrow(
      /numEvents/,
    );
  });
});

describe('CosineAnnealingScheduler', () => {
  it('follows half a cosine from start to end each cycle', () => {
    const values = CosineAnnealingScheduler.simulateValues(6, { startValue: 0, endValue: 1, cycleSize: 4 });
    const q = cosineAt(0, 1, 0.25); // 0.14644...
    expectValues(values, [0, q, 0.5, 1 - q, 0, q]);
    expect(values[1][1]).toBeCloseTo(0.1464466, 6);
  });
});

describe('PiecewiseLinear', () => {
  it('interpolates between milestones and holds the ends', () => {
    const values = PiecewiseLinear.simulateValues(7, {
      milestonesValues: [
        [1, 1.0],
        [3, 0.8],
        [5, 0.2],
      ],
    });
    expectValues(values, [1, 1, 0.9, 0.8, 0.5, 0.2, 0.2]);
  });

  it('jumps at a repeated milestone', () => {
    const values = PiecewiseLinear.simulateValues(5, {
      milestonesValues: [
        [0, 1],
        [2, 0.5],
        [2, 0.2],
        [4, 0],
      ],
    });
    expectValues(values, [1, 0.75, 0.2, 0.1, 0]);
  });

  it('validates milestones', () => {
    const sgd = tf.train.sgd(0.1);
    expect(() => new PiecewiseLinear(sgd, { milestonesValues: [] })).toThrow(/at least one value/);
    expect(
      () =>
        new PiecewiseLinear(sgd, {
          milestonesValues: [
            [3, 1],
            [1, 0],
          ],
        }),
    ).toThrow(/milestones should be increasing integers/);
    expect(() => new PiecewiseLinear(sgd, { milestonesValues: [[1.5, 1]] })).toThrow(/should be an integer/);
    expect(() => new PiecewiseLinear(sgd, { milestonesValues: [[1, 1, 2]] as any })).toThrow(/pairs/);
    sgd.dispose();
  });
});

describe('ConcatScheduler', () => {
  it('runs the first scheduler for its duration, then the next', () => {
    const optimizer = tf.train.adam(0.5);
    const first = new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 8 });
    const second = new CosineAnnealingScheduler(optimizer, { startValue: 1, endValue: 0.2, cycleSize: 4 });
    const options = { schedulers: [first, second], durations: [4] };
    const values = ConcatScheduler.simulateValues(9, options);
    const c = (p: number) => cosineAt(1, 0.2, p);
    const expected = [0, 0.25, 0.5, 0.75, 1, c(0.25), c(0.5), c(0.75), 1];
    expectValues(values, expected);
    // the simulation left the schedulers and the optimizer as they were
    expect(first.eventIndex).toBe(0);
    expect(second.eventIndex).toBe(0);
    expect((optimizer as any).learningRate).toBe(0.5);
    const concat = new ConcatScheduler(options);
    expectValues(
      expected.map((_, i) => {
        concat.handle(null);
        return [i, (optimizer as any).learningRate];
      }),
      expected,
    );
  });

  it('validates its schedulers and durations', () => {
    const a = tf.train.adam(0.1);
    const b = tf.train.adam(0.1);
    const s1 = new LinearCyclicalScheduler(a, { startValue: 0, endValue: 1, cycleSize: 4 });
    const s2 = new LinearCyclicalScheduler(a, { startValue: 0, endValue: 1, cycleSize: 4 });
    const other = new LinearCyclicalScheduler(b, { startValue: 0, endValue: 1, cycleSize: 4 });
    expect(() => new ConcatScheduler({ schedulers: [s1], durations: [] })).toThrow(/more than one/);
    expect(() => new ConcatScheduler({ schedulers: [s1, s2], durations: [1, 2] })).toThrow(/incorrect number/);
    expect(() => new ConcatScheduler({ schedulers: [s1, s2], durations: [1.5] })).toThrow(/integers/);
    expect(() => new ConcatScheduler({ schedulers: [s1, other], durations: [2] })).toThrow(/same optimizer/);
    expect(() => new ConcatScheduler({ schedulers: [s1, {} as any], durations: [2] })).toThrow(/index 1/);
  });
});

describe('createLrSchedulerWithWarmup', () => {
  it('warms up to the optimizer value without repeating the first value of the scheduler', () => {
    const optimizer = tf.train.adam(0.1);
    const cosine = new CosineAnnealingScheduler(optimizer, { startValue: 0.1, endValue: 0, cycleSize: 4 });
    const simulated: unknown[] = new Array(7);
    const scheduler = createLrSchedulerWithWarmup(cosine, {
      warmupStartValue: 0,
      warmupDuration: 3,
      outputSimulatedValues: simulated,
    });
    const c = (p: number) => cosineAt(0.1, 0, p);
    // warm-up 0, 0.05, then the cosine from its start 0.1: the end value 0.1 appears once
    const expected = [0, 0.05, 0.1, c(0.25), c(0.5), c(0.75), 0.1];
    expectValues(simulated as SimulatedValue[], expected);
    const actual = expected.map((_, i): SimulatedValue => {
      scheduler.handle(null);
      return [i, (optimizer as any).learningRate];
    });
    expectValues(actual, expected);
  });

  it('warms up to warmupEndValue then hands over', () => {
    const optimizer = tf.train.adam(0.01);
    const piecewise = new PiecewiseLinear(optimizer, {
      milestonesValues: [
        [0, 0.5],
        [2, 0.1],
      ],
    });
    const scheduler = createLrSchedulerWithWarmup(piecewise, {
      warmupStartValue: 0,
      warmupEndValue: 1,
      warmupDuration: 3,
    });
    const seen = Array.from({ length: 7 }, (_, i): SimulatedValue => {
      scheduler.handle(null);
      return [i, (optimizer as any).learningRate];
    });
    expectValues(seen, [0, 0.5, 1, 0.5, 0.3, 0.1, 0.1]);
  });

  it('with a duration of 2 and equal values, the warm-up is one event', () => {
    const optimizer = tf.train.adam(0.2);
    const linear = new LinearCyclicalScheduler(optimizer, { startValue: 0.2, endValue: 0, cycleSize: 4 });
    const simulated: unknown[] = new Array(4);
    createLrSchedulerWithWarmup(linear, {
      warmupStartValue: 0.05,
      warmupDuration: 2,
      outputSimulatedValues: simulated,
    });
    expectValues(simulated as SimulatedValue[], [0.05, 0.2, 0.1, 0]);
  });

  it('validates the warm-up duration and the scheduler', () => {
    const optimizer = tf.train.adam(0.2);
    const linear = new LinearCyclicalScheduler(optimizer, { startValue: 0.2, endValue: 0, cycleSize: 4 });
    expect(() => createLrSchedulerWithWarmup(linear, { warmupStartValue: 0, warmupDuration: 1 })).toThrow(
      /at least 2 events/,
    );
    expect(() => createLrSchedulerWithWarmup(linear, { warmupStartValue: 0, warmupDuration: 2.5 })).toThrow(
      /should be integer/,
    );
    expect(() => createLrSchedulerWithWarmup({} as any, { warmupStartValue: 0, warmupDuration: 3 })).toThrow(
      /lrScheduler should be a parameter scheduler/,
    );
  });
});

describe('ReduceLROnPlateauScheduler', () => {
  it('reduces after more than patience calls without improvement (the reference example)', () => {
    const values = ReduceLROnPlateauScheduler.simulateValues(8, {
      metricValues: [10, 5, 3, 4, 4, 4, 5, 1],
      initLr: 0.1,
      mode: 'min',
      factor: 0.5,
      patience: 3,
      thresholdMode: 'rel',
      threshold: 0.1,
    });
    expectValues(values, [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]);
  });

  it('respects cooldown and minLr', () => {
    const options = { mode: 'max' as const, factor: 0.5, patience: 0, cooldown: 1, thresholdMode: 'abs' as const };
    const metricValues = [1, 1, 1, 1, 1, 1];
    const plain = ReduceLROnPlateauScheduler.simulateValues(6, { ...options, metricValues, initLr: 1, threshold: 0 });
    expectValues(plain, [1, 0.5, 0.5, 0.25, 0.25, 0.125]);
    const floored = ReduceLROnPlateauScheduler.simulateValues(6, {
      ...options,
      metricValues,
      initLr: 1,
      threshold: 0,
      minLr: 0.3,
    });
    expectValues(floored, [1, 0.5, 0.5, 0.3, 0.3, 0.3]);
  });

  it('reads the metric from an evaluator and records history on the trainer', async () => {
    const optimizer = tf.train.sgd(0.1);
    const trainer = new Engine(() => null);
    const evaluator = new Engine(() => null);
    const losses = [1, 0.9, 0.95, 0.95, 0.97, 0.5];
    evaluator.on(Events.COMPLETED, (e) => {
      e.state.metrics.loss = losses[trainer.state.epoch - 1];
    });
    const plateau = new ReduceLROnPlateauScheduler(optimizer, {
      metricName: 'loss',
      factor: 0.5,
      patience: 1,
      trainer,
      saveHistory: true,
    });
    evaluator.on(Events.COMPLETED, plateau);
    trainer.on(Events.EPOCH_COMPLETED, () => evaluator.run([0]));
    const before = tf.memory().numTensors;
    await trainer.run([0, 0], { maxEpochs: 6 });
    // bad epochs: 0.95 (1), 0.95 (2 > 1: reduce to 0.05), 0.97 (1), 0.5 improves
    expect(trainer.state.paramHistory.learningRate).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05]);
    expect((optimizer as any).learningRate).toBe(0.05);
    expect(tf.memory().numTensors).toBe(before);
    const missing = new ReduceLROnPlateauScheduler(optimizer, { metricName: 'acc' });
    expect(() => missing.handle(evaluator)).toThrow(/should have in its state.metrics the metric 'acc'/);
    optimizer.dispose();
  });

  it('state dict survives JSON (best is null before the first call)', () => {
    const a = new ReduceLROnPlateauScheduler({ learningRate: 1 }, { metricName: 'm', patience: 1, factor: 0.5 });
    expect(JSON.parse(JSON.stringify(a.stateDict())).best).toBeNull();
    const engine = new Engine(() => null);
    for (const m of [3, 2, 2]) {
      engine.state.metrics.m = m;
      a.handle(engine);
    }
    const target = { learningRate: 1 };
    const b = new ReduceLROnPlateauScheduler(target, { metricName: 'm', patience: 1, factor: 0.5 });
    b.loadStateDict(JSON.parse(JSON.stringify(a.stateDict())));
    expect(b.best).toBe(2);
    expect(b.numBadEpochs).toBe(1);
    engine.state.metrics.m = 2;
    b.handle(engine);
    expect(target.learningRate).toBe(0.5);
  });
});

describe('schedulers on tfjs optimizers', () => {
  it('change the SGD step during a run (setLearningRate), without leaking tensors', async () => {
    const optimizer = tf.train.sgd(0.1);
    const w = tf.variable(tf.scalar(0));
    const scheduler = new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 4 });
    const trainer = new Engine(() => {
      optimizer.minimize(() => w.mul(1).asScalar()); // gradient 1: w -= lr
    });
    trainer.on(Events.ITERATION_STARTED, scheduler);
    const before = tf.memory().numTensors;
    await trainer.run([0, 0], { maxEpochs: 3 });
    // rates 0, 0.5, 1, 0.5, 0, 0.5 -> w = -2.5
    expect(await w.data()).toEqual(new Float32Array([-2.5]));
    expect((optimizer as any).learningRate).toBe(0.5);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    optimizer.dispose();
  });

  it('Adam reads learningRate at every step; paramHistory records the values', async () => {
    const optimizer = tf.train.adam(0.001);
    const scheduler = new CosineAnnealingScheduler(optimizer, {
      startValue: 0.1,
      endValue: 0.0,
      cycleSize: 4,
      saveHistory: true,
    });
    const seen: number[] = [];
    const trainer = new Engine(() => {
      seen.push((optimizer as any).learningRate);
    });
    scheduler.attach(trainer);
    await trainer.run([0, 0, 0, 0, 0], { maxEpochs: 1 });
    const expected = [0.1, cosineAt(0.1, 0, 0.25), 0.05, cosineAt(0.1, 0, 0.75), 0.1];
    seen.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 12);
    });
    expect(trainer.state.paramHistory.learningRate).toEqual(seen);
  });

  it('a scheduler on another parameter name sets that property', async () => {
    // (tfjs's Momentum optimizer caches momentum in a tensor, so a plain object stands in for a custom optimizer)
    const target = { learningRate: 0.1, weightDecay: 0 };
    const scheduler = new PiecewiseLinear(target, {
      paramName: 'weightDecay',
      milestonesValues: [
        [0, 0.5],
        [2, 0.9],
      ],
    });
    const seen: number[] = [];
    const trainer = new Engine(() => {
      seen.push(target.weightDecay);
    });
    trainer.on(Events.ITERATION_STARTED, scheduler);
    await trainer.run([0, 0, 0], { maxEpochs: 1 });
    expect(seen.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0.5, 0.7, 0.9]);
    expect(target.learningRate).toBe(0.1);
  });

  it('state dicts survive JSON and continue the same sequence', async () => {
    const make = (optimizer: tf.Optimizer) => {
      const warm = new PiecewiseLinear(optimizer, {
        milestonesValues: [
          [0, 0],
          [3, 1],
        ],
      });
      const cyc = new LinearCyclicalScheduler(optimizer, {
        startValue: 1,
        endValue: 0.1,
        cycleSize: 2,
        cycleMult: 2,
        startValueMult: 0.9,
      });
      return new ConcatScheduler({ schedulers: [warm, cyc], durations: [4] });
    };
    const a = tf.train.adam(0.3);
    const b = tf.train.adam(0.3);
    const first = make(a);
    const rates = await ratesDuringRun(a, first, 9);
    const second = make(b);
    second.loadStateDict(JSON.parse(JSON.stringify(first.stateDict())));
    const nextA: number[] = [];
    const nextB: number[] = [];
    for (let i = 0; i < 8; i++) {
      first.handle(null);
      second.handle(null);
      nextA.push((a as any).learningRate);
      nextB.push((b as any).learningRate);
    }
    expect(rates.slice(0, 5).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 0.333333333, 0.666666667, 1, 1]);
    expect(nextB).toEqual(nextA);
    expect(() => second.loadStateDict({ schedulers: [] } as any)).toThrow(/absent|needed/);
  });
});

describe('loadStateDict checks values, not only keys', () => {
  const cosine = (optimizer: object) =>
    new CosineAnnealingScheduler(optimizer, { startValue: 1, endValue: 0, cycleSize: 4 });

  it('rejects broken entries of every kind, naming the scheduler, the entry and the value, and changes nothing', () => {
    const scheduler = cosine({ learningRate: 0.1 });
    scheduler.handle(null);
    const good = scheduler.stateDict();
    const bad: [Record<string, unknown>, RegExp][] = [
      [
        { ...good, eventIndex: Number.NaN },
        /^CosineAnnealingScheduler\.loadStateDict: state dict entry 'eventIndex' should be a non-negative integer, got NaN/,
      ],
      [{ ...good, eventIndex: 5 }, /'eventIndex' should be an integer in \[0, 4\], got 5\. A cycle restarts at 0/],
      [{ ...good, startValue: Number.POSITIVE_INFINITY }, /'startValue' should be a finite number, got Infinity/],
      [{ ...good, cycleMult: 0.5 }, /'cycleMult' should be a finite number >= 1, got 0\.5/],
      [{ ...good, totalCycleSize: 7 }, /'totalCycleSize' should be cycleSize \+ warmupDuration = 4 \+ 0 = 4, got 7/],
      [
        { ...good, paramName: 'lr' },
        /the optimizer should have a numeric property 'lr' \(state dict entry 'paramName'\), got undefined/,
      ],
      [{ ...good, saveHistory: 1 }, /'saveHistory' should be a boolean, got 1/],
      [{ ...good, cycleMultiplier: 2 }, /unknown state dict entry 'cycleMultiplier'/],
    ];
    for (const [sd, message] of bad) {
      expect(() => scheduler.loadStateDict(sd)).toThrow(message);
      expect(scheduler.stateDict()).toEqual(good);
    }
  });

  it('ConcatScheduler loads all its schedulers or none', () => {
    const optimizer = { learningRate: 0.1 };
    const make = () => new ConcatScheduler({ schedulers: [cosine(optimizer), cosine(optimizer)], durations: [3] });
    const source = make();
    for (let i = 0; i < 5; i++) source.handle(null);
    const saved = source.stateDict() as Record<string, any>;
    const target = make();
    const before = target.stateDict();
    const broken = structuredClone(saved);
    broken.schedulers[1].eventIndex = Number.NaN;
    expect(() => target.loadStateDict(broken)).toThrow(
      /^ConcatScheduler\.loadStateDict: state dict entry 'schedulers' at 1 was rejected: CosineAnnealingScheduler\.loadStateDict: state dict entry 'eventIndex'/,
    );
    expect(target.stateDict()).toEqual(before); // the first scheduler was not loaded either
    expect(() => target.loadStateDict({ ...saved, currentDuration: 99 })).toThrow(/'currentDuration' should be -1/);
    expect(() => target.loadStateDict({ ...saved, schedulerIndex: 2 })).toThrow(
      /'schedulerIndex' should be an integer in \[0, 1\], got 2/,
    );
    target.loadStateDict(saved);
    expect(target.stateDict()).toEqual(saved);
  });

  it('PiecewiseLinear wants as many non-decreasing milestones as finite values', () => {
    const scheduler = new PiecewiseLinear(
      { learningRate: 1 },
      {
        milestonesValues: [
          [0, 1],
          [4, 0],
        ],
      },
    );
    const good = scheduler.stateDict();
    expect(() => scheduler.loadStateDict({ ...good, milestones: [4, 0] })).toThrow(
      /'milestones' at 1 should be an integer >= the previous milestone 4, got 0/,
    );
    expect(() => scheduler.loadStateDict({ ...good, values: [1, Number.NaN] })).toThrow(
      /'values' at 1 should be a finite number, got NaN/,
    );
    expect(() => scheduler.loadStateDict({ ...good, milestones: [0, 2, 4] })).toThrow(
      /'values' should be an array of 3 values/,
    );
    expect(scheduler.stateDict()).toEqual(good);
  });

  it('ReduceLROnPlateauScheduler checks metricName against its own instead of ignoring it, and bounds its counters', () => {
    const optimizer = { learningRate: 0.1 };
    const plateau = new ReduceLROnPlateauScheduler(optimizer, { metricName: 'loss', patience: 2, cooldown: 1 });
    const good = plateau.stateDict();
    expect(() => plateau.loadStateDict({ ...good, metricName: 'accuracy' })).toThrow(
      "ReduceLROnPlateauScheduler.loadStateDict: state dict entry 'metricName' should be 'loss', the metric this scheduler watches, got 'accuracy'.",
    );
    expect(() => plateau.loadStateDict({ ...good, numBadEpochs: 3 })).toThrow(
      /'numBadEpochs' should be an integer in \[0, 2\], got 3/,
    );
    expect(() => plateau.loadStateDict({ ...good, cooldownCounter: 2 })).toThrow(
      /'cooldownCounter' should be an integer in \[0, 1\], got 2/,
    );
    expect(() => plateau.loadStateDict({ ...good, best: Number.NaN })).toThrow(
      /'best' should be a finite number or null, got NaN/,
    );
    expect(() => plateau.loadStateDict({ ...good, value: Number.NaN })).toThrow(
      /'value' should be a finite number, got NaN/,
    );
    expect(optimizer.learningRate).toBe(0.1);
    plateau.loadStateDict({ ...good, numBadEpochs: 2, value: 0.05 });
    expect([plateau.numBadEpochs, optimizer.learningRate]).toEqual([2, 0.05]);
  });

  it('a cyclical scheduler whose cycles would shrink (cycleMult < 1) is refused at construction', () => {
    expect(
      () =>
        new CosineAnnealingScheduler({ learningRate: 1 }, { startValue: 1, endValue: 0, cycleSize: 4, cycleMult: 0.5 }),
    ).toThrow(
      /cycleMult should be a finite number >= 1, got 0\.5\. A factor below 1 would shrink the cycles to zero events/,
    );
  });
});
