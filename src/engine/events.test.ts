import { describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { type CallableEvent, defineEvents, EventList, Events, FilteredEvent, type FilterOptions } from './events';
import { range } from './trace.test-util';

/** Runs 100 batches for 5 epochs and returns the `attr` values at which a handler on `event` ran. */
async function firedAt(event: CallableEvent | FilteredEvent, attr: 'epoch' | 'iteration'): Promise<number[]> {
  const engine = new Engine((_e, b: number) => b);
  const values: number[] = [];
  engine.on(event, (e) => {
    values.push(e.state[attr]);
  });
  await engine.run(range(100), { maxEpochs: 5 });
  return values;
}

const nums = (from: number, to: number, step = 1) =>
  range(Math.floor((to - from) / step) + 1).map((i) => from + i * step);

describe('Events: callable events and filters', () => {
  it('keeps the base event unchanged when called with a filter', () => {
    const filtered = Events.ITERATION_COMPLETED({ every: 10 });
    expect(filtered).toBeInstanceOf(FilteredEvent);
    expect(filtered.event).toBe(Events.ITERATION_COMPLETED);
    expect(filtered.name).toBe('iteration_completed');
    expect(Events.ITERATION_COMPLETED.name).toBe('iteration_completed');
    expect(Events.ITERATION_COMPLETED({ every: 1 })).not.toBe(filtered);
    expect(String(filtered)).toContain('ITERATION_COMPLETED');
    expect(String(Events.EPOCH_STARTED)).toContain('EPOCH_STARTED');
  });

  it('names the 13 built-in events in lower case', () => {
    expect(Object.entries(Events).map(([k, e]) => [k, e.name])).toEqual(
      [
        'STARTED',
        'EPOCH_STARTED',
        'GET_BATCH_STARTED',
        'GET_BATCH_COMPLETED',
        'ITERATION_STARTED',
        'ITERATION_COMPLETED',
        'DATALOADER_STOP_ITERATION',
        'EXCEPTION_RAISED',
        'TERMINATE',
        'TERMINATE_SINGLE_EPOCH',
        'INTERRUPT',
        'EPOCH_COMPLETED',
        'COMPLETED',
      ].map((k) => [k, k.toLowerCase()]),
    );
  });

  it.each([
    [Events.ITERATION_STARTED, 'iteration', 10, nums(10, 500, 10)],
    [Events.ITERATION_COMPLETED, 'iteration', 10, nums(10, 500, 10)],
    [Events.GET_BATCH_STARTED, 'iteration', 100, [0, 100, 200, 300, 400]], // fires before the increment: 0..499
    [Events.GET_BATCH_COMPLETED, 'iteration', 100, [0, 100, 200, 300, 400]],
    [Events.EPOCH_STARTED, 'epoch', 2, [2, 4]],
    [Events.EPOCH_COMPLETED, 'epoch', 2, [2, 4]],
    [Events.COMPLETED, 'epoch', 5, [5]],
    [Events.STARTED, 'epoch', 1, [0]],
  ] as const)('every: %s tests %s, every %i', async (event, attr, every, expected) => {
    expect(await firedAt(event({ every }), attr)).toEqual(expected);
  });

  it('every: 1 fires each time', async () => {
    expect(await firedAt(Events.EPOCH_COMPLETED({ every: 1 }), 'epoch')).toEqual([1, 2, 3, 4, 5]);
  });

  it.each([
    [Events.ITERATION_COMPLETED, 'iteration', 2, [1]],
    [Events.ITERATION_COMPLETED, 'iteration', 300, nums(1, 299)],
    [Events.ITERATION_COMPLETED, 'iteration', 501, nums(1, 500)],
    [Events.EPOCH_COMPLETED, 'epoch', 2, [1]],
    [Events.EPOCH_COMPLETED, 'epoch', 3, [1, 2]],
    [Events.EPOCH_COMPLETED, 'epoch', 6, [1, 2, 3, 4, 5]],
  ] as const)('before (exclusive): %s tests %s, before %i', async (event, attr, before, expected) => {
    expect(await firedAt(event({ before }), attr)).toEqual(expected);
  });

  it.each([
    [Events.ITERATION_STARTED, 'iteration', 0, 500],
    [Events.ITERATION_COMPLETED, 'iteration', 300, 200],
    [Events.ITERATION_COMPLETED, 'iteration', 500, 0],
    [Events.EPOCH_STARTED, 'epoch', 0, 5],
    [Events.EPOCH_COMPLETED, 'epoch', 3, 2],
    [Events.EPOCH_COMPLETED, 'epoch', 5, 0],
  ] as const)('after (exclusive): %s tests %s, after %i fires %i times', async (event, attr, after, count) => {
    const values = await firedAt(event({ after }), attr);
    expect(values).toHaveLength(count);
    expect(values.every((v) => v > after)).toBe(true);
  });

  it('before and after together', async () => {
    expect(await firedAt(Events.ITERATION_STARTED({ before: 300, after: 100 }), 'iteration')).toEqual(nums(101, 299));
    expect(await firedAt(Events.EPOCH_COMPLETED({ before: 4, after: 1 }), 'epoch')).toEqual([2, 3]);
  });

  it('every with before and after counts from after + 1', async () => {
    expect(await firedAt(Events.ITERATION_STARTED({ every: 5, before: 25, after: 8 }), 'iteration')).toEqual([
      9, 14, 19, 24,
    ]);
    expect(await firedAt(Events.EPOCH_COMPLETED({ every: 2, before: 5, after: 1 }), 'epoch')).toEqual([2, 4]);
    expect(await firedAt(Events.ITERATION_COMPLETED({ every: 100, after: 250 }), 'iteration')).toEqual([251, 351, 451]);
    expect(await firedAt(Events.ITERATION_COMPLETED({ every: 3, before: 10 }), 'iteration')).toEqual([1, 4, 7]);
  });

  it.each([
    [Events.ITERATION_STARTED, 'iteration', 2, [2]],
    [Events.ITERATION_COMPLETED, 'iteration', 2, [2]],
    [Events.EPOCH_STARTED, 'epoch', 2, [2]],
    [Events.EPOCH_COMPLETED, 'epoch', 2, [2]],
    [Events.ITERATION_STARTED, 'iteration', [1, 5], [1, 5]],
    [Events.ITERATION_COMPLETED, 'iteration', [5, 1, 5], [1, 5]],
    [Events.EPOCH_STARTED, 'epoch', [1, 5], [1, 5]],
    [Events.EPOCH_COMPLETED, 'epoch', [1, 5, 7], [1, 5]],
  ] as const)('once: %s tests %s, once %j', async (event, attr, once, expected) => {
    expect(await firedAt(event({ once }), attr)).toEqual(expected);
  });

  it('eventFilter gets (engine, value) and decides', async () => {
    const seen: Array<[unknown, number]> = [];
    let engineRef: unknown = null;
    const filter = (engine: Engine<any, any>, value: number) => {
      engineRef = engine;
      seen.push([engine.state.epoch, value]);
      return value === 1 || value === 3 || value === 4;
    };
    const values = await firedAt(Events.EPOCH_STARTED({ eventFilter: filter }), 'epoch');
    expect(values).toEqual([1, 3, 4]);
    expect(seen).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [4, 4],
      [5, 5],
    ]);
    expect(engineRef).toBeInstanceOf(Engine);
  });

  it('runs filtered and unfiltered handlers of one event in registration order', async () => {
    const engine = new Engine((_e, b: number) => b);
    const order: string[] = [];
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      order.push(`a${e.state.iteration}`);
    });
    engine.on(Events.ITERATION_COMPLETED({ every: 2 }), (e) => {
      order.push(`b${e.state.iteration}`);
    });
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      order.push(`c${e.state.iteration}`);
    });
    await engine.run(range(4));
    expect(order).toEqual(['a1', 'c1', 'a2', 'b2', 'c2', 'a3', 'c3', 'a4', 'b4', 'c4']);
  });

  describe('filter validation', () => {
    const ef = () => true;
    // Ignite's table: [eventFilter, every, once, before, after] → raises?
    const table: Array<[boolean, number | undefined, number | undefined, number | undefined, number | undefined]> = [];
    for (const hasEf of [false, true])
      for (const every of [undefined, 2])
        for (const once of [undefined, 2])
          for (const [before, after] of [
            [undefined, undefined],
            [undefined, 10],
            [30, undefined],
            [25, 8],
          ] as const)
            table.push([hasEf, every, once, before, after]);

    it.each(table)('eventFilter %s, every %s, once %s, before %s, after %s', (hasEf, every, once, before, after) => {
      const options: Record<string, unknown> = {};
      if (hasEf) options.eventFilter = ef;
      if (every !== undefined) options.every = every;
      if (once !== undefined) options.once = once;
      if (before !== undefined) options.before = before;
      if (after !== undefined) options.after = after;
      const groups =
        Number(hasEf) +
        Number(once !== undefined) +
        Number(every !== undefined || before !== undefined || after !== undefined);
      const call = () => Events.ITERATION_STARTED(options as FilterOptions);
      if (groups === 1) expect(call()).toBeInstanceOf(FilteredEvent);
      else {
        expect(call).toThrow(TypeError);
        expect(call).toThrow(/only one of the input arguments should be specified, except before, after and every/);
      }
    });

    it.each([
      [{ eventFilter: '123' }, TypeError, /eventFilter should be a function/],
      [{ every: -1 }, RangeError, /every should be integer and greater than zero/],
      [{ every: 0 }, RangeError, /every should be integer and greater than zero/],
      [{ every: 2.5 }, RangeError, /every should be integer and greater than zero/],
      [{ once: -1 }, RangeError, /once should either be a positive integer or a list of positive integers/],
      [{ once: 0 }, RangeError, /once should either be a positive integer or a list of positive integers/],
      [
        { once: [1, 10.5, 'pytorch'] },
        RangeError,
        /once should either be a positive integer or a list of positive integers/,
      ],
      [{ once: [] }, RangeError, /once should either be a positive integer or a list of positive integers/],
      [{ before: -1 }, RangeError, /before should be integer and greater or equal to zero/],
      [{ after: -1 }, RangeError, /after should be integer and greater or equal to zero/],
      [{ after: 1.5 }, RangeError, /after should be integer and greater or equal to zero/],
      [{ evry: 5 }, TypeError, /unknown filter option 'evry'/],
      [{}, TypeError, /only one of the input arguments/],
      [undefined, TypeError, /expected one filter object/],
      [null, TypeError, /expected one filter object/],
      [5, TypeError, /expected one filter object/],
    ] as const)('rejects %j', (options, type, message) => {
      const call = () => (Events.ITERATION_STARTED as any)(options);
      expect(call).toThrow(type);
      expect(call).toThrow(message);
    });

    it('accepts after: 0, and rejects before/after ranges with no integer inside (they could never fire)', () => {
      expect(Events.ITERATION_STARTED({ after: 0 })).toBeInstanceOf(FilteredEvent);
      expect(Events.ITERATION_STARTED({ before: 2 })).toBeInstanceOf(FilteredEvent);
      for (const options of [{ before: 0 }, { before: 1 }, { before: 2, after: 5 }, { before: 3, after: 2 }]) {
        expect(() => Events.ITERATION_STARTED(options)).toThrow(RangeError);
        expect(() => Events.ITERATION_STARTED(options)).toThrow(/would never fire/);
      }
      expect(() => Events.EPOCH_COMPLETED({ every: 2, before: 4, after: 3 })).toThrow(
        'Events.EPOCH_COMPLETED(...): arguments before and after leave no value to fire on',
      );
    });
  });
});

