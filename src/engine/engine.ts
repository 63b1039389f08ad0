// The Engine: the loop, its events and its control flags. Longer than 400 lines because it is one class whose parts
// (#loop, #runEpoch, #fire, #check and the run/resume planning) share the same private state; about half of it is
// doc comments. run()'s and loadStateDict()'s argument checks live in run-options.ts.
// `RemovableEventHandle` has a `[Symbol.dispose]` member: the emitted types ask for that lib, so a consumer whose `lib`
// stops at ES2022 still compiles them (`preserve` keeps the directive in the .d.ts).
/// <reference lib="esnext.disposable" preserve="true" />

import {
  checkFunction,
  checkKeyName,
  checkOptions,
  describeValue,
  failType,
  hasSyncIterator,
  isIterable,
  isPlainObject,
  isThenable,
  lengthOf,
  planLoad,
} from '../internal';
import { TerminateEpochSignal, TerminateSignal } from './errors';
import {
  type CallableEvent,
  defaultEventToAttr,
  type EventFilter,
  type EventLike,
  EventList,
  Events,
  eventName,
  FilteredEvent,
  isEventLike,
} from './events';
import { getLogger } from './logger';
import { checkLimit, type RunLimits, readEngineStateDict, readRunOptions } from './run-options';
import { State } from './state';

/** A handler: a function called as `handler(engine, ...args)`, or an object called as `handler.handle(engine, ...args)`. */
export type Handler<E = Engine<any, any>> =
  | ((engine: E, ...args: any[]) => unknown)
  | { handle(engine: E, ...args: any[]): unknown };

/** Where a handler can be added: one event, an event list, or an array of events. */
export type EventSpec = EventLike | EventList | readonly EventLike[];

/** Returned by `addEventHandler`: removes what it added. `using h = engine.on(...)` removes it at the end of the block. */
export interface RemovableEventHandle {
  remove(): void;
  [Symbol.dispose](): void;
}

/**
 * Observes handler calls (profilers use it): called around every handler call with the event's name and the handler
 * as registered; it must call `call()` exactly once and return what `call()` returned (a promise for async handlers).
 */
export type HandlerCallObserver = (event: string, handler: Handler, call: () => unknown) => unknown;

/** Options of {@link Engine.run}. Give `maxEpochs` or `maxIters`, not both. */
export interface RunOptions {
  maxEpochs?: number | null;
  maxIters?: number | null;
  epochLength?: number | null;
}

/** The data `run()` accepts: arrays, any iterable (e.g. a DataLoader), or an async iterable. */
export type RunData<Batch> = Iterable<Batch> | AsyncIterable<Batch>;

/** The process function: one iteration's work on one batch. Its result becomes `state.output`. */
export type ProcessFunction<Batch, Output> = (engine: Engine<Batch, unknown>, batch: Batch) => Output | Promise<Output>;

type DataIterator<Batch> = Iterator<Batch> | AsyncIterator<Batch>;

interface Registration {
  readonly handler: Handler;
  readonly filter: EventFilter | null;
  readonly invoke: (engine: Engine<any, any>, eventArg: unknown) => unknown;
}

const STOP_ITERATION = Events.DATALOADER_STOP_ITERATION.name;

const now = (): number => performance.now();

/**
 * Runs started in this realm, and the engine of the latest one while it runs: after each handler the engine compares
 * the count, to tell a handler that started another engine's run() and returned before it finished (an `await`
 * forgotten, see `#checkAwaited`). Two numbers, not a registry: nothing here outlives the run it describes.
 */
let runsStarted = 0;
let latestRun: Engine<any, any> | null = null;

/**
 * Runs a process function over data, epoch after epoch, firing events that handlers, metrics and loggers attach to.
 *
 * The engine knows nothing of models, metrics or storage: everything else in kindling attaches through events and
 * reads `engine.state`. Handlers that return nothing are called synchronously; a handler that returns a promise is
 * awaited before the loop goes on. Events fire in Ignite's order: STARTED, then per epoch EPOCH_STARTED, per batch
 * GET_BATCH_STARTED, GET_BATCH_COMPLETED, ITERATION_STARTED, ITERATION_COMPLETED (DATALOADER_STOP_ITERATION when the
 * data runs out), then EPOCH_COMPLETED, and COMPLETED at the end; TERMINATE, TERMINATE_SINGLE_EPOCH, INTERRUPT and
 * EXCEPTION_RAISED fire when their causes occur.
 *
 * @example
 * const trainer = new Engine((engine, batch: number[]) => batch.reduce((a, b) => a + b, 0));
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), (engine) => console.log(engine.state.output));
 * await trainer.run(batches, { maxEpochs: 5 });
 */
export class Engine<Batch = unknown, Output = unknown> {
  /** Everything known about the current run. */
  state: State<Batch, Output> = new State<Batch, Output>();
  /**
   * The name of the last event fired by the loop, or by {@link fireEvent} while its handlers run (once `fireEvent`
   * returns, it names the event it interrupted again, so that an event fired by work finishing in the background, such
   * as an async Checkpoint's `SAVED_CHECKPOINT`, does not change what the loop's handlers see).
   */
  lastEventName: string | null = null;
  /** Set by {@link terminate}: the run stops after the current event's handlers. */
  shouldTerminate: boolean | 'skip_completed' = false;
  /** Set by {@link terminateEpoch}: the epoch ends after the current event's handlers. */
  shouldTerminateSingleEpoch: boolean | 'skip_epoch_completed' = false;
  /** Set by {@link interrupt}: the run suspends after the current event's handlers. */
  shouldInterrupt = false;
  /** State attributes that {@link stateDict} saves and {@link loadStateDict} requires, besides the engine's own. */
  stateDictUserKeys: string[] = [];

