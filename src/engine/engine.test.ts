import { afterEach, describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { defineEvents, Events } from './events';
import {
  captureLog,
  countEvents,
  EVENT_POINTS,
  expectedTrace,
  lengthless,
  range,
  record,
  type Step,
} from './trace.test-util';

let log: ReturnType<typeof captureLog> | null = null;
afterEach(() => {
  log?.restore();
  log = null;
});

describe('Engine: event order and counts', () => {
  it('fires all events in order for an array over two epochs (literal trace)', async () => {
    const engine = new Engine((_e, b: string) => b.toUpperCase());
    const trace = record(engine);
    const state = await engine.run(['a', 'b'], { maxEpochs: 2 });
    expect(trace).toEqual<Step[]>([
      [0, 0, 'started'],
      [1, 0, 'epoch_started'],
      [1, 0, 'get_batch_started'],
      [1, 0, 'get_batch_completed'],
      [1, 1, 'iteration_started'],
      [1, 1, 'iteration_completed'],
      [1, 1, 'get_batch_started'],
      [1, 1, 'get_batch_completed'],
      [1, 2, 'iteration_started'],
      [1, 2, 'iteration_completed'],
      [1, 2, 'epoch_completed'],
      [2, 2, 'epoch_started'],
      [2, 2, 'get_batch_started'],
      [2, 2, 'dataloader_stop_iteration'],
      [2, 2, 'get_batch_completed'],
      [2, 3, 'iteration_started'],
      [2, 3, 'iteration_completed'],
      [2, 3, 'get_batch_started'],
      [2, 3, 'get_batch_completed'],
      [2, 4, 'iteration_started'],
      [2, 4, 'iteration_completed'],
      [2, 4, 'epoch_completed'],
      [2, 4, 'completed'],
    ]);
    expect(state).toBe(engine.state);
    expect(state.epoch).toBe(2);
    expect(state.iteration).toBe(4);
    expect(state.output).toBe('B');
    expect(state.batch).toBe('b');
    expect(state.epochLength).toBe(2);
    expect(state.maxEpochs).toBe(2);
    expect(state.maxIters).toBeNull();
    expect(engine.lastEventName).toBe('completed');
  });

  it('runs without data: no GET_BATCH_* nor DATALOADER_STOP_ITERATION, batches are undefined', async () => {
    const batches: unknown[] = [];
    const engine = new Engine((_e, b: unknown) => {
      batches.push(b);
    });
    const trace = record(engine);
    const state = await engine.run(null, { maxEpochs: 3, epochLength: 2 });
    expect(trace).toEqual(expectedTrace({ epochLength: 2, maxEpochs: 3, dataLength: null }));
    expect(countEvents(trace)).toEqual({
      started: 1,
      epoch_started: 3,
      iteration_started: 6,
      iteration_completed: 6,
      epoch_completed: 3,
      completed: 1,
    });
    expect(batches).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(state.dataloader).toBeNull();
    // and it continues without data
    await engine.run(null, { maxEpochs: 5 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([5, 10]);
  });

  it.each([
    { dataLength: 10, epochLength: 10, maxEpochs: 4, stops: 3 },
    { dataLength: 100, epochLength: 100, maxEpochs: 5, stops: 4 },
    { dataLength: 100, epochLength: 50, maxEpochs: 5, stops: 2 },
    { dataLength: 100, epochLength: 150, maxEpochs: 5, stops: 7 },
    { dataLength: 7, epochLength: 3, maxEpochs: 4, stops: 1 },
  ])('counts every event for data $dataLength, epochLength $epochLength, $maxEpochs epochs', async (c) => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    await engine.run(range(c.dataLength), { maxEpochs: c.maxEpochs, epochLength: c.epochLength });
    const n = c.maxEpochs * c.epochLength;
    expect(countEvents(trace)).toEqual({
      started: 1,
      epoch_started: c.maxEpochs,
      get_batch_started: n,
      get_batch_completed: n,
      dataloader_stop_iteration: c.stops,
      iteration_started: n,
      iteration_completed: n,
      epoch_completed: c.maxEpochs,
      completed: 1,
    });
    expect(trace).toEqual(expectedTrace({ ...c, dataLength: c.dataLength }));
  });

  it('streams data across epochs when epochLength < data length (the iterator is not restarted per epoch)', async () => {
    const seen: number[] = [];
    const engine = new Engine((_e, b: number) => {
      seen.push(b);
    });
    await engine.run([0, 1, 2, 3, 4], { maxEpochs: 4, epochLength: 3 });
    expect(seen).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1]);
  });

  it('passes every batch, in order, to the process function over 10 epochs', async () => {
    const data = range(17).map((i) => i * 7);
    let counter = 0;
    const engine = new Engine((_e, b: number) => {
      expect(b).toBe(data[counter % data.length]);
      counter += 1;
    });
    await engine.run(data, { maxEpochs: 10 });
    expect(counter).toBe(170);
  });

  it('calls ITERATION_STARTED and ITERATION_COMPLETED handlers alternately with the engine', async () => {
    const calls: Array<[string, unknown, number]> = [];
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_STARTED, (...args: unknown[]) => {
      calls.push(['s', args[0], args.length]);
    });
    engine.on(Events.ITERATION_COMPLETED, (...args: unknown[]) => {
      calls.push(['c', args[0], args.length]);
    });
    await engine.run(null, { maxEpochs: 5, epochLength: 3 });
    expect(calls).toHaveLength(30);
    for (let i = 0; i < 30; i++) expect(calls[i]).toEqual([i % 2 === 0 ? 's' : 'c', engine, 1]);
  });

  it('learns epochLength after the first pass over data without a length (generator object)', async () => {
    function* gen() {
      for (let i = 0; i < 11; i++) yield i;
    }
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    let completed = 0;
    engine.on(Events.COMPLETED, () => {
      completed += 1;
    });
    const state = await engine.run(gen());
    expect([state.epoch, state.iteration, state.epochLength, state.maxEpochs]).toEqual([1, 11, 11, 1]);
    expect(completed).toBe(1);
    // the epoch ends at the exhausted fetch: GET_BATCH_STARTED fires once more, then EPOCH_COMPLETED, no STOP event
    expect(trace.slice(-4)).toEqual([
      [1, 11, 'iteration_completed'],
      [1, 11, 'get_batch_started'],
      [1, 11, 'epoch_completed'],
      [1, 11, 'completed'],
    ]);
    expect(countEvents(trace).dataloader_stop_iteration).toBeUndefined();
  });

  it('learns epochLength from a re-iterable without length and restarts it for each epoch', async () => {
    const seen: number[] = [];
    const engine = new Engine((_e, b: number) => {
      seen.push(b);
    });
    const trace = record(engine);
    const state = await engine.run(lengthless([5, 6, 7]), { maxEpochs: 3 });
    expect([state.epoch, state.iteration, state.epochLength]).toEqual([3, 9, 3]);
    expect(seen).toEqual([5, 6, 7, 5, 6, 7, 5, 6, 7]);
    // epoch 1 learns the length; epochs 2 and 3 each start with an exhausted iterator
    expect(countEvents(trace).dataloader_stop_iteration).toBe(2);
    expect(countEvents(trace).get_batch_started).toBe(10);
    expect(countEvents(trace).get_batch_completed).toBe(9);
  });

  it('uses the iterable protocol, not length, when a length-less object also gives epochLength', async () => {
    const engine = new Engine((_e, b: number) => b);
    const state = await engine.run(lengthless(range(100)), { maxEpochs: 2, epochLength: 30 });
    expect([state.epoch, state.iteration, state.output]).toEqual([2, 60, 59]);
  });

  it('runs an infinite generator with epochLength', async () => {
    function* forever() {
      let i = 0;
      for (;;) yield i++;
    }
    const engine = new Engine((_e, b: number) => b);
    const state = await engine.run(forever(), { maxEpochs: 3, epochLength: 5 });
    expect([state.epoch, state.iteration, state.output]).toEqual([3, 15, 14]);
  });

  it('stops an infinite generator with terminate() and no epochLength', async () => {
    function* forever() {
      let i = 0;
      for (;;) yield i++;
    }
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_COMPLETED({ once: 15 }), (e) => e.terminate());
    const state = await engine.run(forever());
    expect([state.epoch, state.iteration, state.epochLength]).toEqual([1, 15, null]);
  });

  it('runs async generators and async process functions, awaited in order', async () => {
    async function* agen() {
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 1));
        yield i;
      }
    }
    const order: string[] = [];
    const engine = new Engine(async (_e, b: number) => {
      await new Promise((r) => setTimeout(r, 1));
      order.push(`p${b}`);
      return b * 10;
    });
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      order.push(`c${e.state.output}`);
    });
    const state = await engine.run(agen(), { maxEpochs: 1 });
    expect(order).toEqual(['p0', 'c0', 'p1', 'c10', 'p2', 'c20', 'p3', 'c30']);
    expect([state.epoch, state.iteration, state.epochLength, state.output]).toEqual([1, 4, 4, 30]);
  });

  it('restarts an async iterable (not an iterator) per pass over the data', async () => {
    const source = {
      async *[Symbol.asyncIterator]() {
        yield 'x';
        yield 'y';
      },
    };
    const seen: string[] = [];
    const engine = new Engine((_e, b: string) => {
      seen.push(b);
    });
    const trace = record(engine);
    await engine.run(source, { maxEpochs: 2, epochLength: 3 });
    expect(seen).toEqual(['x', 'y', 'x', 'y', 'x', 'y']);
    expect(countEvents(trace).dataloader_stop_iteration).toBe(2);
  });

  it('warns through the logger when a finite iterator cannot provide enough data', async () => {
    log = captureLog();
    function* three() {
      yield* [1, 2, 3];
    }
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    const state = await engine.run(three(), { maxEpochs: 3 });
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]).toContain('Data iterator can not provide data anymore');
    expect(log.warnings[0]).toContain('Current iteration: 3 vs Total iterations to run : 9');
    expect([state.epoch, state.iteration]).toEqual([3, 3]);
    expect(countEvents(trace).epoch_completed).toBe(3);
    expect(countEvents(trace).iteration_completed).toBe(3);
  });

  it('warns with the epochLength-based total when a finite iterator runs dry mid-run', async () => {
    log = captureLog();
    function* hundred() {
      yield* range(100);
    }
    const engine = new Engine((_e, b: number) => b);
    const state = await engine.run(hundred(), { maxEpochs: 3, epochLength: 75 });
    expect(state.iteration).toBe(100);
    expect(log.warnings.length).toBeGreaterThanOrEqual(1);
    expect(log.warnings[0]).toContain('Current iteration: 100 vs Total iterations to run : 225');
  });

  it('does not warn when the data runs dry in the last epoch (epoch == maxEpochs counts as done)', async () => {
    log = captureLog();
    function* ten() {
      yield* range(10);
    }
    const engine = new Engine((_e, b: number) => b);
    const state = await engine.run(ten(), { maxEpochs: 2 });
    expect([state.epoch, state.iteration]).toEqual([2, 10]);
    expect(log.warnings).toEqual([]);
  });

  it('stops at maxIters: TERMINATE fires, then COMPLETED; EPOCH_COMPLETED is skipped for the partial epoch', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    const state = await engine.run(range(5), { maxIters: 7 });
    expect([state.epoch, state.iteration, state.maxIters, state.maxEpochs, state.epochLength]).toEqual([
      2,
      7,
      7,
      null,
      5,
    ]);
    expect(trace.slice(-4)).toEqual([
      [2, 7, 'iteration_started'],
      [2, 7, 'iteration_completed'],
      [2, 7, 'terminate'],
      [2, 7, 'completed'],
    ]);
    expect(countEvents(trace)).toMatchObject({ epoch_started: 2, epoch_completed: 1, iteration_completed: 7 });
  });

  it('runs maxIters that is a multiple of epochLength with every EPOCH_COMPLETED on an epoch boundary', async () => {
    const engine = new Engine((_e, b: number) => b);
    const completedAt: number[] = [];
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      completedAt.push(e.state.iteration);
    });
    const state = await engine.run(range(10), { maxIters: 32 });
    expect(state.iteration).toBe(32);
    expect(completedAt).toEqual([10, 20, 30]);
    const engine2 = new Engine((_e, b: number) => b);
    const s2 = await engine2.run(range(20), { maxIters: 73 });
    expect([s2.iteration, s2.epoch]).toEqual([73, 4]);
  });

  it('derives maxEpochs = ceil(maxIters / epochLength) once the length of length-less data is learned', async () => {
    const engine = new Engine((_e, b: number) => b);
    const state = await engine.run(lengthless(range(5)), { maxIters: 7 });
    expect([state.iteration, state.epochLength, state.maxEpochs]).toEqual([7, 5, 2]);
  });

  it('sets lastEventName to each event while its handlers run', async () => {
    const engine = new Engine((_e, b: number) => b);
    expect(engine.lastEventName).toBeNull();
    const mismatches: string[] = [];
    for (const event of [
      Events.STARTED,
      Events.EPOCH_STARTED,
      Events.ITERATION_STARTED,
      Events.ITERATION_COMPLETED,
      Events.EPOCH_COMPLETED,
    ]) {
      engine.on(event, (e) => {
        if (e.lastEventName !== event.name) mismatches.push(`${event.name} saw ${e.lastEventName}`);
      });
    }
    await engine.run([1, 2]);
    expect(mismatches).toEqual([]);
    expect(engine.lastEventName).toBe('completed');
  });

  it('lets a handler replace state.batch before the process function sees it', async () => {
    const seen: number[] = [];
    const engine = new Engine((_e, b: number) => {
      seen.push(b);
    });
    engine.on(Events.ITERATION_STARTED, (e) => {
      e.state.batch = e.state.iteration * 100;
    });
    await engine.run([0, 0, 0]);
    expect(seen).toEqual([100, 200, 300]);
  });

  it('keeps custom state attributes across runs and events', async () => {
    const engine = new Engine((_e, b: number) => b);
    engine.state.alpha = 0.5;
    const seen: unknown[] = [];
    engine.on(Events.STARTED.or(Events.EPOCH_STARTED).or(Events.EPOCH_COMPLETED).or(Events.COMPLETED), (e) => {
      seen.push(e.state.alpha);
    });
    await engine.run([1, 2, 3], { maxEpochs: 2 });
    expect(seen).toEqual([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(engine.state.alpha).toBe(0.5);
  });

  it('fills state.times with seconds for the last epoch and the whole run', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const engine = new Engine(async () => sleep(5));
    let epochTimeSeen: number | null = null;
    engine.on(Events.EPOCH_COMPLETED, async (e) => {
      epochTimeSeen = e.state.times.EPOCH_COMPLETED;
      await sleep(20);
    });
    const state = await engine.run([1, 2, 3], { maxEpochs: 2 });
    expect(epochTimeSeen).toBeGreaterThanOrEqual(0.012);
    // after the run the epoch time includes the EPOCH_COMPLETED handler
    expect(state.times.EPOCH_COMPLETED).toBeGreaterThanOrEqual(0.012 + 0.018);
    expect(state.times.COMPLETED).toBeGreaterThanOrEqual(2 * (0.012 + 0.018));
    expect(state.times.COMPLETED).toBeLessThan(5);
  });
});

