// The base every parameter scheduler shares, whatever it sets: an optimizer's parameter (ParamScheduler) or, in a
// subclass, anything else (an engine state attribute). It owns the event counter, the history and the state dict;
// a subclass says how to compute a value (`getParam`) and where it goes (`applyValue`).
import { type Engine, type EventSpec, Events } from '../../engine';
import { checkBoolean, checkInteger, checkPlainObject, checkString, failType, isPlainObject } from '../../internal';
import { EventHandler } from '../attachable';

/** One simulated event: `[eventIndex, value]`. */
export type SimulatedValue = [number, number];

/** Options every parameter scheduler takes. */
export interface ParamSchedulerOptions {
  /** The property to schedule (default `'learningRate'`). */
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
 * Base of every parameter scheduler: at each call it computes the value for the current `eventIndex`
 * ({@link getParam}), hands it to {@link applyValue}, optionally records it in `engine.state.paramHistory[paramName]`,
 * then advances `eventIndex` by one. Subclasses decide what the value is and where it goes: {@link ParamScheduler}
 * writes it to an optimizer.
 *
 * @example
 * class HalvingScheduler extends BaseParamScheduler {
 *   protected override get schedulerName() { return 'HalvingScheduler'; }
 *   getParam() { return 2 ** -this.eventIndex; }
 *   protected applyValue(engine: Engine | null, value: number) { if (engine) engine.state.alpha = value; }
 * }
 */
export abstract class BaseParamScheduler extends EventHandler {
  /** The property set, `'learningRate'` by default. */
  paramName: string;
  /** Whether values are appended to `engine.state.paramHistory`. */
  saveHistory: boolean;
  /** Number of calls since the start of the schedule (or of the current cycle, for cyclical schedulers). */
  eventIndex = 0;

  /** @param options - `{ paramName?, saveHistory? }`. */
  constructor(options: ParamSchedulerOptions = {}) {
    super();
    const where = this.schedulerName;
    checkPlainObject(where, 'argument options', options);
    const { paramName = 'learningRate', saveHistory = false } = options;
    this.paramName = checkString(where, 'argument paramName', paramName);
    this.saveHistory = checkBoolean(where, 'argument saveHistory', saveHistory);
  }

  /**
   * The scheduler's name in error messages. Each kindling scheduler returns its class name literally (a minifier
   * renames classes); a subclass of yours may override it too.
   */
  protected get schedulerName(): string {
    return 'ParamScheduler';
  }

  /** The value the schedule gives for the current `eventIndex`. */
  abstract getParam(): number;

  /** Puts `value` where this scheduler acts (an optimizer's property, an engine state attribute, ...). */
  protected abstract applyValue(engine: Engine<any, any> | null, value: number): void;

  /**
   * Sets the parameter for this event and advances the schedule. Called by the engine.
   *
   * @param engine - the engine (its state receives the history when `saveHistory`), or null outside a run.
   * @param name - the key under `paramHistory` (default `paramName`).
   */
  handle(engine: Engine<any, any> | null, name?: string): void {
    const value = this.currentValue();
    this.applyValue(engine, value);
    if (this.saveHistory && engine) appendHistory(engine, name ?? this.paramName, value);
    this.eventIndex += 1;
  }

  /** `attach(engine)` sets the value at every `ITERATION_STARTED`; pass another event, e.g. `EPOCH_STARTED`. */
  protected get defaultEvent(): EventSpec {
    return Events.ITERATION_STARTED;
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
    const sd = requireKeys(this.schedulerName, stateDict, ['eventIndex', 'paramName', 'saveHistory']);
    this.eventIndex = sd.eventIndex;
    this.paramName = sd.paramName;
    this.saveHistory = sd.saveHistory;
  }

  /** The value to set now; subclasses may wrap {@link getParam} (e.g. for warm-up). */
  protected currentValue(): number {
    return this.getParam();
  }
}

/** Throws unless every key is in the state dict (others may be there: subclasses add theirs); returns it as a record. */
export function requireKeys(where: string, stateDict: unknown, keys: readonly string[]): Record<string, any> {
  if (!isPlainObject(stateDict)) failType(where, 'argument stateDict', 'an object as stateDict() returns', stateDict);
  for (const key of keys) {
    if (!(key in stateDict)) {
      throw new TypeError(
        `${where}: required state attribute '${key}' is absent in the provided state dict (keys: ${Object.keys(stateDict).join(', ')}).`,
      );
    }
  }
  return stateDict;
}

/** Checks the `numEvents` argument of a `simulateValues`. */
export function checkNumEvents(where: string, numEvents: unknown): number {
  return checkInteger(`${where}.simulateValues`, 'argument numEvents', numEvents, { min: 0 });
}

/** Runs a scheduler on its own `numEvents` times and records `[i, value]` after each call, read with `read`. */
export function simulate(scheduler: BaseParamScheduler, numEvents: number, read: () => number): SimulatedValue[] {
  const values: SimulatedValue[] = [];
  for (let i = 0; i < numEvents; i++) {
    scheduler.handle(null);
    values.push([i, read()]);
  }
  return values;
}

export function appendHistory(engine: Engine<any, any>, name: string, value: number): void {
  const state = engine.state as Record<string, any>;
  if (state.paramHistory === null || typeof state.paramHistory !== 'object') state.paramHistory = {};
  state.paramHistory[name] ??= [];
  state.paramHistory[name].push(value);
}
