import { describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { Events } from './events';
import { countEvents, EVENT_POINTS, expectedTrace, range, record, type Step } from './trace.test-util';

/** An engine whose process function records the batches it sees. */
function checkedEngine() {
  const batches: number[] = [];
  const engine = new Engine((_e, b: number) => {
    batches.push(b);
    return b;
  });
  return { engine, batches };
}

describe('interrupt() and resume', () => {
  // Ignite test_engine_run_interrupt_resume: data range(10), 5 epochs.
  const cases = [
    ...EVENT_POINTS,
    { name: 'EPOCH_COMPLETED(once: 5) (last)', event: () => Events.EPOCH_COMPLETED({ once: 5 }), at: [5, 50] as const },
  ];

  it.each(cases)('at $name suspends there and resumes with the exact remaining trace', async ({ event, at }) => {
    const data = range(10);
    const full = expectedTrace({ epochLength: 10, maxEpochs: 5, dataLength: 10 });
    const { engine, batches } = checkedEngine();
    const trace = record(engine);
    const filtered = event();
    let interrupted = false;
    engine.on(filtered, (e) => {
      if (!interrupted) {
        interrupted = true;
        e.interrupt();
      }
    });
    const state = await engine.run(data, { maxEpochs: 5 });
    const [e, i] = at;
    expect(trace.at(-1)).toEqual([e, i, 'interrupt']);
    expect(trace.at(-2)).toEqual([e, i, filtered.name]);
    expect([state.epoch, state.iteration]).toEqual([e, i]);
    expect(engine.shouldInterrupt).toBe(false);
    const head = trace.slice(0, -1);
    expect(head).toEqual(full.slice(0, head.length));

    trace.length = 0;
    engine.on(Events.STARTED, () => {
      throw new Error('STARTED must not fire on resume');
    });
    const resumed = await engine.run(data, { maxEpochs: 5 });
    expect(trace).toEqual(full.slice(head.length));
    expect([resumed.epoch, resumed.iteration]).toEqual([5, 50]);
    // the same iterator carried on: every pass over the data is complete and in order
    expect(batches).toEqual([...data, ...data, ...data, ...data, ...data]);
  });

  it('at DATALOADER_STOP_ITERATION resumes with the same batches (GET_BATCH_STARTED may fire again, as in Ignite)', async () => {
    const data = range(10);
    const full = expectedTrace({ epochLength: 10, maxEpochs: 3, dataLength: 10 });
    const { engine, batches } = checkedEngine();
    const trace = record(engine);
    engine.on(Events.DATALOADER_STOP_ITERATION, (e) => {
      if (e.state.iteration === 10) e.interrupt();
    });
    await engine.run(data, { maxEpochs: 3 });
    expect(trace.slice(-2)).toEqual([
      [2, 10, 'dataloader_stop_iteration'],
      [2, 10, 'interrupt'],
    ]);
    const state = await engine.run(data, { maxEpochs: 3 });
    expect([state.epoch, state.iteration]).toEqual([3, 30]);
    expect(batches).toEqual([...data, ...data, ...data]);
    const withoutFetchStarts = (t: Step[]) => t.filter(([, , n]) => n !== 'get_batch_started' && n !== 'interrupt');
    expect(withoutFetchStarts(trace)).toEqual(withoutFetchStarts(full));
  });

  it('interrupts many times in a row (every 6 iterations) and ends exactly like an uninterrupted run', async () => {
    const data = range(10);
    const { engine, batches } = checkedEngine();
    const trace = record(engine);
    let canInterrupt = true;
    engine.on(Events.ITERATION_COMPLETED({ every: 6 }), (e) => {
      if (canInterrupt) e.interrupt();
    });
    const stops: Array<[number, number]> = [];
    for (let k = 0; k < 4; k++) {
      const s = await engine.run(data, { maxEpochs: 3 });
      stops.push([s.epoch, s.iteration]);
    }
    expect(stops).toEqual([
      [1, 6],
      [2, 12],
      [2, 18],
      [3, 24],
    ]);
    canInterrupt = false;
    const state = await engine.run(data, { maxEpochs: 3 });
    expect([state.epoch, state.iteration]).toEqual([3, 30]);
    const full = expectedTrace({ epochLength: 10, maxEpochs: 3, dataLength: 10 });
    expect(trace.filter(([, , n]) => n !== 'interrupt')).toEqual(full);
    expect(countEvents(trace).interrupt).toBe(4);
    expect(batches).toEqual([...data, ...data, ...data]);

    // done and not suspended: the next run starts over
    const startedAt: Step[] = [];
    engine.on(Events.STARTED, (e) => {
      startedAt.push([e.state.epoch, e.state.iteration, 'started']);
    });
    await engine.run(data, { maxEpochs: 3 });
    expect(startedAt).toEqual([[0, 0, 'started']]);
    expect(engine.state.iteration).toBe(30);
  });

  it('discards the suspended run when state.maxEpochs is set to null first', async () => {
    const data = range(10);
    const { engine, batches } = checkedEngine();
    let canInterrupt = true;
    engine.on(Events.ITERATION_COMPLETED({ every: 11 }), (e) => {
      if (canInterrupt) e.interrupt();
    });
    let state = await engine.run(data, { maxEpochs: 3 });
    expect([state.epoch, state.iteration]).toEqual([2, 11]);
    const started: Array<[number, number]> = [];
    engine.on(Events.STARTED, (e) => {
      started.push([e.state.epoch, e.state.iteration]);
    });
    state.maxEpochs = null;
    batches.length = 0;
    state = await engine.run(data, { maxEpochs: 3 });
    expect([state.epoch, state.iteration]).toEqual([2, 11]);
    expect(started).toEqual([[0, 0]]);
    expect(batches).toEqual([...data, 0]);
    canInterrupt = false;
    state.maxEpochs = null;
    state = await engine.run(data, { maxEpochs: 3 });
    expect([state.epoch, state.iteration]).toEqual([3, 30]);
    expect(started).toEqual([
      [0, 0],
      [0, 0],
    ]);
  });

  it('resumes a run interrupted in its last epoch even though epoch == maxEpochs', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    engine.on(Events.ITERATION_COMPLETED({ once: 15 }), (e) => e.interrupt());
    await engine.run(range(10), { maxEpochs: 2 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([2, 15]);
    trace.length = 0;
    await engine.run(range(10), { maxEpochs: 2 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([2, 20]);
    expect(trace[0]).toEqual([2, 15, 'get_batch_started']);
    expect(trace.at(-1)).toEqual([2, 20, 'completed']);
  });

  it('resumes a run interrupted after the last EPOCH_COMPLETED: only COMPLETED is left', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    engine.on(Events.EPOCH_COMPLETED({ once: 2 }), (e) => e.interrupt());
    await engine.run(range(3), { maxEpochs: 2 });
    trace.length = 0;
    await engine.run(range(3), { maxEpochs: 2 });
    expect(trace).toEqual([[2, 6, 'completed']]);
  });

  it('resumes with a larger maxEpochs', async () => {
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_COMPLETED({ once: 5 }), (e) => e.interrupt());
    await engine.run(range(10), { maxEpochs: 2 });
    const state = await engine.run(range(10), { maxEpochs: 3 });
    expect([state.epoch, state.iteration, state.maxEpochs]).toEqual([3, 30, 3]);
  });

  it('resumes in maxIters mode', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace = record(engine);
    engine.on(Events.ITERATION_COMPLETED({ every: 4 }), (e) => e.interrupt());
    const stops: number[] = [];
    for (let k = 0; k < 10 && engine.state.iteration < 10; k++)
      stops.push((await engine.run(range(3), { maxIters: 10 })).iteration);
    expect(stops).toEqual([4, 8, 10]);
    expect(trace.slice(-2)).toEqual([
      [4, 10, 'terminate'],
      [4, 10, 'completed'],
    ]);
    expect(countEvents(trace).started).toBe(1);
  });

  it('resumes a run without data', async () => {
    const engine = new Engine((_e, b: unknown) => b);
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => e.interrupt());
    await engine.run(null, { maxEpochs: 2, epochLength: 4 });
    expect(engine.state.iteration).toBe(3);
    const state = await engine.run(null, { maxEpochs: 2 });
    expect([state.epoch, state.iteration]).toEqual([2, 8]);
  });

  it('resumes an async generator with the same iterator', async () => {
    async function* agen() {
      for (let i = 0; i < 6; i++) yield i;
    }
    const seen: number[] = [];
    const engine = new Engine((_e, b: number) => {
      seen.push(b);
    });
    engine.on(Events.ITERATION_COMPLETED({ once: [2, 4] }), (e) => e.interrupt());
    const data = agen();
    await engine.run(data, { maxEpochs: 1, epochLength: 6 });
    await engine.run(data, { maxEpochs: 1, epochLength: 6 });
    await engine.run(data, { maxEpochs: 1, epochLength: 6 });
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('re-running after a run ended', () => {
  for (const [label, data, epochLength] of [
    ['array', range(10), undefined],
    ['null data', null, 10],
  ] as const) {
    it(`normally (${label}): M > epoch continues, M == epoch restarts, M < epoch errors, M omitted restarts with 1`, async () => {
      const engine = new Engine((_e, b: unknown) => b);
      const started: Array<[number, number]> = [];
      engine.on(Events.STARTED, (e) => {
        started.push([e.state.epoch, e.state.iteration]);
      });
      const run = (maxEpochs?: number) => engine.run(data, { maxEpochs, epochLength });
      await run(5);
      expect([engine.state.epoch, engine.state.iteration]).toEqual([5, 50]);
      await run(7); // continue from 5 to 7
      expect(started.at(-1)).toEqual([5, 50]);
      expect([engine.state.epoch, engine.state.iteration, engine.state.maxEpochs]).toEqual([7, 70, 7]);
      await expect(run(4)).rejects.toThrow(/should be greater than or equal to the start epoch.*7/);
      await run(7); // done: restart from 0
      expect(started.at(-1)).toEqual([0, 0]);
      expect([engine.state.epoch, engine.state.iteration]).toEqual([7, 70]);
      engine.state.maxEpochs = null; // forced restart
      await run(5);
      expect(started.at(-1)).toEqual([0, 0]);
      expect([engine.state.epoch, engine.state.iteration]).toEqual([5, 50]);
      engine.state.maxEpochs = null;
      await run(9);
      expect(started.at(-1)).toEqual([0, 0]);
      await run(10); // continue from 9 to 10
      expect(started.at(-1)).toEqual([9, 90]);
      expect([engine.state.epoch, engine.state.iteration]).toEqual([10, 100]);
      await run(); // omitted: restart with maxEpochs 1
      expect(started.at(-1)).toEqual([0, 0]);
      expect([engine.state.epoch, engine.state.iteration, engine.state.maxEpochs]).toEqual([1, 10, 1]);
      expect(started).toHaveLength(7);
    });
  }

  it('continues in maxIters mode with a larger maxIters', async () => {
    const engine = new Engine((_e, b: number) => b);
    const started: number[] = [];
    engine.on(Events.STARTED, (e) => {
      started.push(e.state.iteration);
    });
    await engine.run(range(10), { maxIters: 25 });
    await engine.run(range(10), { maxIters: 40 });
    expect(started).toEqual([0, 25]);
    expect(engine.state.iteration).toBe(40);
    await expect(engine.run(range(10), { maxIters: 30 })).rejects.toThrow(
      /greater than or equal to the start iteration/,
    );
  });

  it('after terminate() before the last epoch: resumes at epoch + 1 with a restarted iterator; iteration carries on', async () => {
    const data = range(10);
    const { engine, batches } = checkedEngine();
    engine.on(Events.ITERATION_STARTED, (e) => {
      if (e.state.iteration === 13 && e.state.maxEpochs === 5 && !e.state.resumed) e.terminate();
    });
    const errors: unknown[] = [];
    engine.on(Events.EXCEPTION_RAISED, (_e, err) => {
      errors.push(err);
    });
    let state = await engine.run(data, { maxEpochs: 5 });
    expect([state.epoch, state.iteration]).toEqual([2, 13]);
    state.resumed = true;
    const started: Array<[number, number]> = [];
    engine.on(Events.STARTED, (e) => {
      started.push([e.state.epoch, e.state.iteration]);
    });
    const firstIteration: number[] = [];
    engine.on(Events.EPOCH_STARTED, (e) => {
      firstIteration.push(e.state.iteration);
    });
    batches.length = 0;
    state = await engine.run(data, { maxEpochs: 5 });
    expect(started).toEqual([[2, 13]]);
    expect(firstIteration).toEqual([13, 23, 33]);
    expect([state.epoch, state.iteration]).toEqual([5, 43]);
    expect(batches).toEqual([...data, ...data, ...data]);
    expect(engine.shouldTerminate).toBe(false);
    expect(errors).toEqual([]);
  });

  it('after terminate() at EPOCH_STARTED: the terminated epoch is skipped', async () => {
    const engine = new Engine((_e, b: number) => b);
    let armed = true;
    engine.on(Events.EPOCH_STARTED({ once: 3 }), (e) => {
      if (armed) e.terminate();
    });
    let state = await engine.run(range(10), { maxEpochs: 5 });
    expect([state.epoch, state.iteration]).toEqual([3, 20]);
    armed = false;
    state = await engine.run(range(10), { maxEpochs: 5 });
    expect([state.epoch, state.iteration]).toEqual([5, 40]);
  });

  it('after terminate() in the last epoch: done, so a full restart', async () => {
    const engine = new Engine((_e, b: number) => b);
    let armed = true;
    engine.on(Events.ITERATION_COMPLETED({ once: 45 }), (e) => {
      if (armed) e.terminate();
    });
    await engine.run(range(10), { maxEpochs: 5 });
    expect([engine.state.epoch, engine.state.iteration]).toEqual([5, 45]);
    armed = false;
    const started: number[] = [];
    engine.on(Events.STARTED, (e) => {
      started.push(e.state.iteration);
    });
    await engine.run(range(10), { maxEpochs: 5 });
    expect(started).toEqual([0]);
    expect([engine.state.epoch, engine.state.iteration]).toEqual([5, 50]);
  });

  it('after an exception: resumes from the state with a fresh iterator (no fast-forward)', async () => {
    const data = range(10);
    let armed = true;
    const batches: number[] = [];
    const boom = new Error('boom');
    const engine = new Engine((e, b: number) => {
      if (armed && e.state.iteration === 13) throw boom;
      batches.push(b);
    });
    await expect(engine.run(data, { maxEpochs: 3 })).rejects.toBe(boom);
    expect([engine.state.epoch, engine.state.iteration]).toEqual([2, 13]);
    armed = false;
    batches.length = 0;
    const started: Array<[number, number]> = [];
    engine.on(Events.STARTED, (e) => {
      started.push([e.state.epoch, e.state.iteration]);
    });
    const state = await engine.run(data, { maxEpochs: 3 });
    expect(started).toEqual([[2, 13]]);
    // the resumed epoch (numbered 3) completes the 10-iteration epoch from iteration 14, reading data from its start
    expect([state.epoch, state.iteration]).toEqual([3, 20]);
    expect(batches).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('keeps a generator object usable across runs: the next run reads on from where the last one stopped', async () => {
    function* forever() {
      let i = 0;
      for (;;) yield i++;
    }
    const data = forever();
    const engine = new Engine((_e, b: number) => b);
    await engine.run(data, { maxEpochs: 1, epochLength: 3 });
    expect(engine.state.output).toBe(2);
    await engine.run(data, { maxEpochs: 2, epochLength: 3 });
    expect([engine.state.iteration, engine.state.output]).toEqual([6, 5]);
    // a new run (maxEpochs omitted: done → restart) on the same generator object also reads on
    await engine.run(data, { epochLength: 3 });
    expect(engine.state.output).toBe(8);
  });

  it('keeps a generator object usable after terminateEpoch() (the reference re-iterates the same object)', async () => {
    function* forever() {
      let i = 0;
      for (;;) yield i++;
    }
    const seen: number[] = [];
    const engine = new Engine((_e, b: number) => {
      seen.push(b);
    });
    engine.on(Events.ITERATION_COMPLETED({ once: 2 }), (e) => e.terminateEpoch());
    await engine.run(forever(), { maxEpochs: 2, epochLength: 3 });
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(engine.state.iteration).toBe(5);
  });
});
