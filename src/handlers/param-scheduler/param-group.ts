// ParamGroupScheduler: several optimizer schedulers moved together, one per "group".
import { type Engine, type EventSpec, Events } from '../../engine';
import {
  checkBoolean,
  checkOptions,
  checkPlainObject,
  checkStateDict,
  checkString,
  describeValue,
  failRange,
  failType,
  UNSAFE_KEYS,
} from '../../internal';
import { EventHandler } from '../attachable';
import { checkNumEvents, type ParamSchedulerStateDict } from './base';
import { ParamScheduler, type ParamTarget, readParam, writeParam } from './param-scheduler';

/** Options of {@link ParamGroupScheduler}. */
export interface ParamGroupSchedulerOptions {
  /** One scheduler per group: each acts on its own pair of optimizer and `paramName`. */
  schedulers: ParamScheduler[];
  /**
   * A name per scheduler, unique: the keys of the group's state dict and of `engine.state.paramHistory`. Default: the
   * schedulers' `paramName`s, when they differ.
   */
  names?: string[];
  /** If true, each value set is appended to `engine.state.paramHistory[name]` (applies to every scheduler). */
  saveHistory?: boolean;
}

/** What {@link ParamGroupScheduler.stateDict} returns: `[name, scheduler state]` pairs, loaded by name. */
export interface ParamGroupSchedulerStateDict {
  schedulers: [string, ParamSchedulerStateDict][];
}

/** One row of {@link ParamGroupScheduler.simulateValues}: the event index, then each group's value. */
export type SimulatedGroupValues = [number, ...number[]];

/**
 * Moves several optimizer schedulers together on one event (Ignite's `ParamGroupScheduler`).
 *
 * **What a group is here.** A PyTorch optimizer holds parameter groups, each with its own learning rate; a tfjs
 * optimizer has one learning rate for every variable it updates. In kindling a group is one pair of an optimizer and a
 * parameter name: give each part of a model its own optimizer (`optimizer.minimize(loss, false, partVariables)`, or
 * two trainers' optimizers as in a GAN) and one scheduler each; or schedule two parameters of one optimizer (Adam's
 * `learningRate` and `beta1`). Two schedulers may not act on the same optimizer and parameter: they would overwrite
 * each other.
 *
 * @example
 * const base = new CosineAnnealingScheduler(baseOptimizer, { startValue: 0, endValue: 1e-3, cycleSize: 4 });
 * const head = new CosineAnnealingScheduler(headOptimizer, { startValue: 0, endValue: 1e-2, cycleSize: 4 });
 * new ParamGroupScheduler({ schedulers: [base, head], names: ['lr (base)', 'lr (head)'] }).attach(trainer);
 */
export class ParamGroupScheduler extends EventHandler {
  /** The schedulers, one per group. */
  readonly schedulers: readonly ParamScheduler[];
  /** Their names, in the same order. */
  readonly names: readonly string[];

  /** @param options - `{ schedulers, names?, saveHistory? }`, see {@link ParamGroupSchedulerOptions}. */
  constructor(options: ParamGroupSchedulerOptions) {
    super();
    const { schedulers, names, saveHistory } = checkGroupOptions('ParamGroupScheduler', options);
    this.schedulers = schedulers;
    this.names = names;
    this.saveHistory = saveHistory;
  }

  /** Whether the schedulers append their values to `engine.state.paramHistory[name]`; setting it sets them all. */
  get saveHistory(): boolean {
    return this.schedulers[0]!.saveHistory;
  }

  set saveHistory(value: boolean) {
    checkBoolean('ParamGroupScheduler', 'saveHistory', value);
    for (const scheduler of this.schedulers) scheduler.saveHistory = value;
  }

  /** The optimizer of each group. */
  get optimizers(): ParamTarget[] {
    return this.schedulers.map((scheduler) => scheduler.optimizer);
  }

  /** `attach(engine)` sets the values at every `ITERATION_STARTED`, like a single scheduler. */
  protected get defaultEvent(): EventSpec {
    return Events.ITERATION_STARTED;
  }

  /**
   * Lets each scheduler set its value and advance, recording history under its name. Called by the engine.
   *
   * @param engine - the engine (its state receives the history with `saveHistory`), or null outside a run.
   */
  handle(engine: Engine<any, any> | null): void {
    this.schedulers.forEach((scheduler, i) => {
      scheduler.handle(engine, this.names[i]);
    });
  }

  /** Each scheduler's value for its current event, in order. */
  getParam(): number[] {
    return this.schedulers.map((scheduler) => scheduler.getParam());
  }

  /** `{ schedulers: [[name, stateDict], ...] }`: every scheduler's state under its name. */
  stateDict(): ParamGroupSchedulerStateDict {
    return { schedulers: this.schedulers.map((scheduler, i) => [this.names[i]!, scheduler.stateDict()]) };
  }

