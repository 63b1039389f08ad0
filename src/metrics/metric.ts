// Metric (reset / update / compute, attached through three events), the usages, and MetricsLambda. Longer than 400
// lines because MetricsLambda must stay beside Metric: Metric's arithmetic (add, mul, ...) builds MetricsLambdas and
// MetricsLambda extends Metric, so two files would import each other and the class extension would meet an
// uninitialised binding.
import { type CallableEvent, type Engine, type EventLike, Events, eventName, type Stateful } from '../engine';
import {
  checkEngine,
  checkFunction,
  checkKeyName,
  checkPlainObject,
  checkStateDict,
  describeValue,
  isPlainObject,
  UNSAFE_KEYS,
} from '../internal';
import { checkOutputTransform } from './inputs';
import { keepsLoadedState, planLoad, plansLoad } from './metric-state';

/**
 * Thrown by `compute()` when a metric has no data to compute from yet (no `update` since the last `reset`).
 *
 * @example
 * try { await new Accuracy().compute(); } catch (e) { if (e instanceof NotComputableError) ... }
 */
export class NotComputableError extends Error {
  /** Always `'NotComputableError'`. */
  override readonly name = 'NotComputableError';
}

/**
 * When an attached metric resets, updates and computes: three engine events. Pass one of the exported values
 * {@link EpochWise} (the default), {@link BatchWise}, {@link RunningEpochWise} or {@link RunningBatchWise}.
 */
export interface MetricUsage {
  /** The reference's name for this usage, e.g. `'epoch_wise'`. */
  readonly usageName: string;
  /** Event on which the metric resets. */
  readonly STARTED: EventLike;
  /** Event on which the metric updates from `engine.state.output`. */
  readonly ITERATION_COMPLETED: EventLike;
  /** Event on which the metric computes and writes `engine.state.metrics[name]`. */
  readonly COMPLETED: EventLike;
}

function usage(usageName: string, started: CallableEvent, iteration: CallableEvent, completed: CallableEvent) {
  return Object.freeze({ usageName, STARTED: started, ITERATION_COMPLETED: iteration, COMPLETED: completed });
}

/** Reset at EPOCH_STARTED, update at ITERATION_COMPLETED, compute at EPOCH_COMPLETED: one value per epoch. */
export const EpochWise: MetricUsage = usage(
  'epoch_wise',
  Events.EPOCH_STARTED,
  Events.ITERATION_COMPLETED,
  Events.EPOCH_COMPLETED,
);

/** Reset at ITERATION_STARTED, update and compute at ITERATION_COMPLETED: one value per batch. */
export const BatchWise: MetricUsage = usage(
  'batch_wise',
  Events.ITERATION_STARTED,
  Events.ITERATION_COMPLETED,
  Events.ITERATION_COMPLETED,
);

/**
 * Reset at STARTED only, update and compute at every ITERATION_COMPLETED: the value covers the run so far.
 * The default usage of {@link RunningAverage}.
 */
export const RunningBatchWise: MetricUsage = usage(
  'running_batch_wise',
  Events.STARTED,
  Events.ITERATION_COMPLETED,
  Events.ITERATION_COMPLETED,
);

/**
 * Reset at STARTED only, update and compute at every EPOCH_COMPLETED (reference 0.5 semantics: the update sees the
 * engine output at the end of the epoch). Meant for a {@link RunningAverage} of an epoch-wise source metric.
 */
export const RunningEpochWise: MetricUsage = usage(
  'running_epoch_wise',
  Events.STARTED,
  Events.EPOCH_COMPLETED,
  Events.EPOCH_COMPLETED,
);

type AnyEngine = Engine<any, any>;
type EngineHandler = (engine: AnyEngine, ...args: any[]) => unknown;
/** A metric of any input and output, e.g. as an argument of {@link MetricsLambda}. */
export type AnyMetric = Metric<any, any>;
type Arithmetic = number | readonly Arithmetic[];

interface UsageRecord {
  /** Reasons this metric's reset/update handlers are registered for the usage: its own attaches and dependents'. */
  refs: number;
  /** Its own `attach` calls with this usage. */
  direct: number;
}

