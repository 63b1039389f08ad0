import { type Engine, type EventSpec, Events, type RemovableEventHandle } from '../engine';
import { describeValue } from './utils';

/**
 * What a scheduler acts on: a tfjs optimizer (`tf.train.sgd(0.1)`, `tf.train.adam()`, ...) or any object with a
 * numeric property named like the scheduler's `paramName`.
 */
export type ParamTarget = object;

/** One simulated event: `[eventIndex, value]`. */
export type SimulatedValue = [number, number];

/** Options every parameter scheduler takes. */
export interface ParamSchedulerOptions {
  /** The optimizer property to schedule (default `'learningRate'`). */
  paramName?: string;
  /** If true, each value set is appended to `engine.state.paramHistory[paramName]` (default false). */
  saveHistory?: boolean;
}

/** What every scheduler's `stateDict()` holds; subclasses add their own keys. Plain, JSON-safe data. */
export interface ParamSchedulerStateDict {
  eventIndex: number;
  paramName: string;
  saveHistory: boolean;
  [key: string]: unknown;
}

/**
 * Sets `target[paramName] = value`. For `'learningRate'` it calls the optimizer's `setLearningRate` when there is one:
 * tfjs's SGD and Momentum optimizers keep the rate in a tensor built by that method, so assigning the property alone
 * would not change their steps. Adam, Adamax, Adagrad, Adadelta and RMSProp read `this.learningRate` at every step.
 */
function writeParam(target: ParamTarget, paramName: string, value: number): void {
  const record = target as Record<string, unknown> & { setLearningRate?: (learningRate: number) => void };
  if (paramName === 'learningRate' && typeof record.setLearningRate === 'function') {
    record.setLearningRate(value);
  } else {
    record[paramName] = value;
  }
}

function readParam(target: ParamTarget, paramName: string): number {
  return (target as Record<string, number>)[paramName];
}

function checkTarget(where: string, optimizer: unknown, paramName: unknown): void {
  if (typeof paramName !== 'string' || paramName.length === 0) {
    throw new TypeError(`${where}: argument paramName should be a non-empty string, got ${describeValue(paramName)}.`);
  }
  if (optimizer === null || typeof optimizer !== 'object') {
    throw new TypeError(
      `${where}: argument optimizer should be a tfjs optimizer, e.g. tf.train.sgd(0.1), got ${describeValue(optimizer)}.`,
    );
  }
  const current = (optimizer as Record<string, unknown>)[paramName];
  if (typeof current !== 'number') {
    throw new TypeError(
      `${where}: the optimizer should have a numeric property '${paramName}', got ${describeValue(current)}; ` +
        `tfjs optimizers have 'learningRate', or pass paramName.`,
    );
  }
}

function checkNumber(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError(`${where}: argument ${name} should be a finite number, got ${describeValue(value)}.`);
  }
  return value;
}

function checkInteger(where: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    const kind = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new RangeError(`${where}: argument ${name} should be ${kind}, got ${describeValue(value)}.`);
  }
  return value;
}

function checkNumEvents(where: string, numEvents: unknown): number {
  return checkInteger(`${where}.simulateValues`, 'numEvents', numEvents, 0);
}

/** Throws unless every key is in the state dict; returns the dict typed as a record. */
function requireKeys(where: string, stateDict: unknown, keys: readonly string[]): Record<string, any> {
  if (stateDict === null || typeof stateDict !== 'object' || Array.isArray(stateDict)) {
    throw new TypeError(`${where}: argument stateDict should be an object, got ${describeValue(stateDict)}.`);
  }
  for (const key of keys) {
    if (!(key in stateDict)) {
      throw new TypeError(
        `${where}: required state attribute '${key}' is absent in the provided state dict (keys: ${Object.keys(stateDict).join(', ')}).`,
      );
    }
  }
  return stateDict as Record<string, any>;
}

/** Runs a scheduler on its own `numEvents` times and records `[i, value]` after each call. */
function simulate(scheduler: ParamScheduler, numEvents: number): SimulatedValue[] {
  const values: SimulatedValue[] = [];
  for (let i = 0; i < numEvents; i++) {
    scheduler.handle(null);
    values.push([i, readParam(scheduler.optimizer, scheduler.paramName)]);
  }
  return values;
}

/** A stand-in optimizer for `simulateValues`. */
function fakeTarget(paramName: string, value = 0): ParamTarget {
  return { [paramName]: value };
}

function appendHistory(engine: Engine<any, any>, name: string, value: number): void {
  const state = engine.state as Record<string, any>;
  if (state.paramHistory === null || typeof state.paramHistory !== 'object') state.paramHistory = {};
  state.paramHistory[name] ??= [];
  state.paramHistory[name].push(value);
}

/**
 * Base of the schedulers that set an optimizer's parameter (the learning rate by default) at every call.
 *
 * A scheduler is a handler: attach it with `engine.on(Events.ITERATION_STARTED, scheduler)` or
 * `scheduler.attach(engine)`. Each call computes the value for the current `eventIndex`, writes it to the optimizer,
 * optionally records it in `engine.state.paramHistory[paramName]`, then advances `eventIndex` by one.
 * Schedulers set absolute values, whatever the optimizer held before.
 */
export abstract class ParamScheduler {
  /** The optimizer whose parameter is set. */
  readonly optimizer: ParamTarget;
  /** The optimizer property set, `'learningRate'` by default. */
  paramName: string;
  /** Whether values are appended to `engine.state.paramHistory`. */
  saveHistory: boolean;
  /** Number of calls since the start of the schedule (or of the current cycle, for cyclical schedulers). */
  eventIndex = 0;

