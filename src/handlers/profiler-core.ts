// What BasicTimeProfiler and HandlersTimeProfiler share (not exported from the package): the handler-call observer
// that times every handler call, processing and data loading; statistics; the browser's User Timing entries.
import { type Engine, Events, type Handler, type RemovableEventHandle } from '../engine';
import { checkBoolean, checkFunction, checkOptions, isThenable } from '../internal';

/** Options of the profilers. */
export interface ProfilerOptions {
  /**
   * Also record each timed span as a `performance.measure` entry, so that a run shows in the browser DevTools'
   * Performance panel. Default: true in a page or a Worker with the default clock, false in Node (where the entries
   * would only fill the process-wide timeline buffer).
   */
  userTiming?: boolean;
  /** The clock, in milliseconds (default `performance.now`); inject a fake one in tests. */
  now?: () => number;
}

/** Statistics of a series of durations, in seconds (the reference's total, min/index, max/index, mean, std). */
export interface TimeStats {
  /** How many times were recorded. */
  count: number;
  /** Their sum; null when nothing was recorded (the reference's "not yet triggered"). */
  total: number | null;
  /** The shortest and its index in the series (from 0); null when nothing was recorded. */
  min: [seconds: number, index: number] | null;
  /** The longest and its index in the series (from 0); null when nothing was recorded. */
  max: [seconds: number, index: number] | null;
  /** The mean; null when nothing was recorded. */
  mean: number | null;
  /** The sample standard deviation (n - 1, like the reference's `torch.std`); null with fewer than two times. */
  std: number | null;
}

/** The statistics of `times` (seconds). */
export function timeStats(times: readonly number[]): TimeStats {
  const count = times.length;
  if (count === 0) return { count, total: null, min: null, max: null, mean: null, std: null };
  let total = 0;
  let min = 0;
  let max = 0;
  for (let i = 0; i < count; i++) {
    total += times[i]!;
    if (times[i]! < times[min]!) min = i;
    if (times[i]! > times[max]!) max = i;
  }
  const mean = total / count;
  let squares = 0;
  for (const t of times) squares += (t - mean) ** 2;
  return {
    count,
    total,
    min: [times[min]!, min],
    max: [times[max]!, max],
    mean,
    std: count > 1 ? Math.sqrt(squares / (count - 1)) : null,
  };
}

/** Seconds with five decimals, as the reference prints them. */
export const formatSeconds = (seconds: number): string => seconds.toFixed(5);

const BUILT_IN = new Set<string>(Object.values(Events).map((event) => event.name));

/** How an event reads in tables: `EPOCH_COMPLETED` for built-in events, custom names as they are. */
export const eventLabel = (event: string): string => (BUILT_IN.has(event) ? event.toUpperCase() : event);

/** How a handler reads in tables: a function's name, an object's class name, or `anonymous`. */
export function handlerLabel(handler: Handler): string {
  if (typeof handler === 'function') return handler.name || 'anonymous';
  const name = (handler as object).constructor?.name;
  return name && name !== 'Object' ? name : 'anonymous';
}

/** True where User Timing entries reach a DevTools panel: a page or a Worker. */
const inBrowser = (): boolean =>
  typeof document !== 'undefined' ||
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function';

/** One timed handler call, as the core reports it. */
export interface HandlerCall {
  event: string;
  handler: Handler;
  /** Milliseconds on the profiler's clock. */
  start: number;
  end: number;
  /** 0 for a call made by the engine's loop, 1+ for a call made from inside another handler (a nested fireEvent). */
  depth: number;
}

/** What a profiler gets from the core. */
export interface ProfilerSink {
  /** A new run starts (the first handler call of STARTED): forget the previous run's times. */
  reset(): void;
  /** `event` fires again (seen at its first top-level handler call; the markers make sure there is one). */
  occurrence(event: string): void;
  /** A handler call ended. Calls of the profilers' own marker handlers are not reported. */
  call(call: HandlerCall): void;
  /** One iteration's processing time (end of ITERATION_STARTED's handlers to start of ITERATION_COMPLETED's). */
  processing(seconds: number): void;
  /** One batch's loading time (end of GET_BATCH_STARTED's handlers to start of GET_BATCH_COMPLETED's). */
  dataflow(seconds: number): void;
}