  /**
   * Restores what {@link stateDict} returned, each scheduler's state by its name (the order does not matter). All or
   * nothing: when a scheduler refuses its state, those already loaded are put back as they were before the call.
   *
   * @throws TypeError or RangeError when the state dict is not a group's, or names differ from this group's.
   */
  loadStateDict(stateDict: Record<string, unknown>): void {
    const where = 'ParamGroupScheduler.loadStateDict';
    const { schedulers: entries } = checkStateDict(where, stateDict, ['schedulers']);
    const expected = `an array of ${this.names.length} [name, stateDict] pairs (names ${describeValue(this.names)})`;
    if (!Array.isArray(entries)) failType(where, "state dict entry 'schedulers'", expected, entries);
    if (entries.length !== this.names.length) failRange(where, "state dict entry 'schedulers'", expected, entries);
    const byName = new Map<string, Record<string, unknown>>();
    for (const entry of entries) {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
        failType(where, "an entry of state dict entry 'schedulers'", 'a [name, stateDict] pair', entry);
      }
      const [name, sd] = entry as [string, unknown];
      if (!this.names.includes(name) || byName.has(name)) {
        failRange(
          where,
          'a scheduler name in the state dict',
          `one of ${describeValue(this.names)}, each once`,
          name,
          'Load the state dict of a ParamGroupScheduler with the same names.',
        );
      }
      byName.set(name, checkPlainObject(where, `the state dict of scheduler '${name}'`, sd));
    }
    const before = this.schedulers.map((scheduler) => scheduler.stateDict());
    let loaded = 0;
    try {
      for (const [i, scheduler] of this.schedulers.entries()) {
        scheduler.loadStateDict(byName.get(this.names[i]!)!);
        loaded = i + 1;
      }
    } catch (error) {
      // put back every scheduler touched, the one that threw included
      for (let i = 0; i <= Math.min(loaded, this.schedulers.length - 1); i++) {
        this.schedulers[i]!.loadStateDict(before[i]!);
      }
      throw error;
    }
  }

  /**
   * The values the group would set over `numEvents` events: rows `[i, value of group 0, value of group 1, ...]`.
   * The given schedulers and their optimizers are used for the simulation, then put back as they were.
   *
   * @example
   * ParamGroupScheduler.simulateValues(4, { schedulers: [base, head] }); // [[0, 0, 0], [1, 0.000146..., 0.00146...], ...]
   */
  static simulateValues(numEvents: number, options: ParamGroupSchedulerOptions): SimulatedGroupValues[] {
    const where = 'ParamGroupScheduler.simulateValues';
    checkNumEvents('ParamGroupScheduler', numEvents);
    checkPlainObject(where, 'argument options', options, 'an options object { schedulers, names? }');
    // names do not matter here: groups of one paramName need none
    const { names = Array.isArray(options.schedulers) ? options.schedulers.map((_, i) => `group ${i}`) : undefined } =
      options;
    const { schedulers } = checkGroupOptions(where, { ...options, names });
    const states = schedulers.map((scheduler) => scheduler.stateDict());
    const values = schedulers.map((scheduler) => readParam(scheduler.optimizer, scheduler.paramName));
    try {
      const group = new ParamGroupScheduler({ ...options, names, saveHistory: false });
      const rows: SimulatedGroupValues[] = [];
      for (let i = 0; i < numEvents; i++) {
        group.handle(null);
        rows.push([i, ...schedulers.map((scheduler) => readParam(scheduler.optimizer, scheduler.paramName))]);
      }
      return rows;
    } finally {
      schedulers.forEach((scheduler, i) => {
        scheduler.loadStateDict(states[i]!);
        writeParam(scheduler.optimizer, scheduler.paramName, values[i]!);
      });
    }
  }
}

/** Checks the options of a group; returns the schedulers, their names (defaults filled in) and saveHistory. */
function checkGroupOptions(
  where: string,
  options: ParamGroupSchedulerOptions,
): { schedulers: ParamScheduler[]; names: string[]; saveHistory: boolean } {
  checkPlainObject(where, 'argument options', options, 'an options object { schedulers, names? }');
  checkOptions(where, options, ['schedulers', 'names', 'saveHistory']);
  const { schedulers, names, saveHistory = false } = options;
  if (!Array.isArray(schedulers) || schedulers.length === 0) {
    failType(where, 'argument schedulers', 'a non-empty array of parameter schedulers', schedulers);
  }
  schedulers.forEach((scheduler, i) => {
    if (!(scheduler instanceof ParamScheduler)) {
      failType(
        where,
        `schedulers[${i}]`,
        "an optimizer's parameter scheduler (e.g. CosineAnnealingScheduler)",
        scheduler,
        'State schedulers set engine.state, not a group of an optimizer: attach them by themselves.',
      );
    }
  });
  schedulers.forEach((scheduler, i) => {
    const j = schedulers.findIndex((s) => s.optimizer === scheduler.optimizer && s.paramName === scheduler.paramName);
    if (j !== i) {
      throw new RangeError(
        `${where}: schedulers[${j}] and schedulers[${i}] both set '${scheduler.paramName}' of the same optimizer, so ` +
          'they would overwrite each other; a group is one optimizer and parameter: give each group its own optimizer.',
      );
    }
  });
  let given: string[];
  if (names === undefined) {
    given = schedulers.map((scheduler) => scheduler.paramName);
    if (new Set(given).size !== given.length) {
      throw new TypeError(
        `${where}: option names is needed when the schedulers' paramNames repeat (${describeValue(given)}): the group's ` +
          "state dict and history are keyed by name. Pass e.g. names: ['lr (base)', 'lr (head)'].",
      );
    }
  } else {
    if (!Array.isArray(names)) failType(where, 'argument names', 'an array of strings', names);
    given = names.map((name, i) => checkString(where, `names[${i}]`, name));
    if (given.length !== schedulers.length) {
      throw new RangeError(
        `${where}: argument names should have one name per scheduler (${schedulers.length}), got ${given.length}.`,
      );
    }
    const repeated = given.find((name, i) => given.indexOf(name) !== i);
    if (repeated !== undefined) failRange(where, 'argument names', 'unique names', names, `'${repeated}' repeats.`);
  }
  const unsafe = given.find((name) => UNSAFE_KEYS.has(name));
  if (unsafe !== undefined) failRange(where, 'argument names', `names other than '${unsafe}'`, given);
  return {
    schedulers: [...schedulers],
    names: given,
    saveHistory: checkBoolean(where, 'argument saveHistory', saveHistory),
  };
}
