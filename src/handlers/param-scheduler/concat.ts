// ConcatScheduler: schedulers one after the other.
import type { Engine } from '../../engine';
import {
  checkBoolean,
  checkInteger,
  checkOptions,
  checkPlainObject,
  describeValue,
  failRange,
  failType,
  planLoad,
} from '../../internal';
import { checkNumEvents, type ParamSchedulerStateDict, type SimulatedValue, simulate } from './base';
import { ParamScheduler, readParam, writeParam } from './param-scheduler';

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
 * new ConcatScheduler({ schedulers: [warm, anneal], durations: [4] }).attach(trainer);
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
    const { schedulers, durations, saveHistory = false } = checkConcatOptions(options);
    super(schedulers[0].optimizer, { paramName: schedulers[0].paramName, saveHistory });
    for (const scheduler of schedulers) scheduler.saveHistory = saveHistory;
    this.schedulers = [...schedulers];
    this.durations = [...durations];
    this.#setup();
  }

  protected override get schedulerName(): string {
    return 'ConcatScheduler';
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
   * Checks the concatenation's state and every concatenated scheduler's before any of them changes: `durations` as
   * given at construction (one fewer than schedulers, non-negative integers), `schedulerIndex` one of the schedulers,
   * `currentDuration` within that scheduler's duration (`-1` only for the last), each scheduler's own state dict.
   */
  override [planLoad](stateDict: unknown): () => void {
    const apply = super[planLoad](stateDict);
    const where = 'ConcatScheduler.loadStateDict';
    const sd = stateDict as Record<string, unknown>;
    const count = this.schedulers.length;
    const { durations, schedulers } = sd;
    if (
      !Array.isArray(durations) ||
      durations.length !== count - 1 ||
      !durations.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      failType(where, "state dict entry 'durations'", `an array of ${count - 1} non-negative integers`, durations);
    }
    const schedulerIndex = checkInteger(where, "state dict entry 'schedulerIndex'", sd.schedulerIndex, {
      min: 0,
      max: count - 1,
      fix: `This ConcatScheduler has ${count} schedulers.`,
    });
    const isLast = schedulerIndex === count - 1;
    const currentDuration = checkInteger(where, "state dict entry 'currentDuration'", sd.currentDuration, {
      min: isLast ? -1 : 0,
      max: isLast ? -1 : durations[schedulerIndex],
      expected: isLast
        ? '-1 (the last scheduler runs to the end)'
        : `an integer in [0, ${durations[schedulerIndex]}] (the events left of scheduler ${schedulerIndex})`,
    });
    if (!Array.isArray(schedulers) || schedulers.length !== count) {
      throw new RangeError(
        `${where}: the state dict holds ${Array.isArray(schedulers) ? schedulers.length : 'no'} state dicts ` +
          `of concatenated schedulers, but ${count} are needed.`,
      );
    }
    const applies = this.schedulers.map((scheduler, i) => {
      const paramName = (schedulers[i] as { paramName?: unknown } | null)?.paramName;
      if (paramName !== sd.paramName) {
        failRange(
          where,
          `state dict entry 'schedulers' at ${i}: its paramName`,
          describeValue(sd.paramName),
          paramName,
        );
      }
      try {
        return scheduler[planLoad](schedulers[i]);
      } catch (error) {
        // Say where in the concatenation the rejected state is; the scheduler's own message follows.
        const Class = error instanceof RangeError ? RangeError : TypeError;
        throw new Class(`${where}: state dict entry 'schedulers' at ${i} was rejected: ${(error as Error).message}`, {
          cause: error,
        });
      }
    });
    return () => {
      for (const applyOne of applies) applyOne();
      apply();
      this.durations = [...durations];
      this.#schedulerIndex = schedulerIndex;
      this.#currentDuration = currentDuration === -1 ? Number.POSITIVE_INFINITY : currentDuration;
    };
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
    const { schedulers } = checkConcatOptions(options);
    const saved = schedulers.map((s) => s.stateDict());
    const optimizer = schedulers[0].optimizer;
    const paramName = schedulers[0].paramName;
    const savedValue = readParam(optimizer, paramName);
    try {
      const concat = new ConcatScheduler({ ...options, saveHistory: false });
      return simulate(concat, numEvents, () => readParam(optimizer, paramName));
    } finally {
      schedulers.forEach((s, i) => {
        s.loadStateDict(saved[i]);
      });
      writeParam(optimizer, paramName, savedValue);
    }
  }
}

function checkConcatOptions(options: ConcatSchedulerOptions): ConcatSchedulerOptions {
  const where = 'ConcatScheduler';
  checkPlainObject(where, 'argument options', options, 'an options object { schedulers, durations }');
  checkOptions(where, options, ['schedulers', 'durations', 'saveHistory']);
  const { schedulers, durations, saveHistory = false } = options;
  if (!Array.isArray(schedulers)) failType(where, 'argument schedulers', 'an array', schedulers);
  if (schedulers.length < 2) {
    throw new RangeError(
      `${where}: argument schedulers should be of more than one parameter schedulers, got ${schedulers.length}.`,
    );
  }
  schedulers.forEach((scheduler, i) => {
    if (!(scheduler instanceof ParamScheduler)) {
      failType(where, `value at index ${i} of schedulers`, 'a parameter scheduler', scheduler);
    }
  });
  if (!Array.isArray(durations)) failType(where, 'argument durations', 'an array', durations);
  if (!durations.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    failRange(where, 'argument durations', 'an array of non-negative integers', durations);
  }
  if (schedulers.length !== durations.length + 1) {
    throw new RangeError(
      `${where}: incorrect number of schedulers or duration values, got ${schedulers.length} schedulers and ` +
        `${durations.length} durations; give one duration fewer than schedulers.`,
    );
  }
  if (schedulers.some((s) => s.optimizer !== schedulers[0].optimizer)) {
    throw new RangeError(`${where}: schedulers should be related to same optimizer.`);
  }
  if (schedulers.some((s) => s.paramName !== schedulers[0].paramName)) {
    throw new RangeError(
      `${where}: schedulers should be related to same paramName, got ${describeValue(schedulers.map((s) => s.paramName))}.`,
    );
  }
  checkBoolean(where, 'argument saveHistory', saveHistory);
  return options;
}