/** Events that get a marker handler, so that each of their firings is seen even without other handlers. */
const MARKED = [
  Events.STARTED,
  Events.EPOCH_STARTED,
  Events.GET_BATCH_STARTED,
  Events.GET_BATCH_COMPLETED,
  Events.ITERATION_STARTED,
  Events.ITERATION_COMPLETED,
  Events.EPOCH_COMPLETED,
  Events.COMPLETED,
];

const MAIN = new Set<string>(MARKED.map((event) => event.name));

/** The profilers' own marker handlers, left out of every profiler's results. */
const markers = new WeakSet<Handler>();

/**
 * Times an engine's handler calls through `engine.observeHandlerCalls` and reports them to a sink. A marker handler
 * on each main event makes every firing visible; the firings tell processing and data loading apart.
 */
export class ProfilerCore {
  readonly #sink: ProfilerSink;
  readonly #now: () => number;
  readonly #userTiming: boolean;
  #depth = 0;
  /** The event of the last top-level call. */
  #lastEvent: string | null = null;
  /** The last main (marked) event whose handlers ran, and when its last top-level call ended. */
  #lastMain: string | null = null;
  #lastMainEnd = 0;

  constructor(where: string, options: ProfilerOptions | undefined, sink: ProfilerSink) {
    const { userTiming, now } = checkOptions(where, options, ['userTiming', 'now']);
    this.#now =
      now === undefined ? () => performance.now() : checkFunction(where, 'option now', now, '() => milliseconds');
    this.#userTiming =
      userTiming === undefined
        ? now === undefined && inBrowser() && typeof performance?.measure === 'function'
        : checkBoolean(where, 'option userTiming', userTiming);
    this.#sink = sink;
  }

  /** Observes `engine`'s handler calls and adds the markers. Returns a handle that undoes both. */
  attach(engine: Engine<any, any>): RemovableEventHandle {
    const handles: RemovableEventHandle[] = [];
    const marker = () => {};
    markers.add(marker);
    for (const event of MARKED) handles.push(engine.addEventHandler(event, marker));
    handles.push(engine.observeHandlerCalls((event, handler, call) => this.#observe(engine, event, handler, call)));
    const remove = () => {
      for (const handle of handles) handle.remove();
    };
    return { remove, [Symbol.dispose]: remove };
  }

  /** Emits a User Timing measure when enabled. */
  measure(name: string, start: number, end: number, detail: Record<string, unknown>): void {
    if (!this.#userTiming) return;
    try {
      performance.measure(`kindling ${name}`, { start, end, detail });
    } catch {
      // A span the browser refuses (e.g. a clock reset) is not worth failing a run for.
    }
  }

  #observe(engine: Engine<any, any>, event: string, handler: Handler, call: () => unknown): unknown {
    const depth = this.#depth;
    const start = this.#now();
    if (depth === 0 && event !== this.#lastEvent) {
      if (event === Events.STARTED.name) this.#sink.reset();
      this.#sink.occurrence(event);
      // Custom events fired by the process function fall inside processing, as in the reference.
      const since = (start - this.#lastMainEnd) / 1000;
      const detail = { iteration: engine.state.iteration, epoch: engine.state.epoch };
      if (event === Events.ITERATION_COMPLETED.name && this.#lastMain === Events.ITERATION_STARTED.name) {
        this.#sink.processing(since);
        this.measure('processing', this.#lastMainEnd, start, detail);
      } else if (event === Events.GET_BATCH_COMPLETED.name && this.#lastMain === Events.GET_BATCH_STARTED.name) {
        this.#sink.dataflow(since);
        this.measure('dataflow', this.#lastMainEnd, start, detail);
      }
      this.#lastEvent = event;
    }
    const done = () => {
      const end = this.#now();
      this.#depth = depth;
      if (depth === 0 && MAIN.has(event)) {
        this.#lastMain = event;
        this.#lastMainEnd = end;
      }
      if (!markers.has(handler)) this.#sink.call({ event, handler, start, end, depth });
    };
    this.#depth = depth + 1;
    let result: unknown;
    try {
      result = call();
    } catch (error) {
      done();
      throw error;
    }
    if (!isThenable(result)) {
      done();
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        done();
        return value;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }
}
