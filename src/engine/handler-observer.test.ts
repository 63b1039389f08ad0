import { describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { Events } from './events';

describe('Engine.observeHandlerCalls', () => {
  it('sees every handler call with its event and handler, sync and async, and can be removed', async () => {
    const engine = new Engine((_e, b: number) => b);
    const seen: string[] = [];
    const order: string[] = [];
    const sync = () => order.push('sync');
    const slow = {
      async handle() {
        await new Promise((resolve) => setTimeout(resolve, 1));
        order.push('async');
      },
    };
    engine.on(Events.ITERATION_COMPLETED, sync);
    engine.on(Events.EPOCH_COMPLETED, slow);
    engine.on(Events.ITERATION_COMPLETED({ every: 2 }), sync);
    const handle = engine.observeHandlerCalls((event, handler, call) => {
      const result = call();
      // an async handler's promise is handed back, so the engine still awaits it
      if (result instanceof Promise) return result.then(() => seen.push(`${event}:async-done`));
      seen.push(`${event}:${handler === sync ? 'sync' : 'other'}`);
      return result;
    });
    await engine.run([1, 2], { maxEpochs: 1 });
    expect(seen).toEqual([
      'iteration_completed:sync',
      'iteration_completed:sync',
      'iteration_completed:sync', // the filtered registration runs at iteration 2 only
      'epoch_completed:async-done',
    ]);
    expect(order).toEqual(['sync', 'sync', 'sync', 'async']);
    handle.remove();
    handle.remove(); // idempotent
    seen.length = 0;
    await engine.run([1, 2], { maxEpochs: 1 });
    expect(seen).toEqual([]);
    expect(order).toHaveLength(8);
  });

  it('nests observers, the last added outermost, and passes handler arguments through', async () => {
    const engine = new Engine((_e, b: number) => b);
    const trace: string[] = [];
    engine.on(Events.STARTED, (_e: unknown, extra: string) => trace.push(`handler ${extra}`), 'arg');
    const outer = (event: string, _h: unknown, call: () => unknown) => {
      trace.push(`outer in ${event}`);
      const result = call();
      trace.push('outer out');
      return result;
    };
    const inner = (_event: string, _h: unknown, call: () => unknown) => {
      trace.push('inner in');
      const result = call();
      trace.push('inner out');
      return result;
    };
    engine.observeHandlerCalls(inner);
    using _outer = engine.observeHandlerCalls(outer);
    await engine.run([1], { maxEpochs: 1 });
    expect(trace).toEqual(['outer in started', 'inner in', 'handler arg', 'inner out', 'outer out']);
  });

  it('rejects a non-function observer', () => {
    const engine = new Engine(() => 0);
    expect(() => engine.observeHandlerCalls(42 as never)).toThrow(
      'Engine.observeHandlerCalls: argument observer should be a function (event, handler, call) => call(), got 42.',
    );
  });
});
