// LiveCharts: training charts drawn from engine events with uPlot (an optional peer dependency, loaded on first use).
import type * as tf from '@tensorflow/tfjs';
import type uPlot from 'uplot';
import type { Engine, Stateful } from '../engine';
import {
  checkFunction,
  checkInteger,
  checkNumber,
  checkOptions,
  checkPlainObject,
  checkString,
  failType,
} from '../internal';
import type { ChartFrame, ChartSeries, FrameScheduler } from './chart-feed';
import { ChartRecorder, type ChartsStateDict, type RecorderSpec, SERIES } from './chart-recorder';

/** Options of the loss chart of {@link LiveCharts}. */
export interface LossChartOptions {
  /** Weight of the previous running average when a loss arrives (default 0.9: each loss weighs 0.1). */
  smoothing?: number;
  /** Picks the loss from `engine.state.output` (default: the output itself, a tf.Scalar or a number). */
  outputTransform?: (output: any) => tf.Tensor | number;
  /** The chart's title (default 'training loss per iteration'). */
  title?: string;
}

/** Options of the metrics chart of {@link LiveCharts}. */
export interface MetricsChartOptions {
  /** Metric names on the left axis, e.g. `['accuracy']`. */
  left: string[];
  /** Metric names on the right axis, e.g. `['loss']` (default none). */
  right?: string[];
  /** The left axis label (default: the left names). */
  leftLabel?: string;
  /** The right axis label (default: the right names). */
  rightLabel?: string;
  /** The chart's title (default 'metrics per epoch'). */
  title?: string;
}

/** Options of {@link LiveCharts}. */
export interface LiveChartsOptions {
  /** The loss of each iteration (`state.output`) and its running average; false for no loss chart (default true). */
  loss?: boolean | LossChartOptions;
  /** A chart of metrics per epoch (default none). */
  metrics?: MetricsChartOptions | null;
  /**
   * A chart of the learning rate per iteration: a tfjs optimizer (its `learningRate` is read), or a function of the
   * engine, e.g. `(engine) => engine.state.lr` for a trainer in a Worker (default none).
   */
  learningRate?: tf.Optimizer | ((engine: Engine<any, any>) => number | undefined) | null;
  /** Widest a chart gets, in CSS pixels; charts shrink to fit narrower containers (default 560). */
  width?: number;
  /** Height of each chart's plot, in CSS pixels (default 200). */
  height?: number;
  /** Decides when redraws run; default the next animation frame (a timer in a background tab). */
  scheduler?: FrameScheduler;
  /** Add uPlot's essential stylesheet to the document once (default true; false when the app loads uPlot's CSS). */
  injectStyles?: boolean;
}

type UPlotConstructor = typeof uPlot;

/**
 * Live training charts: the loss of each iteration with its running average, metrics per epoch (e.g. an
 * evaluator's accuracy on the left axis and loss on the right), and the learning rate, drawn with uPlot into
 * `container` **at most once per animation frame** however fast the engine runs. Losses are recorded on the device
 * and read back in chunks (`ScalarHistory`), so a training step never waits for them.
 *
 * It is Stateful: put it in a Checkpoint (or `setupResumableTraining`'s `toSave`) and after a reload the charts come
 * back with their whole history, the running average included. `stateDict()` first waits for the losses still being
 * read, so a checkpoint's history reaches its own iteration.
 *
 * Readable as they are: axes labelled (also while empty), whole-number epoch ticks, legends that show the latest
 * values (and the values under the cursor while hovering), charts that shrink to fit a phone's width.
 *
 * uPlot is an optional peer dependency (`npm install uplot`), imported on first use: without it, `ready` rejects with
 * an error that says so. Attach the charts to a main-thread trainer, or to a Worker trainer's mirror (`kindling/worker`).
 *
 * @param container the element the charts go in (they are appended to it).
 * @param options `{ loss?, metrics?, learningRate?, width?, height?, scheduler?, injectStyles? }`, see {@link LiveChartsOptions}.
 * @example
 * const charts = new LiveCharts(document.querySelector('#charts')!, {
 *   metrics: { left: ['accuracy'], right: ['loss'] },
 *   learningRate: optimizer,
 * });
 * charts.attach(trainer, { evaluator });
 * const training = await setupResumableTraining(trainer, { saver, toSave: { model, optimizer, charts } });
 */
export class LiveCharts implements Stateful {
  /** Resolves once uPlot is loaded and the (empty) charts are drawn; rejects when uPlot cannot be loaded. */
  readonly ready: Promise<void>;
  readonly #recorder: ChartRecorder;
  readonly #container: HTMLElement;
  readonly #charts: ChartView[] = [];
  readonly #maxWidth: number;
  readonly #height: number;
  #frame: ChartFrame | null = null;
  #resizeObserver: ResizeObserver | null = null;
  #isDisposed = false;