/**
 * Base class of all metrics: `reset()`, `update(output)` and `compute()`, wired to an engine by `attach`.
 *
 * Built-in metrics keep their running sums as tensors on the device and read back only in `compute()` (one
 * `await data()`). A subclass implements the three methods; `update` receives `outputTransform(engine.state.output)`.
 *
 * @example
 * class MaxValue extends Metric<number, number> {
 *   #max = -Infinity;
 *   reset() { this.#max = -Infinity; }
 *   update(value: number) { this.#max = Math.max(this.#max, value); }
 *   compute() { if (this.#max === -Infinity) throw new NotComputableError('no data'); return this.#max; }
 * }
 * new MaxValue({ outputTransform: (out) => out.loss }).attach(trainer, 'maxLoss');
 */
export abstract class Metric<In = unknown, Out = number> implements Stateful {
  readonly #outputTransform: (output: any) => In;
  readonly #startedHandler: EngineHandler = (engine) => this.started(engine);
  readonly #iterationHandler: EngineHandler = (engine) => this.iterationCompleted(engine);
  readonly #completedHandlers = new Map<MetricUsage, EngineHandler>();
  readonly #records = new WeakMap<AnyEngine, Map<MetricUsage, UsageRecord>>();

  /**
   * @param options.outputTransform maps `engine.state.output` to what `update` takes (default: the output as is).
   */
  constructor(options: { outputTransform?: (output: any) => In } = {}) {
    checkPlainObject(this.metricName, 'argument options', options);
    this.#outputTransform = checkOutputTransform<In>(options.outputTransform, this.metricName);
  }

  /**
   * The metric's name in error messages. Each kindling metric returns its class name literally (a minifier renames
   * classes, so names are never read from the constructor); a subclass of yours may override it too, else its messages
   * say 'Metric'.
   */
  protected get metricName(): string {
    return 'Metric';
  }

  /** Clears the accumulated state (and frees its tensors). Called at the usage's STARTED event. */
  abstract reset(): void;

  /** Accumulates one batch: `output` is `outputTransform(engine.state.output)`. Never reads tensors back. */
  abstract update(output: In): void;

  /** The metric's value from the accumulated state; throws {@link NotComputableError} without data. */
  abstract compute(): Out | Promise<Out>;

  /**
   * The accumulated state as plain data (numbers, arrays, typed arrays), so that a checkpoint taken mid-epoch resumes
   * with the same value at the epoch's end. Reads device sums back with `await data()`, never synchronously; the
   * metric's value is unchanged by the call. A metric that keeps state must override this and {@link loadStateDict}.
   */
  stateDict(): unknown | Promise<unknown> {
    throw new Error(
      `${this.metricName}.stateDict(): this metric does not save its state. Override stateDict() and loadStateDict() to put it in a checkpoint.`,
    );
  }

  /**
   * Restores the state {@link stateDict} returned, checking all of it before changing anything (a bad state dict
   * throws and leaves the metric as it was).
   */
  loadStateDict(_stateDict: unknown): void | Promise<void> {
    throw new Error(
      `${this.metricName}.loadStateDict(): this metric does not restore its state. Override stateDict() and loadStateDict() to put it in a checkpoint.`,
    );
  }

  /**
   * For composite metrics ({@link MetricsLambda}): the metrics this one is computed from. Attaching a composite
   * registers their reset/update handlers instead of its own. `null` (the default) for metrics that update themselves.
   */
  protected metricDependencies(): readonly AnyMetric[] | null {
    return null;
  }

  /**
   * Handler of the usage's STARTED event: resets the metric, except right after `loadStateDict` when the engine
   * resumes mid-epoch (EPOCH_STARTED) or mid-run (STARTED): then the loaded state carries on.
   */
  started(engine: AnyEngine): void {
    if (keepsLoadedState(this, engine)) this.resumed();
    else this.reset();
  }

  /**
   * Called instead of `reset()` at the reset event of a run that resumes the state `loadStateDict` put in place (e.g.
   * to restart a clock). Does nothing here.
   */
  protected resumed(): void {}

