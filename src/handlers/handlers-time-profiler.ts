import type { Engine, Handler, RemovableEventHandle } from '../engine';
import { checkEngine, failType } from '../internal';
import {
  eventLabel,
  formatSeconds,
  handlerLabel,
  ProfilerCore,
  type ProfilerOptions,
  type TimeStats,
  timeStats,
} from './profiler-core';

/** One handler on one event in {@link HandlersTimeProfiler}'s results; times in seconds. */
export interface HandlerTimeStats {
  /**
   * The handler's name (a function's name, an object's class name, else `anonymous`), with ` #2`, ` #3` for
   * namesakes on one event.
   */
  handler: string;
  /** The event, e.g. `ITERATION_COMPLETED` (custom events by their name). */
  event: string;
  /** One time per call. */
  stats: TimeStats;
}

/** What {@link HandlersTimeProfiler.getResults} returns; times in seconds. */
export interface HandlersTimeProfilerResults {
  /** Every handler that ran, grouped by event (in the order events first ran), then in the order their first call ended. */
  handlers: HandlerTimeStats[];
  /** The sum of all handler times (calls made inside another handler are counted once, in the outer one). */
  total: number;
  /** The process function, per iteration. */
  processing: TimeStats;
  /** Fetching a batch from the data, per iteration. */
  dataflow: TimeStats;
}

interface Series {
  handler: string;
  event: string;
  times: number[];
}

/**
 * Times every handler separately, per event, plus the process function and data loading: PyTorch Ignite's
 * `HandlersTimeProfiler`, custom events included. Results cover the last run (they reset when a run starts); only
 * handlers that ran are listed. In a page each call is also a `performance.measure` entry (`kindling <handler>
 * (<EVENT>)`, `kindling processing`, `kindling dataflow`), so the run shows in DevTools' Performance panel.
 *
 * @example
 * const profiler = new HandlersTimeProfiler();
 * profiler.attach(trainer);
 * await trainer.run(loader, { maxEpochs: 3 });
 * HandlersTimeProfiler.printResults(profiler.getResults());
 */
export class HandlersTimeProfiler {
  readonly #core: ProfilerCore;
  #engine: Engine<any, any> | null = null;
  #processing: number[] = [];
  #dataflow: number[] = [];
  /** Per event, per handler (by identity), its series. */
  #series = new Map<string, Map<Handler, Series>>();
  #total = 0;

  /** @param options - `{ userTiming?, now? }`, see {@link ProfilerOptions}. */
  constructor(options: ProfilerOptions = {}) {
    this.#core = new ProfilerCore('HandlersTimeProfiler', options, {
      reset: () => {
        this.#processing = [];
        this.#dataflow = [];
        this.#series = new Map();
        this.#total = 0;
      },
      occurrence: () => {},
      call: ({ event, handler, start, end, depth }) => {
        const seconds = (end - start) / 1000;
        const series = this.#seriesOf(event, handler);
        series.times.push(seconds);
        if (depth === 0) this.#total += seconds;
        this.#core.measure(`${series.handler} (${series.event})`, start, end, {});
      },
      processing: (seconds) => this.#processing.push(seconds),
      dataflow: (seconds) => this.#dataflow.push(seconds),
    });
  }

  /**
   * Starts profiling `engine`'s runs (one engine per profiler).
   *
   * @returns a handle that stops profiling.
   */
  attach(engine: Engine<any, any>): RemovableEventHandle {
    checkEngine('HandlersTimeProfiler.attach', 'argument engine', engine);
    if (this.#engine !== null && this.#engine !== engine) {
      failType(
        'HandlersTimeProfiler.attach',
        'argument engine',
        'the engine it is attached to',
        engine,
        'Use one profiler per engine.',
      );
    }
    this.#engine = engine;
    return this.#core.attach(engine);
  }

  /** The statistics of the last (or current) run; see {@link HandlersTimeProfilerResults}. */
  getResults(): HandlersTimeProfilerResults {
    const handlers: HandlerTimeStats[] = [];
    for (const byHandler of this.#series.values()) {
      for (const { handler, event, times } of byHandler.values()) {
        handlers.push({ handler, event, stats: timeStats(times) });
      }
    }
    return {
      handlers,
      total: this.#total,
      processing: timeStats(this.#processing),
      dataflow: timeStats(this.#dataflow),
    };
  }

  /**
   * The results as the reference's table: `Handler | Event Name | Total(s) | Min(s)/IDX | Max(s)/IDX | Mean(s) |
   * Std(s)`, the total, then one line each for processing and data loading.
   *
   * @example
   * console.log(HandlersTimeProfiler.formatResults(profiler.getResults()));
   */
  static formatResults(results: HandlersTimeProfilerResults): string {
    const cell = (value: number | null | [number, number], seconds = false): string => {
      if (value === null) return 'None';
      if (Array.isArray(value)) return `${formatSeconds(value[0])}${seconds ? 's' : ''}/${value[1]}`;
      return formatSeconds(value);
    };
    const rows = results.handlers.map(({ handler, event, stats }) => [
      handler,
      event,
      stats.total === null ? 'not triggered' : cell(stats.total),
      cell(stats.min),
      cell(stats.max),
      cell(stats.mean),
      cell(stats.std),
    ]);
    const headers = ['Handler', 'Event Name', 'Total(s)', 'Min(s)/IDX', 'Max(s)/IDX', 'Mean(s)', 'Std(s)'];
    const widths = headers.map((header, i) =>
      i < 2 ? Math.max(header.length, ...rows.map((row) => row[i]!.length)) + 4 : 14,
    );
    const format = (row: readonly string[]) =>
      row
        .map((text, i) => (i < 2 ? text.padEnd(widths[i]!) : text.padStart(Math.max(widths[i]!, text.length))))
        .join('  ')
        .trimEnd();
    const rule = widths.map((width) => '-'.repeat(width)).join('  ');
    const summary = (name: string, stats: TimeStats) =>
      stats.total === null
        ? `${name} was not triggered`
        : `${name} took total ${formatSeconds(stats.total)}s [min/index: ${cell(stats.min, true)}, max/index: ${cell(stats.max, true)}, mean: ${cell(stats.mean)}s, std: ${cell(stats.std)}s]`;
    return [
      '',
      rule,
      format(headers),
      rule,
      ...rows.map(format),
      rule,
      format(['Total', '', formatSeconds(results.total), '', '', '', '']),
      rule,
      summary('Processing', results.processing),
      summary('Dataflow', results.dataflow),
      '',
    ].join('\n');
  }

  /**
   * Writes {@link formatResults}'s table with `write` (default `console.log`) and returns it, like the reference's
   * `print_results`.
   */
  static printResults(results: HandlersTimeProfilerResults, write: (text: string) => void = console.log): string {
    const text = HandlersTimeProfiler.formatResults(results);
    write(text);
    return text;
  }

  #seriesOf(event: string, handler: Handler): Series {
    let byHandler = this.#series.get(event);
    if (byHandler === undefined) {
      byHandler = new Map();
      this.#series.set(event, byHandler);
    }
    let series = byHandler.get(handler);
    if (series === undefined) {
      const base = handlerLabel(handler);
      let name = base;
      for (let n = 2; [...byHandler.values()].some((other) => other.handler === name); n++) name = `${base} #${n}`;
      series = { handler: name, event: eventLabel(event), times: [] };
      byHandler.set(handler, series);
    }
    return series;
  }
}