  constructor(container: HTMLElement, options: LiveChartsOptions = {}) {
    const where = 'LiveCharts';
    if (typeof HTMLElement === 'undefined' || !(container instanceof HTMLElement)) {
      failType(where, 'argument container', 'an HTMLElement to draw the charts in', container);
    }
    checkOptions(where, options, ['loss', 'metrics', 'learningRate', 'width', 'height', 'scheduler', 'injectStyles']);
    this.#container = container;
    this.#maxWidth = checkInteger(where, 'option width', options.width ?? 560, { min: 120 });
    this.#height = checkInteger(where, 'option height', options.height ?? 200, { min: 60 });
    const spec = readSpec(where, options);
    this.#recorder = new ChartRecorder(where, spec, (frame) => this.#draw(frame), options.scheduler);
    const layout = chartLayouts(spec, options);
    this.ready = loadUPlot().then((UPlot) => {
      if (options.injectStyles ?? true) injectStyles();
      if (this.#isDisposed) return;
      for (const layout_ of layout) this.#charts.push(new ChartView(UPlot, container, layout_, this.#size()));
      if (typeof ResizeObserver === 'function') {
        this.#resizeObserver = new ResizeObserver(() => this.#resize());
        this.#resizeObserver.observe(container);
      }
      if (this.#frame !== null) this.#draw(this.#frame);
    });
  }

  /** Every recorded series by name (`loss`, `lossAverage`, `learningRate`, `metric:<name>`): live arrays, read only. */
  get series(): Readonly<Record<string, Readonly<ChartSeries>>> {
    return this.#recorder.feed.series;
  }

  /**
   * Records from `engine` (the trainer, or its Worker mirror): losses and the learning rate at ITERATION_COMPLETED;
   * metrics from `options.evaluator` when its run completes, at the trainer's epoch (the trainer's own metrics at its
   * EPOCH_COMPLETED without one).
   *
   * @param options `{ evaluator? }`: the engine (or mirror) whose `state.metrics` the metrics chart shows.
   * @returns these charts; `remove()` takes their handlers off again.
   * @example
   * charts.attach(trainer, { evaluator });
   */
  attach(engine: Engine<any, any>, options: { evaluator?: Engine<any, any> | null } = {}): this {
    const where = 'LiveCharts.attach';
    if (typeof (engine as { on?: unknown } | null)?.on !== 'function')
      failType(where, 'argument engine', 'an Engine (the trainer, or its mirror)', engine);
    const { evaluator = null } = checkOptions(where, options, ['evaluator']) as { evaluator?: Engine<any, any> | null };
    if (evaluator !== null && typeof (evaluator as { on?: unknown }).on !== 'function') {
      failType(where, 'option evaluator', 'an Engine whose state.metrics to chart, or null', evaluator);
    }
    this.#recorder.attach(engine, evaluator);
    return this;
  }

  /** Takes the recording handlers off `engine`. */
  detach(engine: Engine<any, any>): void {
    this.#recorder.detach(engine);
  }

  /** Takes the recording handlers off every engine (the charts stay drawn). */
  remove(): void {
    this.#recorder.remove();
  }

  /** Drops every series (e.g. before a fresh run) and redraws empty charts. */
  clear(): void {
    this.#recorder.clear();
  }

  /** Redraws now with what is recorded, instead of at the next frame. */
  flush(): void {
    this.#recorder.feed.flush();
  }

  /** Resolves once every loss recorded so far is in the series (they are read back in chunks). */
  settle(): Promise<void> {
    return this.#recorder.settle();
  }

  /** The whole history as plain data, once the pending losses are in. */
  stateDict(): Promise<ChartsStateDict> {
    return this.#recorder.stateDict();
  }

  /** Replaces the history with a saved one (checked first: all or nothing) and redraws. */
  loadStateDict(stateDict: ChartsStateDict): void {
    this.#recorder.loadStateDict(stateDict);
  }

  /** Removes the handlers and the charts from the page. */
  dispose(): void {
    this.#isDisposed = true;
    this.remove();
    this.#resizeObserver?.disconnect();
    for (const chart of this.#charts) chart.destroy();
    this.#charts.length = 0;
  }

  /** The ChartFeed's sink: redraws the charts whose series changed (once uPlot is there). */
  #draw(frame: ChartFrame): void {
    this.#frame = frame;
    const changed = new Set(frame.changed);
    for (const chart of this.#charts) {
      if (chart.layout.series.some((s) => changed.has(s.key)) || chart.isEmpty) chart.setData(frame.series);
    }
  }

  #size(): { width: number; height: number } {
    const available = this.#container.clientWidth || this.#maxWidth;
    return { width: Math.max(120, Math.min(this.#maxWidth, available)), height: this.#height };
  }

  #resize(): void {
    const size = this.#size();
    for (const chart of this.#charts) chart.setSize(size);
  }
}

/** One chart's layout: title, axes and the series it draws (keys into the recorder's feed). */
interface ChartLayout {
  title: string;
  x: 'iteration' | 'epoch';
  left: string;
  right: string | null;
  series: { key: string; label: string; color: string; width: number; axis: 'left' | 'right'; points: boolean }[];
  kind: 'loss' | 'metrics' | 'lr';
}

const COLORS = ['#2e7d32', '#7b1fa2', '#ef6c00', '#00838f', '#c62828', '#5d4037'];

function chartLayouts(spec: RecorderSpec, options: LiveChartsOptions): ChartLayout[] {
  const layouts: ChartLayout[] = [];
  if (spec.loss !== null) {
    const title = typeof options.loss === 'object' ? options.loss.title : undefined;
    layouts.push({
      title: title ?? 'training loss per iteration',
      x: 'iteration',
      left: 'loss',
      right: null,
      kind: 'loss',
      series: [
        { key: SERIES.loss, label: 'loss', color: 'rgba(41, 98, 165, 0.6)', width: 1, axis: 'left', points: false },
        { key: SERIES.lossAverage, label: 'running avg', color: '#c0392b', width: 2, axis: 'left', points: false },
      ],
    });
  }
  if (spec.metrics !== null) {
    const m = options.metrics!;
    const { left, right } = spec.metrics;
    let color = 0;
    const series = (names: string[], axis: 'left' | 'right') =>
      names.map((name) => ({
        key: SERIES.metric(name),
        label: name,
        color: COLORS[color++ % COLORS.length]!,
        width: 2,
        axis,
        points: true,
      }));
    layouts.push({
      title: m.title ?? 'metrics per epoch',
      x: 'epoch',
      left: m.leftLabel ?? left.join(', '),
      right: right.length > 0 ? (m.rightLabel ?? right.join(', ')) : null,
      kind: 'metrics',
      series: [...series(left, 'left'), ...series(right, 'right')],
    });
  }
  if (spec.learningRate !== null) {
    layouts.push({
      title: 'learning rate per iteration',
      x: 'iteration',
      left: 'learning rate',
      right: null,
      kind: 'lr',
      series: [{ key: SERIES.learningRate, label: 'lr', color: '#00838f', width: 2, axis: 'left', points: false }],
    });
  }
  return layouts;
}

/** One uPlot chart in its own box. */
class ChartView {
  readonly layout: ChartLayout;
  readonly #plot: uPlot;
  readonly #box: HTMLElement;
  isEmpty = true;

  constructor(
    UPlot: UPlotConstructor,
    container: HTMLElement,
    layout: ChartLayout,
    size: { width: number; height: number },
  ) {
    this.layout = layout;
    this.#box = document.createElement('div');
    this.#box.className = `kindling-chart kindling-chart-${layout.kind}`;
    container.append(this.#box);
    const epochAxis = layout.x === 'epoch';
    const latest = (u: uPlot, sidx: number): number | null => {
      const ys = u.data[sidx] as (number | null)[] | undefined;
      for (let i = (ys?.length ?? 0) - 1; i >= 0; i--) if (ys![i] != null) return ys![i]!;
      return null;
    };
    const format = layout.kind === 'lr' ? formatRate : formatValue;
    const axes: uPlot.Axis[] = [
      {
        label: layout.x,
        ...(epochAxis
          ? {
              incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
              values: (_u: uPlot, ticks: number[]) => ticks.map(String),
            }
          : {}),
      },
      { scale: 'left', label: layout.left, size: 60, values: (_u: uPlot, ticks: number[]) => ticks.map(format) },
    ];
    if (layout.right !== null) {
      axes.push({
        scale: 'right',
        label: layout.right,
        side: 1,
        size: 56,
        grid: { show: false },
        values: (_u, ticks) => ticks.map(format),
      });
    }
    const leftRange: uPlot.Range.Function =
      layout.kind === 'loss'
        ? (_u, min, max) => padRange(min, max, [0, 1], true)
        : (_u, min, max) => padRange(min, max, [0, 1], false);
    this.#plot = new UPlot(
      {
        title: layout.title,
        ...size,
        scales: {
          x: {
            time: false,
            range: epochAxis
              ? (_u, min, max) =>
                  min == null || max == null ? [0.75, 5.25] : [min - 0.25, Math.max(max, min + 1) + 0.25]
              : (_u, min, max) => (min == null || max == null ? [0, 100] : [min, max === min ? min + 1 : max]),
          },
          left: { range: leftRange },
          right: { range: (_u, min, max) => padRange(min, max, [0, 1], false) },
        },
        axes,
        series: [
          {
            label: layout.x,
            value: (u: uPlot, v: number | null, _s: number, idx: number | null) =>
              String((idx == null ? latest(u, 0) : v) ?? '--'),
          },
          ...layout.series.map((s) => ({
            label: s.label,
            scale: s.axis,
            stroke: s.color,
            width: s.width,
            spanGaps: true,
            points: { show: s.points },
            // The legend shows the latest value while the cursor is off the chart (uPlot shows '--' then).
            value: (u: uPlot, v: number | null, sidx: number, idx: number | null) => {
              const shown = idx == null ? latest(u, sidx) : v;
              return shown == null ? '--' : format(shown);
            },
          })),
        ],
      },
      [[], ...layout.series.map(() => [])] as unknown as uPlot.AlignedData,
      this.#box,
    );
  }

  setData(all: Readonly<Record<string, Readonly<ChartSeries>>>): void {
    const parts = this.layout.series.map((s) => all[s.key] ?? { x: [], y: [] });
    const xs = [...new Set(parts.flatMap((p) => p.x))].sort((a, b) => a - b);
    const columns = parts.map((p) => alignTo(xs, p));
    this.isEmpty = xs.length === 0;
    this.#plot.setData([xs, ...columns] as unknown as uPlot.AlignedData);
    // Refresh the legend's values (the latest ones while the cursor is off the chart).
    this.#plot.setLegend({ idx: this.#plot.cursor.idx ?? undefined } as { idx?: number });
  }

  setSize(size: { width: number; height: number }): void {
    this.#plot.setSize(size);
  }

  destroy(): void {
    this.#plot.destroy();
    this.#box.remove();
  }
}

/** uPlot wants one shared x array: the series' y at each x (null where it has none). */
function alignTo(xs: readonly number[], series: Readonly<ChartSeries>): (number | null)[] {
  if (series.x.length === xs.length && series.x.every((x, i) => x === xs[i])) return [...series.y];
  const byX = new Map<number, number>();
  series.x.forEach((x, i) => {
    byX.set(x, series.y[i]!);
  });
  return xs.map((x) => byX.get(x) ?? null);
}

/** A y range with some room: `empty` without data; from 0 when `fromZero` and the data are not negative. */
function padRange(
  min: number | null,
  max: number | null,
  empty: [number, number],
  fromZero: boolean,
): uPlot.Range.MinMax {
  if (min == null || max == null || !Number.isFinite(min) || !Number.isFinite(max)) return empty;
  if (min >= 0 && max <= 1 && !fromZero && min > 0.05) return [Math.max(0, min - 0.1), 1];
  const pad = min === max ? Math.abs(min) * 0.1 || 1 : (max - min) * 0.05;
  return [fromZero && min >= 0 ? 0 : min - pad, max + pad];
}

function formatValue(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000 || abs < 0.001) return value.toExponential(2);
  return Number(value.toPrecision(4)).toString();
}

function formatRate(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1e-3 ? Number(value.toPrecision(3)).toString() : value.toExponential(1);
}

/** Reads the options into what the recorder records. */
function readSpec(where: string, options: LiveChartsOptions): RecorderSpec {
  const loss = options.loss ?? true;
  let lossSpec: RecorderSpec['loss'] = null;
  if (loss !== false) {
    const given =
      loss === true
        ? {}
        : checkPlainObject(where, 'option loss', loss, 'true, false or { smoothing?, outputTransform?, title? }');
    checkOptions(`${where} option loss`, given, ['smoothing', 'outputTransform', 'title']);
    const { smoothing = 0.9, outputTransform = (output: unknown) => output, title } = given as LossChartOptions;
    if (title !== undefined) checkString(where, 'option loss.title', title);
    lossSpec = {
      smoothing: checkNumber(where, 'option loss.smoothing', smoothing, { min: 0, max: 1, maxExclusive: true }),
      outputTransform: checkFunction(
        where,
        'option loss.outputTransform',
        outputTransform,
        '(output) => tf.Scalar | number',
      ),
    };
  }
  let metricsSpec: RecorderSpec['metrics'] = null;
  if (options.metrics != null) {
    const m = checkPlainObject(where, 'option metrics', options.metrics, '{ engine?, left, right?, ... }');
    checkOptions(`${where} option metrics`, m, ['left', 'right', 'leftLabel', 'rightLabel', 'title']);
    const names = (subject: string, value: unknown): string[] => {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || v.length === 0)) {
        failType(where, subject, 'an array of metric names', value);
      }
      return [...value];
    };
    const left = names('option metrics.left', m.left);
    const right = names('option metrics.right', m.right ?? []);
    if (left.length + right.length === 0) failType(where, 'option metrics.left', 'at least one metric name', m.left);
    for (const key of ['leftLabel', 'rightLabel', 'title'] as const) {
      if (m[key] !== undefined) checkString(where, `option metrics.${key}`, m[key]);
    }
    metricsSpec = { left, right };
  }
  let rateSpec: RecorderSpec['learningRate'] = null;
  const lr = options.learningRate ?? null;
  if (lr !== null) {
    if (typeof lr === 'function') rateSpec = lr;
    else if (typeof lr === 'object' && typeof (lr as { minimize?: unknown }).minimize === 'function') {
      rateSpec = () => (lr as unknown as { learningRate?: number }).learningRate;
    } else failType(where, 'option learningRate', 'a tf.Optimizer or (engine) => number', lr);
  }
  if (options.scheduler !== undefined) checkFunction(where, 'option scheduler', options.scheduler, '(flush) => cancel');
  if (options.injectStyles !== undefined && typeof options.injectStyles !== 'boolean') {
    failType(where, 'option injectStyles', 'a boolean', options.injectStyles);
  }
  return { loss: lossSpec, metrics: metricsSpec, learningRate: rateSpec };
}

/** Imports uPlot (an optional peer dependency) once. */
let uPlotModule: Promise<UPlotConstructor> | null = null;
function loadUPlot(): Promise<UPlotConstructor> {
  uPlotModule ??= import('uplot').then(
    (module) => (module as { default?: UPlotConstructor }).default ?? (module as unknown as UPlotConstructor),
    (error: unknown) => {
      uPlotModule = null;
      throw new Error(
        `LiveCharts: the optional package uplot did not load (${error instanceof Error ? error.message : String(error)}); ` +
          'LiveCharts draws with it: install it beside kindling: npm install uplot@^1.6.32',
        { cause: error },
      );
    },
  );
  return uPlotModule;
}

/** uPlot's layout rules that charts need (from uPlot.min.css, MIT), added to the document once. */
const STYLES =
  '.uplot,.uplot *{box-sizing:border-box}.uplot{font-family:system-ui,sans-serif;line-height:1.5;width:min-content}' +
  '.u-title{text-align:center;font-size:15px;font-weight:600}.u-wrap{position:relative;user-select:none}' +
  '.u-over,.u-under{position:absolute}.u-under{overflow:hidden}.uplot canvas{display:block;position:relative;width:100%;height:100%}' +
  '.u-axis{position:absolute}.u-legend{font-size:13px;margin:auto;text-align:center}.u-inline{display:block}' +
  '.u-inline *{display:inline-block}.u-inline tr{margin-right:12px}.u-legend th{font-weight:600}' +
  '.u-legend th>*{vertical-align:middle;display:inline-block}.u-legend .u-marker{width:1em;height:1em;margin-right:4px;background-clip:padding-box!important}' +
  '.u-inline.u-live th::after{content:":";vertical-align:middle}.u-series>*{padding:2px 4px}.u-legend .u-off>*{opacity:.3}' +
  '.u-select{background:rgba(0,0,0,.07);position:absolute;pointer-events:none}' +
  '.u-cursor-x,.u-cursor-y{position:absolute;left:0;top:0;pointer-events:none}' +
  '.u-hz .u-cursor-x{height:100%;border-right:1px dashed #607d8b}.u-hz .u-cursor-y{width:100%;border-bottom:1px dashed #607d8b}' +
  '.u-cursor-pt{position:absolute;top:0;left:0;border-radius:50%;border:0 solid;pointer-events:none;background-clip:padding-box!important}' +
  '.u-axis.u-off,.u-select.u-off,.u-cursor-x.u-off,.u-cursor-y.u-off,.u-cursor-pt.u-off{display:none}' +
  '.kindling-chart{display:inline-block;vertical-align:top;max-width:100%;overflow:hidden;margin:0 8px 8px 0}';

function injectStyles(): void {
  if (document.querySelector('style[data-kindling-charts]')) return;
  const style = document.createElement('style');
  style.dataset.kindlingCharts = '';
  style.textContent = STYLES;
  document.head.append(style);
}
