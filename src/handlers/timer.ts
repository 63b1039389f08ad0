import { type Engine, type EventSpec, Events } from '../engine';
import { checkBoolean, checkEngine, checkFunction, checkOptions } from '../internal';
import { Attachable, addHandlers, type HandlerEntry } from './attachable';

/** Options of {@link Timer}. */
export interface TimerOptions {
  /** If true, {@link Timer.value} is the total time divided by the number of {@link Timer.step} calls. */
  average?: boolean;
  /** The clock, in milliseconds (default `performance.now`); inject a fake one in tests. */
  now?: () => number;
}

/** Events that drive a {@link Timer}; see {@link Timer.attach}. */
export interface TimerEvents {
  /** Resets and starts the timer (default `Events.STARTED`). */
  start?: EventSpec;
  /** Pauses the timer (default `Events.COMPLETED`). */
  pause?: EventSpec;
  /** Resumes the timer (default: none). */
  resume?: EventSpec;
  /** Counts one step for averaging (default: none). */
  step?: EventSpec;
}

/**
 * Measures the (average) time between events, in seconds.
 *
 * A new timer is running. `pause()` adds the time since the last start or resume to the total; `value()` is the
 * total (plus the running part), divided by the number of `step()` calls when `average` is true.
 *
 * @example
 * // average time of one iteration's processing
 * const timer = new Timer({ average: true }).attach(trainer, {
 *   start: Events.EPOCH_STARTED, resume: Events.ITERATION_STARTED,
 *   pause: Events.ITERATION_COMPLETED, step: Events.ITERATION_COMPLETED,
 * });
 * trainer.on(Events.EPOCH_COMPLETED, () => console.log(`${timer.value()} s per batch`));
 */
export class Timer extends Attachable {
  protected override get handlerName(): string {
    return 'Timer';
  }

  readonly #average: boolean;
  readonly #now: () => number;
  #t0 = 0;
  #total = 0;
  #stepCount = 0;
  #isRunning = true;

  /** @param options - `{ average?, now? }`, see {@link TimerOptions}. */
  constructor(options: TimerOptions = {}) {
    super();
    const { average = false, now = () => performance.now() } = checkOptions('Timer', options, ['average', 'now']);
    this.#average = checkBoolean('Timer', 'option average', average);
    this.#now = checkFunction('Timer', 'option now', now, '() => milliseconds');
    this.reset();
  }

  /** Seconds measured so far while running (not divided by steps). */
  get total(): number {
    return this.#total;
  }

  /** Number of {@link step} calls since the last reset. */
  get stepCount(): number {
    return this.#stepCount;
  }

  /** Whether the timer is measuring now. */
  get isRunning(): boolean {
    return this.#isRunning;
  }

  /**
   * Wires the timer to an engine's events. Defaults follow the reference: reset at STARTED, pause at COMPLETED.
   *
   * @param engine - the engine whose events drive the timer.
   * @param events - `{ start, pause, resume, step }`, each an event (filtered events allowed).
   * @returns this timer; `timer.remove()` takes its handlers off again.
   */
  attach(engine: Engine<any, any>, events: TimerEvents = {}): this {
    checkEngine('Timer.attach', 'argument engine', engine);
    const {
      start = Events.STARTED,
      pause = Events.COMPLETED,
      resume,
      step,
    } = checkOptions('Timer.attach', events, ['start', 'pause', 'resume', 'step']) as TimerEvents;
    const entries: HandlerEntry[] = [
      ['option start', start, () => this.reset()],
      ['option pause', pause, () => this.pause()],
    ];
    if (resume !== undefined) entries.push(['option resume', resume, () => this.resume()]);
    if (step !== undefined) entries.push(['option step', step, () => this.step()]);
    this.track(engine, ...addHandlers(engine, 'Timer.attach', entries));
    return this;
  }

  /** Sets the total and the step count to zero and starts measuring. Returns this timer. */
  reset(): this {
    this.#t0 = this.#now();
    this.#total = 0;
    this.#stepCount = 0;
    this.#isRunning = true;
    return this;
  }

  /** Stops measuring, adding the running time to the total; does nothing if already paused. */
  pause(): void {
    if (!this.#isRunning) return;
    this.#total += this.#elapsed();
    this.#isRunning = false;
  }

  /** Starts measuring again after {@link pause}; does nothing if running. */
  resume(): void {
    if (this.#isRunning) return;
    this.#isRunning = true;
    this.#t0 = this.#now();
  }

  /** Counts one step (the denominator of the average). */
  step(): void {
    this.#stepCount += 1;
  }

  /** Seconds measured, divided by `max(stepCount, 1)` when `average` is true. */
  value(): number {
    const total = this.#isRunning ? this.#total + this.#elapsed() : this.#total;
    return this.#average ? total / Math.max(this.#stepCount, 1) : total;
  }

  #elapsed(): number {
    return (this.#now() - this.#t0) / 1000;
  }
}
