import type { Engine, RemovableEventHandle } from '../engine';
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

export type { ProfilerOptions, TimeStats } from './profiler-core';

/** The events whose handlers {@link BasicTimeProfiler} times, as its results name them. */
export type ProfiledEvent =
  | 'STARTED'
  | 'EPOCH_STARTED'
  | 'ITERATION_STARTED'
  | 'ITERATION_COMPLETED'
  | 'GET_BATCH_STARTED'
  | 'GET_BATCH_COMPLETED'
  | 'EPOCH_COMPLETED'
  | 'COMPLETED';

const PROFILED: readonly ProfiledEvent[] = [
  'STARTED',
  'EPOCH_STARTED',
  'ITERATION_STARTED',
  'ITERATION_COMPLETED',
  'GET_BATCH_STARTED',
  'GET_BATCH_COMPLETED',
  'EPOCH_COMPLETED',
  'COMPLETED',
];

/** What {@link BasicTimeProfiler.getResults} returns; times in seconds. */
export interface BasicTimeProfilerResults {
  /** The process function, per iteration. */
  processingStats: TimeStats;
  /** Fetching a batch from the data, per iteration. */
  dataflowStats: TimeStats;
  /** All handlers of each event, per firing; `totalTime` sums them all. */
  eventHandlersStats: Record<ProfiledEvent, TimeStats> & { totalTime: number };
  /** The handlers seen on each event, in the order they first ran. */
  eventHandlersNames: Record<ProfiledEvent, string[]>;
}

/**
 * Times a run in broad strokes: the process function, data loading, and the handlers of each event (all handlers of
 * an event together, per firing), as PyTorch Ignite's `BasicTimeProfiler`. Results cover the last run (they reset when
 * a run starts) and can be read at any time, also mid-run. In a page it also records `performance.measure` entries
 * (`kindling processing`, `kindling dataflow`, `kindling EPOCH_COMPLETED handlers`, ...), so the run shows in DevTools'
 * Performance panel. Handlers are timed through `engine.observeHandlerCalls`; calls made inside another handler
 * (a nested `fireEvent`) count in that handler's time.
 *
 * @example
 * const profiler = new BasicTimeProfiler();
 * profiler.attach(trainer);
 * await trainer.run(loader, { maxEpochs: 3 });
 * BasicTimeProfiler.printResults(profiler.getResults());
 */
export class BasicTimeProfiler {
  readonly #core: ProfilerCore;
  #engine: Engine<any, any> | null = null;
  #processing: number[] = [];
  #dataflow: number[] = [];
  #handlerTimes = new Map<string, number[]>();
  #names = new Map<string, Set<string>>();

  /** @param options - `{ userTiming?, now? }`, see {@link ProfilerOptions}. */
  constructor(options: ProfilerOptions = {}) {
    this.#core = new ProfilerCore('BasicTimeProfiler', options, {
      reset: () => this.#reset(),
      occurrence: (event) => this.#handlerTimes.get(event)?.push(0),
      call: ({ event, handler, start, end, depth }) => {
        const times = this.#handlerTimes.get(event);
        if (times === undefined || depth > 0) return;
        times[times.length - 1]! += (end - start) / 1000;
        this.#names.get(event)!.add(handlerLabel(handler));
        this.#core.measure(`${eventLabel(event)} handlers`, start, end, { handler: handlerLabel(handler) });
      },
      processing: (seconds) => this.#processing.push(seconds),
      dataflow: (seconds) => this.#dataflow.push(seconds),
    });
    this.#reset();
  }

  /**
   * Starts profiling `engine`'s runs (one engine per profiler).
   *
   * @returns a handle that stops profiling.
   */
  attach(engine: Engine<any, any>): RemovableEventHandle {
    checkEngine('BasicTimeProfiler.attach', 'argument engine', engine);
    if (this.#engine !== null && this.#engine !== engine) {
      failType(
        'BasicTimeProfiler.attach',
        'argument engine',
        'the engine it is attached to',
        engine,
        'Use one profiler per engine.',
      );
    }
    this.#engine = engine;
    return this.#core.attach(engine);
  }

  /** The statistics of the last (or current) run; see {@link BasicTimeProfilerResults}. */
  getResults(): BasicTimeProfilerResults {
    const stats = {} as Record<ProfiledEvent, TimeStats>;
    const names = {} as Record<ProfiledEvent, string[]>;
    let totalTime = 0;
    for (const label of PROFILED) {
      const event = label.toLowerCase();
      stats[label] = timeStats(this.#handlerTimes.get(event)!);
      names[label] = [...this.#names.get(event)!];
      totalTime += stats[label].total ?? 0;
    }
    return {
      processingStats: timeStats(this.#processing),
      dataflowStats: timeStats(this.#dataflow),
      eventHandlersStats: { ...stats, totalTime },
      eventHandlersNames: names,
    };
  }

  /**
   * The results as the reference prints them: one line `total | min/index | max/index | mean | std` per part.
   *
   * @example
   * console.log(BasicTimeProfiler.formatResults(profiler.getResults()));
   */
  static formatResults(results: BasicTimeProfilerResults): string {
    const line = (stats: TimeStats): string => {
      if (stats.total === null) return 'not yet triggered';
      const parts = [formatSeconds(stats.total)];
      if (stats.count > 1) {
        parts.push(
          `${formatSeconds(stats.min![0])}/${stats.min![1]}`,
          `${formatSeconds(stats.max![0])}/${stats.max![1]}`,
          formatSeconds(stats.mean!),
          formatSeconds(stats.std!),
        );
      }
      return parts.join(' | ');
    };
    const events: ProfiledEvent[] = [
      'STARTED',
      'EPOCH_STARTED',
      'ITERATION_STARTED',
      'ITERATION_COMPLETED',
      'EPOCH_COMPLETED',
      'COMPLETED',
    ];
    const rule = ` ${'-'.repeat(52)}`;
    return [
      '',
      rule,
      '| Time profiling stats (in seconds):                 |',
      rule,
      'total  |  min/index  |  max/index  |  mean  |  std',
      'Processing function:',
      line(results.processingStats),
      'Dataflow:',
      line(results.dataflowStats),
      'Event handlers:',
      formatSeconds(results.eventHandlersStats.totalTime),
      ...events.flatMap((event) => [
        `- Events.${event}: [${results.eventHandlersNames[event].map((n) => `'${n}'`).join(', ')}]`,
        line(results.eventHandlersStats[event]),
      ]),
      '',
    ].join('\n');
  }

  /**
   * Writes {@link formatResults}'s table with `write` (default `console.log`) and returns it, like the reference's
   * `print_results`.
   */
  static printResults(results: BasicTimeProfilerResults, write: (text: string) => void = console.log): string {
    const text = BasicTimeProfiler.formatResults(results);
    write(text);
    return text;
  }

  #reset(): void {
    this.#processing = [];
    this.#dataflow = [];
    this.#handlerTimes = new Map(PROFILED.map((label) => [label.toLowerCase(), []]));
    this.#names = new Map(PROFILED.map((label) => [label.toLowerCase(), new Set<string>()]));
  }
}
