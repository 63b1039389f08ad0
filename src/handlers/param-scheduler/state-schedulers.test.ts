import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../../engine';
import * as kindling from '../../index';
import {
  ExpStateScheduler,
  LambdaStateScheduler,
  MultiStepStateScheduler,
  PiecewiseLinearStateScheduler,
  type SimulatedValue,
  type StateParamScheduler,
  StepStateScheduler,
} from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The value of `state.param` seen by a handler after the scheduler, at each EPOCH_COMPLETED of a run of `epochs`. */
async function valuesPerEpoch(scheduler: StateParamScheduler, epochs: number): Promise<number[]> {
  const trainer = new Engine(() => 0);
  scheduler.attach(trainer, Events.EPOCH_COMPLETED);
  const seen: number[] = [];
  trainer.on(Events.EPOCH_COMPLETED, (e) => {
    seen.push(e.state.param);
  });
  await trainer.run([0], { maxEpochs: epochs });
  return seen;
}

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => {
    expect(value, `event ${i + 1}`).toBeCloseTo(expected[i]!, 12);
  });
}

const valuesOf = (simulated: SimulatedValue[]) => simulated.map(([, value]) => value);

// Each expected list is Ignite's docstring output for the same scheduler (state_param_scheduler.py), computed by hand
// from its formula with the event count n = 1, 2, ... (the count is advanced before the value is computed).
describe("state schedulers follow Ignite's formulas (hand computations)", () => {
  it('LambdaStateScheduler: lambdaFn(n)', async () => {
    const lambdaFn = (n: number) => 1 * 0.9 ** (n % 9);
    const expected = [0.9, 0.81, 0.729, 0.6561, 0.59049, 0.531441, 0.4782969, 0.43046721, 1.0, 0.9];
    const scheduler = new LambdaStateScheduler(lambdaFn, { paramName: 'param', createNew: true });
    expectClose(await valuesPerEpoch(scheduler, 10), expected);
    expectClose(valuesOf(LambdaStateScheduler.simulateValues(10, lambdaFn, { paramName: 'param' })), expected);
  });

  it('PiecewiseLinearStateScheduler: interpolation between [n, value] milestones', async () => {
    const options = {
      paramName: 'param',
      milestonesValues: [
        [5, 1.0],
        [10, 0.8],
        [15, 0.6],
      ] as [number, number][],
    };
    const expected = [1, 1, 1, 1, 1, 0.96, 0.92, 0.88, 0.84, 0.8, 0.76, 0.72, 0.68, 0.64, 0.6, 0.6];
    expectClose(await valuesPerEpoch(new PiecewiseLinearStateScheduler({ ...options, createNew: true }), 16), expected);
    expectClose(valuesOf(PiecewiseLinearStateScheduler.simulateValues(16, options)), expected);
    // a repeated milestone is a step
    const step = {
      paramName: 'p',
      milestonesValues: [
        [1, 0],
        [2, 1],
        [2, 5],
        [3, 6],
      ] as [number, number][],
    };
    expectClose(valuesOf(PiecewiseLinearStateScheduler.simulateValues(4, step)), [0, 5, 6, 6]);
  });

  it('ExpStateScheduler: initialValue * gamma ** n', async () => {
    const scheduler = new ExpStateScheduler({ paramName: 'param', initialValue: 1, gamma: 0.9, createNew: true });
    expectClose(await valuesPerEpoch(scheduler, 4), [0.9, 0.81, 0.729, 0.6561]);
    const simulated = ExpStateScheduler.simulateValues(3, { paramName: 'p', initialValue: 2, gamma: 0.5 });
    expect(simulated).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 0.25],
    ]);
  });

  it('StepStateScheduler: initialValue * gamma ** floor(n / stepSize)', async () => {
    const options = { paramName: 'param', initialValue: 1, gamma: 0.9, stepSize: 5 };
    const values = await valuesPerEpoch(new StepStateScheduler({ ...options, createNew: true }), 25);
    const expected = Array.from({ length: 25 }, (_, i) => 0.9 ** Math.floor((i + 1) / 5));
    expectClose(values, expected);
    // Ignite prints it every 5 epochs: 0.9, 0.81, 0.729, 0.6561, 0.59049
    expectClose(
      [4, 9, 14, 19, 24].map((i) => values[i]!),
      [0.9, 0.81, 0.729, 0.6561, 0.59049],
    );
    expectClose(valuesOf(StepStateScheduler.simulateValues(25, options)), expected);
  });

  it('MultiStepStateScheduler: initialValue * gamma ** (milestones reached)', async () => {
    const options = { paramName: 'param', initialValue: 1, gamma: 0.9, milestones: [3, 6, 9, 12] };
    const expected = [1, 1, 0.9, 0.9, 0.9, 0.81, 0.81, 0.81, 0.729, 0.729, 0.729, 0.6561];
    expectClose(await valuesPerEpoch(new MultiStepStateScheduler({ ...options, createNew: true }), 12), expected);
    expectClose(valuesOf(MultiStepStateScheduler.simulateValues(12, options)), expected);
  });
});

