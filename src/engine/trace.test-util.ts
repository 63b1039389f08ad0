// Test support for the engine's test files (not a test itself, not exported from the package).
import type { Engine } from './engine';
import { type CallableEvent, Events, type FilteredEvent } from './events';
import { type Logger, setLogger } from './logger';

/** One fired event as the tests see it: `[epoch, iteration, eventName]`. */
export type Step = [epoch: number, iteration: number, event: string];

/** Every built-in event except EXCEPTION_RAISED (a handler there would change how errors propagate). */
export const TRACED_EVENTS: readonly CallableEvent[] = Object.values(Events).filter(
  (e) => e !== Events.EXCEPTION_RAISED,
);

/**
 * Records `[epoch, iteration, event]` each time one of `events` fires. Register it before the handlers under test so
 * that it sees each event first, as Ignite's `RecordedEngine` does.
 */
export function record(engine: Engine<any, any>, events: readonly CallableEvent[] = TRACED_EVENTS): Step[] {
  const trace: Step[] = [];
  for (const event of events) {
    engine.on(event, (e: Engine<any, any>) => {
      trace.push([e.state.epoch, e.state.iteration, event.name]);
    });
  }
  return trace;
}

/**
 * The trace of an uninterrupted run over data of `dataLength` items (or no data when `dataLength` is null), for
 * `maxEpochs` epochs of `epochLength` iterations, written out from engine-semantics.md by hand-rolled rules:
 * GET_BATCH_* before the increment, DATALOADER_STOP_ITERATION when the stream runs dry mid-run (and no second
 * GET_BATCH_STARTED right after it).
 */
export function expectedTrace(options: { epochLength: number; maxEpochs: number; dataLength: number | null }): Step[] {
  const { epochLength, maxEpochs, dataLength } = options;
  const trace: Step[] = [[0, 0, 'started']];
  let iteration = 0;
  let consumed = 0; // items taken from the current pass over the data
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    trace.push([epoch, iteration, 'epoch_started']);
    for (let i = 0; i < epochLength; i++) {
      if (dataLength !== null) {
        trace.push([epoch, iteration, 'get_batch_started']);
        if (consumed === dataLength) {
          trace.push([epoch, iteration, 'dataloader_stop_iteration']);
          consumed = 0;
        }
        consumed += 1;
        trace.push([epoch, iteration, 'get_batch_completed']);
      }
      iteration += 1;
      trace.push([epoch, iteration, 'iteration_started'], [epoch, iteration, 'iteration_completed']);
    }
    trace.push([epoch, iteration, 'epoch_completed']);
  }
  trace.push([maxEpochs, iteration, 'completed']);
  return trace;
}

/** Counts how many times each event name appears in a trace. */
export function countEvents(trace: readonly Step[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, , name] of trace) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
}

/** Routes kindling's log to arrays for the duration of a test; call `restore()` in `afterEach`. */
export function captureLog(): { warnings: string[]; infos: string[]; restore: () => void } {
  const warnings: string[] = [];
  const infos: string[] = [];
  const logger: Logger = {
    debug() {},
    info: (message) => infos.push(message),
    warn: (message) => warnings.push(message),
    error() {},
  };
  const previous = setLogger(logger);
  return { warnings, infos, restore: () => setLogger(previous) };
}

/** An iterable with no `length`: a fresh generator over `items` each time it is iterated. */
export function lengthless<T>(items: readonly T[]): Iterable<T> {
  return {
    *[Symbol.iterator]() {
      yield* items;
    },
  };
}

/** `0, 1, ..., n - 1`. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Points inside a run over range(10) for 5 epochs where a flag is set, and the (epoch, iteration) the run is at there
 * (Ignite's test_terminate_events_sequence and test_engine_run_interrupt_resume use the same points).
 */
export const EVENT_POINTS: ReadonlyArray<{
  name: string;
  event: () => CallableEvent | FilteredEvent;
  at: readonly [epoch: number, iteration: number];
}> = [
  { name: 'STARTED', event: () => Events.STARTED, at: [0, 0] },
  { name: 'EPOCH_STARTED(once: 2)', event: () => Events.EPOCH_STARTED({ once: 2 }), at: [2, 10] },
  { name: 'EPOCH_COMPLETED(once: 2)', event: () => Events.EPOCH_COMPLETED({ once: 2 }), at: [2, 20] },
  { name: 'GET_BATCH_STARTED(once: 12)', event: () => Events.GET_BATCH_STARTED({ once: 12 }), at: [2, 12] },
  { name: 'GET_BATCH_COMPLETED(once: 12)', event: () => Events.GET_BATCH_COMPLETED({ once: 12 }), at: [2, 12] },
  { name: 'ITERATION_STARTED(once: 14)', event: () => Events.ITERATION_STARTED({ once: 14 }), at: [2, 14] },
  { name: 'ITERATION_COMPLETED(once: 14)', event: () => Events.ITERATION_COMPLETED({ once: 14 }), at: [2, 14] },
];