  /** The live data iterator, kept across epochs (and across an interrupt); null when the next epoch must make one. */
  protected _dataIterator: DataIterator<Batch> | null = null;
  /** Where the next epoch's iteration counter starts when resuming mid-epoch; null when not set. */
  protected _initIter: number | null = null;
  /**
   * Set by a subclass's `loadStateDict` (DeterministicEngine) for a state saved after the last iteration of an epoch
   * but before its EPOCH_COMPLETED (`state.epoch` counts the epochs before it): the next run() goes on with that
   * epoch, runs no batch of it, and fires its EPOCH_COMPLETED, as the run that saved the state did.
   */
  protected _isEpochEndPending = false;

  readonly #process: ProcessFunction<Batch, Output>;
  readonly #handlers = new Map<string, readonly Registration[]>();
  readonly #allowedEvents = new Set<string>();
  readonly #eventToAttr = new Map<string, string>(Object.entries(defaultEventToAttr));
  /** Handler-call observers ({@link observeHandlerCalls}); empty unless a profiler asked, and then only checked. */
  #observers: readonly HandlerCallObserver[] = [];
  /** The `run()` call waiting for the loop to finish or suspend. */
  #waiter: { resolve: (state: State<Batch, Output>) => void; reject: (error: unknown) => void } | null = null;
  /** Set while the run is suspended by an interrupt: calling it resumes the loop where it stopped. */
  #resume: (() => void) | null = null;
  #isRunning = false;
  /** Which run this is, in the realm's count of runs started (`runsStarted`). */
  #runNumber = 0;
  /** The run a handler was warned about for not awaiting it (`#checkAwaited`): one warning per run. */
  #warnedRunNumber = 0;
  /** What the live iterator was made from: a generator passed as data is its own iterator and is never closed. */
  #iteratorSource: unknown = null;
  /** Background work of this run ({@link waitUntil}) not settled yet; each entry never rejects. */
  readonly #work = new Set<Promise<void>>();
  /** The first error of background work, until the loop raises it. */
  #workError: { error: unknown } | null = null;

  constructor(processFunction: ProcessFunction<Batch, Output>) {
    this.#process = checkFunction('Engine', 'argument processFunction', processFunction, '(engine, batch) => output');
    this.registerEvents(Object.values(Events));
  }

  // ---------------------------------------------------------------- events

  /**
   * Registers events that handlers may then be added on and that {@link fireEvent} may fire.
   * `eventToAttr` maps an event name to a state attribute (initialised to 0) that filters on that event test.
   *
   * @example
   * const E = defineEvents({ BACKWARD: 'backward' });
   * engine.registerEvents(Object.values(E), { eventToAttr: { backward: 'backwardCount' } });
   */
  registerEvents(events: readonly EventLike[], options: { eventToAttr?: Record<string, string> } = {}): void {
    const where = 'Engine.registerEvents';
    if (!Array.isArray(events)) failType(where, 'argument events', 'an array of events', events);
    const { eventToAttr } = checkOptions(where, options, ['eventToAttr']) as { eventToAttr?: Record<string, string> };
    if (eventToAttr !== undefined && !isPlainObject(eventToAttr)) {
      failType(where, 'option eventToAttr', 'an object mapping event names to state attributes', eventToAttr);
    }
    // Everything is checked before anything is registered.
    const names = events.map((event, index) => {
      if (!isEventLike(event) || event instanceof FilteredEvent) {
        failType(where, `value at ${index} of events`, 'an event made by defineEvents or a string', event);
      }
      const name = eventName(event);
      const attr = eventToAttr !== undefined && Object.hasOwn(eventToAttr, name) ? eventToAttr[name] : undefined;
      if (attr !== undefined) {
        checkKeyName(
          where,
          `option eventToAttr's '${name}'`,
          attr,
          'It names the state attribute that counts the event.',
        );
      }
      return name;
    });
    for (const name of names) {
      this.#allowedEvents.add(name);
      const attr = eventToAttr !== undefined && Object.hasOwn(eventToAttr, name) ? eventToAttr[name] : undefined;
      if (attr !== undefined) {
        this.#eventToAttr.set(name, attr);
        if (!(attr in this.state)) this.state[attr] = 0;
      }
    }
  }

  /**
   * The value of the state counter that filters on `event` test (`state.iteration` for ITERATION_COMPLETED,
   * `state.epoch` for EPOCH_COMPLETED, a custom counter mapped by `eventToAttr`). Throws for an event without one.
   *
   * @example
   * engine.getEventAttribValue(Events.EPOCH_COMPLETED); // engine.state.epoch
   */
  getEventAttribValue(event: EventLike): number {
    if (!isEventLike(event)) failType('Engine.getEventAttribValue', 'argument event', 'an event', event);
    return this.#eventValue(eventName(event));
  }

  /** True when `event` was registered with this engine (the built-in events always are). */
  hasRegisteredEvents(event: EventLike): boolean {
    return isEventLike(event) && this.#allowedEvents.has(eventName(event));
  }