  /**
   * @param optimizer - a tfjs optimizer, or an object with a numeric property `paramName`.
   * @param options - `{ paramName?, saveHistory? }`.
   */
  constructor(optimizer: ParamTarget, options: ParamSchedulerOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `${this.constructor.name}: argument options should be an object, got ${describeValue(options)}.`,
      );
    }
    const { paramName = 'learningRate', saveHistory = false } = options;
    checkTarget(this.constructor.name, optimizer, paramName);
    if (typeof saveHistory !== 'boolean') {
      throw new TypeError(
        `${this.constructor.name}: argument saveHistory should be a boolean, got ${describeValue(saveHistory)}.`,
      );
    }
    this.optimizer = optimizer;
    this.paramName = paramName;
    this.saveHistory = saveHistory;
  }

  /** The value the schedule gives for the current `eventIndex`. */
  abstract getParam(): number;

  /**
   * Sets the parameter for this event and advances the schedule. Called by the engine.
   *
   * @param engine - the engine (its state receives the history when `saveHistory`), or null outside a run.
   * @param name - the key under `paramHistory` (default `paramName`).
   */
  handle(engine: Engine<any, any> | null, name?: string): void {
    const value = this.currentValue();
    writeParam(this.optimizer, this.paramName, value);
    if (this.saveHistory && engine) appendHistory(engine, name ?? this.paramName, value);
    this.eventIndex += 1;
  }

  /**
   * Adds this scheduler to `engine` on `event` (default `ITERATION_STARTED`).
   *
   * @returns the handle that removes it.
   */
  attach(engine: Engine<any, any>, event: EventSpec = Events.ITERATION_STARTED): RemovableEventHandle {
    return engine.addEventHandler(event, this);
  }

  /** Returns the schedule's state as plain data. */
  stateDict(): ParamSchedulerStateDict {
    return { eventIndex: this.eventIndex, paramName: this.paramName, saveHistory: this.saveHistory };
  }

  /**
   * Restores what {@link stateDict} returned.
   *
   * @throws TypeError when a required key is missing.
   */
  loadStateDict(stateDict: Record<string, unknown>): void {
    const sd = requireKeys(this.constructor.name, stateDict, ['eventIndex', 'paramName', 'saveHistory']);
    this.eventIndex = sd.eventIndex;
    this.paramName = sd.paramName;
    this.saveHistory = sd.saveHistory;
  }

  /** The value to set now; subclasses may wrap {@link getParam} (e.g. for warm-up). */
  protected currentValue(): number {
    return this.getParam();
  }
}

/** Options of the cyclical schedulers ({@link LinearCyclicalScheduler}, {@link CosineAnnealingScheduler}). */
export interface CyclicalSchedulerOptions extends ParamSchedulerOptions {
  /** Value at the start of each cycle. */
  startValue: number;
  /** Value in the middle (linear) or at the end (cosine) of each cycle. */
  endValue: number;
  /** Length of a cycle in events; at least 2. With iteration events, usually the epoch length. */
  cycleSize: number;
  /** Factor applied to `cycleSize` (and `warmupDuration`) at the end of each cycle (default 1). */
  cycleMult?: number;
  /** Factor applied to `startValue` at the end of each cycle (default 1). */
  startValueMult?: number;
  /** Factor applied to `endValue` at the end of each cycle (default 1). */
  endValueMult?: number;
  /** Events of linear warm-up from the last cycle's end value to the next start value, after each cycle (default 0). */
  warmupDuration?: number;
}

const CYCLICAL_KEYS = [
  'startValue',
  'endValue',
  'cycleSize',
  'cycleMult',
  'cycle',
  'startValueMult',
  'endValueMult',
  'warmupDuration',
  'totalCycleSize',
] as const;

/**
 * Base of the schedulers that repeat a cycle of `cycleSize` events, optionally followed by a warm-up back to the
 * start value; cycles may grow (`cycleMult`) and their values scale (`startValueMult`, `endValueMult`).
 */