describe('attaching a state scheduler', () => {
  it('sets the attribute at every ITERATION_COMPLETED by default and comes off with remove()', async () => {
    const seen: unknown[] = [];
    const trainer = new Engine((e) => {
      seen.push(e.state.beta);
    });
    const scheduler = new ExpStateScheduler({ paramName: 'beta', initialValue: 1, gamma: 0.5, createNew: true });
    expect(scheduler.attach(trainer)).toBe(scheduler);
    expect(trainer.state.beta).toBeNull();
    await trainer.run([0, 0, 0], { maxEpochs: 1 });
    expect(seen).toEqual([null, 0.5, 0.25]); // the process function sees the value set after the previous iteration
    expect(trainer.state.beta).toBe(0.125);
    expect(scheduler.eventIndex).toBe(3);
    scheduler.remove();
    await trainer.run([0, 0], { maxEpochs: 1 });
    expect(trainer.state.beta).toBe(0.125);
    expect(scheduler.eventIndex).toBe(3);
  });

  it('createNew: creates the attribute, refuses one already there; without it, takes over an existing one', () => {
    const trainer = new Engine(() => 0);
    const options = { paramName: 'alpha', initialValue: 1, gamma: 0.5 };
    expect(() => new ExpStateScheduler(options).attach(trainer)).toThrow(
      "ExpStateScheduler.attach: engine.state has no attribute 'alpha' to schedule. Pass createNew: true to create it, or set engine.state.alpha before attaching.",
    );
    const first = new ExpStateScheduler({ ...options, createNew: true }).attach(trainer);
    expect(() => new ExpStateScheduler({ ...options, createNew: true }).attach(trainer)).toThrow(
      "ExpStateScheduler.attach: engine.state already has an attribute 'alpha' (null), and createNew is true: two handlers would set it. Choose another paramName, or pass createNew: false to take it over.",
    );
    // the scheduler that created it may attach there again
    first.remove();
    expect(() => first.attach(trainer)).not.toThrow();
    trainer.state.gammaWeight = 3;
    const takeOver = new ExpStateScheduler({ ...options, paramName: 'gammaWeight' }).attach(trainer);
    expect(trainer.state.gammaWeight).toBe(3);
    takeOver.handle(trainer);
    expect(trainer.state.gammaWeight).toBe(0.5);
  });

  it('saveHistory records each value in state.paramHistory', async () => {
    const trainer = new Engine(() => 0);
    const scheduler = new StepStateScheduler({
      paramName: 'w',
      initialValue: 8,
      gamma: 0.5,
      stepSize: 2,
      saveHistory: true,
      createNew: true,
    });
    scheduler.attach(trainer);
    expect(trainer.state.paramHistory).toEqual({ w: [] });
    await trainer.run([0, 0, 0, 0, 0], { maxEpochs: 1 });
    expect(trainer.state.paramHistory).toEqual({ w: [8, 4, 4, 2, 2] });
  });

  it('leaves no tensor behind in a run that computes with tensors', async () => {
    const weight = tf.variable(tf.ones([4]));
    const trainer = new Engine((e) => {
      tf.tidy(() => {
        weight.assign(tf.mul(weight, e.state.alpha ?? 1));
      });
    });
    const schedulers = [
      new ExpStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.99, createNew: true }),
      new LambdaStateScheduler((n) => n, { paramName: 'n', createNew: true, saveHistory: true }),
      new PiecewiseLinearStateScheduler({
        paramName: 'p',
        milestonesValues: [
          [0, 0],
          [10, 1],
        ],
        createNew: true,
      }),
      new StepStateScheduler({ paramName: 's', initialValue: 1, gamma: 0.5, stepSize: 3, createNew: true }),
      new MultiStepStateScheduler({ paramName: 'm', initialValue: 1, gamma: 0.5, milestones: [2], createNew: true }),
    ];
    for (const scheduler of schedulers) scheduler.attach(trainer);
    const before = tf.memory().numTensors;
    await trainer.run(new Array(20).fill(0), { maxEpochs: 2 });
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.state.n).toBe(40);
    weight.dispose();
  });
});

