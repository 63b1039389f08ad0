import { describe, expect, it } from 'vitest';
import { defineEvents, Engine, Events } from '../engine';
import { BasicTimeProfiler } from './basic-time-profiler';
import { HandlersTimeProfiler } from './handlers-time-profiler';
import { TimeLimit } from './time-limit';

/** A clock the test moves by hand, in milliseconds. */
function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Data of `length` batches whose fetch takes 3 ms on the clock. */
function slowData(clock: ReturnType<typeof fakeClock>, length: number) {
  return {
    length,
    *[Symbol.iterator]() {
      for (let i = 0; i < length; i++) {
        clock.advance(3);
        yield i;
      }
    },
  };
}

/** An engine whose step takes 10 ms, with handlers of known cost: 2 ms per iteration, 7 ms (async) per epoch. */
function timedEngine(clock: ReturnType<typeof fakeClock>) {
  const engine = new Engine((_e, batch: number) => {
    clock.advance(10);
    return batch;
  });
  function logLoss() {
    clock.advance(2);
  }
  const evaluate = {
    async handle() {
      await Promise.resolve();
      clock.advance(7);
    },
  };
  engine.on(Events.ITERATION_COMPLETED, logLoss);
  engine.on(Events.EPOCH_COMPLETED, evaluate);
  return engine;
}

describe('BasicTimeProfiler', () => {
  it('times processing, data loading and the handlers of each event, per firing', async () => {
    const clock = fakeClock();
    const engine = timedEngine(clock);
    const profiler = new BasicTimeProfiler({ now: clock.now });
    profiler.attach(engine);
    engine.on(Events.STARTED, function warmUp() {
      clock.advance(5);
    });
    await engine.run(slowData(clock, 4), { maxEpochs: 2 });
    const results = profiler.getResults();
    expect(results.processingStats.count).toBe(8);
    expect(results.processingStats.total).toBeCloseTo(0.08, 12);
    expect(results.processingStats.mean).toBeCloseTo(0.01, 12);
    expect(results.processingStats.std).toBeCloseTo(0, 12);
    expect(results.dataflowStats.count).toBe(8);
    expect(results.dataflowStats.total).toBeCloseTo(0.024, 12);
    const handlers = results.eventHandlersStats;
    expect(handlers.ITERATION_COMPLETED.count).toBe(8);
    expect(handlers.ITERATION_COMPLETED.total).toBeCloseTo(0.016, 12);
    expect(handlers.EPOCH_COMPLETED.count).toBe(2);
    expect(handlers.EPOCH_COMPLETED.total).toBeCloseTo(0.014, 12);
    expect(handlers.STARTED.total).toBeCloseTo(0.005, 12);
    expect(handlers.ITERATION_STARTED).toMatchObject({ count: 8, total: 0 }); // only the profiler's own marker ran
    expect(handlers.COMPLETED).toMatchObject({ count: 1, total: 0 });
    expect(handlers.totalTime).toBeCloseTo(0.035, 12);
    expect(results.eventHandlersNames.ITERATION_COMPLETED).toEqual(['logLoss']);
    expect(results.eventHandlersNames.EPOCH_COMPLETED).toEqual(['anonymous']); // a plain object
    expect(results.eventHandlersNames.STARTED).toEqual(['warmUp']);
    expect(results.eventHandlersNames.ITERATION_STARTED).toEqual([]);

    const text = BasicTimeProfiler.formatResults(results);
    expect(text).toContain('Processing function:\n0.08000 | 0.01000/0 | 0.01000/0 | 0.01000 | 0.00000\n');
    expect(text).toContain("- Events.ITERATION_COMPLETED: ['logLoss']\n0.01600 | 0.00200/0 |");
    expect(text).toContain("- Events.STARTED: ['warmUp']\n0.00500\n");
    const written: string[] = [];
    expect(BasicTimeProfiler.printResults(results, (line) => written.push(line))).toBe(text);
    expect(written).toEqual([text]);
  });

  it('starts over with each run, and stops when its handle is removed', async () => {
    const clock = fakeClock();
    const engine = timedEngine(clock);
    const profiler = new BasicTimeProfiler({ now: clock.now });
    const handle = profiler.attach(engine);
    await engine.run(slowData(clock, 4), { maxEpochs: 2 });
    await engine.run(slowData(clock, 2), { maxEpochs: 2 }); // the last run finished: a new one starts
    expect(profiler.getResults().processingStats.count).toBe(4);
    handle.remove();
    await engine.run(slowData(clock, 3), { maxEpochs: 2 });
    expect(profiler.getResults().processingStats.count).toBe(4);
    expect(() => profiler.attach(new Engine(() => 0))).toThrow(
      'BasicTimeProfiler.attach: argument engine should be the engine it is attached to, got an instance of Engine. Use one profiler per engine.',
    );
  });

  it('reports "not yet triggered" before a run and rejects unknown options', () => {
    const results = new BasicTimeProfiler().getResults();
    expect(results.processingStats).toEqual({ count: 0, total: null, min: null, max: null, mean: null, std: null });
    expect(BasicTimeProfiler.formatResults(results)).toContain('Processing function:\nnot yet triggered\n');
    expect(() => new BasicTimeProfiler({ userTimings: true } as never)).toThrow(
      "BasicTimeProfiler: unknown option 'userTimings'. Did you mean 'userTiming'? Known options: userTiming, now.",
    );
  });
});