export abstract class CyclicalScheduler extends ParamScheduler {
  /** Value at the start of the current cycle; multiplied by `startValueMult` after each cycle. */
  startValue: number;
  /**
   * Value in the middle (linear) or at the end (cosine) of the current cycle; multiplied by `endValueMult` after each
   * cycle.
   */
  endValue: number;
  /** Length of the current cycle in events; multiplied by `cycleMult` (truncated) after each cycle. */
  cycleSize: number;
  /** Factor applied to `cycleSize` and `warmupDuration` at the end of each cycle. */
  cycleMult: number;
  /** Number of completed cycles. */
  cycle = 0;
  /** Factor applied to `startValue` at the end of each cycle. */
  startValueMult: number;
  /** Factor applied to `endValue` at the end of each cycle. */
  endValueMult: number;
  /** Events of linear warm-up from `endValue` back to `startValue` after the current cycle. */
  warmupDuration: number;
  /** `cycleSize + warmupDuration`. */
  totalCycleSize: number;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link CyclicalSchedulerOptions}.
   */
  constructor(optimizer: ParamTarget, options: CyclicalSchedulerOptions) {
    super(optimizer, options);
    const where = this.constructor.name;
    this.startValue = checkNumber(where, 'startValue', options.startValue);
    this.endValue = checkNumber(where, 'endValue', options.endValue);
    const { cycleSize } = options;
    if (typeof cycleSize !== 'number' || !Number.isInteger(cycleSize) || cycleSize < 2) {
      throw new RangeError(
        `${where}: argument cycleSize should be positive and larger than 1, got ${describeValue(cycleSize)}.`,
      );
    }
    this.cycleSize = cycleSize;
    this.cycleMult = checkNumber(where, 'cycleMult', options.cycleMult ?? 1);
    this.startValueMult = checkNumber(where, 'startValueMult', options.startValueMult ?? 1);
    this.endValueMult = checkNumber(where, 'endValueMult', options.endValueMult ?? 1);
    this.warmupDuration = checkInteger(where, 'warmupDuration', options.warmupDuration ?? 0, 0);
    this.totalCycleSize = this.warmupDuration + this.cycleSize;
  }

  /**
   * Handles cycle boundaries, then sets the parameter like {@link ParamScheduler.handle}: after `cycleSize` events
   * `startValue` is scaled; after `cycleSize + warmupDuration` the next cycle starts (`eventIndex` back to 0, one more
   * `cycle`, `cycleSize`/`warmupDuration` grown by `cycleMult`, `endValue` scaled). Called by the engine.
   */
  override handle(engine: Engine<any, any> | null, name?: string): void {
    if (this.eventIndex !== 0 && this.eventIndex === this.cycleSize) {
      this.startValue *= this.startValueMult;
    }
    if (this.eventIndex !== 0 && this.eventIndex === this.totalCycleSize) {
      this.eventIndex = 0;
      this.cycleSize = Math.trunc(this.cycleSize * this.cycleMult);
      this.warmupDuration = Math.trunc(this.warmupDuration * this.cycleMult);
      this.totalCycleSize = this.warmupDuration + this.cycleSize;
      this.cycle += 1;
      this.endValue *= this.endValueMult;
    }
    super.handle(engine, name);
  }

  /** The base state plus the cycle state (`startValue`, `endValue`, `cycleSize`, the mults, `cycle`, warm-up sizes). */
  override stateDict(): ParamSchedulerStateDict {
    const sd = super.stateDict();
    for (const key of CYCLICAL_KEYS) sd[key] = this[key];
    return sd;
  }

  /** Restores what {@link stateDict} returned, cycle state included; throws TypeError when a key is missing. */
  override loadStateDict(stateDict: Record<string, unknown>): void {
    const sd = requireKeys(this.constructor.name, stateDict, CYCLICAL_KEYS);
    super.loadStateDict(sd);
    for (const key of CYCLICAL_KEYS) this[key] = sd[key];
  }

  /** During the warm-up after a cycle: linear from `endValue` to `startValue`; otherwise the cycle's value. */
  protected override currentValue(): number {
    if (this.eventIndex > this.cycleSize) {
      const progress = (this.eventIndex - this.cycleSize) / this.warmupDuration;
      return this.endValue + (this.startValue - this.endValue) * progress;
    }
    return this.getParam();
  }
}

/** Options of {@link LinearCyclicalScheduler}. */
export interface LinearCyclicalSchedulerOptions extends CyclicalSchedulerOptions {
  /** If true, only one half cycle: linear from `startValue` to `endValue`, then restart (default false). */
  monotonic?: boolean;
}

/**
 * Moves the parameter linearly from `startValue` to `endValue` over half a cycle and back over the other half
 * (or, with `monotonic`, from start to end over the whole cycle).
 *
 * @example
 * const optimizer = tf.train.sgd(0.1);
 * // 0, 0.5, 1, 0.5, 0, 0.5, ... over cycles of 4 iterations
 * trainer.on(Events.ITERATION_STARTED, new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 4 }));
 */
export class LinearCyclicalScheduler extends CyclicalScheduler {
  /** Whether only the rising (or falling) half of the cycle is used. */
  readonly monotonic: boolean;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link LinearCyclicalSchedulerOptions}.
   */
  constructor(optimizer: ParamTarget, options: LinearCyclicalSchedulerOptions) {
    super(optimizer, options);
    const { monotonic = false } = options;
    if (typeof monotonic !== 'boolean') {
      throw new TypeError(
        `LinearCyclicalScheduler: argument monotonic should be a boolean, got ${describeValue(monotonic)}.`,
      );
    }
    if (this.warmupDuration > 0 && !monotonic) {
      throw new RangeError(
        `LinearCyclicalScheduler: invalid combination when warmupDuration > 0 and monotonic is false (warmupDuration: ${this.warmupDuration}); ` +
          'set warmupDuration: 0 or monotonic: true.',
      );
    }
    this.monotonic = monotonic;
  }

  /** The value for the current `eventIndex`. */
  getParam(): number {
    const progress = this.eventIndex / this.cycleSize;
    if (this.monotonic) return this.startValue + (this.endValue - this.startValue) * progress;
    return this.endValue + (this.startValue - this.endValue) * Math.abs(progress - 0.5) * 2;
  }

  /**
   * Returns the values the scheduler would set over `numEvents` events, without touching any optimizer.
   *
   * @example
   * LinearCyclicalScheduler.simulateValues(5, { startValue: 0, endValue: 1, cycleSize: 4 });
   * // [[0, 0], [1, 0.5], [2, 1], [3, 0.5], [4, 0]]
   */
  static simulateValues(numEvents: number, options: LinearCyclicalSchedulerOptions): SimulatedValue[] {
    checkNumEvents('LinearCyclicalScheduler', numEvents);
    const paramName = options.paramName ?? 'learningRate';
    const scheduler = new LinearCyclicalScheduler(fakeTarget(paramName), { ...options, saveHistory: false });
    return simulate(scheduler, numEvents);
  }
}

