import { describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { Events } from './events';
import { range } from './trace.test-util';

// vitest.config.ts runs the workers with --expose-gc, so heaps are compared after a real collection.
const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in MiB after a full collection. */
function heapMiB(): number {
  if (gc === undefined) throw new Error('memory tests need node --expose-gc (set in vitest.config.ts execArgv)');
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

/** An engine with several handlers of different kinds: plain, filtered, handler object, list, one with args. */
function busyEngine() {
  const counts = { started: 0, iter: 0, every: 0, object: 0, list: 0, withArgs: 0 };
  const engine = new Engine((_e, b: number) => ({ loss: b * 0.5 }));
  const onStarted = () => {
    counts.started += 1;
  };
  const onIter = (e: Engine<any, any>) => {
    counts.iter += 1;
    if (e.state.output.loss < 0) throw new Error('unreachable');
  };
  const onEvery = () => {
    counts.every += 1;
  };
  const object = {
    handle() {
      counts.object += 1;
    },
  };
  const onList = () => {
    counts.list += 1;
  };
  const withArgs = (_e: Engine<any, any>, bucket: number[]) => {
    bucket[0] = (bucket[0] ?? 0) + 1;
    counts.withArgs = bucket[0];
  };
  engine.on(Events.STARTED, onStarted);
  engine.on(Events.ITERATION_COMPLETED, onIter);
  engine.on(Events.ITERATION_COMPLETED({ every: 100 }), onEvery);
  engine.on(Events.GET_BATCH_COMPLETED, object);
  engine.on(Events.EPOCH_STARTED.or(Events.EPOCH_COMPLETED), onList);
  engine.on(Events.ITERATION_STARTED, withArgs, [0]);
  return { engine, counts, handlers: { onStarted, onIter, onEvery, object, onList, withArgs } };
}

describe('Engine: memory', () => {
  it('runs 100k iterations with several handlers without growing its handler lists or the heap', async () => {
    const { engine, counts, handlers } = busyEngine();
    const data = range(1000);
    await engine.run(data, { maxEpochs: 100 }); // warm-up: 100k iterations
    expect(counts).toEqual({ started: 1, iter: 100_000, every: 1000, object: 100_000, list: 200, withArgs: 100_000 });
    const heapAfterFirst = heapMiB();

    await engine.run(data, { maxEpochs: 100 }); // done → restart: another 100k iterations
    const heapAfterSecond = heapMiB();
    expect(counts).toEqual({ started: 2, iter: 200_000, every: 2000, object: 200_000, list: 400, withArgs: 200_000 });
    // Nothing retained per iteration: a leak of even 100 bytes per iteration would show as ~10 MiB.
    expect(heapAfterSecond - heapAfterFirst).toBeLessThan(2);

    // Each handler is registered exactly once (a 1-iteration run calls each once per firing) and nothing was added.
    await engine.run([1]); // maxEpochs omitted: a fresh 1-epoch run
    expect(counts.started).toBe(3);
    expect(counts.iter).toBe(200_001);
    expect(counts.list).toBe(402);
    for (const [name, handler] of Object.entries(handlers)) {
      expect(engine.hasEventHandler(handler), name).toBe(true);
    }
    // removing each once leaves none behind
    engine.removeEventHandler(handlers.onIter, Events.ITERATION_COMPLETED);
    engine.removeEventHandler(handlers.onEvery, Events.ITERATION_COMPLETED);
    expect(engine.hasEventHandler(handlers.onIter)).toBe(false);
    expect(engine.hasEventHandler(handlers.onEvery)).toBe(false);
    expect(engine.state.iteration).toBe(1);
    expect(engine.state.dataloader).toEqual([1]);
  });

  it('does not accumulate handlers when a handler is added and removed every iteration', async () => {
    const engine = new Engine((_e, b: number) => b);
    let transientCalls = 0;
    const transient = () => {
      transientCalls += 1;
    };
    engine.on(Events.ITERATION_STARTED, (e) => {
      using _h = e.on(Events.ITERATION_COMPLETED, transient);
    });
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      const h = e.on(Events.EPOCH_COMPLETED, transient);
      h.remove();
    });
    const heapBefore = heapMiB();
    await engine.run(range(1000), { maxEpochs: 20 });
    expect(transientCalls).toBe(0);
    expect(engine.hasEventHandler(transient)).toBe(false);
    expect(heapMiB() - heapBefore).toBeLessThan(2);
  });

  it('resumes an interrupted run 1000 times and completes with the exact iteration count', async () => {
    const engine = new Engine((_e, b: number) => b);
    const seen: number[] = [];
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.state.output as number);
    });
    let started = 0;
    let interrupts = 0;
    let completed = 0;
    engine.on(Events.STARTED, () => {
      started += 1;
    });
    engine.on(Events.INTERRUPT, () => {
      interrupts += 1;
    });
    engine.on(Events.COMPLETED, () => {
      completed += 1;
    });
    engine.on(Events.ITERATION_COMPLETED({ every: 10 }), (e) => e.interrupt());
    const data = range(100);

    let calls = 0;
    const heapBefore = heapMiB();
    while (completed === 0 && calls < 2000) {
      await engine.run(data, { maxEpochs: 100 });
      calls += 1;
    }
    const heapAfter = heapMiB();
    expect(calls).toBe(1001); // 1000 suspensions, then the call that finishes
    expect(interrupts).toBe(1000);
    expect(started).toBe(1);
    expect(completed).toBe(1);
    expect([engine.state.epoch, engine.state.iteration]).toEqual([100, 10_000]);
    expect(seen).toHaveLength(10_000);
    expect(seen.every((b, i) => b === i % 100)).toBe(true);
    // a suspended run must be released when resumed, not chained: 1000 retained closures would not fit in 1 MiB
    expect(heapAfter - heapBefore).toBeLessThan(2);
  });
});
