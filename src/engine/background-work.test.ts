// Engine.waitUntil: work a handler leaves running in the background (an async checkpoint's write). The run's ending
// events and run() itself wait for it; its failure fails the run like a handler's error; an event it fires when it
// finishes does not change the loop's lastEventName.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { defineEvents, Events } from './events';
import { type Logger, setLogger } from './logger';

let errors: string[];
let previous: Logger;

beforeEach(() => {
  errors = [];
  previous = setLogger({ debug() {}, info() {}, warn() {}, error: (message) => errors.push(message) });
});

afterEach(() => {
  setLogger(previous);
});

/** A promise with its resolve and reject exposed. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** An engine over `n` batches that records events and starts one piece of work at iteration `at`. */
function tracedEngine(n: number, at: number, work: () => Promise<unknown>) {
  const trace: string[] = [];
  const engine = new Engine<number, number>(async (_e, batch) => {
    await tick(); // a step that takes time, as on a device
    return batch;
  });
  engine.on(Events.ITERATION_COMPLETED, (e) => {
    trace.push(`iteration ${e.state.iteration}`);
    if (e.state.iteration === at) {
      e.waitUntil(
        work().then(() => {
          trace.push('work done');
        }),
      );
    }
  });
  for (const event of [Events.COMPLETED, Events.TERMINATE, Events.INTERRUPT]) {
    engine.on(event, () => {
      trace.push(event.name);
    });
  }
  return { engine, trace, data: Array.from({ length: n }, (_, i) => i) };
}

describe('Engine.waitUntil', () => {
  it('lets training go on while the work runs; COMPLETED and run() wait for it', async () => {
    const gate = deferred();
    const { engine, trace, data } = tracedEngine(4, 1, () => gate.promise);
    let resolved = false;
    const run = engine.run(data).then((state) => {
      resolved = true;
      return state;
    });
    while (!trace.includes('iteration 4')) await tick();
    await tick();
    expect(resolved).toBe(false);
    expect(trace).toEqual(['iteration 1', 'iteration 2', 'iteration 3', 'iteration 4']);
    gate.resolve();
    const state = await run;
    expect(state.iteration).toBe(4);
    expect(trace.slice(-2)).toEqual(['work done', 'completed']);
  });

  it('waits before TERMINATE, and for work started by COMPLETED handlers before run() resolves', async () => {
    const { engine, trace, data } = tracedEngine(5, 2, async () => {
      await tick();
      await tick();
    });
    engine.on(Events.ITERATION_COMPLETED({ once: 2 }), (e) => e.terminate());
    engine.on(Events.COMPLETED, (e) => {
      e.waitUntil(
        (async () => {
          await tick();
          trace.push('late work done');
        })(),
      );
    });
    await engine.run(data);
    expect(trace).toEqual(['iteration 1', 'iteration 2', 'work done', 'terminate', 'completed', 'late work done']);
  });

  it('waits before INTERRUPT and before the interrupted run() resolves; the next run() goes on', async () => {
    const { engine, trace, data } = tracedEngine(4, 1, async () => {
      for (let i = 0; i < 5; i++) await tick();
    });
    engine.on(Events.ITERATION_COMPLETED({ once: 2 }), (e) => e.interrupt());
    const state = await engine.run(data);
    expect(state.iteration).toBe(2);
    expect(engine.isRunning).toBe(false);
    expect(trace).toEqual(['iteration 1', 'iteration 2', 'work done', 'interrupt']);
    await engine.run(data);
    expect(trace.slice(-3)).toEqual(['iteration 3', 'iteration 4', 'completed']);
  });

  it('a failure fails the run at the next check: run() rejects with it and training stops', async () => {
    const gate = deferred();
    const { engine, trace, data } = tracedEngine(50, 1, () => gate.promise);
    const run = engine.run(data);
    while (!trace.includes('iteration 3')) await tick();
    const failure = new Error('disk on fire');
    gate.reject(failure);
    await expect(run).rejects.toBe(failure);
    const last = Number(
      trace
        .filter((t) => t.startsWith('iteration'))
        .at(-1)!
        .split(' ')[1],
    );
    expect(last).toBeLessThan(6); // raised after the event that was running, not at the end of the run
    expect(trace).not.toContain('completed');
    expect(engine.isRunning).toBe(false);
  });

  it('a failure reaches the EXCEPTION_RAISED handlers, which may let the run go on', async () => {
    const failure = new Error('write failed');
    const { engine, trace, data } = tracedEngine(4, 1, async () => {
      await tick();
      throw failure;
    });
    const seen: unknown[] = [];
    engine.on(Events.EXCEPTION_RAISED, (_e, error: unknown) => {
      seen.push(error);
    });
    const state = await engine.run(data, { maxEpochs: 2 });
    expect(seen).toEqual([failure]);
    expect(trace).toContain('completed');
    expect(state.epoch).toBe(2);
  });

  it('a failure noticed only at the end rejects run() after COMPLETED', async () => {
    const failure = new Error('late failure');
    const engine = new Engine((_e, batch: number) => batch);
    engine.on(Events.COMPLETED, (e) => {
      e.waitUntil(Promise.reject(failure));
    });
    await expect(engine.run([1, 2])).rejects.toBe(failure);
  });

  it('when the run fails too, run() rejects with the run error and the work error is logged, not lost', async () => {
    const runError = new Error('step failed');
    const workError = new Error('save failed');
    const gate = deferred();
    const engine = new Engine((e, batch: number) => {
      if (e.state.iteration === 2) throw runError;
      return batch;
    });
    engine.on(Events.ITERATION_COMPLETED({ once: 1 }), (e) => {
      e.waitUntil(gate.promise);
    });
    const run = engine.run([1, 2, 3]);
    await tick();
    gate.reject(workError);
    await expect(run).rejects.toBe(runError);
    expect(errors).toEqual([`Engine: background work failed as well, after the run failed: ${String(workError)}`]);
  });

  it('throws outside a run and for a non-promise', () => {
    const engine = new Engine((_e, batch: number) => batch);
    expect(engine.isRunning).toBe(false);
    expect(() => engine.waitUntil(Promise.resolve())).toThrow(
      'Engine.waitUntil: no run is in progress, so none can wait for this work; await it instead (check engine.isRunning).',
    );
    expect(() => engine.waitUntil(42 as any)).toThrow(TypeError);
    expect(() => engine.waitUntil(42 as any)).toThrow('Engine.waitUntil: argument work should be a promise, got 42.');
  });

  it('an event fired when background work finishes leaves the loop its lastEventName', async () => {
    const Done = defineEvents({ WORK_DONE: 'work_done' });
    const seen: string[] = [];
    const engine = new Engine(async (_e, batch: number) => batch);
    engine.registerEvents([Done.WORK_DONE]);
    const fired: string[] = [];
    engine.on(Done.WORK_DONE, (e) => {
      fired.push(e.lastEventName!);
    });
    engine.on(Events.ITERATION_COMPLETED, async (e) => {
      if (e.state.iteration === 1) e.waitUntil(tick().then(() => e.fireEvent(Done.WORK_DONE)));
      await tick();
      await tick();
    });
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      seen.push(e.lastEventName!);
    });
    await engine.run([1, 2]);
    expect(fired).toEqual(['work_done']);
    expect(seen).toEqual(['iteration_completed', 'iteration_completed']);
    expect(engine.lastEventName).toBe('completed');
  });
});