describe('Engine: adding and removing handlers', () => {
  it('passes extra args after the engine', async () => {
    const engine = new Engine((_e, b: number) => b);
    const calls: unknown[][] = [];
    engine.on(
      Events.STARTED,
      (...args: unknown[]) => {
        calls.push(args);
      },
      'x',
      42,
    );
    await engine.run([1]);
    expect(calls).toEqual([[engine, 'x', 42]]);
  });

  it('calls handler objects as obj.handle(engine, ...args) with their this', async () => {
    const engine = new Engine((_e, b: number) => b);
    const counter = {
      count: 0,
      args: [] as unknown[],
      handle(e: Engine<any, any>, ...args: unknown[]) {
        this.count += 1;
        this.args = [e, ...args];
      },
    };
    engine.on(Events.ITERATION_COMPLETED, counter, 'tag');
    expect(engine.hasEventHandler(counter, Events.ITERATION_COMPLETED)).toBe(true);
    await engine.run(range(5), { maxEpochs: 2 });
    expect(counter.count).toBe(10);
    expect(counter.args).toEqual([engine, 'tag']);
    engine.removeEventHandler(counter, Events.ITERATION_COMPLETED);
    expect(engine.hasEventHandler(counter)).toBe(false);
  });

  it('rejects handlers that are neither functions nor handler objects', () => {
    const engine = new Engine((_e, b: number) => b);
    expect(() => engine.on(Events.STARTED, null as any)).toThrow(TypeError);
    expect(() => engine.on(Events.STARTED, { handle: 3 } as any)).toThrow(/handler should be a function/);
    expect(() => engine.on(Events.STARTED, 'nope' as any)).toThrow(TypeError);
  });

  it('rejects things that are not events', () => {
    const engine = new Engine((_e, b: number) => b);
    expect(() => engine.on(42 as any, () => {})).toThrow(TypeError);
    expect(() => engine.on({ name: 'started' } as any, () => {})).toThrow(TypeError);
    expect(() => engine.on([], () => {})).toThrow(/empty/);
  });

  it('rejects events not registered with this engine ("not a valid event for this Engine")', () => {
    const engine = new Engine((_e, b: number) => b);
    const Custom = defineEvents({ NOPE: 'nope' });
    expect(() => engine.on(Custom.NOPE, () => {})).toThrow(/not a valid event for this Engine/);
    expect(() => engine.on('wrong_event_name', () => {})).toThrow(/not a valid event for this Engine/);
    expect(() => engine.on(Custom.NOPE({ every: 2 }), () => {})).toThrow(/not a valid event for this Engine/);
    // nothing of a list is added when one member is invalid
    const fn = () => {};
    expect(() => engine.on([Events.STARTED, 'wrong'], fn)).toThrow(/not a valid event/);
    expect(engine.hasEventHandler(fn)).toBe(false);
  });

  it('removes every registration of a handler under one event, whatever its filter', async () => {
    const engine = new Engine((_e, b: number) => b);
    let calls = 0;
    const h = () => {
      calls += 1;
    };
    engine.on(Events.EPOCH_COMPLETED({ every: 3 }), h);
    engine.on(Events.EPOCH_COMPLETED, h);
    engine.on(Events.EPOCH_STARTED, h);
    expect(engine.hasEventHandler(h, Events.EPOCH_COMPLETED)).toBe(true);
    expect(engine.hasEventHandler(h, Events.EPOCH_COMPLETED({ every: 3 }))).toBe(true);
    engine.removeEventHandler(h, Events.EPOCH_COMPLETED({ every: 7 }));
    expect(engine.hasEventHandler(h, Events.EPOCH_COMPLETED)).toBe(false);
    expect(engine.hasEventHandler(h, Events.EPOCH_STARTED)).toBe(true);
    expect(engine.hasEventHandler(h)).toBe(true);
    await engine.run([1], { maxEpochs: 3 });
    expect(calls).toBe(3);
  });

  it('errors when removing from an unknown event or an unknown handler', () => {
    const engine = new Engine((_e, b: number) => b);
    const h = () => {};
    expect(() => engine.removeEventHandler(h, Events.TERMINATE)).toThrow(/event name 'terminate' does not exist/);
    engine.on(Events.TERMINATE, () => {});
    expect(() => engine.removeEventHandler(h, Events.TERMINATE)).toThrow(/handler .* is not found/);
    expect(() => engine.removeEventHandler(h, 5 as any)).toThrow(TypeError);
  });

  it('hasEventHandler is false for a handler that was never added', () => {
    const engine = new Engine((_e, b: number) => b);
    const h = () => {};
    expect(engine.hasEventHandler(h)).toBe(false);
    expect(engine.hasEventHandler(h, Events.STARTED)).toBe(false);
    engine.on(Events.STARTED, h);
    expect(engine.hasEventHandler(h)).toBe(true);
    expect(engine.hasEventHandler(h, Events.COMPLETED)).toBe(false);
  });

  it('the handle removes exactly what its call added, idempotently', async () => {
    const engine = new Engine((_e, b: number) => b);
    let calls = 0;
    const h = () => {
      calls += 1;
    };
    const first = engine.on(Events.EPOCH_COMPLETED, h);
    const second = engine.on(Events.EPOCH_COMPLETED, h);
    first.remove();
    first.remove();
    expect(engine.hasEventHandler(h, Events.EPOCH_COMPLETED)).toBe(true);
    await engine.run([1], { maxEpochs: 2 });
    expect(calls).toBe(2);
    second.remove();
    expect(engine.hasEventHandler(h)).toBe(false);
    // a handle outliving removeEventHandler is harmless
    const third = engine.on(Events.EPOCH_COMPLETED, h);
    engine.removeEventHandler(h, Events.EPOCH_COMPLETED);
    expect(() => third.remove()).not.toThrow();
  });

  it('is Disposable: `using` removes the handler at the end of the block', async () => {
    const engine = new Engine((_e, b: number) => b);
    let calls = 0;
    const h = () => {
      calls += 1;
    };
    {
      using _handle = engine.on(Events.ITERATION_COMPLETED, h);
      expect(engine.hasEventHandler(h)).toBe(true);
      await engine.run([1, 2, 3]);
    }
    expect(engine.hasEventHandler(h)).toBe(false);
    await engine.run([1, 2, 3]);
    expect(calls).toBe(3);
    const handle = engine.on(Events.STARTED.or(Events.COMPLETED), h);
    handle[Symbol.dispose]();
    expect(engine.hasEventHandler(h)).toBe(false);
  });

  it('lets a handler remove itself during its own event; the others of that firing still run', async () => {
    const engine = new Engine((_e, b: number) => b);
    const order: string[] = [];
    const self = (e: Engine<any, any>) => {
      order.push(`self${e.state.iteration}`);
      e.removeEventHandler(self, Events.ITERATION_COMPLETED);
    };
    engine.on(Events.ITERATION_COMPLETED, self);
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      order.push(`next${e.state.iteration}`);
    });
    await engine.run(range(3));
    expect(order).toEqual(['self1', 'next1', 'next2', 'next3']);
  });

  it('lets a handler remove a later handler of the same event: the removal shows from the next firing', async () => {
    const engine = new Engine((_e, b: number) => b);
    const order: string[] = [];
    const later = (e: Engine<any, any>) => {
      order.push(`later${e.state.iteration}`);
    };
    let handle: { remove(): void } | null = null;
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      order.push(`first${e.state.iteration}`);
      handle?.remove();
    });
    handle = engine.on(Events.ITERATION_COMPLETED, later);
    await engine.run(range(2));
    expect(order).toEqual(['first1', 'later1', 'first2']);
  });

  it('lets a handler add another during an event: it runs from the next firing', async () => {
    const engine = new Engine((_e, b: number) => b);
    const order: string[] = [];
    let added = false;
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      order.push(`a${e.state.iteration}`);
      if (!added) {
        added = true;
        e.on(Events.ITERATION_COMPLETED, (e2) => {
          order.push(`b${e2.state.iteration}`);
        });
      }
    });
    await engine.run(range(3));
    expect(order).toEqual(['a1', 'a2', 'b2', 'a3', 'b3']);
  });

  it('awaits async handlers in order before the loop goes on', async () => {
    const engine = new Engine((e, b: number) => {
      order.push(`process${e.state.iteration}`);
      return b;
    });
    const order: string[] = [];
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    engine.on(Events.ITERATION_STARTED, async (e) => {
      await sleep(3);
      order.push(`slow${e.state.iteration}`);
    });
    engine.on(Events.ITERATION_STARTED, (e) => {
      order.push(`sync${e.state.iteration}`);
    });
    engine.on(Events.ITERATION_STARTED, async (e) => {
      await sleep(1);
      order.push(`fast${e.state.iteration}`);
    });
    await engine.run(range(2));
    expect(order).toEqual(['slow1', 'sync1', 'fast1', 'process1', 'slow2', 'sync2', 'fast2', 'process2']);
  });
});

