import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../../engine';
import {
  ConcatScheduler,
  CosineAnnealingScheduler,
  ExpStateScheduler,
  LinearCyclicalScheduler,
  ParamGroupScheduler,
  PiecewiseLinear,
} from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const rateOf = (optimizer: tf.Optimizer): number => (optimizer as unknown as { learningRate: number }).learningRate;
/** Ignite's cosine annealing: start + (end - start) / 2 * (1 - cos(pi * i / cycleSize)). */
const cosine = (start: number, end: number, i: number, cycleSize: number) =>
  start + ((end - start) / 2) * (1 - Math.cos((Math.PI * (i % cycleSize)) / cycleSize));

/** Ignite's example: two groups annealed from 0 to 1 and from 0 to 0.1 over cycles of 4 iterations. */
function twoGroups() {
  const base = tf.train.sgd(0.001);
  const head = tf.train.sgd(0.01);
  const schedulers = [
    new CosineAnnealingScheduler(base, { startValue: 0, endValue: 1, cycleSize: 4 }),
    new CosineAnnealingScheduler(head, { startValue: 0, endValue: 0.1, cycleSize: 4 }),
  ];
  return { base, head, schedulers };
}

describe('ParamGroupScheduler', () => {
  it("sets each group's rate at every ITERATION_STARTED (Ignite's example, by hand)", async () => {
    const { base, head, schedulers } = twoGroups();
    const group = new ParamGroupScheduler({ schedulers, names: ['lr (base)', 'lr (fc)'] });
    const seen: [number, number][] = [];
    const trainer = new Engine(() => {
      seen.push([rateOf(base), rateOf(head)]);
    });
    expect(group.attach(trainer)).toBe(group);
    await trainer.run(new Array(8).fill(0), { maxEpochs: 1 });
    // 0 0, 0.1464... 0.01464..., 0.4999... 0.04999..., 0.8535... 0.08535..., then the next cycle
    const expected = Array.from({ length: 8 }, (_, i) => [cosine(0, 1, i, 4), cosine(0, 0.1, i, 4)]);
    expect(seen[1]![0]).toBeCloseTo(0.1464466, 6);
    expect(seen[3]![1]).toBeCloseTo(0.0853553, 6);
    seen.forEach(([b, h], i) => {
      expect(b).toBeCloseTo(expected[i]![0]!, 12);
      expect(h).toBeCloseTo(expected[i]![1]!, 12);
    });
    expect(group.getParam()).toEqual(schedulers.map((s) => s.getParam()));
    const states = schedulers.map((s) => s.stateDict());
    group.remove();
    await trainer.run(new Array(2).fill(0), { maxEpochs: 1 });
    expect(schedulers.map((s) => s.stateDict())).toEqual(states); // removed: nothing moved
    expect(seen.slice(8)).toEqual([seen[7], seen[7]]);
  });

  it('simulates values without changing the schedulers or the optimizers', () => {
    const { base, head, schedulers } = twoGroups();
    schedulers[0]!.handle(null); // some state to keep
    const before = schedulers.map((s) => s.stateDict());
    const rates = [rateOf(base), rateOf(head)];
    const rows = ParamGroupScheduler.simulateValues(6, { schedulers });
    expect(rows.map((row) => row[0])).toEqual([0, 1, 2, 3, 4, 5]);
    rows.forEach(([i, b, h]) => {
      expect(b).toBeCloseTo(cosine(0, 1, i + 1, 4), 12); // the first scheduler had advanced once
      expect(h).toBeCloseTo(cosine(0, 0.1, i, 4), 12);
    });
    expect(schedulers.map((s) => s.stateDict())).toEqual(before);
    expect([rateOf(base), rateOf(head)]).toEqual(rates);
  });

  it('groups two parameters of one optimizer, and records history under each name', async () => {
    const adam = tf.train.adam(0.1, 0.9);
    const group = new ParamGroupScheduler({
      schedulers: [
        new PiecewiseLinear(adam, {
          milestonesValues: [
            [0, 0.1],
            [2, 0.3],
          ],
        }),
        new PiecewiseLinear(adam, {
          paramName: 'beta1',
          milestonesValues: [
            [0, 0.9],
            [2, 0.5],
          ],
        }),
      ],
      saveHistory: true,
    });
    expect(group.names).toEqual(['learningRate', 'beta1']);
    const trainer = new Engine(() => 0);
    group.attach(trainer);
    await trainer.run([0, 0, 0, 0], { maxEpochs: 1 });
    const history = trainer.state.paramHistory as Record<string, number[]>;
    expect(history.learningRate.map((v) => +v.toFixed(12))).toEqual([0.1, 0.2, 0.3, 0.3]);
    expect(history.beta1.map((v) => +v.toFixed(12))).toEqual([0.9, 0.7, 0.5, 0.5]);
    expect((adam as unknown as { beta1: number }).beta1).toBe(0.5);
    group.saveHistory = false;
    expect(group.schedulers.every((s) => !s.saveHistory)).toBe(true);
  });

  it('resumes from a JSON round trip of its state dict, loaded by name in any order', async () => {
    const uninterrupted = twoGroups();
    const all = ParamGroupScheduler.simulateValues(10, { schedulers: uninterrupted.schedulers });

    const { schedulers } = twoGroups();
    const group = new ParamGroupScheduler({ schedulers, names: ['base', 'head'] });
    for (let i = 0; i < 3; i++) group.handle(null);
    const saved = JSON.parse(JSON.stringify(group.stateDict()));
    expect(saved.schedulers.map(([name]: [string]) => name)).toEqual(['base', 'head']);
    saved.schedulers.reverse();

    const fresh = twoGroups();
    const resumed = new ParamGroupScheduler({ schedulers: fresh.schedulers, names: ['base', 'head'] });
    resumed.loadStateDict(saved);
    const rest = ParamGroupScheduler.simulateValues(7, { schedulers: fresh.schedulers, names: ['base', 'head'] });
    expect(rest.map(([, ...values]) => values)).toEqual(all.slice(3).map(([, ...values]) => values));
  });

  it('loads all or nothing: a bad state for one scheduler leaves every scheduler as it was', () => {
    const { schedulers } = twoGroups();
    const group = new ParamGroupScheduler({ schedulers, names: ['base', 'head'] });
    group.handle(null);
    const before = group.stateDict();
    const other = twoGroups();
    const moved = new ParamGroupScheduler({ schedulers: other.schedulers, names: ['base', 'head'] });
    for (let i = 0; i < 3; i++) moved.handle(null);
    const sd = moved.stateDict();
    const { cycleSize: _, ...broken } = sd.schedulers[1]![1];
    expect(() => group.loadStateDict({ schedulers: [sd.schedulers[0], ['head', broken]] })).toThrow(
      /required state attribute 'cycleSize' is absent/,
    );
    expect(group.stateDict()).toEqual(before);
  });

  it.each<[string, unknown]>([
    ["unknown state dict entry 'extra'", { schedulers: [], extra: 1 }],
    ["state dict entry 'schedulers' should be an array of 2 [name, stateDict] pairs", { schedulers: {} }],
    ["state dict entry 'schedulers' should be an array of 2 [name, stateDict] pairs", { schedulers: [] }],
    [
      'a scheduler name in the state dict should be one of ["base","head"], each once, got \'tail\'',
      {
        schedulers: [
          ['base', {}],
          ['tail', {}],
        ],
      },
    ],
    [
      'a scheduler name in the state dict should be one of ["base","head"], each once, got \'base\'',
      {
        schedulers: [
          ['base', {}],
          ['base', {}],
        ],
      },
    ],
    [
      "the state dict of scheduler 'head' should be an object, got 3",
      {
        schedulers: [
          ['base', {}],
          ['head', 3],
        ],
      },
    ],
  ])('loadStateDict rejects a state dict that is not its own: %s', (message, sd) => {
    const group = new ParamGroupScheduler({ schedulers: twoGroups().schedulers, names: ['base', 'head'] });
    expect(() => group.loadStateDict(sd as never)).toThrow(`ParamGroupScheduler.loadStateDict: ${message}`);
  });

  it.each<[string, () => unknown]>([
    [
      'ParamGroupScheduler: argument schedulers should be a non-empty array of parameter schedulers, got [].',
      () => new ParamGroupScheduler({ schedulers: [] }),
    ],
    [
      "ParamGroupScheduler: schedulers[1] should be an optimizer's parameter scheduler (e.g. CosineAnnealingScheduler), got an instance of ExpStateScheduler. State schedulers set engine.state, not a group of an optimizer: attach them by themselves.",
      () =>
        new ParamGroupScheduler({
          schedulers: [
            twoGroups().schedulers[0]!,
            new ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1 }) as never,
          ],
        }),
    ],
    [
      'ParamGroupScheduler: option names is needed when the schedulers\' paramNames repeat (["learningRate","learningRate"])',
      () => new ParamGroupScheduler({ schedulers: twoGroups().schedulers }),
    ],
    [
      "ParamGroupScheduler: schedulers[0] and schedulers[1] both set 'learningRate' of the same optimizer",
      () => {
        const sgd = tf.train.sgd(0.1);
        const a = new LinearCyclicalScheduler(sgd, { startValue: 0, endValue: 1, cycleSize: 2 });
        const b = new LinearCyclicalScheduler(sgd, { startValue: 1, endValue: 0, cycleSize: 2 });
        return new ParamGroupScheduler({ schedulers: [a, b], names: ['a', 'b'] });
      },
    ],
    [
      'ParamGroupScheduler: argument names should be unique names, got ["x","x"]. \'x\' repeats.',
      () => new ParamGroupScheduler({ schedulers: twoGroups().schedulers, names: ['x', 'x'] }),
    ],
    [
      'ParamGroupScheduler: argument names should have one name per scheduler (2), got 1.',
      () => new ParamGroupScheduler({ schedulers: twoGroups().schedulers, names: ['x'] }),
    ],
    [
      "ParamGroupScheduler: argument names should be names other than '__proto__'",
      () => new ParamGroupScheduler({ schedulers: twoGroups().schedulers, names: ['__proto__', 'x'] }),
    ],
    [
      "ParamGroupScheduler: unknown option 'save_history'. Did you mean 'saveHistory'?",
      () => new ParamGroupScheduler({ schedulers: twoGroups().schedulers, save_history: true } as never),
    ],
    [
      'ParamGroupScheduler.simulateValues: argument numEvents should be a non-negative integer, got 1.5.',
      () => ParamGroupScheduler.simulateValues(1.5, { schedulers: twoGroups().schedulers }),
    ],
  ])('%s', (message, make) => {
    expect(make).toThrow(message);
  });

  it('accepts a ConcatScheduler as a group, and leaves no tensor behind in a training run', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2 })] });
    const body = tf.train.sgd(0.1);
    const bias = tf.train.sgd(0.1);
    const [kernel, biasWeight] = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const warmup = new PiecewiseLinear(body, {
      milestonesValues: [
        [0, 0],
        [3, 0.1],
      ],
    });
    const anneal = new CosineAnnealingScheduler(body, { startValue: 0.1, endValue: 0.01, cycleSize: 5 });
    const options = {
      schedulers: [
        new ConcatScheduler({ schedulers: [warmup, anneal], durations: [4] }),
        new LinearCyclicalScheduler(bias, { startValue: 0.05, endValue: 0.2, cycleSize: 4 }),
      ],
      names: ['body', 'bias'],
    };
    const expected = ParamGroupScheduler.simulateValues(25, options).map(([, ...values]) => values);
    const group = new ParamGroupScheduler(options);
    const x = tf.randomNormal([4, 3]);
    const y = tf.randomNormal([4, 2]);
    const loss = () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar;
    const seen: number[][] = [];
    const trainer = new Engine(() => {
      seen.push([rateOf(body), rateOf(bias)]);
      body.minimize(loss, false, [kernel!]);
      bias.minimize(loss, false, [biasWeight!]);
    });
    group.attach(trainer);
    const data = [0, 0, 0, 0, 0];
    await trainer.run(data, { maxEpochs: 1 }); // the optimizers create their constants on first use
    const before = tf.memory().numTensors;
    await trainer.run(data, { maxEpochs: 5 }); // four more epochs
    expect(trainer.state.iteration).toBe(25);
    expect(tf.memory().numTensors).toBe(before);
    expect(seen).toEqual(expected);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('can be set on a custom event and replaces what the optimizers held', async () => {
    const { base, head, schedulers } = twoGroups();
    const trainer = new Engine(() => 0);
    new ParamGroupScheduler({ schedulers, names: ['b', 'h'] }).attach(trainer, Events.EPOCH_STARTED);
    await trainer.run([0, 0, 0], { maxEpochs: 2 });
    expect(rateOf(base)).toBeCloseTo(cosine(0, 1, 1, 4), 12);
    expect(rateOf(head)).toBeCloseTo(cosine(0, 0.1, 1, 4), 12);
  });
});