describe('options are checked', () => {
  it.each<[string, () => unknown]>([
    [
      "ExpStateScheduler: argument paramName should be a non-empty string, got undefined. Name the engine.state attribute to schedule, e.g. paramName: 'alpha'.",
      () => new ExpStateScheduler({ initialValue: 1, gamma: 1 } as never),
    ],
    [
      "StepStateScheduler: argument paramName should be an engine.state attribute of your own, got 'iteration'. The engine owns 'iteration'; pick another name, e.g. 'iterationScheduled'.",
      () => new StepStateScheduler({ paramName: 'iteration', initialValue: 1, gamma: 1, stepSize: 1 }),
    ],
    [
      "ExpStateScheduler: unknown option 'initial_value'. Did you mean 'initialValue'?",
      () => new ExpStateScheduler({ paramName: 'a', initial_value: 1, gamma: 1 } as never),
    ],
    [
      'ExpStateScheduler: argument gamma should be a finite number, got NaN.',
      () => new ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: Number.NaN }),
    ],
    [
      'StepStateScheduler: argument stepSize should be a positive integer, got 0.',
      () => new StepStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1, stepSize: 0 }),
    ],
    [
      'MultiStepStateScheduler: argument milestones should be increasing integers, got [3,3]. 3 comes after 3.',
      () => new MultiStepStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1, milestones: [3, 3] }),
    ],
    [
      'MultiStepStateScheduler: argument milestones [1] should be a safe integer, got 2.5.',
      () => new MultiStepStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1, milestones: [1, 2.5] }),
    ],
    [
      'PiecewiseLinearStateScheduler: argument milestonesValues should be an array with at least one pair, got [].',
      () => new PiecewiseLinearStateScheduler({ paramName: 'a', milestonesValues: [] }),
    ],
    [
      'PiecewiseLinearStateScheduler: milestones of argument milestonesValues should be non-decreasing integers, got [5,2]. 2 comes after 5.',
      () =>
        new PiecewiseLinearStateScheduler({
          paramName: 'a',
          milestonesValues: [
            [5, 1],
            [2, 0],
          ],
        }),
    ],
    [
      'LambdaStateScheduler: argument lambdaFn should be a function (eventIndex) => number, got 3.',
      () => new LambdaStateScheduler(3 as never, { paramName: 'a' }),
    ],
    [
      'ExpStateScheduler: argument createNew should be a boolean, got 1.',
      () => new ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1, createNew: 1 as never }),
    ],
    [
      'ExpStateScheduler.simulateValues: argument numEvents should be a non-negative integer, got -1.',
      () => ExpStateScheduler.simulateValues(-1, { paramName: 'a', initialValue: 1, gamma: 1 }),
    ],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  it('a lambdaFn that returns no number throws, and the event is not counted', () => {
    const scheduler = new LambdaStateScheduler((n) => (n > 1 ? ('x' as never) : 1), { paramName: 'a' });
    scheduler.handle(null);
    expect(() => scheduler.handle(null)).toThrow(
      "LambdaStateScheduler: lambdaFn should return a number, got 'x' for event 2.",
    );
    expect(scheduler.eventIndex).toBe(1);
  });
});

