import type { Engine } from '../../engine';
import { checkKeyName, checkOptions, checkStateDict, failType, isPlainObject } from '../../internal';
import { type AnyMetric, Metric } from '../metric';

/** What a {@link MetricGroup} computes: each metric's value under its name. */
export type MetricGroupValues<M extends Record<string, AnyMetric>> = {
  [K in keyof M]: Awaited<ReturnType<M[K]['compute']>>;
};

/** The plain-data state of a {@link MetricGroup}: each metric's state dict under its name. */
export interface MetricGroupStateDict {
  metrics: Record<string, unknown>;
}

/**
 * Several metrics handled as one, like the reference's `MetricGroup`: one `attach` resets, updates and computes them
 * all. Each metric receives the group's (transformed) output through its own `outputTransform`. The value is an object
 * of the metrics' values by name; attached, each value is also written to `engine.state.metrics` under its own name.
 * Holds nothing itself: the memory is the metrics'.
 *
 * @example
 * const group = new MetricGroup({ r2: new R2Score(), mae: new MeanAbsoluteError() });
 * group.attach(evaluator, 'regression'); // state.metrics.r2, state.metrics.mae and state.metrics.regression
 */
export class MetricGroup<M extends Record<string, AnyMetric> = Record<string, AnyMetric>> extends Metric<
  unknown,
  MetricGroupValues<M>
> {
  readonly #metrics: M;

  /**
   * @param metrics the metrics by name (at least one).
   * @param options.outputTransform maps the engine output before each metric's own outputTransform.
   */
  constructor(metrics: M, options: { outputTransform?: (output: any) => unknown } = {}) {
    super(checkOptions('MetricGroup', options, ['outputTransform']) as typeof options);
    const expected = 'an object of metrics by name, e.g. { acc: new Accuracy() }';
    if (!isPlainObject(metrics) || Object.keys(metrics).length === 0) {
      failType('MetricGroup', 'argument metrics', expected, metrics);
    }
    for (const [name, metric] of Object.entries(metrics)) {
      checkKeyName('MetricGroup', 'a name in argument metrics', name, 'The names become keys of its result.');
      if (!(metric instanceof Metric)) failType('MetricGroup', `argument metrics' '${name}'`, 'a Metric', metric);
    }
    this.#metrics = { ...metrics };
  }

  protected override get metricName(): string {
    return 'MetricGroup';
  }

  /** The metrics by name. */
  get metrics(): Readonly<M> {
    return this.#metrics;
  }

  /** Resets every metric. */
  reset(): void {
    for (const metric of Object.values(this.#metrics)) metric.reset();
  }

  /** Handler of the usage's STARTED event: each metric's own (so a metric resumed from a state dict keeps it). */
  override started(engine: Engine<any, any>): void {
    for (const metric of Object.values(this.#metrics)) metric.started(engine);
  }

  /**
   * Updates every metric with `output` passed through the metric's own outputTransform; waits for the metrics whose
   * update is asynchronous.
   *
   * @example
   * group.update([yPred, y]);
   */
  update(output: unknown): void | Promise<void> {
    // A metric applies its outputTransform to `engine.state.output` in iterationCompleted: give it just that.
    const view = { state: { output } } as unknown as Engine<any, any>;
    const pending = Object.values(this.#metrics)
      .map((metric) => metric.iterationCompleted(view))
      .filter((result): result is Promise<unknown> => result instanceof Promise);
    if (pending.length > 0) return Promise.all(pending).then(() => undefined);
  }

  /**
   * Computes every metric (in parallel) and returns their values by name.
   *
   * @example
   * const { r2, mae } = await group.compute();
   */
  async compute(): Promise<MetricGroupValues<M>> {
    const entries = Object.entries(this.#metrics);
    const values = await Promise.all(entries.map(([, metric]) => metric.compute()));
    return Object.fromEntries(entries.map(([name], i) => [name, values[i]])) as MetricGroupValues<M>;
  }

  /**
   * Each metric's state dict under its name (the metrics' `stateDict()` are awaited).
   *
   * @example
   * const saved = await group.stateDict(); // { metrics: { r2: {...}, mae: {...} } }
   */
  override async stateDict(): Promise<MetricGroupStateDict> {
    const entries = Object.entries(this.#metrics);
    const states = await Promise.all(entries.map(([, metric]) => metric.stateDict()));
    return { metrics: Object.fromEntries(entries.map(([name], i) => [name, states[i]])) };
  }

  /**
   * Restores each metric from a state dict of {@link stateDict}, all or nothing: the names must match exactly, and if
   * a metric rejects its entry, the metrics loaded before it get their previous state back before the error is
   * rethrown.
   *
   * @example
   * await group.loadStateDict(saved);
   */
  override async loadStateDict(stateDict: MetricGroupStateDict): Promise<void> {
    const where = 'MetricGroup.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['metrics']);
    const names = Object.keys(this.#metrics);
    const states = checkStateDict(where, sd.metrics, names);
    const previous = await Promise.all(names.map((name) => this.#metrics[name]!.stateDict()));
    const loaded: number[] = [];
    try {
      for (const [i, name] of names.entries()) {
        await this.#metrics[name]!.loadStateDict(states[name]);
        loaded.push(i);
      }
    } catch (error) {
      for (const i of loaded) await this.#metrics[names[i]!]!.loadStateDict(previous[i]);
      throw error;
    }
  }
}