describe('Engine: setData', () => {
  it('switches data mid-run: the next batch comes from the new data', async () => {
    const seen: string[] = [];
    const engine = new Engine((_e, b: string) => {
      seen.push(b);
    });
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => e.setData(['x', 'y']));
    const state = await engine.run(['a', 'b', 'c', 'd'], { maxEpochs: 2 });
    expect(seen).toEqual(['a', 'b', 'c', 'x', 'y', 'x', 'y', 'x']);
    expect(state.dataloader).toEqual(['x', 'y']);
    expect(state.iteration).toBe(8);
  });

  it('rejects non-iterable data', () => {
    const engine = new Engine((_e, b: number) => b);
    expect(() => engine.setData(5 as any)).toThrow(TypeError);
    expect(() => engine.setData(5 as any)).toThrow(/iterable/);
  });
});

describe('Engine: terminate()', () => {
  it('sets the flag: true, or skip_completed', () => {
    const engine = new Engine((_e, b: number) => b);
    expect(engine.shouldTerminate).toBe(false);
    engine.terminate();
    expect(engine.shouldTerminate).toBe(true);
    engine.terminate(true);
    expect(engine.shouldTerminate).toBe('skip_completed');
  });

  // Ignite test_terminate_events_sequence: data range(10), 5 epochs.
  const cases = EVENT_POINTS;

  for (const skipCompleted of [false, true]) {
    it.each(cases)(`from $name ends the run there (skipCompleted: ${skipCompleted})`, async ({ event, at }) => {
      let processed = 0;
      const engine = new Engine(() => {
        processed += 1;
      });
      const trace = record(engine);
      const filtered = event();
      const eventName = filtered.name;
      engine.on(filtered, (e) => e.terminate(skipCompleted));
      const errors: unknown[] = [];
      engine.on(Events.EXCEPTION_RAISED, (_e, error) => {
        errors.push(error);
      });
      const state = await engine.run(range(10), { maxEpochs: 5 });
      const [e, i] = at;
      const tail: Step[] = skipCompleted
        ? [
            [e, i, eventName],
            [e, i, 'terminate'],
          ]
        : [
            [e, i, eventName],
            [e, i, 'terminate'],
            [e, i, 'completed'],
          ];
      expect(trace.slice(-tail.length)).toEqual(tail);
      expect(trace[0]).toEqual([0, 0, 'started']);
      expect(errors).toEqual([]);
      expect([state.epoch, state.iteration]).toEqual([e, i]);
      // a terminate at ITERATION_STARTED skips the process function of that iteration
      expect(processed).toBe(eventName === 'iteration_started' ? i - 1 : i);
      // a terminate from an iteration event skips the epoch's EPOCH_COMPLETED
      const epochsCompleted = countEvents(trace).epoch_completed ?? 0;
      expect(epochsCompleted).toBe(eventName === 'epoch_completed' ? e : Math.max(0, e - 1));
      expect(engine.shouldTerminate).toBe(skipCompleted ? 'skip_completed' : true);
    });
  }

  it('at the end of an epoch stops the run after that epoch', async () => {
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      if (e.state.epoch === 3) e.terminate();
    });
    const state = await engine.run(null, { maxEpochs: 5, epochLength: 2 });
    expect([state.epoch, state.iteration]).toEqual([3, 6]);
    expect(engine.shouldTerminate).toBe(true);
  });

  it('from a handler resets on the next run', async () => {
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      if (e.state.iteration === 10) e.terminate();
    });
    await engine.run(range(20));
    expect(engine.state.iteration).toBe(10);
    // terminated in its last (only) epoch: done, so the next run restarts from 0 and stops at 10 again
    await engine.run(range(20));
    expect(engine.state.iteration).toBe(10);
  });

  it('from a custom event fired in the process function stops after the iteration', async () => {
    const engine = new Engine(async (e: Engine<number, unknown>) => {
      await e.fireEvent('my_event');
    });
    engine.registerEvents(['my_event']);
    let calls = 0;
    engine.on('my_event', (e) => {
      calls += 1;
      if (calls === 3) e.terminate();
    });
    const trace = record(engine);
    const state = await engine.run(range(10), { maxEpochs: 2 });
    expect(state.iteration).toBe(3);
    expect(trace.slice(-3)).toEqual([
      [1, 3, 'iteration_completed'],
      [1, 3, 'terminate'],
      [1, 3, 'completed'],
    ]);
  });
});