  /**
   * Adds `handler` on an event, a filtered event, an event list or an array of events; it is called as
   * `handler(engine, ...args)` (EXCEPTION_RAISED handlers get the error first, TERMINATE_SINGLE_EPOCH handlers
   * `{ iterCounter }`). Returns a handle that removes exactly what this call added.
   *
   * @example
   * const handle = engine.addEventHandler(Events.ITERATION_COMPLETED({ every: 50 }), logLoss);
   * handle.remove();
   */
  addEventHandler(event: EventSpec, handler: Handler<this>, ...args: unknown[]): RemovableEventHandle {
    const events = this.#expand(event, 'addEventHandler');
    const invoke = makeInvoker(handler, args);
    for (const single of events) this.#assertAllowed(single, 'addEventHandler');
    const added: Array<[string, Registration]> = events.map((single) => {
      const name = eventName(single);
      const registration: Registration = {
        handler: handler as Handler,
        filter: single instanceof FilteredEvent ? single.filter : null,
        invoke,
      };
      this.#handlers.set(name, [...(this.#handlers.get(name) ?? []), registration]);
      return [name, registration];
    });
    let isRemoved = false;
    const remove = () => {
      if (isRemoved) return;
      isRemoved = true;
      for (const [name, registration] of added) {
        const list = this.#handlers.get(name);
        if (list)
          this.#handlers.set(
            name,
            list.filter((r) => r !== registration),
          );
      }
    };
    return { remove, [Symbol.dispose]: remove };
  }

  /** The same as {@link addEventHandler}. */
  on(event: EventSpec, handler: Handler<this>, ...args: unknown[]): RemovableEventHandle {
    return this.addEventHandler(event, handler, ...args);
  }

  /** Removes every registration of `handler` under `event`, whatever its filter. */
  removeEventHandler(handler: Handler<this>, event: EventLike): void {
    if (!isEventLike(event)) failType('Engine.removeEventHandler', 'argument event', 'an event', event);
    const name = eventName(event);
    const list = this.#handlers.get(name);
    if (list === undefined) {
      throw new Error(
        `Engine.removeEventHandler: input event name '${name}' does not exist: no handler was ever added on it.`,
      );
    }
    const kept = list.filter((registration) => registration.handler !== handler);
    if (kept.length === list.length) {
      throw new Error(
        `Engine.removeEventHandler: input handler ${describeValue(handler)} is not found among registered event handlers of '${name}'.`,
      );
    }
    this.#handlers.set(name, kept);
  }

  /** True when `handler` is registered on `event` (any filter), or on any event when `event` is omitted. */
  hasEventHandler(handler: Handler<this>, event?: EventLike): boolean {
    if (event !== undefined && !isEventLike(event)) {
      failType('Engine.hasEventHandler', 'argument event', 'an event, or undefined for any event', event);
    }
    const lists = event === undefined ? [...this.#handlers.values()] : [this.#handlers.get(eventName(event)) ?? []];
    return lists.some((list) => list.some((registration) => registration.handler === handler));
  }

  /**
   * Adds an observer called around every handler call of this engine (opt-in, for profilers); while none is added the
   * engine only checks an empty list. Observers added later wrap those added earlier. Returns a handle that removes it.
   *
   * @example
   * using observing = engine.observeHandlerCalls((event, handler, call) => {
   *   const start = performance.now();
   *   const result = call();
   *   console.log(event, performance.now() - start);
   *   return result;
   * });
   */
  observeHandlerCalls(observer: HandlerCallObserver): RemovableEventHandle {
    checkFunction('Engine.observeHandlerCalls', 'argument observer', observer, '(event, handler, call) => call()');
    this.#observers = [...this.#observers, observer];
    let isRemoved = false;
    const remove = () => {
      if (isRemoved) return;
      isRemoved = true;
      const index = this.#observers.indexOf(observer);
      this.#observers = this.#observers.filter((_o, i) => i !== index);
    };
    return { remove, [Symbol.dispose]: remove };
  }

  /**
   * Fires a registered event (usually a custom one) now: its handlers run, filters included.
   *
   * @example
   * await engine.fireEvent(CustomEvents.BACKWARD_STARTED);
   */
  async fireEvent(event: EventLike): Promise<void> {
    this.#assertAllowed(event, 'fireEvent');
    const interrupted = this.lastEventName;
    const name = eventName(event);
    try {
      await this.#fire(name);
    } finally {
      if (this.lastEventName === name) this.lastEventName = interrupted;
    }
  }

  /**
   * True from `run()` until the run ends (completes, terminates, fails) or is suspended by {@link interrupt}.
   *
   * @example
   * engine.on(Events.EPOCH_COMPLETED, (e) => console.log(e.isRunning)); // true
   */
  get isRunning(): boolean {
    return this.#isRunning;
  }

  /**
   * Keeps the run in progress from ending before `work` settles: for work a handler starts and leaves going while
   * training goes on, such as a checkpoint written in the background. Before TERMINATE, COMPLETED, INTERRUPT or
   * EXCEPTION_RAISED fire, and before `run()` resolves or rejects, the engine waits for all such work. If `work`
   * rejects, the error fails the run as a handler's error would: the loop raises it after the current event's
   * handlers, so it reaches the EXCEPTION_RAISED handlers or rejects `run()`; never silently.
   * Throws when no run is in progress ({@link isRunning} is false): then await the work itself.
   *
   * @example
   * trainer.on(Events.EPOCH_COMPLETED, (engine) => {
   *   engine.waitUntil(uploadLogs()); // training goes on; run() resolves only once the upload is done
   * });
   */
  waitUntil(work: PromiseLike<unknown>): void {
    if (!isThenable(work)) failType('Engine.waitUntil', 'argument work', 'a promise', work);
    if (!this.#isRunning) {
      throw new Error(
        'Engine.waitUntil: no run is in progress, so none can wait for this work; await it instead (check engine.isRunning).',
      );
    }
    const tracked: Promise<void> = Promise.resolve(work).then(
      () => {
        this.#work.delete(tracked);
      },
      (error: unknown) => {
        this.#work.delete(tracked);
        if (this.#workError === null) this.#workError = { error };
        else getLogger().error(`Engine: background work failed too, after an earlier failure: ${String(error)}`);
      },
    );
    this.#work.add(tracked);
  }

  // ---------------------------------------------------------------- control

  /**
   * Stops the run after the current event's handlers: TERMINATE fires, then COMPLETED unless `skipCompleted`.
   * Called from an iteration event, the epoch's EPOCH_COMPLETED is skipped.
   */
  terminate(skipCompleted = false): void {
    getLogger().info('Terminate signaled. Engine will stop after current iteration is finished.');
    this.shouldTerminate = skipCompleted ? 'skip_completed' : true;
  }

  /** Ends the current epoch after the current event's handlers: TERMINATE_SINGLE_EPOCH fires, then EPOCH_COMPLETED unless skipped. */
  terminateEpoch(skipEpochCompleted = false): void {
    getLogger().info(
      'Terminate current epoch is signaled. Current epoch iteration will stop after current iteration is finished.',
    );
    this.shouldTerminateSingleEpoch = skipEpochCompleted ? 'skip_epoch_completed' : true;
  }

  /**
   * Suspends the run after the current event's handlers: INTERRUPT fires and `run()` resolves with the state.
   * The next `run()` resumes exactly there, with the same data iterator, without firing STARTED again.
   */
  interrupt(): void {
    getLogger().info('Interrupt signaled. Engine will interrupt the run after current iteration is finished.');
    this.shouldInterrupt = true;
  }

  /** Replaces the data: the next batch comes from a new iterator over `data`. */
  setData(data: RunData<Batch>): void {
    if (!isIterable(data)) failType('Engine.setData', 'argument data', 'iterable or async iterable', data);
    this.state.dataloader = data;
    this._setupDataIterator();
  }

  // ---------------------------------------------------------------- run

  /**
   * Runs (or resumes) the engine over `data`. Resolves with the state when the run completes, terminates or is
   * interrupted; rejects with the process function's or a handler's error unless EXCEPTION_RAISED has handlers.
   *
   * @param data an array, iterable or async iterable of batches; null with `epochLength` to run without data
   * @param options `maxEpochs` (default 1) or `maxIters`, and `epochLength` (default `data.length`)
   * @example
   * const state = await engine.run([1, 2, 3], { maxEpochs: 2 });
   * state.iteration; // 6
   */
  async run(data: RunData<Batch> | null = null, options: RunOptions = {}): Promise<State<Batch, Output>> {
    if (this.#isRunning) {
      throw new Error(
        'Engine.run: this engine is already running: run() was called again before the previous run() finished. ' +
          "Await each run: `await engine.run(data)`. A run started from another engine's handler needs an async " +
          'handler that awaits it: `trainer.on(Events.EPOCH_COMPLETED, async () => { await evaluator.run(valLoader); })`.',
      );
    }
    this.#planRun(data ?? null, readRunOptions(data, options));
    return new Promise<State<Batch, Output>>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#isRunning = true;
      this.#runNumber = ++runsStarted;
      latestRun = this;
      const resume = this.#resume;
      if (resume !== null) {
        this.#resume = null;
        resume();
        return;
      }
      this.#loop().then(
        () => this.#finish(null),
        (error: unknown) => this.#finish(error ?? new Error('Engine.run: the run failed with an empty error.')),
      );
    });
  }

  /** Applies run()'s checked options to the state: a finished or fresh engine starts a new run, else it goes on. */
  #planRun(data: RunData<Batch> | null, limits: RunLimits): void {
    const state = this.state;
    const { maxEpochs, maxIters } = limits;
    if (maxIters !== null && state.maxEpochs !== null) {
      throw new Error(
        'Engine.run: to switch from maxEpochs to maxIters mode during resume, you must first reset by setting ' +
          "'engine.state.maxEpochs = null' before calling run().",
      );
    }
    if (maxEpochs !== null && state.maxIters !== null) {
      throw new Error(
        'Engine.run: to switch from maxIters to maxEpochs mode during resume, you must first reset by setting ' +
          "'engine.state.maxIters = null' before calling run().",
      );
    }
    if (state.maxEpochs !== null && maxEpochs !== null) {
      checkLimit('maxEpochs', maxEpochs, 'epoch', state.epoch);
      state.maxEpochs = maxEpochs;
    }
    if (state.maxIters !== null && maxIters !== null) {
      checkLimit('maxIters', maxIters, 'iteration', state.iteration);
      state.maxIters = maxIters;
    }
    const isNewRun = (state.maxEpochs === null && state.maxIters === null) || (this.#isDone() && this.#resume === null);
    if (isNewRun) this.#planNewRun(data, limits);
    else this.#planResume(data, limits.epochLength);
    if (this._dataIterator === null) state.dataloader = data;
  }

  /** A new run: progress back to zero, limits and epoch length from the options (or the data's length). */
  #planNewRun(data: RunData<Batch> | null, limits: RunLimits): void {
    const state = this.state;
    const { maxIters } = limits;
    let { epochLength } = limits;
    if (data === null && epochLength === null && state.epochLength === null) {
      throw new Error('Engine.run: epochLength should be provided if data is null.');
    }
    if (epochLength === null) epochLength = (data !== null ? lengthOf(data) : null) ?? state.epochLength;
    if (epochLength !== null && epochLength < 1) {
      throw new Error('Engine.run: input data has zero size. Please provide non-empty data.');
    }
    const maxEpochs = maxIters === null ? (limits.maxEpochs ?? 1) : null;
    this.#discardSuspendedRun();
    this._isEpochEndPending = false;
    state.iteration = 0;
    state.epoch = 0;
    state.maxEpochs = maxEpochs;
    state.maxIters = maxIters;
    state.epochLength = epochLength;
    getLogger().info(
      `Engine run starting with ${maxIters !== null ? `maxIters=${maxIters}` : `maxEpochs=${maxEpochs}`}.`,
    );
  }

  /** Going on with an unfinished run (suspended, terminated or loaded): the epoch length must agree with the state. */
  #planResume(data: RunData<Batch> | null, epochLength: number | null): void {
    const state = this.state;
    if (state.epochLength !== null) {
      if (epochLength !== null && epochLength !== state.epochLength) {
        throw new Error(
          `Engine.run: argument epochLength should be same as in the state, but given ${epochLength} vs ${state.epochLength}.`,
        );
      }
    } else {
      if (epochLength === null && data !== null) epochLength = lengthOf(data);
      if (epochLength !== null) {
        if (epochLength < 1) throw new Error('Engine.run: input data has zero size. Please provide non-empty data.');
        state.epochLength = epochLength;
      }
    }
    if (state.epochLength === null && data === null) {
      throw new Error('Engine.run: epochLength should be provided if data is null.');
    }
    if (this.shouldTerminate) this._initIter = 0;
  }

  // ---------------------------------------------------------------- state dict

  /**
   * The engine's progress as plain data: `{ iteration, epochLength, maxEpochs | maxIters, ...user keys }`.
   * Load it into a new engine with {@link loadStateDict} to resume from the same iteration.
   */
  stateDict(): Record<string, unknown> {
    const state = this.state;
    const dict: Record<string, unknown> = { iteration: state.iteration, epochLength: state.epochLength };
    if (state.maxIters !== null) dict.maxIters = state.maxIters;
    else dict.maxEpochs = state.maxEpochs;
    for (const key of this.stateDictUserKeys) {
      checkKeyName('Engine.stateDict', 'a name in stateDictUserKeys', key, 'It names a state attribute to save.');
      dict[key] = state[key];
    }
    return dict;
  }

  /**
   * Restores progress saved by {@link stateDict}: exactly one of `iteration` / `epoch`, `epochLength`, exactly one of
   * `maxEpochs` / `maxIters`, and every user key. The next `run()` resumes from there. A suspended run is discarded.
   */
  loadStateDict(stateDict: Record<string, unknown>): void {
    const loaded = readEngineStateDict(stateDict, this.stateDictUserKeys);
    this.#discardSuspendedRun();
    // A loaded state is a new starting point: flags left by an earlier run (e.g. terminate() from EarlyStopping)
    // must not change where the resumed run starts.
    this.shouldTerminate = false;
    this.shouldTerminateSingleEpoch = false;
    this.shouldInterrupt = false;
    const state = this.state;
    for (const key of this.stateDictUserKeys) state[key] = stateDict[key];
    state.epochLength = loaded.epochLength;
    state.iteration = loaded.iteration;
    state.epoch = loaded.epoch;
    state.maxEpochs = loaded.maxEpochs;
    state.maxIters = loaded.maxIters;
    this._isEpochEndPending = false;
  }

  /**
   * Checks a state dict as {@link loadStateDict} does, changing nothing, and returns the function that loads it
   * (internal: `Checkpoint.loadObjects` checks every object of a checkpoint before it loads any).
   */
  [planLoad](stateDict: Record<string, unknown>): () => void {
    readEngineStateDict(stateDict, this.stateDictUserKeys);
    return () => this.loadStateDict(stateDict);
  }

  // ---------------------------------------------------------------- hooks for subclasses

  /** Makes the data iterator for the next epoch and where its counter starts. Overridden by DeterministicEngine. */
  protected _setupEngine(): void {
    this._setupDataIterator();
    if (this._initIter === null) {
      const { iteration, epochLength } = this.state;
      this._initIter = epochLength !== null && epochLength > 0 ? iteration % epochLength : iteration;
    }
  }

  /**
   * Makes a fresh iterator over `state.dataloader` (a counter of `epochLength` undefined batches when there is no
   * data). Uses `[Symbol.iterator]` when the data has one, else `[Symbol.asyncIterator]`.
   */
  protected _setupDataIterator(): void {
    this._closeDataIterator();
    const data = this.state.dataloader;
    this.#iteratorSource = data;
    if (data === null) {
      const length = this.state.epochLength ?? 0;
      this._dataIterator = (function* () {
        for (let i = 0; i < length; i++) yield undefined as Batch;
      })();
    } else if (hasSyncIterator(data)) {
      this._dataIterator = (data as Iterable<Batch>)[Symbol.iterator]();
    } else {
      this._dataIterator = (data as AsyncIterable<Batch>)[Symbol.asyncIterator]();
    }
  }

  /** Drops the live iterator, letting it release what it holds (`iterator.return()`). */
  protected _closeDataIterator(): void {
    const iterator = this._dataIterator;
    this._dataIterator = null;
    if (iterator?.return === undefined || iterator === this.#iteratorSource) return;
    try {
      const closed = iterator.return();
      if (isThenable(closed)) closed.then(undefined, () => {});
    } catch {
      // An iterator that fails to close has nothing left for us to release.
    }
  }

  // ---------------------------------------------------------------- internals

  /**
   * Ends the run once its background work has settled. A failure of that work fails a run that was going to
   * succeed (through the EXCEPTION_RAISED handlers, if any); after another failure it is logged.
   */
  async #finish(error: unknown): Promise<void> {
    await this.#settleWork();
    const late = this.#takeWorkError();
    if (late !== null) {
      if (error !== null) {
        getLogger().error(`Engine: background work failed as well, after the run failed: ${String(late.error)}`);
      } else {
        try {
          await this.#handleException(late.error);
        } catch (raised) {
          error = raised;
        }
      }
    }
    this.#settle(error);
  }

  /** Waits until no background work ({@link waitUntil}) is pending, work added meanwhile included. */
  async #settleWork(): Promise<void> {
    while (this.#work.size > 0) await Promise.all(this.#work);
  }

  /** The pending error of background work, which the caller now raises; null when there is none. */
  #takeWorkError(): { error: unknown } | null {
    const taken = this.#workError;
    this.#workError = null;
    return taken;
  }

  /** Waits for background work, then throws its error if it failed: before the run's ending events fire. */
  async #drainWork(): Promise<void> {
    await this.#settleWork();
    const failed = this.#takeWorkError();
    if (failed !== null) throw failed.error;
  }

  #settle(error: unknown): void {
    this.#isRunning = false;
    if (latestRun === this) latestRun = null;
    const waiter = this.#waiter;
    this.#waiter = null;
    if (waiter === null) return;
    if (error === null) waiter.resolve(this.state);
    else waiter.reject(error);
  }

  #discardSuspendedRun(): void {
    if (this.#resume === null && this._dataIterator === null) return;
    this.#resume = null; // the suspended loop is never resumed: it is dropped with its closure
    this._closeDataIterator();
    this._initIter = null;
  }

  #isDone(): boolean {
    if (this._isEpochEndPending) return false;
    const { maxIters, maxEpochs, epochLength, iteration, epoch } = this.state;
    return (
      (maxIters !== null && iteration >= maxIters) ||
      (epochLength !== null && maxEpochs !== null && iteration >= epochLength * maxEpochs) ||
      (maxEpochs !== null && epoch >= maxEpochs)
    );
  }

  #expand(event: EventSpec, method: string): EventLike[] {
    if (event instanceof EventList) return [...event.events];
    if (Array.isArray(event)) {
      if (event.length === 0)
        throw new TypeError(`Engine.${method}: the list of events is empty; pass at least one event.`);
      return [...event];
    }
    if (!isEventLike(event)) {
      throw new TypeError(
        `Engine.${method}: argument event should be an event (e.g. Events.EPOCH_COMPLETED), a filtered event, an event list or a custom event name, got ${describeValue(event)}.`,
      );
    }
    return [event as EventLike];
  }

  #assertAllowed(event: EventLike, method: string): void {
    if (!isEventLike(event)) {
      throw new TypeError(`Engine.${method}: argument event should be an event, got ${describeValue(event)}.`);
    }
    const name = eventName(event);
    if (!this.#allowedEvents.has(name)) {
      throw new Error(
        `Engine.${method}: event '${name}' is not a valid event for this Engine. Register it first with engine.registerEvents([...]).`,
      );
    }
  }

  #eventValue(name: string): number {
    const attr = this.#eventToAttr.get(name);
    if (attr === undefined) {
      throw new Error(
        `Engine: Unknown event name '${name}': a filtered handler needs a state attribute to test; map one with registerEvents(events, { eventToAttr }).`,
      );
    }
    return this.state[attr];
  }

  /** Calls the handlers of `name` over a snapshot of the list; returns a promise only if a handler returned one. */
  #fire(name: string, eventArg?: unknown): void | Promise<void> {
    this.lastEventName = name;
    const list = this.#handlers.get(name);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      const registration = list[i]!;
      if (registration.filter !== null && !registration.filter(this, this.#eventValue(name))) continue;
      const before = runsStarted;
      let result =
        this.#observers.length === 0
          ? registration.invoke(this, eventArg)
          : this.#observed(name, registration, eventArg);
      if (runsStarted !== before) result = this.#checkAwaited(name, result);
      if (isThenable(result)) return this.#fireRest(name, list, i + 1, result, eventArg);
    }
  }

  async #fireRest(
    name: string,
    list: readonly Registration[],
    from: number,
    pending: PromiseLike<unknown>,
    eventArg: unknown,
  ): Promise<void> {
    await pending;
    for (let i = from; i < list.length; i++) {
      const registration = list[i]!;
      if (registration.filter !== null && !registration.filter(this, this.#eventValue(name))) continue;
      const before = runsStarted;
      let result =
        this.#observers.length === 0
          ? registration.invoke(this, eventArg)
          : this.#observed(name, registration, eventArg);
      if (runsStarted !== before) result = this.#checkAwaited(name, result);
      if (isThenable(result)) await result;
    }
  }

  /** Calls a handler through the observers (the last added outermost). */
  #observed(name: string, registration: Registration, eventArg: unknown): unknown {
    let call = () => registration.invoke(this, eventArg);
    for (const observer of this.#observers) {
      const inner = call;
      call = () => observer(name, registration.handler, inner);
    }
    return call();
  }

  /**
   * Called when a handler of `name` started a run: warns if that run is still going once the handler has returned (a
   * synchronous handler) or settled (an async one), since then nothing waited for it: its `state.metrics` are not
   * there yet when the handler reads them, and its errors go unhandled. This is Ignite's `evaluator.run(loader)` in an
   * EPOCH_COMPLETED handler without the `await` that JavaScript needs. Returns what the handler returned.
   */
  #checkAwaited(name: string, result: unknown): unknown {
    const started = latestRun;
    if (started === null || started === this) return result;
    const number = started.#runNumber;
    const check = () => {
      if (started.#isRunning && started.#runNumber === number && started.#warnedRunNumber !== number) {
        started.#warnedRunNumber = number;
        const event = Object.hasOwn(Events, name.toUpperCase()) ? `Events.${name.toUpperCase()}` : `'${name}'`;
        getLogger().warn(
          `Engine: a handler of ${event} started another engine's run() and returned before that run finished: ` +
            'nothing awaits it, so its results (state.metrics) are not there when the handler reads them, and its ' +
            `errors go unhandled. Make the handler async and await the run: engine.on(${event}, async () => { ` +
            'await evaluator.run(valLoader); }).',
        );
      }
    };
    if (!isThenable(result)) {
      check();
      return result;
    }
    return result.then((value) => {
      check();
      return value;
    });
  }

  get #isFlagged(): boolean {
    return (
      this.shouldTerminate !== false ||
      this.shouldTerminateSingleEpoch !== false ||
      this.shouldInterrupt ||
      this.#workError !== null
    );
  }

  /**
   * Acts on the flags: a failure of background work (raised as a handler's error), then terminate, then
   * terminateEpoch, then interrupt (which waits for background work and suspends until the next run()).
   */
  async #check(): Promise<void> {
    const failed = this.#takeWorkError();
    if (failed !== null) throw failed.error;
    if (this.shouldTerminate) throw new TerminateSignal();
    if (this.shouldTerminateSingleEpoch) throw new TerminateEpochSignal();
    if (this.shouldInterrupt) {
      await this.#drainWork();
      const fired = this.#fire(Events.INTERRUPT.name);
      if (fired) await fired;
      await this.#drainWork(); // work started by INTERRUPT handlers
      this.shouldInterrupt = false;
      await new Promise<void>((resume) => {
        this.#resume = resume;
        this.#settle(null);
      });
    }
  }

  /**
   * Waits for background work, then hands `error` to the EXCEPTION_RAISED handlers, or throws it when there are none.
   * A background failure found meanwhile goes to the handlers as well, or is logged when `error` is thrown.
   */
  async #handleException(error: unknown): Promise<void> {
    await this.#settleWork();
    const late = this.#takeWorkError();
    const handlers = this.#handlers.get(Events.EXCEPTION_RAISED.name);
    if (handlers === undefined || handlers.length === 0) {
      if (late !== null) {
        getLogger().error(`Engine: background work failed as well, after the run failed: ${String(late.error)}`);
      }
      throw error;
    }
    for (const raised of late === null ? [error] : [error, late.error]) {
      const fired = this.#fire(Events.EXCEPTION_RAISED.name, raised);
      if (fired) await fired;
    }
  }

  async #loop(): Promise<void> {
    const state = this.state;
    this.shouldTerminate = false;
    this.shouldTerminateSingleEpoch = false;
    this.shouldInterrupt = false;
    state.times = { EPOCH_COMPLETED: 0, COMPLETED: 0 };
    const start = now();
    let fired: void | Promise<void>;
    try {
      try {
        fired = this.#fire(Events.STARTED.name);
        if (fired) await fired;
        if (this.#isFlagged) await this.#check();
        while (!this.#isDone() && !this.shouldTerminate) {
          state.epoch += 1;
          if (this._isEpochEndPending) {
            this._isEpochEndPending = false;
            this._initIter = state.epochLength; // every iteration of this epoch is done: straight to its end
          }
          const handlersStart = now();
          fired = this.#fire(Events.EPOCH_STARTED.name);
          if (fired) await fired;
          let epochTime = (now() - handlersStart) / 1000;
          if (this.#isFlagged) await this.#check();
          if (this._dataIterator === null) this._setupEngine();
          epochTime += await this.#runEpoch();
          state.times.EPOCH_COMPLETED = epochTime;
          if ((this.shouldTerminateSingleEpoch as boolean | string) !== 'skip_epoch_completed') {
            const completedStart = now();
            fired = this.#fire(Events.EPOCH_COMPLETED.name);
            if (fired) await fired;
            state.times.EPOCH_COMPLETED = epochTime + (now() - completedStart) / 1000;
          }
          this.shouldTerminateSingleEpoch = false;
          if (this.#isFlagged) await this.#check();
        }
      } catch (error) {
        if (error instanceof TerminateSignal) {
          await this.#drainWork();
          fired = this.#fire(Events.TERMINATE.name);
          if (fired) await fired;
        } else if (error instanceof TerminateEpochSignal) {
          throw new Error(
            'Engine: the method terminateEpoch() should not be called on Events.STARTED or Events.EPOCH_STARTED. ' +
              'Call engine.terminate() there instead, or terminateEpoch() from an iteration event.',
          );
        } else {
          throw error;
        }
      }
      state.times.COMPLETED = (now() - start) / 1000;
      if ((this.shouldTerminate as boolean | string) !== 'skip_completed') {
        await this.#drainWork();
        fired = this.#fire(Events.COMPLETED.name);
        if (fired) await fired;
        state.times.COMPLETED = (now() - start) / 1000;
      }
    } catch (error) {
      this._closeDataIterator();
      await this.#handleException(error);
    }
    this._closeDataIterator();
  }

  /** One epoch: batches until epochLength is reached, the data runs out, or a signal ends it. Returns seconds taken. */
  async #runEpoch(): Promise<number> {
    const state = this.state;
    const start = now();
    let iterCounter = this._initIter ?? 0;
    this._initIter = null;
    let shouldExit = false;
    let fired: void | Promise<void>;
    try {
      for (;;) {
        if (iterCounter === state.epochLength) break; // an epoch resumed after its last iteration
        state.batch = null;
        const hasData = state.dataloader !== null;
        if (hasData && this.lastEventName !== STOP_ITERATION) {
          fired = this.#fire(Events.GET_BATCH_STARTED.name);
          if (fired) await fired;
          if (this.#isFlagged) await this.#check();
        }
        const iterator = this._dataIterator;
        if (iterator === null) throw new Error('Engine: internal error, the data iterator is missing.');
        let next = iterator.next();
        if (isThenable(next)) next = await next;
        if (next.done) {
          if (state.epochLength === null) {
            state.epochLength = iterCounter;
            if (state.maxIters !== null) state.maxEpochs = Math.ceil(state.maxIters / iterCounter);
            break;
          }
          if (shouldExit) {
            if (!this.#isDone()) {
              const total = state.maxEpochs !== null ? state.epochLength * state.maxEpochs : state.maxIters;
              getLogger().warn(
                'Data iterator can not provide data anymore but required total number of iterations to run is not reached. ' +
                  `Current iteration: ${state.iteration} vs Total iterations to run : ${total}`,
              );
            }
            break;
          }
          if (hasData) {
            fired = this.#fire(STOP_ITERATION);
            if (fired) await fired;
            if (this.#isFlagged) await this.#check();
          }
          this._setupDataIterator();
          shouldExit = true;
          continue;
        }
        state.batch = next.value;
        state.output = null;
        if (hasData) {
          fired = this.#fire(Events.GET_BATCH_COMPLETED.name);
          if (fired) await fired;
          if (this.#isFlagged) await this.#check();
        }
        iterCounter += 1;
        shouldExit = false;
        state.iteration += 1;
        fired = this.#fire(Events.ITERATION_STARTED.name);
        if (fired) await fired;
        if (this.#isFlagged) await this.#check();
        let output = this.#process(this as Engine<Batch, unknown>, state.batch as Batch);
        if (isThenable(output)) output = await output;
        state.output = output as Output;
        fired = this.#fire(Events.ITERATION_COMPLETED.name);
        if (fired) await fired;
        if (this.#isFlagged) await this.#check();
        if (state.epochLength !== null && iterCounter === state.epochLength) break;
        if (state.maxIters !== null && state.iteration === state.maxIters) {
          this.shouldTerminate = true;
          throw new TerminateSignal();
        }
      }
    } catch (error) {
      if (error instanceof TerminateEpochSignal) {
        fired = this.#fire(Events.TERMINATE_SINGLE_EPOCH.name, { iterCounter });
        if (fired) await fired;
        this._setupDataIterator();
      } else if (error instanceof TerminateSignal) {
        throw error;
      } else {
        await this.#handleException(error);
      }
    }
    return (now() - start) / 1000;
  }
}

function makeInvoker(
  handler: Handler<any>,
  args: unknown[],
): (engine: Engine<any, any>, eventArg?: unknown) => unknown {
  if (typeof handler === 'function') {
    return args.length === 0
      ? (engine, eventArg) => (eventArg === undefined ? handler(engine) : handler(engine, eventArg))
      : (engine, eventArg) => (eventArg === undefined ? handler(engine, ...args) : handler(engine, eventArg, ...args));
  }
  if (handler !== null && typeof handler === 'object' && typeof handler.handle === 'function') {
    return (engine, eventArg) =>
      eventArg === undefined ? handler.handle(engine, ...args) : handler.handle(engine, eventArg, ...args);
  }
  throw new TypeError(
    `Engine.addEventHandler: argument handler should be a function (engine, ...args) => void or an object with a handle(engine, ...args) method, got ${describeValue(handler)}.`,
  );
}

export type { CallableEvent };