/**
 * Anneals the parameter from `startValue` to `endValue` along half a cosine wave over each cycle (Smith 2017;
 * SGDR-style restarts).
 *
 * @example
 * // 0, 0.1464, 0.5, 0.8536, 0, ... over cycles of 4 iterations
 * new CosineAnnealingScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 4 }).attach(trainer);
 */
export class CosineAnnealingScheduler extends CyclicalScheduler {
  /** The value for the current `eventIndex`. */
  getParam(): number {
    const progress = this.eventIndex / this.cycleSize;
    return this.startValue + ((this.endValue - this.startValue) / 2) * (1 - Math.cos(Math.PI * progress));
  }

  /**
   * Returns the values the scheduler would set over `numEvents` events, without touching any optimizer.
   *
   * @example
   * CosineAnnealingScheduler.simulateValues(3, { startValue: 0, endValue: 1, cycleSize: 4 }); // [[0, 0], [1, 0.1464...], [2, 0.5]]
   */
  static simulateValues(numEvents: number, options: CyclicalSchedulerOptions): SimulatedValue[] {
    checkNumEvents('CosineAnnealingScheduler', numEvents);
    const paramName = options.paramName ?? 'learningRate';
    const scheduler = new CosineAnnealingScheduler(fakeTarget(paramName), { ...options, saveHistory: false });
    return simulate(scheduler, numEvents);
  }
}

/** Options of {@link PiecewiseLinear}. */
export interface PiecewiseLinearOptions extends ParamSchedulerOptions {
  /** `[eventIndex, value]` pairs with non-decreasing integer event indices; at least one pair. */
  milestonesValues: ReadonlyArray<readonly [number, number]>;
}

/**
 * Interpolates the parameter linearly between milestones: the first value before the first milestone, the last value
 * after the last one.
 *
 * @example
 * // 1, 1, 0.9, 0.8, 0.5, 0.2, 0.2, ...
 * new PiecewiseLinear(optimizer, { milestonesValues: [[1, 1.0], [3, 0.8], [5, 0.2]] }).attach(trainer);
 */
