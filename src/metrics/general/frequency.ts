import { type Engine, Events } from '../../engine';
import { checkFunction, checkNumber, checkOptions, checkStateDict } from '../../internal';
import type { MetricUsage } from '../metric';
import { Metric, NotComputableError } from '../metric';
import { markLoaded } from '../metric-state';

/** Options of {@link Frequency}. */
export interface FrequencyOptions {
  /** Maps the engine output to the number of items the iteration processed (e.g. the batch size, or tokens). */
  outputTransform?: (output: any) => number;
  /** The clock, in milliseconds (default `performance.now()`); tests pass a fake one. */
  now?: () => number;
}

/** The plain-data state of a {@link Frequency}. */
export interface FrequencyStateDict {
  /** Items counted since the reset. */
  items: number;
  /** Seconds from the reset to the last update. */
  elapsed: number;
}

/**
 * Items processed per second (examples, tokens, pixels): the items counted since the reset over the seconds from the
 * reset to the last update, like the reference's `Frequency`.
 *
 * Input: the number of items of the iteration, a non-negative number (pick it with `outputTransform`, e.g.
 * `([x]) => x.shape[0]` for a batch's examples). Holds two numbers on the host; no tensor.
 *
 * Attached with {@link Frequency.usage} by default, like the reference: the count restarts at EPOCH_STARTED and the
 * value is written at every ITERATION_COMPLETED. For another schedule, spread it with your own COMPLETED event and
 * keep that object for `detach`. (The reference writes the value truncated to an integer; kindling keeps the
 * fraction.)
 *
 * @example
 * const wps = new Frequency({ outputTransform: (out) => out.numTokens });
 * wps.attach(trainer, 'wps');
 * // every 50 iterations only:
 * const every50 = { ...Frequency.usage, COMPLETED: Events.ITERATION_COMPLETED({ every: 50 }) };
 * new Frequency({ outputTransform: ([x]) => x.shape[0] }).attach(trainer, 'examplesPerSecond', every50);
 */
export class Frequency extends Metric<number, number> {
  /** Reset at EPOCH_STARTED, update and compute at every ITERATION_COMPLETED: the default usage of a Frequency. */
  static readonly usage: MetricUsage = Object.freeze({
    usageName: 'frequency',
    STARTED: Events.EPOCH_STARTED,
    ITERATION_COMPLETED: Events.ITERATION_COMPLETED,
    COMPLETED: Events.ITERATION_COMPLETED,
  });

  readonly #now: () => number;
  #items = 0;
  /** Seconds before the clock's start (from a loaded state). */
  #offset = 0;
  /** Clock value (ms) at the reset, the load or the resume. */
  #start: number;
  /** Seconds from the reset to the last update. */
  #elapsed = 0;

  /** @param options `{ outputTransform?, now? }`, see {@link FrequencyOptions}. */
  constructor(options: FrequencyOptions = {}) {
    const { now = () => performance.now(), ...rest } = checkOptions('Frequency', options, ['outputTransform', 'now']);
    super(rest as Pick<FrequencyOptions, 'outputTransform'>);
    this.#now = checkFunction('Frequency', 'option now', now, '() => milliseconds');
    this.#start = this.#now();
  }

  protected override get metricName(): string {
    return 'Frequency';
  }

  /** Zeroes the count and restarts the clock. */
  reset(): void {
    this.#items = 0;
    this.#offset = 0;
    this.#elapsed = 0;
    this.#start = this.#now();
  }

  /** A resumed run restarts the clock, so the time between the load and the resume does not count. */
  protected override resumed(): void {
    this.#start = this.#now();
  }

  /**
   * Counts `items` and notes the time since the reset.
   *
   * @example
   * frequency.update(32); // a batch of 32 examples
   */
  update(items: number): void {
    checkNumber('Frequency.update', 'the number of items', items, {
      min: 0,
      fix: 'Map the engine output to a count with outputTransform, e.g. ([x]) => x.shape[0].',
    });
    this.#items += items;
    this.#elapsed = this.#offset + (this.#now() - this.#start) / 1000;
  }

  /**
   * Items per second; throws NotComputableError before any time has passed since the reset.
   *
   * @example
   * const perSecond = frequency.compute();
   */
  compute(): number {
    if (this.#elapsed <= 0) {
      throw new NotComputableError(
        'Frequency must have at least one update after some time has passed before it can be computed.',
      );
    }
    return this.#items / this.#elapsed;
  }

  /** Like {@link Metric.attach}, with {@link Frequency.usage} as the default usage. */
  override attach(engine: Engine<any, any>, name: string, usage: MetricUsage = Frequency.usage): void {
    super.attach(engine, name, usage);
  }

  /** Like {@link Metric.detach}, with {@link Frequency.usage} as the default usage. */
  override detach(engine: Engine<any, any>, usage: MetricUsage = Frequency.usage): void {
    super.detach(engine, usage);
  }

  /** Like {@link Metric.isAttached}, with {@link Frequency.usage} as the default usage. */
  override isAttached(engine: Engine<any, any>, usage: MetricUsage = Frequency.usage): boolean {
    return super.isAttached(engine, usage);
  }

  /**
   * The count and the elapsed seconds, as plain numbers.
   *
   * @example
   * const saved = frequency.stateDict(); // { items: 6400, elapsed: 12.5 }
   */
  override stateDict(): FrequencyStateDict {
    return { items: this.#items, elapsed: this.#elapsed };
  }

  /**
   * Restores a state from {@link stateDict} (the clock goes on from its elapsed time); checks it before changing
   * anything.
   *
   * @example
   * frequency.loadStateDict({ items: 6400, elapsed: 12.5 });
   */
  override loadStateDict(stateDict: FrequencyStateDict): void {
    const where = 'Frequency.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['items', 'elapsed']);
    const items = checkNumber(where, "state dict entry 'items'", sd.items, { min: 0 });
    const elapsed = checkNumber(where, "state dict entry 'elapsed'", sd.elapsed, { min: 0 });
    this.#items = items;
    this.#elapsed = elapsed;
    this.#offset = elapsed;
    this.#start = this.#now();
    markLoaded(this);
  }
}