describe('Event lists', () => {
  it('registers a handler on each member of A.or(B) in order, and one handle removes them all', async () => {
    const engine = new Engine((_e, b: number) => b);
    const seen: string[] = [];
    const h = (e: Engine<any, any>) => {
      seen.push(`${e.lastEventName}@${e.state.epoch}`);
    };
    const list = Events.STARTED.or(Events.EPOCH_COMPLETED({ every: 2 })).or(Events.COMPLETED);
    expect(list).toBeInstanceOf(EventList);
    expect(list.length).toBe(3);
    const handle = engine.on(list, h);
    await engine.run([1], { maxEpochs: 4 });
    expect(seen).toEqual(['started@0', 'epoch_completed@2', 'epoch_completed@4', 'completed@4']);
    handle.remove();
    expect(engine.hasEventHandler(h)).toBe(false);
  });

  it('accepts an array of events', async () => {
    const engine = new Engine((_e, b: number) => b);
    let calls = 0;
    engine.on([Events.EPOCH_STARTED, Events.EPOCH_COMPLETED({ once: 2 })], () => {
      calls += 1;
    });
    await engine.run([1], { maxEpochs: 3 });
    expect(calls).toBe(4);
  });

  it('runs a handler once per matching member when the list has duplicates', async () => {
    const engine = new Engine((_e, b: number) => b);
    const seen: number[] = [];
    const h = (e: Engine<any, any>) => {
      seen.push(e.state.iteration);
    };
    const handle = engine.on(
      Events.ITERATION_COMPLETED.or(Events.ITERATION_COMPLETED({ every: 2 })).or(Events.ITERATION_COMPLETED),
      h,
    );
    await engine.run(range(4));
    expect(seen).toEqual([1, 1, 2, 2, 2, 3, 3, 4, 4, 4]);
    handle.remove();
    expect(engine.hasEventHandler(h)).toBe(false);
  });

  it('joins lists with lists and filtered events with events', () => {
    const a = Events.STARTED.or(Events.COMPLETED);
    const b = Events.EPOCH_STARTED({ every: 2 }).or(Events.EPOCH_COMPLETED);
    const joined = a.or(b);
    expect(joined.length).toBe(4);
    expect([...joined].map((e) => (typeof e === 'string' ? e : e.name))).toEqual([
      'started',
      'completed',
      'epoch_started',
      'epoch_completed',
    ]);
    // the originals are unchanged
    expect(a.length).toBe(2);
    expect(b.length).toBe(2);
  });

  it('rejects appending something that is not an event', () => {
    expect(() => Events.STARTED.or(1 as any)).toThrow(TypeError);
    expect(() => Events.STARTED.or(Events.COMPLETED).or({} as any)).toThrow(/should be an event/);
  });
});

