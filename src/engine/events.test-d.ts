import { describe, expectTypeOf, it } from 'vitest';
import { Engine, type EventList, Events, type FilteredEvent, type RemovableEventHandle, type State } from './index';

describe('filter options', () => {
  it('accepts one filter group', () => {
    expectTypeOf(Events.ITERATION_COMPLETED({ every: 5 })).toEqualTypeOf<FilteredEvent>();
    expectTypeOf(Events.ITERATION_COMPLETED({ every: 5, before: 25, after: 8 })).toEqualTypeOf<FilteredEvent>();
    expectTypeOf(Events.ITERATION_COMPLETED({ before: 25 })).toEqualTypeOf<FilteredEvent>();
    expectTypeOf(Events.ITERATION_COMPLETED({ after: 8 })).toEqualTypeOf<FilteredEvent>();
    expectTypeOf(Events.ITERATION_COMPLETED({ once: 3 })).toEqualTypeOf<FilteredEvent>();
    expectTypeOf(Events.ITERATION_COMPLETED({ once: [1, 5] })).toEqualTypeOf<FilteredEvent>();
    expectTypeOf(Events.EPOCH_COMPLETED({ eventFilter: (_engine, epoch) => epoch > 2 })).toEqualTypeOf<FilteredEvent>();
  });

  it('rejects mixed groups, no group, unknown keys and wrong types', () => {
    // @ts-expect-error every and once are different groups
    Events.ITERATION_COMPLETED({ every: 5, once: 3 });
    // @ts-expect-error once with before
    Events.ITERATION_COMPLETED({ once: 3, before: 10 });
    // @ts-expect-error eventFilter with every
    Events.ITERATION_COMPLETED({ eventFilter: () => true, every: 2 });
    // @ts-expect-error no filter at all
    Events.ITERATION_COMPLETED({});
    // @ts-expect-error an argument is required
    Events.ITERATION_COMPLETED();
    // @ts-expect-error every is a number
    Events.ITERATION_COMPLETED({ every: '5' });
    // @ts-expect-error unknown option
    Events.ITERATION_COMPLETED({ evry: 5 });
    // @ts-expect-error eventFilter returns a boolean from (engine, value)
    Events.ITERATION_COMPLETED({ eventFilter: (_engine: Engine, value: string) => value === 'x' });
  });
});

describe('event lists', () => {
  it('builds EventList with or()', () => {
    expectTypeOf(Events.STARTED.or(Events.COMPLETED)).toEqualTypeOf<EventList>();
    expectTypeOf(Events.EPOCH_COMPLETED({ every: 2 }).or(Events.COMPLETED)).toEqualTypeOf<EventList>();
    // @ts-expect-error a number is not an event
    Events.STARTED.or(3);
  });
});

describe('handler signatures', () => {
  it('infers state.output and state.batch from the process function', () => {
    const engine = new Engine((_e, b: number) => b * 2);
    expectTypeOf(engine).toEqualTypeOf<Engine<number, number>>();
    engine.on(Events.ITERATION_COMPLETED, (eng) => {
      expectTypeOf(eng.state.output).toEqualTypeOf<number | null>();
      expectTypeOf(eng.state.batch).toEqualTypeOf<number | null>();
      expectTypeOf(eng.state.iteration).toEqualTypeOf<number>();
    });
    const text = new Engine(async (_e, b: string[]) => b.join(' '));
    text.on(Events.EPOCH_COMPLETED({ every: 2 }), (eng) => {
      expectTypeOf(eng.state.output).toEqualTypeOf<string | null>();
    });
  });

  it('returns a disposable handle and a promise of the state', () => {
    const engine = new Engine((_e, b: number) => b);
    const handle = engine.on(Events.STARTED, () => {});
    expectTypeOf(handle).toEqualTypeOf<RemovableEventHandle>();
    expectTypeOf(handle[Symbol.dispose]).toEqualTypeOf<() => void>();
    expectTypeOf(engine.run([1, 2])).toEqualTypeOf<Promise<State<number, number>>>();
  });

  it('accepts handler objects and extra args', () => {
    const engine = new Engine((_e, b: number) => b);
    engine.on(Events.STARTED, { handle: (eng) => expectTypeOf(eng.state.output).toEqualTypeOf<number | null>() });
    engine.on(Events.EXCEPTION_RAISED, (_eng, error: unknown) => error, 'extra');
    // @ts-expect-error a number is not a handler
    engine.on(Events.STARTED, 5);
  });

  it('types run() data and options', () => {
    const engine = new Engine((_e, b: number) => b);
    engine.run(null, { epochLength: 3 });
    engine.run(
      (async function* () {
        yield 1;
      })(),
    );
    // @ts-expect-error batches must match the process function
    engine.run(['a']);
    // @ts-expect-error maxEpochs is a number
    engine.run([1], { maxEpochs: '2' });
  });
});
