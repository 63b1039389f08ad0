import { type Engine, EventList, type EventSpec, eventName, type RemovableEventHandle } from '../engine';
import { addHandlers } from '../handlers/attachable';
import { checkEngine, checkInteger, checkNumber, checkPlainObject, checkString, failType } from '../internal';
import { OptimizerParamsHandler, type OptimizerParamsHandlerOptions } from './optimizer-params-handler';
import { OutputHandler, type OutputHandlerOptions } from './output-handler';

/**
 * A logging handler: called as `handle(engine, logger, eventName)` on the events it is attached to (by
 * {@link BaseLogger.attach}), it reads what it logs and writes it with the logger's `addScalar` / `addScalars` /
 * `addHistogram`, through {@link BaseLogger.schedule} when it waits for device values.
 */
export interface LogHandler<L extends BaseLogger = BaseLogger> {
  handle(engine: Engine<any, any>, logger: L, eventName: string): unknown;
  /** Called once when the logger closes (e.g. to stop watching gradients). */
  close?(): void;
}

/** A logging handler written as a function `(engine, logger, eventName) => ...`. */
export type LogHandlerFunction<L extends BaseLogger = BaseLogger> = (
  engine: Engine<any, any>,
  logger: L,
  eventName: string,
) => unknown;

/** Where to attach a handler made by {@link BaseLogger.attachOutputHandler} / `attachOptParamsHandler`. */
export interface AttachEvent {
  /** The event(s) to log on, e.g. `Events.ITERATION_COMPLETED({ every: 100 })` or `Events.EPOCH_COMPLETED`. */
  eventName: EventSpec;
}

/** How many logging calls may wait for device values before a handler waits too (backpressure). */
const MAX_PENDING = 8;

/** Seconds since the epoch, TensorBoard's wall time. */
export const wallTimeNow = (): number => Date.now() / 1000;

/**
 * The base of kindling's loggers (PyTorch Ignite's `BaseLogger`): attach logging handlers to an engine's events,
 * write scalars and histograms at a step, and `close()` to flush and end the files. The back ends
 * ({@link TensorboardLogger}, {@link CSVLogger}) implement where the values go.
 *
 * Handlers never block a training step on the device: they start reading the values they log (`await data()` on one
 * packed tensor) and hand the write to {@link schedule}, which writes in order as reads arrive; a handler waits only
 * when more than a few reads are outstanding. `flush()` and `close()` wait for all of them.
 *
 * @example
 * const logger = new TensorboardLogger({ logDir: 'runs/digits' });
 * logger.attachOutputHandler(trainer, {
 *   eventName: Events.ITERATION_COMPLETED({ every: 10 }), tag: 'training', outputTransform: (loss) => ({ loss }),
 * });
 * logger.attachOutputHandler(evaluator, {
 *   eventName: Events.EPOCH_COMPLETED, tag: 'validation', metricNames: 'all', globalStepTransform: globalStepFromEngine(trainer),
 * });
 * logger.attachOptParamsHandler(trainer, { eventName: Events.ITERATION_STARTED, optimizer });
 * await trainer.run(loader, { maxEpochs: 10 });
 * await logger.close();
 */
export abstract class BaseLogger {
  readonly #where: string;
  readonly #handles: RemovableEventHandle[] = [];
  readonly #handlers = new Set<LogHandler<any>>();
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  #isWriting = false;
  #error: { error: unknown } | null = null;
  #closing: Promise<void> | null = null;

  /** @param where - the logger's class name, for messages (e.g. `'TensorboardLogger'`). */
  protected constructor(where: string) {
    this.#where = where;
  }

  /** True once {@link close} was called. */
  get isClosed(): boolean {
    return this.#closing !== null;
  }