export class PiecewiseLinear extends ParamScheduler {
  /** Milestone event indices. */
  milestones: number[];
  /** Values at the milestones. */
  values: number[];
  #index = 0;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link PiecewiseLinearOptions}.
   */
  constructor(optimizer: ParamTarget, options: PiecewiseLinearOptions) {
    super(optimizer, options);
    const milestonesValues = options?.milestonesValues;
    if (!Array.isArray(milestonesValues)) {
      throw new TypeError(
        `PiecewiseLinear: argument milestonesValues should be an array of [eventIndex, value] pairs, got ${describeValue(milestonesValues)}.`,
      );
    }
    if (milestonesValues.length < 1) {
      throw new RangeError('PiecewiseLinear: argument milestonesValues should have at least one value, got [].');
    }
    const milestones: number[] = [];
    const values: number[] = [];
    for (const pair of milestonesValues) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(
          `PiecewiseLinear: argument milestonesValues should be an array of pairs [milestone, value], got ${describeValue(pair)} in it.`,
        );
      }
      const [milestone, value] = pair;
      if (typeof milestone !== 'number' || !Number.isInteger(milestone)) {
        throw new TypeError(`PiecewiseLinear: a milestone should be an integer, got ${describeValue(milestone)}.`);
      }
      const previous = milestones.at(-1);
      if (previous !== undefined && milestone < previous) {
        throw new RangeError(
          `PiecewiseLinear: milestones should be increasing integers, got ${milestone} after the previous milestone ${previous}.`,
        );
      }
      milestones.push(milestone);
      values.push(checkNumber('PiecewiseLinear', 'milestonesValues value', value));
    }
    this.milestones = milestones;
    this.values = values;
  }

  /** The value for the current `eventIndex`. */
  getParam(): number {
    const { milestones, values, eventIndex } = this;
    const last = milestones.length - 1;
    if (eventIndex < milestones[0]) return values[0];
    if (eventIndex >= milestones[last]) return values[last];
    // Segments are visited in order, so the search resumes where it left off.
    if (this.#index >= last || milestones[this.#index] > eventIndex) this.#index = 0;
    while (!(milestones[this.#index] <= eventIndex && eventIndex < milestones[this.#index + 1])) this.#index += 1;
    const i = this.#index;
    const start = milestones[i];
    const end = milestones[i + 1];
    return values[i] + ((values[i + 1] - values[i]) * (eventIndex - start)) / (end - start);
  }

  /** The base state plus copies of `milestones` and `values`. */
  override stateDict(): ParamSchedulerStateDict {
    return { ...super.stateDict(), milestones: [...this.milestones], values: [...this.values] };
  }

  /**
   * Restores what {@link stateDict} returned (milestones and values included); throws TypeError when a key is missing.
   */
  override loadStateDict(stateDict: Record<string, unknown>): void {
    const sd = requireKeys('PiecewiseLinear', stateDict, ['milestones', 'values']);
    super.loadStateDict(sd);
    this.milestones = [...sd.milestones];
    this.values = [...sd.values];
    this.#index = 0;
  }

  /**
   * Returns the values the scheduler would set over `numEvents` events, without touching any optimizer.
   *
   * @example
   * PiecewiseLinear.simulateValues(4, { milestonesValues: [[1, 1], [3, 0.8]] }); // [[0, 1], [1, 1], [2, 0.9], [3, 0.8]]
   */
  static simulateValues(numEvents: number, options: PiecewiseLinearOptions): SimulatedValue[] {
    checkNumEvents('PiecewiseLinear', numEvents);
    const paramName = options.paramName ?? 'learningRate';
    const scheduler = new PiecewiseLinear(fakeTarget(paramName), { ...options, saveHistory: false });
    return simulate(scheduler, numEvents);
  }
}

/** Options of {@link ConcatScheduler}. */
export interface ConcatSchedulerOptions {
  /** Two or more schedulers acting on the same optimizer and parameter. */
  schedulers: ParamScheduler[];
  /** How many events each scheduler but the last runs; `schedulers.length - 1` non-negative integers. */
  durations: number[];
  /** If true, values are appended to `engine.state.paramHistory` (applies to every scheduler; default false). */
  saveHistory?: boolean;
}

/**
 * Runs schedulers one after the other: the first for `durations[0]` events, the next for `durations[1]`, ...,
 * the last for the rest of training. Each starts from its own event index 0 (or from where its state was).
 *
 * @example
 * // 0, 0.25, 0.5, 0.75, then cosine from 1.0 to 0.2 over cycles of 4
 * const warm = new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 8 });
 * const anneal = new CosineAnnealingScheduler(optimizer, { startValue: 1, endValue: 0.2, cycleSize: 4 });
 * trainer.on(Events.ITERATION_STARTED, new ConcatScheduler({ schedulers: [warm, anneal], durations: [4] }));
 */
export class ConcatScheduler extends ParamScheduler {
  /** The concatenated schedulers. */
  readonly schedulers: readonly ParamScheduler[];
  /** Events each scheduler but the last lasts. */
  durations: number[];
  #schedulerIndex = 0;
  #currentDuration = 0;

  /** @param options - `{ schedulers, durations, saveHistory? }`, see {@link ConcatSchedulerOptions}. */
  constructor(options: ConcatSchedulerOptions) {
    const { schedulers, durations, saveHistory = false } = ConcatScheduler.#check(options);
    super(schedulers[0].optimizer, { paramName: schedulers[0].paramName, saveHistory });
    for (const scheduler of schedulers) scheduler.saveHistory = saveHistory;
    this.schedulers = [...schedulers];
    this.durations = [...durations];
    this.#setup();
  }

  static #check(options: ConcatSchedulerOptions): ConcatSchedulerOptions {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(
        `ConcatScheduler: argument should be an options object { schedulers, durations }, got ${describeValue(options)}.`,
      );
    }
    const { schedulers, durations } = options;
    if (!Array.isArray(schedulers)) {
      throw new TypeError(`ConcatScheduler: argument schedulers should be an array, got ${describeValue(schedulers)}.`);
    }
    if (schedulers.length < 2) {
      throw new RangeError(
        `ConcatScheduler: argument schedulers should be of more than one parameter schedulers, got ${schedulers.length}.`,
      );
    }
    schedulers.forEach((scheduler, i) => {
      if (!(scheduler instanceof ParamScheduler)) {
        throw new TypeError(
          `ConcatScheduler: value at index ${i} of schedulers should be a parameter scheduler, got ${describeValue(scheduler)}.`,
        );
      }
    });
    if (!Array.isArray(durations)) {
      throw new TypeError(`ConcatScheduler: argument durations should be an array, got ${describeValue(durations)}.`);
    }
    if (!durations.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) {
      throw new RangeError(
        `ConcatScheduler: argument durations should be an array of non-negative integers, got ${describeValue(durations)}.`,
      );
    }
    if (schedulers.length !== durations.length + 1) {
      throw new RangeError(
        `ConcatScheduler: incorrect number of schedulers or duration values, got ${schedulers.length} schedulers and ` +
          `${durations.length} durations; give one duration fewer than schedulers.`,
      );
    }
    if (schedulers.some((s) => s.optimizer !== schedulers[0].optimizer)) {
      throw new RangeError('ConcatScheduler: schedulers should be related to same optimizer.');
    }
    if (schedulers.some((s) => s.paramName !== schedulers[0].paramName)) {
      throw new RangeError(
        `ConcatScheduler: schedulers should be related to same paramName, got ${describeValue(schedulers.map((s) => s.paramName))}.`,
      );
    }
    return options;
  }

  #setup(): void {
    this.#currentDuration =
      this.#schedulerIndex < this.durations.length ? this.durations[this.#schedulerIndex] : Number.POSITIVE_INFINITY;
  }

  /** The scheduler in charge now. */
  get currentScheduler(): ParamScheduler {
    return this.schedulers[this.#schedulerIndex];
  }

  /**
   * Switches to the next scheduler once the current one's duration is used up, then lets the current one set the value.
   */
  override handle(engine: Engine<any, any> | null, name?: string): void {
    if (this.#currentDuration === 0) {
      this.#schedulerIndex += 1;
      this.#setup();
    }
    this.currentScheduler.handle(engine, name);
    this.#currentDuration -= 1;
  }

  /** The current scheduler's value for its current event. */
  getParam(): number {
    return this.currentScheduler.getParam();
  }

  /**
   * The base state plus `durations`, the current scheduler's index, the events left for it (`-1`: the last, unbounded)
   * and every scheduler's own `stateDict()`.
   */
  override stateDict(): ParamSchedulerStateDict {
    return {
      ...super.stateDict(),
      durations: [...this.durations],
      schedulerIndex: this.#schedulerIndex,
      // -1 stands for "until the end" (the last scheduler), which JSON cannot hold as Infinity.
      currentDuration: Number.isFinite(this.#currentDuration) ? this.#currentDuration : -1,
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  /**
   * Restores what {@link stateDict} returned, into each concatenated scheduler too; throws if a key or a scheduler's
   * state is missing.
   */
  override loadStateDict(stateDict: Record<string, unknown>): void {
    const sd = requireKeys('ConcatScheduler', stateDict, [
      'schedulers',
      'durations',
      'schedulerIndex',
      'currentDuration',
    ]);
    if (!Array.isArray(sd.schedulers) || sd.schedulers.length !== this.schedulers.length) {
      throw new RangeError(
        `ConcatScheduler: the state dict holds ${Array.isArray(sd.schedulers) ? sd.schedulers.length : 'no'} state dicts ` +
          `of concatenated schedulers, but ${this.schedulers.length} are needed.`,
      );
    }
    this.schedulers.forEach((s, i) => {
      s.loadStateDict(sd.schedulers[i]);
    });
    super.loadStateDict(sd);
    this.durations = [...sd.durations];
    this.#schedulerIndex = sd.schedulerIndex;
    this.#currentDuration = sd.currentDuration === -1 ? Number.POSITIVE_INFINITY : sd.currentDuration;
  }

  /**
   * Returns the values the concatenation would set over `numEvents` events. The given schedulers and their optimizer
   * are used for the simulation, then put back as they were.
   *
   * @example
   * ConcatScheduler.simulateValues(8, { schedulers: [warm, anneal], durations: [4] });
   */
  static simulateValues(numEvents: number, options: ConcatSchedulerOptions): SimulatedValue[] {
    checkNumEvents('ConcatScheduler', numEvents);
    const { schedulers } = ConcatScheduler.#check(options);
    const saved = schedulers.map((s) => s.stateDict());
    const optimizer = schedulers[0].optimizer;
    const paramName = schedulers[0].paramName;
    const savedValue = readParam(optimizer, paramName);
    try {
      return simulate(new ConcatScheduler({ ...options, saveHistory: false }), numEvents);
    } finally {
      schedulers.forEach((s, i) => {
        s.loadStateDict(saved[i]);
      });
      writeParam(optimizer, paramName, savedValue);
    }
  }
}

/** Options of {@link createLrSchedulerWithWarmup}. */
export interface LrSchedulerWithWarmupOptions {
  /** Value at the start of the warm-up. */
  warmupStartValue: number;
  /** Warm-up length in events; an integer of at least 2. */
  warmupDuration: number;
  /** Value at the end of the warm-up (default: the optimizer's current value). */
  warmupEndValue?: number;
  /** If true, values are appended to `engine.state.paramHistory` (default false). */
  saveHistory?: boolean;
  /** If given, filled in place with `[event, value]` for as many events as its length. */
  outputSimulatedValues?: unknown[];
}

/**
 * Puts a linear warm-up in front of a scheduler: from `warmupStartValue` to `warmupEndValue` over `warmupDuration`
 * events, then `lrScheduler` from its first value. If `lrScheduler` starts at `warmupEndValue`, the warm-up stops one
 * event short so that value is not repeated.
 *
 * @param lrScheduler - the scheduler to run after the warm-up.
 * @param options - see {@link LrSchedulerWithWarmupOptions}.
 * @returns a {@link ConcatScheduler}; attach it like any scheduler.
 * @example
 * const cosine = new CosineAnnealingScheduler(optimizer, { startValue: 0.1, endValue: 0.001, cycleSize: 100 });
 * const scheduler = createLrSchedulerWithWarmup(cosine, { warmupStartValue: 0, warmupDuration: 10 });
 * trainer.on(Events.ITERATION_STARTED, scheduler);
 */
export function createLrSchedulerWithWarmup(
  lrScheduler: ParamScheduler,
  options: LrSchedulerWithWarmupOptions,
): ConcatScheduler {
  const where = 'createLrSchedulerWithWarmup';
  if (!(lrScheduler instanceof ParamScheduler)) {
    throw new TypeError(
      `${where}: argument lrScheduler should be a parameter scheduler (e.g. CosineAnnealingScheduler), got ${describeValue(lrScheduler)}.`,
    );
  }
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `${where}: argument options should be an object { warmupStartValue, warmupDuration }, got ${describeValue(options)}.`,
    );
  }
  const { warmupDuration, saveHistory = false, outputSimulatedValues } = options;
  if (typeof warmupDuration !== 'number' || !Number.isInteger(warmupDuration)) {
    throw new TypeError(`${where}: argument warmupDuration should be integer, got ${describeValue(warmupDuration)}.`);
  }
  if (warmupDuration < 2) {
    throw new RangeError(`${where}: argument warmupDuration should be at least 2 events, got ${warmupDuration}.`);
  }
  const startValue = checkNumber(where, 'warmupStartValue', options.warmupStartValue);
  const endValue = checkNumber(
    where,
    'warmupEndValue',
    options.warmupEndValue ?? readParam(lrScheduler.optimizer, lrScheduler.paramName),
  );
  if (outputSimulatedValues !== undefined && !Array.isArray(outputSimulatedValues)) {
    throw new TypeError(
      `${where}: argument outputSimulatedValues should be an array, e.g. new Array(100), got ${describeValue(outputSimulatedValues)}.`,
    );
  }
  const milestonesValues: [number, number][] = [
    [0, startValue],
    [warmupDuration - 1, endValue],
  ];
  if (lrScheduler.getParam() === endValue) {
    if (warmupDuration > 2) {
      const step = (endValue - startValue) / (warmupDuration - 1);
      milestonesValues[1] = [warmupDuration - 2, endValue - step];
    } else {
      milestonesValues.pop();
    }
  }
  const warmup = new PiecewiseLinear(lrScheduler.optimizer, {
    paramName: lrScheduler.paramName,
    milestonesValues,
    saveHistory,
  });
  const concatOptions = { schedulers: [warmup, lrScheduler], durations: [milestonesValues.at(-1)![0] + 1] };
  const combined = new ConcatScheduler({ ...concatOptions, saveHistory });
  if (outputSimulatedValues !== undefined) {
    const simulated = ConcatScheduler.simulateValues(outputSimulatedValues.length, concatOptions);
    simulated.forEach((value, i) => {
      outputSimulatedValues[i] = value;
    });
  }
  return combined;
}

/** Options of {@link ReduceLROnPlateauScheduler}. */
export interface ReduceLROnPlateauOptions extends ParamSchedulerOptions {
  /** The `engine.state.metrics` entry to watch. */
  metricName: string;
  /** Engine whose `state.paramHistory` receives the values when `saveHistory` (default: the engine called with). */
  trainer?: Engine<any, any> | null;
  /** `'min'` (default): the metric should decrease; `'max'`: it should increase. */
  mode?: 'min' | 'max';
  /** Factor the value is multiplied by on a plateau; in (0, 1) (default 0.1). */
  factor?: number;
  /** Calls without improvement tolerated; the value is reduced on the next one (default 10). */
  patience?: number;
  /** Minimum change counted as an improvement (default 1e-4). */
  threshold?: number;
  /** `'rel'` (default): relative to the best; `'abs'`: absolute. */
  thresholdMode?: 'rel' | 'abs';
  /** Calls to wait after a reduction before counting again (default 0). */
  cooldown?: number;
  /** Lower bound of the value (default 0). */
  minLr?: number;
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces the parameter (the learning rate) by `factor` when a metric has stopped improving for more than `patience`
 * calls, like PyTorch's `ReduceLROnPlateau`. Attach it to the engine that computes the metric, usually an evaluator
 * at `COMPLETED`.
 *
 * @example
 * const plateau = new ReduceLROnPlateauScheduler(optimizer, { metricName: 'loss', factor: 0.5, patience: 2, trainer });
 * evaluator.on(Events.COMPLETED, plateau);
 */
export class ReduceLROnPlateauScheduler extends ParamScheduler {
  /** The `engine.state.metrics` entry watched. */
  readonly metricName: string;
  /** Engine whose `state.paramHistory` receives the values, or null for the engine called with. */
  readonly trainer: Engine<any, any> | null;
  /** `'min'`: the metric should decrease; `'max'`: increase. */
  readonly mode: 'min' | 'max';
  /** Factor the value is multiplied by on a plateau. */
  readonly factor: number;
  /** Calls without improvement tolerated before a reduction. */
  readonly patience: number;
  /** Minimum change counted as an improvement. */
  readonly threshold: number;
  /** `'rel'`: `threshold` is relative to the best; `'abs'`: absolute. */
  readonly thresholdMode: 'rel' | 'abs';
  /** Calls to wait after a reduction before counting bad calls again. */
  readonly cooldown: number;
  /** Lower bound of the value. */
  readonly minLr: number;
  /** Reductions smaller than this are skipped. */
  readonly eps: number;
  #best: number;
  #numBadEpochs = 0;
  #cooldownCounter = 0;

  /**
   * @param optimizer - a tfjs optimizer.
   * @param options - see {@link ReduceLROnPlateauOptions}; `metricName` is required.
   */
  constructor(optimizer: ParamTarget, options: ReduceLROnPlateauOptions) {
    super(optimizer, options);
    const where = 'ReduceLROnPlateauScheduler';
    const {
      metricName,
      trainer = null,
      mode = 'min',
      factor = 0.1,
      patience = 10,
      threshold = 1e-4,
      thresholdMode = 'rel',
      cooldown = 0,
      minLr = 0,
      eps = 1e-8,
    } = options;
    if (typeof metricName !== 'string' || metricName.length === 0) {
      throw new TypeError(
        `${where}: argument metricName should be a non-empty string, got ${describeValue(metricName)}.`,
      );
    }
    if (mode !== 'min' && mode !== 'max') {
      throw new RangeError(`${where}: argument mode should be either 'min' or 'max', got ${describeValue(mode)}.`);
    }
    if (thresholdMode !== 'rel' && thresholdMode !== 'abs') {
      throw new RangeError(
        `${where}: argument thresholdMode should be either 'rel' or 'abs', got ${describeValue(thresholdMode)}.`,
      );
    }
    if (typeof factor !== 'number' || !(factor > 0 && factor < 1)) {
      throw new RangeError(`${where}: argument factor should be a number in (0, 1), got ${describeValue(factor)}.`);
    }
    this.metricName = metricName;
    this.trainer = trainer;
    this.mode = mode;
    this.factor = factor;
    this.patience = checkInteger(where, 'patience', patience, 0);
    this.threshold = checkNumber(where, 'threshold', threshold);
    this.thresholdMode = thresholdMode;
    this.cooldown = checkInteger(where, 'cooldown', cooldown, 0);
    this.minLr = checkNumber(where, 'minLr', minLr);
    this.eps = checkNumber(where, 'eps', eps);
    this.#best = this.#worst();
  }

  /** Calls without improvement since the best (or since the last reduction). */
  get numBadEpochs(): number {
    return this.#numBadEpochs;
  }

  /** The best metric value seen, or null before the first call. */
  get best(): number | null {
    return Number.isFinite(this.#best) ? this.#best : null;
  }

  /**
   * Reads `engine.state.metrics[metricName]`, updates the plateau counters, reduces the value on a plateau and writes
   * it to the optimizer. Called by the engine.
   */
  override handle(engine: Engine<any, any>, name?: string): void {
    const metrics = engine?.state?.metrics;
    if (metrics === null || typeof metrics !== 'object' || !(this.metricName in metrics)) {
      throw new Error(
        `ReduceLROnPlateauScheduler: the engine should have in its state.metrics the metric '${this.metricName}'; ` +
          'attach the metric to the engine this scheduler is added to.',
      );
    }
    const value = metrics[this.metricName];
    if (typeof value !== 'number') {
      throw new TypeError(
        `ReduceLROnPlateauScheduler: state.metrics.${this.metricName} should be a number, got ${describeValue(value)}.`,
      );
    }
    this.#step(value);
    super.handle(this.trainer ?? engine, name);
  }

  #worst(): number {
    return this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  #isBetter(value: number): boolean {
    const best = this.#best;
    if (this.mode === 'min') {
      return this.thresholdMode === 'rel' ? value < best * (1 - this.threshold) : value < best - this.threshold;
    }
    return this.thresholdMode === 'rel' ? value > best * (1 + this.threshold) : value > best + this.threshold;
  }

  #step(value: number): void {
    if (this.#isBetter(value)) {
      this.#best = value;
      this.#numBadEpochs = 0;
    } else {
      this.#numBadEpochs += 1;
    }
    if (this.#cooldownCounter > 0) {
      this.#cooldownCounter -= 1;
      this.#numBadEpochs = 0;
    }
    if (this.#numBadEpochs > this.patience) {
      const old = readParam(this.optimizer, this.paramName);
      const reduced = Math.max(old * this.factor, this.minLr);
      if (old - reduced > this.eps) writeParam(this.optimizer, this.paramName, reduced);
      this.#cooldownCounter = this.cooldown;
      this.#numBadEpochs = 0;
    }
  }

  /** The optimizer's current value (reductions are applied to it directly). */
  getParam(): number {
    return readParam(this.optimizer, this.paramName);
  }

  /**
   * The base state plus `metricName`, `best`, `numBadEpochs`, the cooldown counter and the optimizer's current `value`.
   */
  override stateDict(): ParamSchedulerStateDict {
    return {
      ...super.stateDict(),
      metricName: this.metricName,
      best: this.best,
      numBadEpochs: this.#numBadEpochs,
      cooldownCounter: this.#cooldownCounter,
      value: readParam(this.optimizer, this.paramName),
    };
  }

  /**
   * Restores the best value and counters and writes the saved `value` to the optimizer; throws TypeError when a key is
   * missing.
   */
  override loadStateDict(stateDict: Record<string, unknown>): void {
    const sd = requireKeys('ReduceLROnPlateauScheduler', stateDict, [
      'metricName',
      'best',
      'numBadEpochs',
      'cooldownCounter',
      'value',
    ]);
    super.loadStateDict(sd);
    this.#best = sd.best === null ? this.#worst() : sd.best;
    this.#numBadEpochs = sd.numBadEpochs;
    this.#cooldownCounter = sd.cooldownCounter;
    writeParam(this.optimizer, this.paramName, sd.value);
  }

  /**
   * Returns the values the scheduler would set for a sequence of metric values, starting from `initLr`.
   *
   * @example
   * ReduceLROnPlateauScheduler.simulateValues(4, { metricValues: [1, 1, 1, 1], initLr: 0.1, patience: 1, factor: 0.5 });
   * // [[0, 0.1], [1, 0.1], [2, 0.05], [3, 0.05]]
   */
  static simulateValues(
    numEvents: number,
    options: Omit<ReduceLROnPlateauOptions, 'metricName' | 'trainer'> & { metricValues: number[]; initLr: number },
  ): SimulatedValue[] {
    checkNumEvents('ReduceLROnPlateauScheduler', numEvents);
    const { metricValues, initLr, ...rest } = options;
    if (!Array.isArray(metricValues) || metricValues.length !== numEvents) {
      throw new RangeError(
        `ReduceLROnPlateauScheduler.simulateValues: length of argument metricValues should be equal to numEvents, ` +
          `got ${Array.isArray(metricValues) ? metricValues.length : describeValue(metricValues)} != ${numEvents}.`,
      );
    }
    const paramName = rest.paramName ?? 'learningRate';
    const target = fakeTarget(paramName, checkNumber('ReduceLROnPlateauScheduler', 'initLr', initLr));
    const scheduler = new ReduceLROnPlateauScheduler(target, { ...rest, metricName: 'metric', saveHistory: false });
    return metricValues.map((metric, i) => {
      scheduler.#step(metric);
      scheduler.eventIndex += 1;
      return [i, readParam(target, paramName)];
    });
  }
}
