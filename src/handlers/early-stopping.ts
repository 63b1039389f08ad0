import { Engine, type EventSpec, Events, getLogger } from '../engine';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkPlainObject,
  checkStateDict,
  describeValue,
  failRange,
  failType,
} from '../internal';
import { EventHandler } from './attachable';

/** Options of {@link EarlyStopping}. */
export interface EarlyStoppingOptions {
  /** Number of calls without improvement after which the trainer is stopped; a positive integer. */
  patience: number;
  /** Returns the score of the engine the handler is attached to (usually an evaluator); may be async. */
  scoreFunction: (engine: Engine<any, any>) => number | Promise<number>;
  /** The engine to stop (usually the trainer). */
  trainer: Engine<any, any>;
  /** The smallest change of the score that counts as an improvement (default 0). */
  minDelta?: number;
  /** If true, `minDelta` is measured from the best score since the last reset of the counter rather than from the last score. */
  cumulativeDelta?: boolean;
  /** `'max'` (default): higher scores are better; `'min'`: lower scores are better. */
  mode?: 'max' | 'min';
  /** `'abs'` (default): improvement means beating `best ± minDelta`; `'rel'`: beating `best * (1 ± minDelta)`. */
  minDeltaMode?: 'abs' | 'rel';
}

/** What {@link EarlyStopping.stateDict} returns: plain data, JSON-safe. */
export interface EarlyStoppingStateDict {
  counter: number;
  bestScore: number | null;
  minDeltaMode: 'abs' | 'rel';
}

/** Option names of {@link EarlyStoppingOptions}. */
const OPTION_NAMES: readonly string[] = [
  'patience',
  'scoreFunction',
  'trainer',
  'minDelta',
  'cumulativeDelta',
  'mode',
  'minDeltaMode',
];

/** Ignite's option names that kindling spells otherwise. */
const IGNITE_NAMES: Readonly<Record<string, string>> = {
  threshold: 'minDelta',
  cumulative: 'cumulativeDelta',
  thresholdMode: 'minDeltaMode',
};

/**
 * Stops the trainer when a score has not improved for `patience` calls.
 *
 * The first call records the score as the best. Each later call that does not improve on the best (by more than
 * `minDelta`) adds one to the counter; when the counter reaches `patience` the handler calls `trainer.terminate()`.
 * An improvement resets the counter. A NaN score (a diverged model) is never an improvement and never the best: it
 * adds one to the counter like any other score that does not improve. Attach it to the engine whose score is watched, usually an evaluator.
 *
 * @example
 * const stopper = new EarlyStopping({ patience: 3, scoreFunction: (e) => -e.state.metrics.loss, trainer });
 * stopper.attach(evaluator); // at its COMPLETED; or evaluator.on(Events.COMPLETED, stopper)
 */
export class EarlyStopping extends EventHandler {
  protected override get handlerName(): string {
    return 'EarlyStopping';
  }

  /** Calls without improvement to wait for. */
  readonly patience: number;
  /** The function that scores the engine. */
  readonly scoreFunction: (engine: Engine<any, any>) => number | Promise<number>;
  /** The engine stopped when patience runs out. */
  readonly trainer: Engine<any, any>;
  /** Minimum change counted as an improvement. */
  readonly minDelta: number;
  /** Whether `minDelta` is measured from the best score since the last counter reset. */
  readonly cumulativeDelta: boolean;
  /** Whether higher (`'max'`) or lower (`'min'`) scores are better. */
  readonly mode: 'max' | 'min';
  #minDeltaMode: 'abs' | 'rel';
  #counter = 0;
  #bestScore: number | null = null;

  /**
   * @param options - see {@link EarlyStoppingOptions}; `patience`, `scoreFunction` and `trainer` are required.
   * @throws TypeError or RangeError when an option is invalid.
   */
  constructor(options: EarlyStoppingOptions) {
    super();
    const where = 'EarlyStopping';
    checkPlainObject(where, 'argument options', options, 'an options object { patience, scoreFunction, trainer }');
    for (const key of Object.keys(options)) {
      if (OPTION_NAMES.includes(key)) continue;
      const hint = Object.hasOwn(IGNITE_NAMES, key)
        ? `; kindling calls it ${IGNITE_NAMES[key]}`
        : `; known options: ${OPTION_NAMES.join(', ')}`;
      throw new TypeError(`${where}: unknown option '${key}'${hint}.`);
    }
    const { patience, scoreFunction, trainer, minDelta = 0, cumulativeDelta = false, mode = 'max' } = options;
    const minDeltaMode = options.minDeltaMode ?? 'abs';
    checkFunction(where, 'argument scoreFunction', scoreFunction, '(engine) => number');
    checkInteger(where, 'argument patience', patience, {
      min: 1,
      expected: 'positive integer',
      fix: 'Pass e.g. patience: 5.',
    });
    if (!(trainer instanceof Engine)) {
      failType(where, 'argument trainer', 'an Engine (an instance of Engine)', trainer, 'Pass the engine to stop.');
    }
    // Ignite's key words: "should not be negative", "should be either 'min' or 'max'".
    if (typeof minDelta !== 'number' || !(minDelta >= 0 && minDelta < Number.POSITIVE_INFINITY)) {
      throw new RangeError(
        `${where}: argument minDelta should not be negative, got ${describeValue(minDelta)}; use mode: 'min' to minimise the score.`,
      );
    }
    checkBoolean(where, 'argument cumulativeDelta', cumulativeDelta);
    if (mode !== 'min' && mode !== 'max') failRange(where, 'argument mode', "either 'min' or 'max'", mode);
    if (minDeltaMode !== 'abs' && minDeltaMode !== 'rel') {
      failRange(where, 'argument minDeltaMode', "either 'abs' or 'rel'", minDeltaMode);
    }
    this.patience = patience;
    this.scoreFunction = scoreFunction;
    this.trainer = trainer;
    this.minDelta = minDelta;
    this.cumulativeDelta = cumulativeDelta;
    this.mode = mode;
    this.#minDeltaMode = minDeltaMode;
  }