describe('state dicts', () => {
  const makers: Array<[string, () => StateParamScheduler]> = [
    ['LambdaStateScheduler', () => new LambdaStateScheduler((n) => Math.sin(n), { paramName: 'a', createNew: true })],
    [
      'PiecewiseLinearStateScheduler',
      () =>
        new PiecewiseLinearStateScheduler({
          paramName: 'a',
          milestonesValues: [
            [2, 1],
            [9, -1],
            [12, 4],
          ],
          createNew: true,
        }),
    ],
    [
      'ExpStateScheduler',
      () => new ExpStateScheduler({ paramName: 'a', initialValue: 3, gamma: 0.8, createNew: true }),
    ],
    [
      'StepStateScheduler',
      () => new StepStateScheduler({ paramName: 'a', initialValue: 3, gamma: 0.8, stepSize: 3, createNew: true }),
    ],
    [
      'MultiStepStateScheduler',
      () =>
        new MultiStepStateScheduler({
          paramName: 'a',
          initialValue: 3,
          gamma: 0.8,
          milestones: [2, 5, 11],
          createNew: true,
        }),
    ],
  ];

  it.each(makers)('%s resumes from a JSON round trip of its state dict exactly where it was', async (_, make) => {
    const iterations = new Array(15).fill(0);
    const uninterrupted = new Engine(() => 0);
    const seenUninterrupted: number[] = [];
    make().attach(uninterrupted);
    uninterrupted.on(Events.ITERATION_COMPLETED, (e) => {
      seenUninterrupted.push(e.state.a);
    });
    await uninterrupted.run(iterations, { maxEpochs: 1 });

    const first = new Engine(() => 0);
    const scheduler = make().attach(first);
    const seen: number[] = [];
    first.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.state.a);
    });
    await first.run(iterations.slice(0, 6), { maxEpochs: 1 });
    const saved = JSON.parse(JSON.stringify(scheduler.stateDict()));
    expect(saved.eventIndex).toBe(6);

    const second = new Engine(() => 0);
    const resumed = make();
    resumed.loadStateDict(saved);
    expect(resumed.stateDict()).toEqual(saved);
    resumed.attach(second);
    second.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.state.a);
    });
    await second.run(iterations.slice(6), { maxEpochs: 1 });
    expect(seen).toEqual(seenUninterrupted);
  });

  it('the state dict holds the schedule, which a load replaces', () => {
    const scheduler = new MultiStepStateScheduler({ paramName: 'a', initialValue: 1, gamma: 0.5, milestones: [1] });
    expect(scheduler.stateDict()).toEqual({
      eventIndex: 0,
      paramName: 'a',
      saveHistory: false,
      initialValue: 1,
      gamma: 0.5,
      milestones: [1],
    });
    scheduler.loadStateDict({ ...scheduler.stateDict(), eventIndex: 2, gamma: 0.25, milestones: [1, 2, 3] });
    expect(scheduler.getParam()).toBe(0.0625);
  });

  const good = () =>
    new PiecewiseLinearStateScheduler({
      paramName: 'a',
      milestonesValues: [
        [0, 1],
        [4, 0],
      ],
    });
  it.each<[string, Record<string, unknown>]>([
    ["state dict entry 'eventIndex' should be a non-negative integer, got NaN.", { eventIndex: Number.NaN }],
    ["state dict entry 'eventIndex' should be a non-negative integer, got 9007199254740992.", { eventIndex: 2 ** 53 }],
    ["state dict entry 'eventIndex' should be a non-negative integer, got -1.", { eventIndex: -1 }],
    ["state dict entry 'eventIndex' should be a non-negative integer, got '3'.", { eventIndex: '3' }],
    [
      "state dict entry 'paramName' should be 'a' (the attribute this scheduler sets), got 'b'. Load the state dict of the scheduler of the same engine.state attribute.",
      { paramName: 'b' },
    ],
    ["state dict entry 'saveHistory' should be a boolean, got 0.", { saveHistory: 0 }],
    [
      "state dict entry 'values' [1] should be a finite number, got Infinity.",
      { values: [1, Number.POSITIVE_INFINITY] },
    ],
    ["state dict entry 'values' should be an array of 2 numbers, one for each milestone, got [1].", { values: [1] }],
    [
      "state dict entry 'milestones' should be non-decreasing integers, got [4,0]. 0 comes after 4.",
      { milestones: [4, 0] },
    ],
    ["unknown state dict entry 'extra'.", { extra: 1 }],
  ])('PiecewiseLinearStateScheduler.loadStateDict rejects: %s', (message, change) => {
    const scheduler = good();
    scheduler.handle(null);
    const before = scheduler.stateDict();
    expect(() => scheduler.loadStateDict({ ...before, eventIndex: 3, ...change })).toThrow(
      `PiecewiseLinearStateScheduler.loadStateDict: ${message}`,
    );
    // all or nothing: eventIndex 3 (valid) was not applied either
    expect(scheduler.stateDict()).toEqual(before);
  });

  it('rejects a state dict with a missing key, or an unsafe one', () => {
    const scheduler = new ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: 0.5 });
    const { gamma: _, ...noGamma } = scheduler.stateDict();
    expect(() => scheduler.loadStateDict(noGamma)).toThrow(
      "ExpStateScheduler.loadStateDict: required state dict entry 'gamma' is absent",
    );
    expect(() => scheduler.loadStateDict(JSON.parse('{"__proto__": {}}'))).toThrow(
      "ExpStateScheduler.loadStateDict: key '__proto__' is not allowed in a state dict",
    );
    expect(() => scheduler.loadStateDict({ ...scheduler.stateDict(), stepSize: 2 })).toThrow(
      "ExpStateScheduler.loadStateDict: unknown state dict entry 'stepSize'.",
    );
  });
});

it('the state schedulers are exported from the package root', () => {
  for (const name of [
    'StateParamScheduler',
    'LambdaStateScheduler',
    'PiecewiseLinearStateScheduler',
    'ExpStateScheduler',
    'StepStateScheduler',
    'MultiStepStateScheduler',
    'ParamGroupScheduler',
  ]) {
    expect(typeof (kindling as Record<string, unknown>)[name], name).toBe('function');
  }
});
