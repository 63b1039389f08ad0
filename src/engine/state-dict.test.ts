import { describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { Events } from './events';
import { range } from './trace.test-util';

const newEngine = () => new Engine((_e, b: number) => b);

describe('Engine.stateDict', () => {
  it('holds iteration, epochLength and maxEpochs of a fresh engine, never epoch', () => {
    expect(newEngine().stateDict()).toEqual({ iteration: 0, epochLength: null, maxEpochs: null });
  });

  it('holds the progress after a run', async () => {
    const engine = newEngine();
    await engine.run(range(100), { maxEpochs: 10 });
    const sd = engine.stateDict();
    expect(sd).toEqual({ iteration: 1000, epochLength: 100, maxEpochs: 10 });
    expect('epoch' in sd).toBe(false);
  });

  it('holds maxIters instead of maxEpochs in maxIters mode', async () => {
    const engine = newEngine();
    await engine.run(range(10), { maxIters: 25 });
    expect(engine.stateDict()).toEqual({ iteration: 25, epochLength: 10, maxIters: 25 });
  });

  it('adds user keys', async () => {
    const engine = newEngine();
    engine.stateDictUserKeys.push('alpha', 'beta');
    engine.state.alpha = 0.1;
    engine.state.beta = 'abc';
    await engine.run(range(3));
    expect(engine.stateDict()).toEqual({ iteration: 3, epochLength: 3, maxEpochs: 1, alpha: 0.1, beta: 'abc' });
  });

  it('is plain data: JSON round-trips', async () => {
    const engine = newEngine();
    await engine.run(range(4), { maxEpochs: 2 });
    expect(JSON.parse(JSON.stringify(engine.stateDict()))).toEqual(engine.stateDict());
  });
});

describe('Engine.loadStateDict', () => {
  it('loads iteration and derives epoch = floor(iteration / epochLength)', () => {
    const engine = newEngine();
    engine.loadStateDict({ maxEpochs: 100, epochLength: 120, iteration: 123 });
    const s = engine.state;
    expect([s.iteration, s.epoch, s.epochLength, s.maxEpochs, s.maxIters]).toEqual([123, 1, 120, 100, null]);
  });

  it('loads epoch and derives iteration = epoch * epochLength', () => {
    const engine = newEngine();
    engine.loadStateDict({ maxEpochs: 100, epochLength: 120, epoch: 5 });
    expect([engine.state.iteration, engine.state.epoch]).toEqual([600, 5]);
  });

  it('loads maxIters and clears maxEpochs', () => {
    const engine = newEngine();
    engine.state.maxEpochs = 3;
    engine.loadStateDict({ maxIters: 500, epochLength: 100, iteration: 250 });
    expect([engine.state.maxIters, engine.state.maxEpochs, engine.state.epoch]).toEqual([500, null, 2]);
  });

  it('loads epoch 0 / iteration 0 whatever epochLength is', () => {
    const engine = newEngine();
    engine.loadStateDict({ maxEpochs: 3, epochLength: null, iteration: 0 });
    expect([engine.state.iteration, engine.state.epoch, engine.state.epochLength]).toEqual([0, 0, null]);
    engine.loadStateDict({ maxEpochs: 3, epochLength: null, epoch: 0 });
    expect([engine.state.iteration, engine.state.epoch]).toEqual([0, 0]);
  });

  it('loads user keys', () => {
    const engine = newEngine();
    engine.stateDictUserKeys.push('alpha', 'beta');
    engine.loadStateDict({ maxEpochs: 100, epochLength: 120, iteration: 123, alpha: 0.1, beta: 'abc' });
    expect([engine.state.alpha, engine.state.beta]).toEqual([0.1, 'abc']);
  });

  it.each([
    ['not an object', 'not a dict', TypeError, /stateDict should be an object/],
    ['an array', [], TypeError, /stateDict should be an object/],
    ['null', null, TypeError, /stateDict should be an object/],
    ['empty', {}, Error, /absent/],
    ['no iteration', { epochLength: 100, maxEpochs: 5 }, Error, /'iteration'.*absent/],
    ['no epochLength', { iteration: 10, maxEpochs: 5 }, Error, /'epochLength' is absent/],
    [
      'both limits',
      { epochLength: 100, iteration: 10, maxEpochs: 5, maxIters: 500 },
      Error,
      /only one of 'maxEpochs' or 'maxIters'/,
    ],
    ['no limit', { epochLength: 100, iteration: 10 }, Error, /one of 'maxEpochs' or 'maxIters'/],
    [
      'maxEpochs below epoch',
      { epoch: 5, maxEpochs: 3, epochLength: 10 },
      Error,
      /greater than or equal to the start epoch/,
    ],
    [
      'maxIters below iteration',
      { iteration: 100, maxIters: 50, epochLength: 10 },
      Error,
      /greater than or equal to the start iteration/,
    ],
    [
      'both iteration and epoch',
      { iteration: 50, epoch: 1, epochLength: 100, maxEpochs: 10 },
      Error,
      /only one of 'iteration' or 'epoch'/,
    ],
    [
      'epoch without epochLength',
      { maxEpochs: 100, epoch: 2, epochLength: null },
      Error,
      /epochLength must be a positive integer/,
    ],
    [
      'iteration with epochLength 0',
      { maxEpochs: 100, iteration: 200, epochLength: 0 },
      Error,
      /epochLength must be a positive integer/,
    ],
    [
      'iteration without epochLength',
      { maxEpochs: 100, iteration: 200, epochLength: null },
      Error,
      /epochLength must be a positive integer/,
    ],
    [
      'negative iteration',
      { maxEpochs: 100, iteration: -1, epochLength: 10 },
      RangeError,
      /'iteration' should be a non-negative integer/,
    ],
    [
      'fractional epochLength',
      { maxEpochs: 100, iteration: 1, epochLength: 2.5 },
      RangeError,
      /'epochLength' should be a positive integer/,
    ],
    [
      'maxEpochs 0',
      { maxEpochs: 0, iteration: 0, epochLength: 10 },
      RangeError,
      /'maxEpochs' should be a positive integer/,
    ],
  ] as const)('rejects %s', (_label, sd, type, message) => {
    const engine = newEngine();
    expect(() => engine.loadStateDict(sd as any)).toThrow(type);
    expect(() => engine.loadStateDict(sd as any)).toThrow(message);
  });

  it.each([
    [
      'iteration beyond maxEpochs × epochLength',
      { iteration: 21, epochLength: 10, maxEpochs: 2 },
      /'iteration' should be at most maxEpochs × epochLength = 2 × 10 = 20 iterations, where such a run stops, got 21/,
    ],
    [
      'progress without a limit',
      { iteration: 5, epochLength: 10, maxEpochs: null },
      /'maxEpochs' should be a positive integer when progress was made \(iteration 5\), got null/,
    ],
    [
      'epoch × epochLength beyond 2^53',
      { epoch: 2 ** 40, epochLength: 2 ** 20, maxEpochs: 2 ** 41 },
      /'epoch' × 'epochLength' should be at most 2\^53 - 1 iterations/,
    ],
    [
      'an unknown entry',
      { iteration: 0, epochLength: 10, maxEpochs: 2, maxEpoch: 3 },
      /unknown state dict entry 'maxEpoch'. Did you mean 'maxEpochs'\?/,
    ],
    [
      'a NaN iteration',
      { iteration: Number.NaN, epochLength: 10, maxEpochs: 2 },
      /'iteration' should be a non-negative integer, got NaN/,
    ],
    ['an unsafe iteration', { iteration: 2 ** 53, epochLength: 10, maxEpochs: 2 ** 60 }, /got 9007199254740992/],
  ] as const)('rejects impossible progress and values: %s, changing nothing', (_label, sd, message) => {
    const engine = newEngine();
    engine.loadStateDict({ iteration: 3, epochLength: 10, maxEpochs: 2 });
    expect(() => engine.loadStateDict(sd as any)).toThrow(message);
    expect(engine.stateDict()).toEqual({ iteration: 3, epochLength: 10, maxEpochs: 2 });
  });

  it('accepts the limits of a run: the last iteration, and no progress without a limit', () => {
    const engine = newEngine();
    engine.loadStateDict({ iteration: 20, epochLength: 10, maxEpochs: 2 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([2, 20]);
    engine.loadStateDict({ iteration: 0, epochLength: null, maxEpochs: null });
    expect(engine.state.iteration).toBe(0);
  });

  it('rejects a dict missing a user key, naming it', () => {
    const engine = newEngine();
    engine.stateDictUserKeys.push('alpha');
    expect(() => engine.loadStateDict({ iteration: 12, epochLength: 120, maxEpochs: 100 })).toThrow(
      /user state attribute 'alpha' is absent/,
    );
  });

  it('leaves the state untouched when it rejects', async () => {
    const engine = newEngine();
    await engine.run(range(10), { maxEpochs: 2 });
    const before = engine.stateDict();
    expect(() => engine.loadStateDict({ iteration: 100, maxIters: 50, epochLength: 10 })).toThrow();
    expect(engine.stateDict()).toEqual(before);
    expect(engine.state.epoch).toBe(2);
  });

  it('resumes a run from the loaded iteration (new engine, same progress)', async () => {
    const a = newEngine();
    a.on(Events.ITERATION_COMPLETED({ once: 25 }), (e) => e.terminate());
    await a.run(range(10), { maxEpochs: 5 });
    const sd = a.stateDict();
    expect(sd).toEqual({ iteration: 25, epochLength: 10, maxEpochs: 5 });

    const b = newEngine();
    b.loadStateDict(sd);
    expect([b.state.epoch, b.state.iteration]).toEqual([2, 25]);
    const started: Array<[number, number]> = [];
    b.on(Events.STARTED, (e) => {
      started.push([e.state.epoch, e.state.iteration]);
    });
    const firstIteration: number[] = [];
    b.on(Events.EPOCH_STARTED, (e) => {
      firstIteration.push(e.state.iteration);
    });
    const state = await b.run(range(10));
    expect(started).toEqual([[2, 25]]);
    // epoch 3 resumes mid-epoch: 5 iterations (25 % 10 done), then epochs 4 and 5
    expect(firstIteration).toEqual([25, 30, 40]);
    expect([state.epoch, state.iteration]).toEqual([5, 50]);
  });

  it('resumes from an epoch-only dict and honours a larger maxEpochs', async () => {
    const engine = newEngine();
    engine.loadStateDict({ epoch: 2, epochLength: 10, maxEpochs: 3 });
    await engine.run(range(10), { maxEpochs: 4 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([4, 40]);
  });

  it('checks run() arguments against the loaded state', async () => {
    const engine = newEngine();
    engine.loadStateDict({ iteration: 50, epochLength: 10, maxEpochs: 10 });
    await expect(engine.run(range(10), { maxEpochs: 4 })).rejects.toThrow(/greater than or equal to the start epoch/);
    await expect(engine.run(range(10), { epochLength: 20 })).rejects.toThrow(
      /epochLength should be same as in the state/,
    );
    await expect(engine.run(range(10), { maxIters: 100 })).rejects.toThrow(/switch from maxEpochs to maxIters/);
  });

  it('resumes in maxIters mode', async () => {
    const engine = newEngine();
    engine.loadStateDict({ iteration: 25, epochLength: 10, maxIters: 42 });
    const state = await engine.run(range(10));
    expect([state.iteration, state.maxIters]).toEqual([42, 42]);
  });

  it('keeps custom state attributes through loadStateDict and the run', async () => {
    const engine = newEngine();
    engine.state.alpha = 0;
    engine.state.beta = 1;
    engine.loadStateDict({ iteration: 3, maxEpochs: 5, epochLength: 5 });
    const seen: unknown[] = [];
    engine.on(Events.STARTED.or(Events.EPOCH_STARTED).or(Events.EPOCH_COMPLETED).or(Events.COMPLETED), (e) => {
      seen.push([e.state.alpha, e.state.beta]);
    });
    await engine.run(range(5), { maxEpochs: 5 });
    expect(seen.length).toBe(1 + 5 + 5 + 1);
    expect(seen.every((v) => JSON.stringify(v) === '[0,1]')).toBe(true);
  });

  it('discards an interrupted run: the next run starts from the loaded progress', async () => {
    const engine = newEngine();
    const batches: number[] = [];
    engine.on(Events.ITERATION_STARTED, (e) => {
      batches.push(e.state.batch as number);
    });
    let armed = true;
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => {
      if (armed) e.interrupt();
    });
    await engine.run(range(10), { maxEpochs: 2 });
    armed = false;
    engine.loadStateDict({ iteration: 10, epochLength: 10, maxEpochs: 2 });
    const started: number[] = [];
    engine.on(Events.STARTED, (e) => {
      started.push(e.state.iteration);
    });
    batches.length = 0;
    await engine.run(range(10), { maxEpochs: 2 });
    expect(started).toEqual([10]);
    expect(batches).toEqual(range(10));
    expect([engine.state.epoch, engine.state.iteration]).toEqual([2, 20]);
  });
});

describe('loadStateDict after an earlier terminate()', () => {
  it('resumes where the state says, not where the stale terminate flag would', async () => {
    const data = [0, 1, 2, 3, 4];
    const stopped = new Engine<number, number>((_e, b) => b);
    stopped.on(Events.ITERATION_COMPLETED({ once: 2 }), (e) => e.terminate());
    await stopped.run(data, { maxEpochs: 3 });
    expect(stopped.shouldTerminate).toBe(true);
    stopped.loadStateDict({ iteration: 7, epochLength: 5, maxEpochs: 3 });
    expect(stopped.shouldTerminate).toBe(false);
    const epochEnds: number[] = [];
    let iterations = 0;
    stopped.on(Events.ITERATION_COMPLETED, () => {
      iterations++;
    });
    stopped.on(Events.EPOCH_COMPLETED, (e) => {
      epochEnds.push(e.state.iteration);
    });
    const state = await stopped.run(data);
    // Mid-epoch 2 at iteration 7: 3 more iterations finish epoch 2, then epoch 3 (a plain Engine does not
    // fast-forward its data, but it does keep the epoch's counter).
    expect(epochEnds).toEqual([10, 15]);
    expect(iterations).toBe(8);
    expect(state.iteration).toBe(15);
  });

  it('rejects __proto__ and constructor keys', () => {
    const engine = new Engine(() => 0);
    const polluted = JSON.parse('{"iteration": 0, "epochLength": 2, "maxEpochs": 1, "__proto__": {"x": 1}}');
    expect(() => engine.loadStateDict(polluted)).toThrow(/'__proto__' is not allowed/);
    expect(() => engine.loadStateDict({ iteration: 0, epochLength: 2, maxEpochs: 1, constructor: 1 })).toThrow(
      /'constructor' is not allowed/,
    );
  });
});