  /** `attach(evaluator)` scores the evaluator at its `COMPLETED`. */
  protected get defaultEvent(): EventSpec {
    return Events.COMPLETED;
  }

  /** Calls without improvement so far. */
  get counter(): number {
    return this.#counter;
  }

  /** The best score so far, or null before the first call. */
  get bestScore(): number | null {
    return this.#bestScore;
  }

  /** Whether `minDelta` is absolute (`'abs'`) or relative to the best score (`'rel'`). */
  get minDeltaMode(): 'abs' | 'rel' {
    return this.#minDeltaMode;
  }

  /**
   * Scores `engine` and updates the counter; stops the trainer when patience runs out. Called by the engine.
   *
   * @param engine - the engine the handler is attached to; passed to `scoreFunction`.
   */
  async handle(engine: Engine<any, any>): Promise<void> {
    const score = await this.scoreFunction(engine);
    if (typeof score !== 'number') {
      throw new TypeError(
        `EarlyStopping: scoreFunction should return a number, got ${describeValue(score)}; read tensors with await t.data() first.`,
      );
    }
    const best = this.#bestScore;
    if (best === null && !Number.isNaN(score)) {
      this.#bestScore = score;
      return;
    }
    const isMax = this.mode === 'max';
    if (best !== null && !Number.isNaN(score)) {
      const delta = isMax ? this.minDelta : -this.minDelta;
      const threshold = this.#minDeltaMode === 'abs' ? best + delta : best * (1 + delta);
      if (isMax ? score > threshold : score < threshold) {
        this.#bestScore = score;
        this.#counter = 0;
        return;
      }
      if (!this.cumulativeDelta && (isMax ? score > best : score < best)) {
        this.#bestScore = score;
      }
    }
    // No improvement, and a NaN score (a diverged model) never is one, nor ever becomes the best.
    this.#counter += 1;
    const logger = getLogger();
    logger.debug(`EarlyStopping: ${this.#counter} / ${this.patience}`);
    if (this.#counter >= this.patience) {
      logger.info('EarlyStopping: Stop training');
      this.trainer.terminate();
    }
  }

  /** Forgets the best score and zeroes the counter, e.g. before a new training run. */
  reset(): void {
    this.#counter = 0;
    this.#bestScore = null;
  }

  /** Returns `{ counter, bestScore, minDeltaMode }` as plain data. */
  stateDict(): EarlyStoppingStateDict {
    return { counter: this.#counter, bestScore: this.#bestScore, minDeltaMode: this.#minDeltaMode };
  }

  /**
   * Restores what {@link stateDict} returned.
   *
   * @throws TypeError or RangeError, changing nothing, when an entry is missing, unknown, of the wrong type or out of
   *   range (`counter` a safe non-negative integer, `bestScore` a number other than NaN, or null).
   */
  loadStateDict(stateDict: Partial<EarlyStoppingStateDict>): void {
    const where = 'EarlyStopping.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['counter', 'bestScore'], ['minDeltaMode']);
    const counter = checkInteger(where, "state dict entry 'counter'", sd.counter, { min: 0 });
    const { bestScore } = sd;
    if (bestScore !== null && typeof bestScore !== 'number') {
      failType(where, "state dict entry 'bestScore'", 'a number or null', bestScore);
    }
    if (Number.isNaN(bestScore)) {
      failRange(
        where,
        "state dict entry 'bestScore'",
        'a number or null',
        bestScore,
        'A NaN score is never the best: the best stays null until a score that is not NaN is seen.',
      );
    }
    const minDeltaMode = sd.minDeltaMode;
    if (minDeltaMode !== undefined && minDeltaMode !== 'abs' && minDeltaMode !== 'rel') {
      failRange(where, "state dict entry 'minDeltaMode'", "'abs' or 'rel'", minDeltaMode);
    }
    this.#counter = counter;
    this.#bestScore = bestScore;
    if (minDeltaMode !== undefined) this.#minDeltaMode = minDeltaMode;
  }
}
