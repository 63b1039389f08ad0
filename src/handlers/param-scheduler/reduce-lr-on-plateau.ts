// ReduceLROnPlateauScheduler: lowers the learning rate when a metric stops improving (PyTorch's ReduceLROnPlateau).
import type { Engine } from '../../engine';
import {
  checkEngine,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkString,
  describeValue,
  failRange,
  planLoad,
} from '../../internal';
import { checkNumEvents, type ParamSchedulerOptions, type ParamSchedulerStateDict, type SimulatedValue } from './base';
import { fakeTarget, ParamScheduler, type ParamTarget, readParam, writeParam } from './param-scheduler';

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
    checkOptions(where, options, [
      'paramName',
      'saveHistory',
      'metricName',
      'trainer',
      'mode',
      'factor',
      'patience',
      'threshold',
      'thresholdMode',
      'cooldown',
      'minLr',
      'eps',
    ]);
    this.metricName = checkString(where, 'argument metricName', metricName);
    if (trainer !== null) checkEngine(where, 'argument trainer', trainer, 'Pass the trainer, or leave it out.');
    this.trainer = trainer;
    this.mode = checkOneOf(where, 'argument mode', mode, ['min', 'max']);
    this.factor = checkNumber(where, 'argument factor', factor, {
      min: 0,
      max: 1,
      minExclusive: true,
      maxExclusive: true,
    });
    this.patience = checkInteger(where, 'argument patience', patience, { min: 0 });
    this.threshold = checkNumber(where, 'argument threshold', threshold);
    this.thresholdMode = checkOneOf(where, 'argument thresholdMode', thresholdMode, ['rel', 'abs']);
    this.cooldown = checkInteger(where, 'argument cooldown', cooldown, { min: 0 });
    this.minLr = checkNumber(where, 'argument minLr', minLr);
    this.eps = checkNumber(where, 'argument eps', eps);
    this.#best = this.#worst();
  }

  protected override get schedulerName(): string {
    return 'ReduceLROnPlateauScheduler';
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
   * Checks the plateau state: `metricName` must be this scheduler's (it is checked, not restored: a state kept for
   * another metric would compare that metric's best with this one's values), `best` finite or null, the counters
   * within `patience` and `cooldown`, `value` finite. Applying it also writes `value` to the optimizer.
   */
  override [planLoad](stateDict: unknown): () => void {
    const apply = super[planLoad](stateDict);
    const where = 'ReduceLROnPlateauScheduler.loadStateDict';
    const sd = stateDict as Record<string, unknown>;
    if (sd.metricName !== this.metricName) {
      failRange(
        where,
        "state dict entry 'metricName'",
        `${describeValue(this.metricName)}, the metric this scheduler watches`,
        sd.metricName,
        'Load the state of a scheduler watching the same metric, or make this one with that metricName.',
      );
    }
    const best = checkNumber(where, "state dict entry 'best'", sd.best, { nullable: true });
    const numBadEpochs = checkInteger(where, "state dict entry 'numBadEpochs'", sd.numBadEpochs, {
      min: 0,
      max: this.patience,
      fix: `A plateau of more than patience (${this.patience}) calls reduces the value and starts counting again.`,
    });
    const cooldownCounter = checkInteger(where, "state dict entry 'cooldownCounter'", sd.cooldownCounter, {
      min: 0,
      max: this.cooldown,
      fix: `The counter starts at cooldown (${this.cooldown}) after a reduction and counts down.`,
    });
    const value = checkNumber(where, "state dict entry 'value'", sd.value);
    return () => {
      apply();
      this.#best = best === null ? this.#worst() : best;
      this.#numBadEpochs = numBadEpochs;
      this.#cooldownCounter = cooldownCounter;
      writeParam(this.optimizer, this.paramName, value);
    };
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
    const target = fakeTarget(
      paramName,
      checkNumber('ReduceLROnPlateauScheduler.simulateValues', 'argument initLr', initLr),
    );
    const scheduler = new ReduceLROnPlateauScheduler(target, { ...rest, metricName: 'metric', saveHistory: false });
    return metricValues.map((metric, i) => {
      scheduler.#step(metric);
      scheduler.eventIndex += 1;
      return [i, readParam(target, paramName)];
    });
  }
}