  /** Handler of the usage's ITERATION_COMPLETED event: updates from `outputTransform(engine.state.output)`. */
  iterationCompleted(engine: AnyEngine): unknown {
    return this.update(this.#outputTransform(engine.state.output));
  }

  /**
   * Handler of the usage's COMPLETED event: computes and writes `engine.state.metrics[name]`. A result that is an
   * object of values is also spread into `engine.state.metrics` key by key, like the reference.
   */
  async completed(engine: AnyEngine, name: string): Promise<void> {
    const result = await this.compute();
    if (isPlainObject(result)) {
      const unsafe = Object.keys(result).find((key) => UNSAFE_KEYS.has(key));
      if (unsafe !== undefined) {
        throw new TypeError(
          `${this.metricName}: its result has the key '${unsafe}', which would reach the prototype of ` +
            `engine.state.metrics when spread into it; return an object without '__proto__', 'constructor' or 'prototype' keys.`,
        );
      }
      if (name in result) {
        throw new Error(
          `${this.metricName}: the metric name '${name}' conflicts with a key of its result ` +
            `{${Object.keys(result).join(', ')}}; attach it under another name.`,
        );
      }
      Object.assign(engine.state.metrics, result);
    }
    engine.state.metrics[name] = result;
  }

  /**
   * Attaches the metric: reset on `usage.STARTED`, update on `usage.ITERATION_COMPLETED`, and on `usage.COMPLETED`
   * the value goes to `engine.state.metrics[name]`. The engine awaits the (async) compute.
   *
   * @param engine the engine to read outputs from.
   * @param name the key in `engine.state.metrics`.
   * @param usage {@link EpochWise} (default), {@link BatchWise}, {@link RunningEpochWise} or {@link RunningBatchWise}.
   * @example
   * new Accuracy().attach(evaluator, 'accuracy');
   * new Loss(lossFn).attach(trainer, 'batchLoss', BatchWise);
   */
  attach(engine: AnyEngine, name: string, usage: MetricUsage = EpochWise): void {
    const where = `${this.metricName}.attach`;
    checkEngine(where, 'argument engine', engine);
    checkKeyName(where, 'argument name', name, "It becomes the metric's key in engine.state.metrics: pick another.");
    this.#checkUsage(usage, 'attach');
    this.#acquire(engine, usage);
    this.#record(engine, usage).direct += 1;
    engine.addEventHandler(usage.COMPLETED, this.#completedHandler(usage), name);
  }

  /**
   * Detaches the metric from `engine` for `usage`: its value is no longer written. Handlers that another usage or a
   * composite metric still needs stay. The accumulated state is kept until the next `reset()`.
   *
   * @example
   * metric.detach(engine); // the EpochWise attachment
   */
  detach(engine: AnyEngine, usage: MetricUsage = EpochWise): void {
    checkEngine(`${this.metricName}.detach`, 'argument engine', engine);
    this.#checkUsage(usage, 'detach');
    const completed = this.#completedHandlers.get(usage);
    if (completed !== undefined && engine.hasEventHandler(completed, usage.COMPLETED)) {
      engine.removeEventHandler(completed, usage.COMPLETED);
    }
    const record = this.#records.get(engine)?.get(usage);
    if (record === undefined) return;
    const count = record.direct;
    record.direct = 0;
    this.#release(engine, usage, count);
  }

  /**
   * True when the metric writes its value on `engine` with `usage` (for a composite: and its dependencies update).
   *
   * @example
   * metric.attach(engine, 'acc', BatchWise); metric.isAttached(engine, BatchWise); // true
   */
  isAttached(engine: AnyEngine, usage: MetricUsage = EpochWise): boolean {
    checkEngine(`${this.metricName}.isAttached`, 'argument engine', engine);
    this.#checkUsage(usage, 'isAttached');
    const completed = this.#completedHandlers.get(usage);
    if (completed === undefined || !engine.hasEventHandler(completed, usage.COMPLETED)) return false;
    return (this.metricDependencies() ?? []).every((dependency) => dependency.#isFed(engine, usage));
  }

  /** `this + other`, elementwise: a {@link MetricsLambda} that attaches both operands. */
  add(other: AnyMetric | number): MetricsLambda<Out> {
    return this.#arithmetic(other, 'add', (a, b) => a + b);
  }

  /** `this - other`, elementwise: a {@link MetricsLambda} that attaches both operands. */
  sub(other: AnyMetric | number): MetricsLambda<Out> {
    return this.#arithmetic(other, 'sub', (a, b) => a - b);
  }

  /** `this * other`, elementwise: a {@link MetricsLambda} that attaches both operands. */
  mul(other: AnyMetric | number): MetricsLambda<Out> {
    return this.#arithmetic(other, 'mul', (a, b) => a * b);
  }

  /**
   * `this / other`, elementwise: a {@link MetricsLambda} that attaches both operands.
   *
   * @example
   * const f1 = precision.mul(recall).mul(2).div(precision.add(recall)); // with { average: false }: per class
   */
  div(other: AnyMetric | number): MetricsLambda<Out> {
    return this.#arithmetic(other, 'div', (a, b) => a / b);
  }

  /** `this ** other`, elementwise: a {@link MetricsLambda} that attaches both operands. */
  pow(other: AnyMetric | number): MetricsLambda<Out> {
    return this.#arithmetic(other, 'pow', (a, b) => a ** b);
  }

  #arithmetic(other: AnyMetric | number, op: string, fn: (a: number, b: number) => number): MetricsLambda<Out> {
    if (!(other instanceof Metric) && !(typeof other === 'number' && !Number.isNaN(other))) {
      throw new TypeError(
        `${this.metricName}.${op}: argument should be a Metric or a number, got ${describeValue(other)}.`,
      );
    }
    return new MetricsLambda(
      (a: unknown, b: unknown) => elementwise(a as Arithmetic, b as Arithmetic, fn, op) as Out,
      this,
      other,
    );
  }

  #completedHandler(usage: MetricUsage): EngineHandler {
    let handler = this.#completedHandlers.get(usage);
    if (handler === undefined) {
      handler = (engine, name: string) => this.completed(engine, name);
      this.#completedHandlers.set(usage, handler);
    }
    return handler;
  }

  #record(engine: AnyEngine, usage: MetricUsage): UsageRecord {
    let records = this.#records.get(engine);
    if (records === undefined) {
      records = new Map();
      this.#records.set(engine, records);
    }
    let record = records.get(usage);
    if (record === undefined) {
      record = { refs: 0, direct: 0 };
      records.set(usage, record);
    }
    return record;
  }