describe('Engine: terminateEpoch()', () => {
  const cases = [
    { name: 'GET_BATCH_STARTED(once: 12)', event: () => Events.GET_BATCH_STARTED({ once: 12 }), i: 12, counter: 2 },
    { name: 'GET_BATCH_COMPLETED(once: 12)', event: () => Events.GET_BATCH_COMPLETED({ once: 12 }), i: 12, counter: 2 },
    { name: 'ITERATION_STARTED(once: 14)', event: () => Events.ITERATION_STARTED({ once: 14 }), i: 14, counter: 4 },
    { name: 'ITERATION_COMPLETED(once: 14)', event: () => Events.ITERATION_COMPLETED({ once: 14 }), i: 14, counter: 4 },
  ] as const;

  for (const skip of [false, true]) {
    it.each(cases)(`from $name ends epoch 2 early (skipEpochCompleted: ${skip})`, async ({ event, i, counter }) => {
      const batches: number[] = [];
      const engine = new Engine((_e, b: number) => {
        batches.push(b);
      });
      const trace = record(engine);
      const filtered = event();
      const flagsSeen: unknown[] = [];
      let calls = 0;
      engine.on(filtered, (e) => {
        calls += 1;
        if (calls > 1) return; // see below: GET_BATCH_* at iteration 12 fires again in epoch 3
        e.terminateEpoch(skip);
        flagsSeen.push(e.shouldTerminateSingleEpoch);
      });
      const tseArgs: unknown[][] = [];
      engine.on(Events.TERMINATE_SINGLE_EPOCH, (...args: unknown[]) => {
        tseArgs.push(args);
      });
      const flagAtEpochStart: unknown[] = [];
      engine.on(Events.EPOCH_STARTED, (e) => {
        flagAtEpochStart.push(e.shouldTerminateSingleEpoch);
      });
      const state = await engine.run(range(10), { maxEpochs: 3 });

      expect(flagsSeen).toEqual([skip ? 'skip_epoch_completed' : true]);
      // as in Ignite, an epoch cut before the increment leaves iteration at 12, so epoch 3's first fetch is also 12
      expect(calls).toBe(filtered.name.startsWith('get_batch') ? 2 : 1);
      expect(flagAtEpochStart).toEqual([false, false, false]);
      expect(tseArgs).toEqual([[engine, { iterCounter: counter }]]);
      const at = trace.findIndex(([, , n]) => n === 'terminate_single_epoch');
      expect(trace[at - 1]).toEqual([2, i, filtered.name]);
      expect(trace[at]).toEqual([2, i, 'terminate_single_epoch']);
      expect(trace[at + 1]).toEqual(skip ? [3, i, 'epoch_started'] : [2, i, 'epoch_completed']);
      // epoch 3 is a full epoch over a fresh iterator
      expect([state.epoch, state.iteration]).toEqual([3, 20 + (i % 10)]);
      expect(batches.slice(-10)).toEqual(range(10));
      expect(countEvents(trace).epoch_completed).toBe(skip ? 2 : 3);
      expect(countEvents(trace).completed).toBe(1);
      expect(engine.shouldTerminateSingleEpoch).toBe(false);
    });
  }

  it.each([
    { name: 'STARTED', event: () => Events.STARTED },
    { name: 'EPOCH_STARTED(once: 2)', event: () => Events.EPOCH_STARTED({ once: 2 }) },
  ])('from $name is an error that rejects run()', async ({ event }) => {
    const engine = new Engine((_e, b: number) => b);
    engine.on(event(), (e) => e.terminateEpoch());
    await expect(engine.run(range(10), { maxEpochs: 3 })).rejects.toThrow(/terminateEpoch\(\).*STARTED/);
  });

  it('yields to terminate() when both are set (flag precedence)', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => {
      e.terminateEpoch();
      e.interrupt();
      e.terminate();
    });
    const state = await engine.run(range(10), { maxEpochs: 2 });
    expect(state.iteration).toBe(3);
    expect(countEvents(trace).terminate_single_epoch).toBeUndefined();
    expect(countEvents(trace).interrupt).toBeUndefined();
    expect(trace.slice(-2)).toEqual([
      [1, 3, 'terminate'],
      [1, 3, 'completed'],
    ]);
  });

  it('takes precedence over interrupt(): the epoch ends, then the run suspends after EPOCH_COMPLETED', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => {
      e.interrupt();
      e.terminateEpoch();
    });
    const state = await engine.run(range(10), { maxEpochs: 2 });
    expect(trace.slice(-3)).toEqual([
      [1, 3, 'terminate_single_epoch'],
      [1, 3, 'epoch_completed'],
      [1, 3, 'interrupt'],
    ]);
    expect([state.epoch, state.iteration]).toEqual([1, 3]);
    await engine.run(range(10), { maxEpochs: 2 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([2, 13]);
  });
});

