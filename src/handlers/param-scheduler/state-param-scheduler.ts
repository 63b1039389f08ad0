// StateParamScheduler: the base of the schedulers that set an attribute of `engine.state` rather than an optimizer's
// parameter (Ignite's state_param_scheduler.py). One scheduler a file: lambda-state.ts, piecewise-linear-state.ts,
// exp-state.ts, step-state.ts, multi-step-state.ts.
import { Engine, type EventSpec, Events, State } from '../../engine';
import {
  checkBoolean,
  checkInteger,
  checkNumber,
  checkOptions,
  checkPlainObject,
  checkStateDict,
  checkString,
  describeValue,
  failRange,
  failType,
} from '../../internal';
import {
  appendHistory,
  BaseParamScheduler,
  checkNumEvents,
  type ParamSchedulerStateDict,
  type SimulatedValue,
} from './base';

/** Options every state scheduler takes. */
export interface StateParamSchedulerOptions {
  /** The `engine.state` attribute to schedule, e.g. `'alpha'`; not one the engine owns (`iteration`, `output`, ...). */
  paramName: string;
  /** If true, each value set is appended to `engine.state.paramHistory[paramName]` (default false). */
  saveHistory?: boolean;
  /**
   * True: `attach` creates the attribute, and throws if `engine.state` already has it (another handler sets it).
   * False (default): `attach` takes over an attribute that is already there, and throws if there is none.
   */
  createNew?: boolean;
}

/** The option names of {@link StateParamSchedulerOptions}. */
export const STATE_OPTIONS = ['paramName', 'saveHistory', 'createNew'] as const;

/** Attributes of `engine.state` that the engine or the schedulers own; a state scheduler may not set them. */
const ENGINE_ATTRIBUTES: ReadonlySet<string> = new Set([...Object.keys(new State()), 'paramHistory']);

/**
 * Checks the options object of a state scheduler named `where` (its own keys are `extraKeys`) before its constructor
 * runs: a plain object with no unknown key. The constructor of {@link StateParamScheduler} checks the values.
 */
export function checkStateOptions<O extends StateParamSchedulerOptions>(
  where: string,
  options: O,
  extraKeys: readonly string[],
): O {
  checkPlainObject(where, 'argument options', options, `an options object { paramName, ${extraKeys.join(', ')} }`);
  checkOptions(where, options, [...STATE_OPTIONS, ...extraKeys]);
  return options;
}

/**
 * Base of the schedulers that set an attribute of `engine.state` at each event (Ignite's `StateParamScheduler`),
 * for anything a process function or a handler reads from the state: a loss weight, a temperature, a mixing ratio.
 *
 * Unlike an optimizer's scheduler, a state scheduler counts the event first and then sets the value for it, as in
 * Ignite: after `n` calls `eventIndex` is `n` and the attribute holds the schedule's value at `n` (an exponential
 * decay from 1 with gamma 0.9 sets 0.9 at the first event). `attach(engine)` adds it at `ITERATION_COMPLETED`;
 * `attach(engine, Events.EPOCH_COMPLETED)` schedules per epoch. Values are absolute, whatever the attribute held before.
 *
 * @example
 * class Halving extends StateParamScheduler {
 *   protected override get schedulerName() { return 'Halving'; }
 *   getParam() { return 2 ** -this.eventIndex; }
 * }
 * new Halving({ paramName: 'beta', createNew: true }).attach(trainer, Events.EPOCH_COMPLETED);
 */
export abstract class StateParamScheduler extends BaseParamScheduler {
  /** Whether `attach` creates the attribute (and refuses one already there). */
  readonly createNew: boolean;
  /** Engines where this scheduler created the attribute, so that attaching again there is not a conflict. */
  readonly #created = new WeakSet<Engine<any, any>>();

  /** @param options - `{ paramName, saveHistory?, createNew? }` and the subclass's own options. */
  constructor(options: StateParamSchedulerOptions) {
    super(options); // checks that options is an object, paramName a string and saveHistory a boolean
    const where = this.schedulerName;
    const given = options as Partial<StateParamSchedulerOptions> | undefined;
    const name = checkString(where, 'argument paramName', given?.paramName, {
      fix: "Name the engine.state attribute to schedule, e.g. paramName: 'alpha'.",
    });
    if (ENGINE_ATTRIBUTES.has(name)) {
      failRange(
        where,
        'argument paramName',
        'an engine.state attribute of your own',
        name,
        `The engine owns '${name}'; pick another name, e.g. '${name}Scheduled'.`,
      );
    }
    this.createNew = checkBoolean(where, 'argument createNew', given?.createNew ?? false);
  }

  protected override get schedulerName(): string {
    return 'StateParamScheduler';
  }

  /** `attach(engine)` sets the attribute at every `ITERATION_COMPLETED`; pass another event, e.g. `EPOCH_COMPLETED`. */
  protected override get defaultEvent(): EventSpec {
    return Events.ITERATION_COMPLETED;
  }