  /** Registers the reset/update handlers this metric needs for `usage` (a composite's: its dependencies'). */
  #acquire(engine: AnyEngine, usage: MetricUsage): void {
    const dependencies = this.metricDependencies();
    if (dependencies !== null) {
      for (const dependency of dependencies) dependency.#acquire(engine, usage);
    } else {
      if (!engine.hasEventHandler(this.#startedHandler, usage.STARTED)) {
        engine.addEventHandler(usage.STARTED, this.#startedHandler);
      }
      if (!engine.hasEventHandler(this.#iterationHandler, usage.ITERATION_COMPLETED)) {
        engine.addEventHandler(usage.ITERATION_COMPLETED, this.#iterationHandler);
      }
    }
    this.#record(engine, usage).refs += 1;
  }

  /** Drops `count` reasons for the handlers of `usage`; removes them when none is left (and no other usage shares them). */
  #release(engine: AnyEngine, usage: MetricUsage, count: number): void {
    if (count <= 0) return;
    const records = this.#records.get(engine);
    const record = records?.get(usage);
    if (records === undefined || record === undefined) return;
    record.refs = Math.max(0, record.refs - count);
    const dependencies = this.metricDependencies();
    if (dependencies !== null) {
      for (const dependency of dependencies) dependency.#release(engine, usage, count);
      return;
    }
    if (record.refs > 0) return;
    const others = [...records].filter(([other, r]) => other !== usage && r.refs > 0).map(([other]) => other);
    const removeUnlessShared = (handler: EngineHandler, pick: (u: MetricUsage) => EventLike) => {
      const name = eventName(pick(usage));
      if (others.some((other) => eventName(pick(other)) === name)) return;
      if (engine.hasEventHandler(handler, pick(usage))) engine.removeEventHandler(handler, pick(usage));
    };
    removeUnlessShared(this.#startedHandler, (u) => u.STARTED);
    removeUnlessShared(this.#iterationHandler, (u) => u.ITERATION_COMPLETED);
  }

  /** True when this metric (a composite: each dependency) has its reset and update handlers registered for `usage`. */
  #isFed(engine: AnyEngine, usage: MetricUsage): boolean {
    const dependencies = this.metricDependencies();
    if (dependencies !== null) return dependencies.every((dependency) => dependency.#isFed(engine, usage));
    return (
      engine.hasEventHandler(this.#startedHandler, usage.STARTED) &&
      engine.hasEventHandler(this.#iterationHandler, usage.ITERATION_COMPLETED)
    );
  }

  #checkUsage(usage: unknown, method: string): asserts usage is MetricUsage {
    const u = usage as Partial<MetricUsage> | null;
    const isEvent = (e: unknown) =>
      typeof e === 'string' || ((typeof e === 'function' || (typeof e === 'object' && e !== null)) && 'name' in e);
    if (
      u === null ||
      typeof u !== 'object' ||
      !isEvent(u.STARTED) ||
      !isEvent(u.ITERATION_COMPLETED) ||
      !isEvent(u.COMPLETED)
    ) {
      throw new TypeError(
        `${this.metricName}.${method}: argument usage should be EpochWise, BatchWise, RunningEpochWise or ` +
          `RunningBatchWise (exported values, passed as they are), got ${describeValue(usage)}.`,
      );
    }
  }
}

type ValueOf<T> = T extends Metric<any, infer O> ? Awaited<O> : T;
/** The values a {@link MetricsLambda} function receives: each metric argument computed, other arguments as they are. */
export type MetricValues<A extends readonly unknown[]> = { [K in keyof A]: ValueOf<A[K]> };

/**
 * A metric computed by a function from other metrics' values (and constants). Attaching it attaches the metrics it
 * depends on (their reset and update handlers, not their own values); its value is `fn(...computed args)`.
 *
 * @param fn receives the arguments, each metric replaced by its computed value; may be async.
 * @param args metrics and plain values, passed to `fn` in order.
 * @example
 * const precision = new Precision({ average: false });
 * const recall = new Recall({ average: false });
 * const f1 = new MetricsLambda((p, r) => p.map((pi, i) => (2 * pi * r[i]) / (pi + r[i] + 1e-15)), precision, recall);
 * f1.attach(evaluator, 'f1');
 */
export class MetricsLambda<Out = unknown, A extends readonly unknown[] = any[]> extends Metric<unknown, Out> {
  readonly #fn: (...values: MetricValues<A>) => Out | Promise<Out>;
  readonly #args: A;
  #isUpdated = false;
  readonly #attachedTo = new Map<AnyEngine, Set<MetricUsage>>();

  constructor(fn: (...values: MetricValues<A>) => Out | Promise<Out>, ...args: A) {
    super();
    this.#fn = checkFunction('MetricsLambda', 'argument fn', fn, '(...values) => value');
    this.#args = args;
  }

  protected override get metricName(): string {
    return 'MetricsLambda';
  }

  /** The arguments the function is applied to (metrics and plain values). */
  get args(): A {
    return this.#args;
  }

  protected override metricDependencies(): readonly AnyMetric[] {
    return this.#args.filter((arg): arg is AnyMetric => arg instanceof Metric);
  }

  /** Resets every metric it depends on. */
  reset(): void {
    for (const metric of this.metricDependencies()) metric.reset();
    this.#isUpdated = false;
  }

  /** Updates every metric it depends on (only while not attached to an engine: attached, the engine does it). */
  update(output: unknown): void {
    if (this.#attachedTo.size > 0) {
      throw new Error(
        'MetricsLambda: update() cannot be used while the lambda is attached to an engine (the engine updates its ' +
          'metrics); detach it first or use a separate instance.',
      );
    }
    for (const metric of this.metricDependencies()) metric.update(output);
    this.#isUpdated = true;
  }

  /**
   * The state of every metric it depends on, as plain data: `{ args }` with one entry per argument of the function,
   * in order (a metric's state dict, null for a plain value). Reads each back once.
   */
  override async stateDict(): Promise<{ args: unknown[] }> {
    const args = await Promise.all(this.#args.map((arg) => (arg instanceof Metric ? arg.stateDict() : null)));
    return { args };
  }

  /**
   * Restores the metrics it depends on from a {@link stateDict}. The built-in metrics are all checked before any is
   * changed; a metric of your own is loaded after them with its own `loadStateDict`.
   */
  override loadStateDict(stateDict: { args: unknown[] }): void | Promise<void> {
    return this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void | Promise<void> {
    const where = `${this.metricName}.loadStateDict`;
    const { args } = checkStateDict(where, stateDict, ['args']);
    if (!Array.isArray(args) || args.length !== this.#args.length) {
      throw new TypeError(
        `${where}: state dict entry 'args' should be an array of ${this.#args.length} entries (one per argument), got ${describeValue(args)}.`,
      );
    }
    const plans: (() => void | Promise<void>)[] = [];
    const own: [AnyMetric, unknown][] = [];
    this.#args.forEach((arg, i) => {
      if (!(arg instanceof Metric)) {
        if (args[i] !== null) {
          throw new TypeError(
            `${where}: state dict entry 'args[${i}]' should be null (a plain value), got ${describeValue(args[i])}.`,
          );
        }
      } else if (plansLoad(arg)) plans.push(arg[planLoad](args[i]));
      else own.push([arg, args[i]]);
    });
    return () => {
      const results = [...plans.map((apply) => apply()), ...own.map(([metric, sd]) => metric.loadStateDict(sd))];
      const pending = results.filter((result) => result instanceof Promise);
      if (pending.length > 0) return Promise.all(pending).then(() => undefined);
    };
  }

  /** Computes every metric argument (in parallel) and applies the function. */
  async compute(): Promise<Out> {
    const values = await Promise.all(this.#args.map((arg) => (arg instanceof Metric ? arg.compute() : arg)));
    return this.#fn(...(values as unknown as MetricValues<A>));
  }

  /**
   * Attaches like {@link Metric.attach}: the dependencies' reset/update handlers, and this value under `name`.
   * Throws if the dependencies were updated by hand through `update()`; call `reset()` first.
   */
  override attach(engine: AnyEngine, name: string, usage: MetricUsage = EpochWise): void {
    if (this.#isUpdated) {
      throw new Error(
        'MetricsLambda: the metrics it depends on were already updated by hand; call reset() before attaching it to an engine.',
      );
    }
    super.attach(engine, name, usage);
    const usages = this.#attachedTo.get(engine) ?? new Set<MetricUsage>();
    this.#attachedTo.set(engine, usages.add(usage));
  }

  /** Detaches like {@link Metric.detach}; once detached everywhere, `update()` by hand is allowed again. */
  override detach(engine: AnyEngine, usage: MetricUsage = EpochWise): void {
    super.detach(engine, usage);
    const usages = this.#attachedTo.get(engine);
    usages?.delete(usage);
    if (usages?.size === 0) this.#attachedTo.delete(engine);
  }
}

function elementwise(a: Arithmetic, b: Arithmetic, fn: (a: number, b: number) => number, op: string): Arithmetic {
  if (typeof a === 'number' && typeof b === 'number') return fn(a, b);
  if (typeof a === 'number' && Array.isArray(b)) return b.map((bi) => elementwise(a, bi, fn, op));
  if (Array.isArray(a) && typeof b === 'number') return a.map((ai) => elementwise(ai, b, fn, op));
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length)
    return a.map((ai, i) => elementwise(ai, b[i], fn, op));
  throw new RangeError(
    `Metric.${op}: operands should be numbers or arrays of the same length, got ${describeValue(a)} and ${describeValue(b)}.`,
  );
}