describe('Engine: exceptions', () => {
  it('rejects run() with the original error object when no EXCEPTION_RAISED handler exists', async () => {
    const boom = new RangeError('boom at 3');
    const engine = new Engine((e) => {
      if (e.state.iteration === 3) throw boom;
    });
    const trace = record(engine);
    const error = await engine.run(range(10)).catch((err: unknown) => err);
    expect(error).toBe(boom);
    expect([engine.state.epoch, engine.state.iteration]).toEqual([1, 3]);
    expect(trace.at(-1)).toEqual([1, 3, 'iteration_started']);
    expect(countEvents(trace).completed).toBeUndefined();
  });

  it('rejects with the error a handler threw', async () => {
    const boom = new Error('handler failed');
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.EPOCH_COMPLETED, () => {
      throw boom;
    });
    await expect(engine.run([1, 2], { maxEpochs: 3 })).rejects.toBe(boom);
    expect(engine.state.epoch).toBe(1);
  });

  it('rejects with the error an async handler rejected with', async () => {
    const boom = new Error('async handler failed');
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_COMPLETED({ once: 2 }), async () => {
      await Promise.resolve();
      throw boom;
    });
    await expect(engine.run([1, 2, 3])).rejects.toBe(boom);
    expect(engine.state.iteration).toBe(2);
  });

  it('passes the error to EXCEPTION_RAISED handlers as (engine, error, ...args); the epoch ends early and the run goes on', async () => {
    const boom = new Error('process failed');
    const batches: number[] = [];
    const engine = new Engine((e, b: number) => {
      if (e.state.iteration === 3) throw boom;
      batches.push(b);
    });
    const trace = record(engine);
    const got: unknown[][] = [];
    engine.on(
      Events.EXCEPTION_RAISED,
      (...args: unknown[]) => {
        got.push(args);
      },
      'extra',
    );
    const state = await engine.run(range(10), { maxEpochs: 2 });
    expect(got).toEqual([[engine, boom, 'extra']]);
    expect(got[0]![1]).toBe(boom);
    // epoch 1 ends after iteration 3; epoch 2 carries on with the same iterator for a full epochLength
    expect([state.epoch, state.iteration]).toEqual([2, 13]);
    expect(batches).toEqual([0, 1, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]);
    expect(countEvents(trace)).toMatchObject({ epoch_completed: 2, completed: 1, dataloader_stop_iteration: 1 });
    expect(trace[trace.findIndex(([, i, n]) => i === 3 && n === 'iteration_started') + 1]).toEqual([
      1,
      3,
      'epoch_completed',
    ]);
  });

  it('with EXCEPTION_RAISED handlers, an error in an epoch-level handler ends the run without COMPLETED', async () => {
    const boom = new Error('epoch handler failed');
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    engine.on(Events.EPOCH_COMPLETED({ once: 1 }), () => {
      throw boom;
    });
    const got: unknown[] = [];
    engine.on(Events.EXCEPTION_RAISED, (_e, error) => {
      got.push(error);
    });
    const state = await engine.run(range(4), { maxEpochs: 3 });
    expect(got).toEqual([boom]);
    expect([state.epoch, state.iteration]).toEqual([1, 4]);
    expect(countEvents(trace).completed).toBeUndefined();
    expect(trace.at(-1)).toEqual([1, 4, 'epoch_completed']);
  });

  it('rejects with the error thrown by an EXCEPTION_RAISED handler', async () => {
    const first = new Error('first');
    const second = new Error('second');
    const engine = new Engine(() => {
      throw first;
    });
    engine.on(Events.EXCEPTION_RAISED, () => {
      throw second;
    });
    await expect(engine.run([1])).rejects.toBe(second);
  });

  it('rejects when a filtered handler sits on an event that has no state attribute ("Unknown event name")', async () => {
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.TERMINATE({ every: 1 }), () => {});
    engine.on(Events.ITERATION_COMPLETED({ once: 2 }), (e) => e.terminate());
    await expect(engine.run([1, 2, 3])).rejects.toThrow(/Unknown event name/);
  });

  it('accepts the Unknown-event registration itself (it fails only when the event fires)', async () => {
    const engine = new Engine((_e, b: number) => b);
    expect(() => engine.on(Events.INTERRUPT({ every: 2 }), () => {})).not.toThrow();
    await expect(engine.run([1, 2, 3])).resolves.toBe(engine.state);
  });
});

