import { type Engine, type EventSpec, Events, getLogger, type RemovableEventHandle } from '../engine';
import { checkEngine, checkFunction, checkNumber, checkOptions } from '../internal';

/** Options of {@link TimeLimit}. */
export interface TimeLimitOptions {
  /** Seconds after which the run is stopped (default 28800, eight hours); any positive number. */
  limitSec?: number;
  /** The clock, in milliseconds (default `performance.now`); inject a fake one in tests. */
  now?: () => number;
}

/**
 * Stops training gracefully once a time budget is spent: a handler that calls `engine.terminate()` when more than
 * `limitSec` seconds have passed **since the handler was created** (as in the reference, not since the run started).
 * Useful where sessions are limited (a notebook kernel, a CI job, a tab the user will close).
 *
 * @example
 * trainer.on(Events.ITERATION_COMPLETED, new TimeLimit({ limitSec: 600 })); // ten minutes
 */
export class TimeLimit {
  /** The budget in seconds. */
  readonly limitSec: number;
  readonly #now: () => number;
  readonly #start: number;

  /** @param options - `{ limitSec?, now? }`, see {@link TimeLimitOptions}. */
  constructor(options: TimeLimitOptions = {}) {
    const { limitSec = 28800, now = () => performance.now() } = checkOptions('TimeLimit', options, ['limitSec', 'now']);
    this.limitSec = checkNumber('TimeLimit', 'option limitSec', limitSec, { min: 0, minExclusive: true });
    this.#now = checkFunction('TimeLimit', 'option now', now, '() => milliseconds');
    this.#start = this.#now();
  }

  /** Seconds since this handler was created. */
  get elapsedSec(): number {
    return (this.#now() - this.#start) / 1000;
  }

  /**
   * Adds this handler on `event` (default `ITERATION_COMPLETED`).
   *
   * @returns a handle that removes it.
   * @example
   * new TimeLimit({ limitSec: 60 }).attach(trainer, Events.EPOCH_COMPLETED);
   */
  attach(engine: Engine<any, any>, event: EventSpec = Events.ITERATION_COMPLETED): RemovableEventHandle {
    checkEngine('TimeLimit.attach', 'argument engine', engine);
    return engine.addEventHandler(event, this);
  }

  /** Terminates the run when the budget is spent. Called by the engine. */
  handle(engine: Engine<any, any>): void {
    if (this.elapsedSec > this.limitSec) {
      getLogger().info(`TimeLimit: reached the time limit of ${this.limitSec} s. Stop training.`);
      engine.terminate();
    }
  }
}