  /**
   * Adds the scheduler to `engine` on `event` (default `ITERATION_COMPLETED`). With `createNew`, creates
   * `engine.state[paramName]` (null until the first event); without, the attribute must already be there. With
   * `saveHistory`, prepares `engine.state.paramHistory[paramName]`.
   *
   * @returns this scheduler; `remove()` takes it off again (the attribute stays, holding the last value).
   * @throws RangeError when the attribute exists and `createNew` is true, or is missing and `createNew` is false.
   * @example
   * new ExpStateScheduler({ paramName: 'temperature', initialValue: 1, gamma: 0.9, createNew: true })
   *   .attach(trainer, Events.EPOCH_COMPLETED);
   */
  override attach(engine: Engine<any, any>, event: EventSpec = this.defaultEvent): this {
    const where = `${this.schedulerName}.attach`;
    if (!(engine instanceof Engine)) failType(where, 'argument engine', 'an Engine', engine);
    const state = engine.state as Record<string, unknown>;
    const name = this.paramName;
    if (Object.hasOwn(state, name)) {
      if (this.createNew && !this.#created.has(engine)) {
        throw new RangeError(
          `${where}: engine.state already has an attribute '${name}' (${describeValue(state[name])}), and createNew ` +
            'is true: two handlers would set it. Choose another paramName, or pass createNew: false to take it over.',
        );
      }
    } else {
      if (!this.createNew) {
        throw new RangeError(
          `${where}: engine.state has no attribute '${name}' to schedule. Pass createNew: true to create it, or ` +
            `set engine.state.${name} before attaching.`,
        );
      }
      state[name] = null;
      this.#created.add(engine);
    }
    if (this.saveHistory) {
      if (state.paramHistory === null || typeof state.paramHistory !== 'object') state.paramHistory = {};
      (state.paramHistory as Record<string, number[]>)[name] ??= [];
    }
    return super.attach(engine, event);
  }

  /**
   * Counts the event, then sets `engine.state[paramName]` to the schedule's value for it (and records it in
   * `engine.state.paramHistory[name]` with `saveHistory`). Called by the engine.
   *
   * @param engine - the engine whose state receives the value, or null to advance the schedule only.
   * @param name - the key under `paramHistory` (default `paramName`).
   */
  override handle(engine: Engine<any, any> | null, name?: string): void {
    this.eventIndex += 1;
    let value: number;
    try {
      value = this.getParam();
    } catch (error) {
      this.eventIndex -= 1;
      throw error;
    }
    this.applyValue(engine, value);
    if (this.saveHistory && engine) appendHistory(engine, name ?? this.paramName, value);
  }

  /** Writes `value` to `engine.state[paramName]`. */
  protected applyValue(engine: Engine<any, any> | null, value: number): void {
    if (engine) (engine.state as Record<string, unknown>)[this.paramName] = value;
  }

  /** The subclass's own state (plain data), added to the base state by {@link stateDict}. */
  protected abstract ownState(): Record<string, unknown>;

  /**
   * Checks the subclass's own entries of a state dict (the keys {@link ownState} returns, already known to be there)
   * and returns a function that applies them; it must throw, and change nothing, when a value is wrong.
   */
  protected abstract checkOwnState(where: string, stateDict: Record<string, unknown>): () => void;

  /** `{ eventIndex, paramName, saveHistory }` and the subclass's own entries: plain, JSON-safe data. */
  override stateDict(): ParamSchedulerStateDict {
    return { ...super.stateDict(), ...this.ownState() };
  }

  /**
   * Restores what {@link stateDict} returned. Every entry is checked first (no unknown or missing key, `eventIndex` a
   * non-negative safe integer, `paramName` this scheduler's, finite numbers): a state dict that fails changes nothing.
   *
   * @throws TypeError or RangeError naming the entry, the value and the fix.
   */
  override loadStateDict(stateDict: Record<string, unknown>): void {
    const where = `${this.schedulerName}.loadStateDict`;
    const own = Object.keys(this.ownState());
    const sd = checkStateDict(where, stateDict, ['eventIndex', 'paramName', 'saveHistory', ...own]);
    const eventIndex = checkInteger(where, "state dict entry 'eventIndex'", sd.eventIndex, { min: 0 });
    if (sd.paramName !== this.paramName) {
      failRange(
        where,
        "state dict entry 'paramName'",
        `'${this.paramName}' (the attribute this scheduler sets)`,
        sd.paramName,
        'Load the state dict of the scheduler of the same engine.state attribute.',
      );
    }
    const saveHistory = checkBoolean(where, "state dict entry 'saveHistory'", sd.saveHistory);
    const applyOwn = this.checkOwnState(where, sd);
    super.loadStateDict({ eventIndex, paramName: this.paramName, saveHistory });
    applyOwn();
  }
}

/**
 * Runs `scheduler` on a throwaway engine `numEvents` times and records `[i, value]` after each call (Ignite's
 * `simulate_values`: the value set at the (i + 1)-th event).
 */
export function simulateState(where: string, scheduler: StateParamScheduler, numEvents: number): SimulatedValue[] {
  checkNumEvents(where, numEvents);
  const engine = new Engine(() => undefined);
  const values: SimulatedValue[] = [];
  for (let i = 0; i < numEvents; i++) {
    scheduler.handle(engine);
    values.push([i, (engine.state as Record<string, number>)[scheduler.paramName]!]);
  }
  return values;
}

/** Checks a finite number entry of a state dict. */
export function checkFiniteEntry(where: string, sd: Record<string, unknown>, key: string): number {
  return checkNumber(where, `state dict entry '${key}'`, sd[key]);
}

/**
 * Checks a list of integer milestones: safe integers, each greater than the previous one (`strict`) or not smaller.
 * `subject` names it in messages (`'argument milestones'`, "state dict entry 'milestones'").
 */
export function checkMilestones(where: string, subject: string, value: unknown, strict: boolean): number[] {
  if (!Array.isArray(value)) failType(where, subject, 'an array of integers', value);
  value.forEach((milestone, i) => {
    checkInteger(where, `${subject} [${i}]`, milestone);
    if (i > 0 && (strict ? milestone <= value[i - 1] : milestone < value[i - 1])) {
      failRange(
        where,
        subject,
        strict ? 'increasing integers' : 'non-decreasing integers',
        value,
        `${milestone} comes after ${value[i - 1]}.`,
      );
    }
  });
  return [...value];
}
