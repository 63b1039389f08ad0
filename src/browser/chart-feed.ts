import {
  checkFunction,
  checkKeyName,
  checkOneOf,
  checkOptions,
  checkPlainObject,
  checkStateDict,
  failRange,
  failType,
} from '../internal';

/** One series' history: matching x and y values, oldest first. */
export interface ChartSeries {
  x: number[];
  y: number[];
}

/** What a {@link ChartFeed} hands its sink: every series' full history, and which series grew since the last flush. */
export interface ChartFrame {
  series: Readonly<Record<string, Readonly<ChartSeries>>>;
  changed: string[];
}

/** Schedules one flush; returns a function that cancels it. */
export type FrameScheduler = (flush: () => void) => () => void;

/** Options of {@link ChartFeed}. */
export interface ChartFeedOptions {
  /** Receives the points at most once per frame: redraw the charts here. */
  sink: (frame: ChartFrame) => void;
  /** Decides when a flush runs; default {@link animationFrameScheduler}. Tests pass their own. */
  scheduler?: FrameScheduler;
}

/** The engine-like object a {@link ChartFeed} recorder reads from. */
type AnyEngine = { state: { iteration: number; epoch: number } };

/**
 * Buffers chart points pushed from engine events and hands them to a sink at most once per animation frame, so a
 * training loop running hundreds of iterations per second redraws its charts only as often as the screen refreshes.
 * It keeps every point it was given and is `Stateful`: put it in a `Checkpoint` and the charts come back after a reload.
 *
 * @example
 * const feed = new ChartFeed({ sink: ({ series }) => lossChart.setData([series.loss.x, series.loss.y]) });
 * trainer.on(Events.ITERATION_COMPLETED, feed.recorder('loss', (e) => e.state.metrics.loss as number));
 * new Checkpoint({ model, trainer, charts: feed }, saver);
 */
export class ChartFeed {
  readonly #sink: (frame: ChartFrame) => void;
  readonly #scheduler: FrameScheduler;
  #series: Record<string, ChartSeries> = {};
  #changed = new Set<string>();
  #cancel: (() => void) | null = null;

  /**
   * @param options.sink called with all series, at most once per frame, after points were added.
   * @param options.scheduler when to flush (default: the next animation frame, or a timer in a background tab or worker).
   */
  constructor(options: ChartFeedOptions) {
    const { sink, scheduler = animationFrameScheduler } = checkOptions('ChartFeed', options, ['sink', 'scheduler']);
    this.#sink = checkFunction('ChartFeed', 'option sink', sink, '(frame) => void');
    this.#scheduler = checkFunction('ChartFeed', 'option scheduler', scheduler, '(flush) => cancel');
  }

  /** Every series' history (live arrays: do not change them). */
  get series(): Readonly<Record<string, Readonly<ChartSeries>>> {
    return this.#series;
  }

  /**
   * Adds a point to a series (created on first use) and schedules a flush.
   * @param name the series, e.g. `'loss'`.
   * @param x usually the iteration or epoch.
   * @param y the value; `NaN` is kept (charts show a gap).
   */
  push(name: string, x: number, y: number): void {
    checkKeyName('ChartFeed.push', 'argument name', name);
    if (typeof x !== 'number') failType('ChartFeed.push', `argument x of series '${name}'`, 'a number', x);
    if (typeof y !== 'number') failType('ChartFeed.push', `argument y of series '${name}'`, 'a number', y);
    this.#series[name] ??= { x: [], y: [] };
    const series = this.#series[name];
    series.x.push(x);
    series.y.push(y);
    this.#changed.add(name);
    this.#schedule();
  }