describe('Custom events', () => {
  const Custom = defineEvents({ TEST_EVENT: 'test_event', OTHER: 'other_event' });

  it('are never fired by run() itself', async () => {
    const engine = new Engine((_e, b: number) => b);
    engine.registerEvents(Object.values(Custom));
    engine.registerEvents(['a', 'b']);
    let calls = 0;
    for (const e of [Custom.TEST_EVENT, Custom.OTHER, 'a', 'b']) {
      engine.on(e, () => {
        calls += 1;
      });
    }
    await engine.run([1]);
    expect(calls).toBe(0);
  });

  it('fire through fireEvent, by event or by name', async () => {
    const engine = new Engine(async (e: Engine<number, unknown>) => {
      await e.fireEvent(Custom.TEST_EVENT);
      await e.fireEvent('a');
    });
    engine.registerEvents([Custom.TEST_EVENT, 'a']);
    const seen: string[] = [];
    engine.on(Custom.TEST_EVENT, (e) => {
      seen.push(`t${e.state.iteration}`);
    });
    engine.on('a', (e) => {
      seen.push(`a${e.state.iteration}`);
    });
    await engine.run(range(2));
    expect(seen).toEqual(['t1', 'a1', 't2', 'a2']);
  });

  it('rejects fireEvent on an unregistered event', async () => {
    const engine = new Engine((_e, b: number) => b);
    await expect(engine.fireEvent(Custom.OTHER)).rejects.toThrow(/not a valid event for this Engine/);
  });

  it('hasRegisteredEvents tells built-in and registered events from others', () => {
    const engine = new Engine((_e, b: number) => b);
    expect(engine.hasRegisteredEvents(Events.STARTED)).toBe(true);
    expect(engine.hasRegisteredEvents(Events.ITERATION_COMPLETED)).toBe(true);
    expect(engine.hasRegisteredEvents('non_existent_event')).toBe(false);
    expect(engine.hasRegisteredEvents(Custom.TEST_EVENT)).toBe(false);
    engine.registerEvents([Custom.TEST_EVENT]);
    expect(engine.hasRegisteredEvents(Custom.TEST_EVENT)).toBe(true);
  });

  it('map to a state counter with eventToAttr (initialised to 0) so filters work on them', async () => {
    const engine = new Engine(async (e: Engine<number, unknown>) => {
      e.state.testCount += 1;
      await e.fireEvent(Custom.TEST_EVENT);
    });
    engine.registerEvents(Object.values(Custom), { eventToAttr: { test_event: 'testCount' } });
    expect(engine.state.testCount).toBe(0);
    const seen: number[] = [];
    engine.on(Custom.TEST_EVENT({ every: 3 }), (e) => {
      seen.push(e.state.testCount);
    });
    await engine.run(range(10));
    expect(engine.state.testCount).toBe(10);
    expect(seen).toEqual([3, 6, 9]);
  });

  it('keeps eventToAttr per engine', async () => {
    const a = new Engine((_e, b: number) => b);
    const b = new Engine(async (e: Engine<number, unknown>) => {
      await e.fireEvent(Custom.TEST_EVENT);
    });
    a.registerEvents([Custom.TEST_EVENT], { eventToAttr: { test_event: 'testCount' } });
    b.registerEvents([Custom.TEST_EVENT]);
    expect('testCount' in b.state).toBe(false);
    b.on(Custom.TEST_EVENT({ every: 2 }), () => {});
    await expect(b.run([1])).rejects.toThrow(/Unknown event name/);
  });

  it('can be joined with built-in events in a list', async () => {
    const engine = new Engine(async (e: Engine<number, unknown>) => {
      await e.fireEvent(Custom.TEST_EVENT);
    });
    engine.registerEvents([Custom.TEST_EVENT]);
    const seen: Array<string | null> = [];
    engine.on(Custom.TEST_EVENT.or(Events.STARTED), (e) => {
      seen.push(e.lastEventName);
    });
    await engine.run([1, 2]);
    expect(seen).toEqual(['started', 'test_event', 'test_event']);
  });

  it('registerEvents rejects bad input', () => {
    const engine = new Engine((_e, b: number) => b);
    expect(() => engine.registerEvents(null as any)).toThrow(TypeError);
    expect(() => engine.registerEvents('abc' as any)).toThrow(/should be an array/);
    expect(() => engine.registerEvents(['str', null] as any)).toThrow(/value at 1 of events/);
    expect(() => engine.registerEvents([1] as any)).toThrow(/value at 0 of events/);
    expect(() => engine.registerEvents([{}] as any)).toThrow(TypeError);
    expect(() => engine.registerEvents([Events.STARTED({ every: 2 })] as any)).toThrow(TypeError);
    expect(() => engine.registerEvents([Custom.TEST_EVENT], { eventToAttr: 'a' as any })).toThrow(/eventToAttr/);
  });

  it('defineEvents rejects bad input and makes callable, frozen events', () => {
    expect(() => defineEvents(null as any)).toThrow(TypeError);
    expect(() => defineEvents({ A: '' })).toThrow(/non-empty string/);
    expect(() => defineEvents({ A: 3 as any })).toThrow(TypeError);
    const E = defineEvents({ X: 'x' });
    expect(E.X.name).toBe('x');
    expect(E.X({ once: 1 })).toBeInstanceOf(FilteredEvent);
    expect(Object.isFrozen(E)).toBe(true);
  });
});
