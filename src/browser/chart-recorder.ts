// What LiveCharts records, apart from drawing: the loss of each iteration (read back in chunks by a ScalarHistory)
// with its running average, metrics per epoch, and the learning rate, kept in a ChartFeed that hands them to the
// drawing at most once per frame; Stateful, so the history goes into checkpoints. No DOM here (tested in Node).
import type * as tf from '@tensorflow/tfjs';
import { type Engine, Events, type Stateful } from '../engine';
import { Attachable, ScalarHistory } from '../handlers';
import { checkNumber, checkStateDict, describeValue, failType, isPlainObject } from '../internal';
import { ChartFeed, type ChartFrame, type ChartSeries, type FrameScheduler } from './chart-feed';

/** The engine-like object the recorder reads: an Engine, or a Worker's EngineMirror (also an Engine). */
type AnyEngine = Engine<any, any>;

/** Series names in the feed and in the state dict. */
export const SERIES = {
  loss: 'loss',
  lossAverage: 'lossAverage',
  learningRate: 'learningRate',
  /** `metric:accuracy`, ... */
  metric: (name: string) => `metric:${name}`,
} as const;

/** What the recorder records, checked (see LiveChartsOptions for the user-facing form). */
export interface RecorderSpec {
  loss: { smoothing: number; outputTransform: (output: any) => tf.Tensor | number } | null;
  metrics: { left: string[]; right: string[] } | null;
  learningRate: ((engine: AnyEngine) => number | undefined) | null;
}

/** The recorder's state dict: every series, and the running average the next loss continues. */
export interface ChartsStateDict {
  series: Record<string, ChartSeries>;
  average: number | null;
}

/**
 * Records the series of a {@link RecorderSpec} from an engine's events into a ChartFeed; `sink` receives the frames.
 * Extends Attachable: `attach(engine)` adds its handlers, `remove()` takes them off.
 */
export class ChartRecorder extends Attachable implements Stateful {
  readonly feed: ChartFeed;
  readonly #spec: RecorderSpec;
  readonly #where: string;
  #history: ScalarHistory | null = null;
  #average: number | null = null;
  #engine: AnyEngine | null = null;

  constructor(where: string, spec: RecorderSpec, sink: (frame: ChartFrame) => void, scheduler?: FrameScheduler) {
    super();
    this.#where = where;
    this.#spec = spec;
    this.feed = new ChartFeed(scheduler === undefined ? { sink } : { sink, scheduler });
  }

  /** The running average of the loss after the last recorded iteration (null before the first). */
  get average(): number | null {
    return this.#average;
  }

  /**
   * Adds the recording handlers to `engine` (the trainer); only one engine at a time. Metrics come from `evaluator`'s
   * state when its run completes (at the trainer's epoch), or without one from the trainer's at its EPOCH_COMPLETED.
   */
  attach(engine: AnyEngine, evaluator: AnyEngine | null = null): this {
    if (this.#engine !== null) {
      throw new Error(
        `${this.#where}.attach: these charts already record an engine; remove() them from it first, or make another ${this.#where}.`,
      );
    }
    this.#engine = engine;
    const { loss, metrics, learningRate } = this.#spec;
    if (loss !== null) {
      this.#history = new ScalarHistory({
        onValues: (iterations, values) => this.#pushLosses(iterations, values),
        outputTransform: loss.outputTransform,
      }).attach(engine);
      this.track(engine, this.#history);
    }
    if (metrics !== null) {
      const source = evaluator ?? engine;
      // The trainer's own metrics at its EPOCH_COMPLETED; another engine's (an evaluator's) when its run completes,
      // at the trainer's epoch.
      const event = source === engine ? Events.EPOCH_COMPLETED : Events.COMPLETED;
      this.track(
        engine,
        source.on(event, () => this.#pushMetrics(source.state.metrics, engine.state.epoch)),
      );
    }
    if (learningRate !== null) {
      this.track(
        engine,
        engine.on(Events.ITERATION_COMPLETED, (e: AnyEngine) => {
          const value = learningRate(e);
          if (typeof value === 'number') this.feed.push(SERIES.learningRate, e.state.iteration, value);
        }),
      );
    }
    return this;
  }

  override detach(engine: AnyEngine): void {
    super.detach(engine);
    if (engine === this.#engine) {
      this.#engine = null;
      this.#history = null;
    }
  }

  /** Resolves once every loss recorded so far is in the series. */
  async settle(): Promise<void> {
    await this.#history?.flush();
  }

  /** Drops every series and the running average (e.g. before a fresh run). */
  clear(): void {
    this.#average = null;
    this.feed.clear();
  }

  /** Every series as plain arrays, and the running average; waits for the losses still being read back. */
  async stateDict(): Promise<ChartsStateDict> {
    await this.settle();
    return { ...this.feed.stateDict(), average: this.#average };
  }

  /** Replaces the history with a saved one (all checked before anything changes) and redraws. */
  loadStateDict(stateDict: ChartsStateDict): void {
    const where = `${this.#where}.loadStateDict`;
    const sd = checkStateDict(where, stateDict, ['series', 'average']);
    const average =
      sd.average === null ? null : checkNumber(where, "state dict entry 'average'", sd.average, { nullable: true });
    if (!isPlainObject(sd.series))
      failType(where, "state dict entry 'series'", 'an object of series { x, y }', sd.series);
    for (const [name, series] of Object.entries(sd.series)) {
      const s = series as Partial<ChartSeries> | null;
      const subject = `series '${name}'`;
      if (!isPlainObject(s) || !Array.isArray(s.x) || !Array.isArray(s.y) || s.x.length !== s.y.length) {
        failType(where, subject, 'x and y arrays of equal length', series);
      }
      const bad = [...s.x, ...s.y].find((v) => typeof v !== 'number');
      if (bad !== undefined) failType(where, `a value of ${subject}`, 'a number', bad);
    }
    this.feed.loadStateDict({ series: sd.series as Record<string, ChartSeries> });
    this.#average = average;
  }

  #pushLosses(iterations: number[], values: number[]): void {
    const smoothing = this.#spec.loss!.smoothing;
    iterations.forEach((iteration, i) => {
      const value = values[i]!;
      this.feed.push(SERIES.loss, iteration, value);
      if (Number.isFinite(value)) {
        this.#average = this.#average === null ? value : smoothing * this.#average + (1 - smoothing) * value;
      }
      this.feed.push(SERIES.lossAverage, iteration, this.#average ?? Number.NaN);
    });
  }

  #pushMetrics(values: Record<string, unknown>, epoch: number): void {
    const { left, right } = this.#spec.metrics!;
    for (const name of [...left, ...right]) {
      const value = values[name];
      if (typeof value === 'number') this.feed.push(SERIES.metric(name), epoch, value);
      else if (value !== undefined) {
        throw new TypeError(
          `${this.#where}: metric '${name}' should be a number to chart, got ${describeValue(value)}. Chart numeric metrics only (options metrics.left / metrics.right).`,
        );
      }
    }
  }
}