  /**
   * Calls `handler(engine, this, eventName)` (or `handler.handle(...)`) on each event of `eventName`.
   *
   * @returns a handle that removes it.
   * @example
   * logger.attach(trainer, new WeightsScalarHandler(model), Events.EPOCH_COMPLETED);
   * logger.attach(trainer, (engine, logger) => logger.addScalar('epoch', engine.state.epoch, engine.state.iteration), Events.EPOCH_COMPLETED);
   */
  attach(
    engine: Engine<any, any>,
    handler: LogHandler<this> | LogHandlerFunction<this>,
    eventName: EventSpec,
  ): RemovableEventHandle {
    const where = `${this.#where}.attach`;
    this.#checkOpen(where);
    checkEngine(where, 'argument engine', engine);
    const isHandler =
      typeof handler === 'function' ||
      (handler !== null && typeof handler === 'object' && typeof (handler as LogHandler).handle === 'function');
    if (!isHandler) {
      failType(
        where,
        'argument handler',
        'a log handler (an object with handle(engine, logger, eventName)) or a function',
        handler,
      );
    }
    const events =
      eventName instanceof EventList ? [...eventName] : Array.isArray(eventName) ? [...eventName] : [eventName];
    const handles = addHandlers(
      engine,
      where,
      events.map((event) => ['argument eventName', event, handler, this, nameOf(event)] as const),
    );
    if (typeof handler === 'object') this.#handlers.add(handler);
    const remove = () => {
      for (const handle of handles) handle.remove();
    };
    const handle = { remove, [Symbol.dispose]: remove };
    this.#handles.push(handle);
    return handle;
  }

  /**
   * Logs the engine's output and/or metrics as scalars tagged `${tag}/${name}`: {@link OutputHandler}.
   *
   * @returns a handle that removes it.
   * @example
   * logger.attachOutputHandler(trainer, { eventName: Events.ITERATION_COMPLETED, tag: 'training', outputTransform: (loss) => ({ loss }) });
   */
  attachOutputHandler(engine: Engine<any, any>, options: OutputHandlerOptions & AttachEvent): RemovableEventHandle {
    const { eventName: event, ...rest } = checkPlainObject(
      `${this.#where}.attachOutputHandler`,
      'argument options',
      options,
      'an object { eventName, tag, ... }',
    ) as unknown as OutputHandlerOptions & AttachEvent;
    return this.attach(engine, new OutputHandler(rest), event);
  }

  /**
   * Logs an optimizer parameter (the learning rate by default) as `[${tag}/]lr/group_0`: {@link OptimizerParamsHandler}.
   *
   * @returns a handle that removes it.
   * @example
   * logger.attachOptParamsHandler(trainer, { eventName: Events.ITERATION_STARTED, optimizer });
   */
  attachOptParamsHandler(
    engine: Engine<any, any>,
    options: OptimizerParamsHandlerOptions & AttachEvent,
  ): RemovableEventHandle {
    const { eventName: event, ...rest } = checkPlainObject(
      `${this.#where}.attachOptParamsHandler`,
      'argument options',
      options,
      'an object { eventName, optimizer, ... }',
    ) as unknown as OptimizerParamsHandlerOptions & AttachEvent;
    return this.attach(engine, new OptimizerParamsHandler(rest), event);
  }

  /**
   * Writes one scalar at `step`.
   *
   * @param wallTime - seconds since the epoch (default: now).
   * @example
   * logger.addScalar('training/loss', 0.25, 100);
   */
  addScalar(tag: string, value: number, step: number, wallTime?: number): void {
    this.addScalars({ [tag]: value }, step, wallTime);
  }

  /**
   * Writes several scalars at one `step`, as one record (one TensorBoard event, one CSV row).
   *
   * @example
   * logger.addScalars({ 'validation/accuracy': 0.97, 'validation/loss': 0.1 }, 5);
   */
  addScalars(scalars: Record<string, number>, step: number, wallTime: number = wallTimeNow()): void {
    const where = `${this.#where}.addScalars`;
    this.#checkOpen(where);
    checkPlainObject(where, 'argument scalars', scalars, 'an object of tag → number');
    const entries = Object.entries(scalars);
    for (const [tag, value] of entries) {
      checkString(where, 'a tag', tag);
      if (typeof value !== 'number') failType(where, `the value of '${tag}'`, 'a number', value);
    }
    checkInteger(where, 'argument step', step);
    checkNumber(where, 'argument wallTime', wallTime);
    if (entries.length === 0) return;
    this.#write(() => this._writeScalars(entries, step, wallTime));
  }