describe('Engine: run() validation', () => {
  it('rejects data that is not iterable, first of all', async () => {
    const engine = new Engine((_e, b: number) => b);
    await expect(engine.run(42 as any)).rejects.toThrow(TypeError);
    await expect(engine.run({} as any, { maxEpochs: 1, maxIters: 1 })).rejects.toThrow(/should be iterable/);
    await expect(engine.run((() => {}) as any)).rejects.toThrow(/should be iterable/);
  });

  it('rejects maxEpochs together with maxIters', async () => {
    const engine = new Engine((_e, b: number) => b);
    await expect(engine.run([1], { maxEpochs: 2, maxIters: 12 })).rejects.toThrow(/mutually exclusive/);
    // the mutually-exclusive check comes before the range checks (engine-semantics: validation order)
    await expect(engine.run([1], { maxEpochs: 0, maxIters: 12 })).rejects.toThrow(/mutually exclusive/);
    expect(engine.state.maxEpochs).toBeNull();
  });

  it('rejects switching between maxEpochs and maxIters modes until the other is set to null', async () => {
    const engine = new Engine((_e, b: number) => b);
    const data = range(10);
    await engine.run(data, { maxEpochs: 5 });
    await expect(engine.run(data, { maxIters: 500 })).rejects.toThrow(
      /switch from maxEpochs to maxIters.*engine\.state\.maxEpochs = null/,
    );
    engine.state.maxEpochs = null;
    await engine.run(data, { maxIters: 60 });
    expect([engine.state.maxIters, engine.state.maxEpochs, engine.state.iteration]).toEqual([60, null, 60]);
    await expect(engine.run(data, { maxEpochs: 10 })).rejects.toThrow(
      /switch from maxIters to maxEpochs.*engine\.state\.maxIters = null/,
    );
    engine.state.maxIters = null;
    await engine.run(data, { maxEpochs: 10 });
    expect([engine.state.maxEpochs, engine.state.maxIters, engine.state.iteration]).toEqual([10, null, 100]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxEpochs and maxIters equal to %s', async (bad) => {
    const engine = new Engine((_e, b: number) => b);
    await expect(engine.run([1], { maxEpochs: bad })).rejects.toThrow(RangeError);
    await expect(engine.run([1], { maxIters: bad })).rejects.toThrow(RangeError);
  });

  it('rejects empty data and null data without epochLength', async () => {
    const engine = new Engine((_e, b: number) => b);
    await expect(engine.run([])).rejects.toThrow(/zero size/);
    await expect(engine.run(null, { maxEpochs: 10 })).rejects.toThrow(/epochLength should be provided/);
    await expect(engine.run(undefined as any, { maxEpochs: 10 })).rejects.toThrow(/epochLength should be provided/);
  });

  it('rejects an epochLength that differs from the state on resume', async () => {
    const engine = new Engine((_e, b: number) => b);
    await engine.run([1, 2, 3], { maxEpochs: 1 });
    // epoch 1 of 1 is done, but asking for 2 epochs resumes: epochLength must match
    await expect(engine.run([1, 2, 3], { maxEpochs: 2, epochLength: 10 })).rejects.toThrow(
      /epochLength should be same as in the state/,
    );
  });

  it('rejects run() while the engine is running, and the first run still completes', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const engine = new Engine(async (_e, b: number) => {
      await gate;
      return b;
    });
    const first = engine.run([1, 2]);
    await expect(engine.run([1, 2])).rejects.toThrow(/already running/);
    release();
    const state = await first;
    expect(state.iteration).toBe(2);
    // and once it is over, run() works again
    await expect(engine.run([1, 2])).resolves.toBe(engine.state);
  });

  it('rejects a process function that is not a function', () => {
    expect(() => new Engine(null as any)).toThrow(TypeError);
    expect(() => new Engine('x' as any)).toThrow(/processFunction should be a function/);
  });

  it('returns the state from run() for both arrays and null data', async () => {
    const engine = new Engine((_e, b: number) => b);
    await expect(engine.run([1, 2])).resolves.toBe(engine.state);
    await expect(engine.run(null, { epochLength: 3 })).resolves.toBe(engine.state);
  });
});

describe('getEventAttribValue', () => {
  it('reads the counter filters test, for built-in and mapped custom events', async () => {
    const custom = defineEvents({ BACKWARD: 'backward_for_attrib' });
    const engine = new Engine(() => null);
    engine.registerEvents(Object.values(custom), { eventToAttr: { backward_for_attrib: 'backwardCount' } });
    engine.on(Events.ITERATION_COMPLETED, async (e) => {
      e.state.backwardCount += 2;
    });
    await engine.run([1, 2, 3], { maxEpochs: 2 });
    expect(engine.getEventAttribValue(Events.ITERATION_COMPLETED)).toBe(6);
    expect(engine.getEventAttribValue(Events.EPOCH_COMPLETED({ every: 2 }))).toBe(2);
    expect(engine.getEventAttribValue(custom.BACKWARD)).toBe(12);
    expect(() => engine.getEventAttribValue(Events.TERMINATE)).toThrow(/Unknown event name/);
  });
});