describe('HandlersTimeProfiler', () => {
  it('times each handler on each event, custom events included, and prints the reference table', async () => {
    const clock = fakeClock();
    const engine = timedEngine(clock);
    const Custom = defineEvents({ BACKWARD: 'backward_completed' });
    engine.registerEvents([Custom.BACKWARD]);
    engine.on(Events.ITERATION_COMPLETED({ every: 2 }), () => {
      clock.advance(4);
    });
    engine.on(Events.ITERATION_COMPLETED, async (e) => {
      await e.fireEvent(Custom.BACKWARD);
    });
    engine.on(Custom.BACKWARD, function backward() {
      clock.advance(1);
    });
    const profiler = new HandlersTimeProfiler({ now: clock.now });
    profiler.attach(engine);
    await engine.run(slowData(clock, 4), { maxEpochs: 1 });
    const results = profiler.getResults();
    const rows = results.handlers.map(({ handler, event, stats }) => [handler, event, stats.count, stats.total]);
    // grouped by event; namesakes numbered in the order their first call ended
    expect(rows.map((row) => row.slice(0, 3))).toEqual([
      ['logLoss', 'ITERATION_COMPLETED', 4],
      ['anonymous', 'ITERATION_COMPLETED', 4], // the async one firing the custom event, first seen at iteration 1
      ['anonymous #2', 'ITERATION_COMPLETED', 2], // the filtered one, first seen at iteration 2
      ['backward', 'backward_completed', 4],
      ['anonymous', 'EPOCH_COMPLETED', 1],
    ]);
    const totals = Object.fromEntries(rows.map((row) => [`${row[0]} ${row[1]}`, row[3] as number]));
    expect(totals['logLoss ITERATION_COMPLETED']).toBeCloseTo(0.008, 12);
    // the outer handler's time holds the nested event's handler
    expect(totals['anonymous ITERATION_COMPLETED']).toBeCloseTo(0.004, 12);
    expect(totals['anonymous #2 ITERATION_COMPLETED']).toBeCloseTo(0.008, 12);
    expect(totals['backward backward_completed']).toBeCloseTo(0.004, 12);
    expect(totals['anonymous EPOCH_COMPLETED']).toBeCloseTo(0.007, 12);
    // nested calls are counted once, inside the outer handler
    expect(results.total).toBeCloseTo(0.008 + 0.008 + 0.004 + 0.007, 12);
    expect(results.processing.total).toBeCloseTo(0.04, 12);
    expect(results.dataflow.total).toBeCloseTo(0.012, 12);

    const text = HandlersTimeProfiler.formatResults(results);
    const lines = text.split('\n');
    expect(lines[2]).toMatch(
      /^Handler {3,}Event Name {3,}Total\(s\) +Min\(s\)\/IDX +Max\(s\)\/IDX +Mean\(s\) +Std\(s\)$/,
    );
    expect(lines[4]).toMatch(/^logLoss +ITERATION_COMPLETED +0\.00800 +0\.00200\/0 +0\.00200\/0 +0\.00200 +0\.00000$/);
    expect(lines[8]).toMatch(/^anonymous +EPOCH_COMPLETED +0\.00700 +0\.00700\/0 +0\.00700\/0 +0\.00700 +None$/);
    expect(text).toContain(
      'Processing took total 0.04000s [min/index: 0.01000s/0, max/index: 0.01000s/0, mean: 0.01000s, std: 0.00000s]',
    );
    expect(text).toContain('Dataflow took total 0.01200s');
    expect(lines.find((line) => line.startsWith('Total'))).toMatch(/^Total +0\.02700/);
  });

  it('records performance.measure entries when userTiming is on', async () => {
    performance.clearMeasures();
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_COMPLETED, function logIt() {});
    const profiler = new HandlersTimeProfiler({ userTiming: true });
    profiler.attach(engine);
    const basic = new BasicTimeProfiler({ userTiming: true });
    basic.attach(engine);
    await engine.run([1, 2, 3], { maxEpochs: 1 });
    const names = performance.getEntriesByType('measure').map((entry) => entry.name);
    expect(names.filter((name) => name === 'kindling logIt (ITERATION_COMPLETED)')).toHaveLength(3);
    expect(names.filter((name) => name === 'kindling ITERATION_COMPLETED handlers')).toHaveLength(3);
    // both profilers measure processing and data loading
    expect(names.filter((name) => name === 'kindling processing')).toHaveLength(6);
    expect(names.filter((name) => name === 'kindling dataflow')).toHaveLength(6);
    // neither sees the other's markers
    expect(profiler.getResults().handlers.map((h) => h.handler)).toEqual(['logIt']);
    performance.clearMeasures();
  });

  it('does not record performance entries in Node by default', async () => {
    performance.clearMeasures();
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.ITERATION_COMPLETED, () => {});
    new HandlersTimeProfiler().attach(engine);
    await engine.run([1, 2], { maxEpochs: 1 });
    expect(performance.getEntriesByType('measure')).toEqual([]);
  });
});

describe('TimeLimit', () => {
  it('terminates once the time since its creation passes the limit', async () => {
    const clock = fakeClock();
    const limit = new TimeLimit({ limitSec: 0.05, now: clock.now });
    const engine = new Engine((_e, b: number) => {
      clock.advance(20);
      return b;
    });
    limit.attach(engine);
    const state = await engine.run([1, 2, 3, 4, 5], { maxEpochs: 2 });
    expect(state.iteration).toBe(3); // 60 ms > 50 ms after the third step
    expect(limit.elapsedSec).toBeCloseTo(0.06, 12);
  });

  it('is a plain handler with an eight-hour default and checks its options', async () => {
    const limit = new TimeLimit();
    expect(limit.limitSec).toBe(28800);
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.EPOCH_COMPLETED, limit);
    expect((await engine.run([1, 2], { maxEpochs: 3 })).epoch).toBe(3);
    expect(() => new TimeLimit({ limitSec: 0 })).toThrow(
      'TimeLimit: option limitSec should be a positive number, got 0.',
    );
    expect(() => new TimeLimit({ limit: 5 } as never)).toThrow("TimeLimit: unknown option 'limit'.");
  });
});