  /**
   * Makes an engine handler that pushes one point per call: x is `state.iteration` (or `state.epoch` with
   * `{ x: 'epoch' }`), y is what `value(engine)` returns (awaited; no point when it is not a number).
   *
   * @example trainer.on(Events.EPOCH_COMPLETED, feed.recorder('valAcc', () => evaluator.state.metrics.acc, { x: 'epoch' }));
   */
  recorder<E extends AnyEngine>(
    name: string,
    value: (engine: E) => number | undefined | Promise<number | undefined>,
    options: { x?: 'iteration' | 'epoch' } = {},
  ): (engine: E) => Promise<void> {
    checkKeyName('ChartFeed.recorder', 'argument name', name);
    checkFunction('ChartFeed.recorder', 'argument value', value, '(engine) => number | undefined');
    const { x = 'iteration' } = checkOptions('ChartFeed.recorder', options, ['x']);
    const axis = checkOneOf('ChartFeed.recorder', 'option x', x, ['iteration', 'epoch']);
    return async (engine: E) => {
      const y = await value(engine);
      if (typeof y === 'number') this.push(name, engine.state[axis], y);
    };
  }

  /** Hands pending points to the sink now instead of at the next frame. Does nothing when nothing changed. */
  flush(): void {
    this.#cancel?.();
    this.#cancel = null;
    if (this.#changed.size === 0) return;
    const changed = [...this.#changed];
    this.#changed.clear();
    this.#sink({ series: this.#series, changed });
  }

  /** Drops all series and tells the sink (with every former series marked changed). */
  clear(): void {
    for (const name of Object.keys(this.#series)) this.#changed.add(name);
    this.#series = {};
    this.#schedule();
  }

  /** Plain data for a checkpoint: `{ series: { name: { x, y } } }`. */
  stateDict(): { series: Record<string, ChartSeries> } {
    const series: Record<string, ChartSeries> = {};
    for (const [name, s] of Object.entries(this.#series)) series[name] = { x: [...s.x], y: [...s.y] };
    return { series };
  }

  /**
   * Replaces the history with a saved one and schedules a redraw. Checked before anything changes: `{ series }` only,
   * each series named like {@link push} allows, with `x` and `y` arrays of numbers of equal length.
   */
  loadStateDict(stateDict: { series: Record<string, ChartSeries> }): void {
    const where = 'ChartFeed.loadStateDict';
    const { series } = checkStateDict(where, stateDict, ['series']);
    const saved = checkPlainObject(where, "state dict entry 'series'", series, 'an object of { x, y } series');
    const loaded: Record<string, ChartSeries> = {};
    for (const [name, s] of Object.entries(saved)) {
      checkKeyName(where, "a series' name", name);
      const { x, y } = checkStateDict(where, s, ['x', 'y']) as { x: unknown; y: unknown };
      for (const [axis, values] of [
        ['x', x],
        ['y', y],
      ] as const) {
        if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
          failType(where, `series '${name}': its ${axis}`, 'an array of numbers', values);
        }
      }
      if ((x as number[]).length !== (y as number[]).length) {
        failRange(where, `series '${name}'`, 'x and y arrays of equal length', s);
      }
      loaded[name] = { x: [...(x as number[])], y: [...(y as number[])] };
    }
    for (const name of Object.keys(this.#series)) this.#changed.add(name);
    this.#series = loaded;
    for (const name of Object.keys(loaded)) this.#changed.add(name);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#cancel) return;
    this.#cancel = this.#scheduler(() => {
      this.#cancel = null;
      this.flush();
    });
  }
}

/**
 * The default {@link FrameScheduler}: the next animation frame while the page is visible, with a 250 ms timer as a
 * fallback because hidden tabs get no frames (and workers have no `requestAnimationFrame` at all).
 */
export const animationFrameScheduler: FrameScheduler = (flush) => {
  checkFunction('animationFrameScheduler', 'argument flush', flush, '() => void');
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cancel();
    flush();
  };
  const raf = globalThis.requestAnimationFrame;
  const visible = globalThis.document?.visibilityState === 'visible';
  const frame = visible && typeof raf === 'function' ? raf(once) : null;
  const timer = setTimeout(once, frame === null ? 16 : 250);
  const cancel = () => {
    done = true;
    if (frame !== null) globalThis.cancelAnimationFrame(frame);
    clearTimeout(timer);
  };
  return cancel;
};