  /**
   * Writes a histogram of `values` at `step` (TensorBoard only).
   *
   * @example
   * logger.addHistogram('weights/dense/kernel', await kernel.data(), 100);
   */
  addHistogram(tag: string, values: ArrayLike<number>, step: number, wallTime: number = wallTimeNow()): void {
    const where = `${this.#where}.addHistogram`;
    this.#checkOpen(where);
    checkString(where, 'argument tag', tag);
    if (values === null || typeof values !== 'object' || typeof (values as ArrayLike<number>).length !== 'number') {
      failType(where, 'argument values', 'an array or typed array of numbers', values);
    }
    checkInteger(where, 'argument step', step);
    checkNumber(where, 'argument wallTime', wallTime);
    this.#write(() => this._writeHistogram(tag, values, step, wallTime));
  }

  /**
   * Queues a write that needs values still on their way (e.g. `tensor.data()`): `write(value)` runs once `read`
   * resolves, after every write queued before it. Returns a promise only when more than a few writes are waiting,
   * for the handler to return so that the engine waits (backpressure); otherwise returns nothing. A failed read or
   * write is thrown by the next `schedule()`, `flush()` or `close()`.
   *
   * @example
   * const norm = tf.norm(weights); // a tensor on the device
   * return logger.schedule(norm.data().finally(() => norm.dispose()), ([value]) => logger.addScalar('norm', value, step));
   */
  schedule<T>(read: Promise<T>, write: (value: T) => void): Promise<void> | undefined {
    this.#throwPending();
    this.#pending += 1;
    read.catch(() => {}); // awaited in order below; keep an early rejection from being reported as unhandled
    this.#queue = this.#queue
      .then(() => read)
      .then((value) => {
        this.#isWriting = true;
        try {
          write(value);
        } finally {
          this.#isWriting = false;
        }
      })
      .catch((error: unknown) => {
        this.#error ??= { error };
      })
      .finally(() => {
        this.#pending -= 1;
      });
    return this.#pending > MAX_PENDING ? this.#queue : undefined;
  }

  /** Waits for every queued write, then pushes buffered records to storage. */
  async flush(): Promise<void> {
    await this.#queue;
    this.#throwPending();
    await this._flush();
  }

  /**
   * Removes every handler this logger attached, waits for queued writes, flushes and ends the files. Idempotent;
   * the logger cannot write afterwards.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const handle of this.#handles) handle.remove();
      for (const handler of this.#handlers) handler.close?.();
      await this.#queue;
      try {
        this.#throwPending();
        await this._flush();
      } finally {
        await this._close();
      }
    })();
    return this.#closing;
  }

  /** The same as {@link close}, for `await using logger = new TensorboardLogger(...)`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Writes one record of scalars. Called in order. */
  protected abstract _writeScalars(scalars: readonly [string, number][], step: number, wallTime: number): void;

  /** Writes one histogram. Called in order. The base refuses: only some back ends store histograms. */
  protected _writeHistogram(_tag: string, _values: ArrayLike<number>, _step: number, _wallTime: number): void {
    throw new TypeError(
      `${this.#where}.addHistogram: a ${this.#where} stores scalars only; log histograms with a TensorboardLogger.`,
    );
  }

  /** Pushes buffered records to storage. */
  protected abstract _flush(): Promise<void>;

  /** Ends the files. Called once, after the last flush. */
  protected abstract _close(): Promise<void>;

  /** Writes now when nothing is queued (or from inside a queued write), else after the queued writes. */
  #write(write: () => void): void {
    if (this.#pending === 0 || this.#isWriting) write();
    else this.schedule(Promise.resolve(), write);
  }

  #throwPending(): void {
    const failure = this.#error;
    if (failure === null) return;
    this.#error = null;
    throw failure.error;
  }

  /** Throws once the logger is closed, except for writes queued before (they run while it closes). */
  #checkOpen(where: string): void {
    if (this.#closing !== null && !this.#isWriting) {
      throw new Error(`${where}: the logger is closed; make a new ${this.#where} to log again.`);
    }
  }
}

/** The name a handler is told for an event (its filter left out). */
const nameOf = (event: unknown): string => {
  if (typeof event !== 'string' && typeof (event as { name?: unknown })?.name !== 'string') {
    failType('BaseLogger.attach', 'argument eventName', 'an event, an event list or an array of events', event);
  }
  return eventName(event as string);
};
