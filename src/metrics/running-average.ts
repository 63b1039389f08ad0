import * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine';
import { Events } from '../engine';
import { checkEngine, checkNumber, checkOptions, checkStateDict, describeValue, failType } from '../internal';
import { DeviceState } from './device-state';
import {
  type AnyMetric,
  BatchWise,
  EpochWise,
  Metric,
  type MetricUsage,
  NotComputableError,
  RunningBatchWise,
  RunningEpochWise,
} from './metric';

/** A value {@link RunningAverage} averages in output mode: a number or a tensor holding one value. */
export type RunningAverageInput = number | tf.Tensor;

/** Options of {@link RunningAverage}: exactly one of `src` and `outputTransform`. */
export interface RunningAverageOptions {
  /** A metric whose value (over each update period) is averaged; it must not be attached by itself. */
  src?: Metric<any, number | number[]>;
  /** Smoothing factor in (0, 1]: `value = value * alpha + (1 - alpha) * x`. Default 0.98. */
  alpha?: number;
  /** Output mode: picks the value (a number or a one-value tensor such as the loss) from the engine output. */
  outputTransform?: (output: any) => RunningAverageInput;
}

/** The plain-data state of a {@link RunningAverage}, for checkpoints. */
export interface RunningAverageStateDict {
  /** The running value, or null before the first update. */
  value: number | number[] | null;
}

/**
 * An exponential moving average of the engine output (output mode) or of another metric (src mode). The first
 * update sets the value; each later one sets `value = value * alpha + (1 - alpha) * x`.
 *
 * - Output mode: the value is a number or a one-value tensor (e.g. the loss). Tensors are averaged on the device;
 *   `compute()` reads the result back once.
 * - Src mode: at each update the source metric is computed (one readback) over the period since its last update,
 *   then reset. With the default {@link RunningBatchWise} usage that period is one batch.
 *
 * Attached with {@link RunningBatchWise} by default (reset at STARTED, value at every ITERATION_COMPLETED).
 * `stateDict()`/`loadStateDict()` save the running value; after `loadStateDict`, the next STARTED event does not
 * reset it, so a resumed run continues the average.
 *
 * @example
 * new RunningAverage({ outputTransform: (loss) => loss }).attach(trainer, 'runningLoss');
 * new RunningAverage({ src: new Accuracy(), alpha: 0.9 }).attach(trainer, 'runningAcc');
 */
export class RunningAverage extends Metric<RunningAverageInput, number | number[]> {
  readonly #src: AnyMetric | null;
  readonly #alpha: number;
  readonly #state = new DeviceState('RunningAverage');
  #skipNextStart = false;
  readonly #feedSrc = (engine: Engine<any, any>) => this.#src?.iterationCompleted(engine);

  /** @param options `{ src }` or `{ outputTransform }`, and `alpha` (default 0.98). */
  constructor(options: RunningAverageOptions = {}) {
    checkOptions('RunningAverage', options, ['src', 'alpha', 'outputTransform']);
    super(options.src === undefined ? options : {});
    const { src, alpha = 0.98, outputTransform } = options;
    if (src !== undefined && !(src instanceof Metric)) failType('RunningAverage', 'option src', 'a Metric', src);
    if (src !== undefined && outputTransform !== undefined) {
      throw new TypeError(
        'RunningAverage: give either src (a Metric) or outputTransform (to read the engine output), not both; ' +
          'set the outputTransform on the src metric instead.',
      );
    }
    if (src === undefined && outputTransform === undefined) {
      throw new TypeError(
        'RunningAverage: give src (a Metric) or outputTransform (to pick the value from the engine output), got neither; ' +
          'e.g. new RunningAverage({ outputTransform: (loss) => loss }).',
      );
    }
    this.#src = src ?? null;
    this.#alpha = checkNumber('RunningAverage', 'option alpha', alpha, { min: 0, max: 1, minExclusive: true });
  }

  protected override get metricName(): string {
    return 'RunningAverage';
  }

  /** The smoothing factor. */
  get alpha(): number {
    return this.#alpha;
  }

  /** The source metric in src mode, else null. */
  get src(): AnyMetric | null {
    return this.#src;
  }

  /** Frees the running value; in src mode, resets the source metric too. */
  reset(): void {
    this.#state.reset();
    this.#src?.reset();
  }

  /** Resets, except right after {@link loadStateDict}: a resumed run keeps the loaded value. */
  override started(engine: Engine<any, any>): void {
    if (this.#skipNextStart) {
      this.#skipNextStart = false;
      return;
    }
    super.started(engine);
  }

  /** Output mode: averages in `output`. Src mode: computes the source metric (async), averages it in, resets it. */
  update(output: RunningAverageInput): void | Promise<void> {
    if (this.#src !== null) return this.#updateFromSrc(this.#src);
    if (typeof output === 'number') {
      this.#push(output);
      return;
    }
    if (!(output instanceof tf.Tensor) || output.size !== 1 || output.isDisposed) {
      throw new TypeError(
        `RunningAverage: update expects a number or a live tensor holding one value, got ${describeValue(output)}. ` +
          'Reduce it (e.g. tf.mean) in outputTransform, and keep it alive until the metric has read it.',
      );
    }
    tf.tidy(() => this.#push(tf.reshape(tf.cast(output, 'float32'), [])));
  }

  async #updateFromSrc(src: AnyMetric): Promise<void> {
    const value: unknown = await src.compute();
    src.reset();
    if (!(typeof value === 'number' || (Array.isArray(value) && value.every((v) => typeof v === 'number')))) {
      throw new TypeError(
        `RunningAverage: the src metric should compute a number or an array of numbers, got ${describeValue(value)}.`,
      );
    }
    this.#push(value);
  }

  #push(x: number | readonly number[] | tf.Tensor): void {
    if (this.#state.isEmpty) {
      this.#state.add({ value: x });
      return;
    }
    const beta = 1 - this.#alpha;
    const scaled = x instanceof tf.Tensor ? tf.mul(x, beta) : typeof x === 'number' ? x * beta : x.map((v) => v * beta);
    this.#state.add({ value: scaled }, this.#alpha);
  }

  /**
   * Reads the running value back once: a number, or an array for an array-valued src; throws NotComputableError before
   * the first update.
   */
  async compute(): Promise<number | number[]> {
    if (this.#state.isEmpty) {
      throw new NotComputableError('RunningAverage must have at least one update before it can be computed.');
    }
    const isScalar = (this.#state.shapeOf('value') ?? []).length === 0;
    const values = (await this.#state.read()).get('value') ?? new Float64Array(0);
    return isScalar ? values[0] : Array.from(values);
  }

  /** Attaches with {@link RunningBatchWise} by default; in src mode the source metric updates at every iteration. */
  override attach(engine: Engine<any, any>, name: string, usage: MetricUsage = RunningBatchWise): void {
    checkEngine('RunningAverage.attach', 'argument engine', engine);
    if (this.#src !== null && !engine.hasEventHandler(this.#feedSrc, Events.ITERATION_COMPLETED)) {
      engine.addEventHandler(Events.ITERATION_COMPLETED, this.#feedSrc);
    }
    super.attach(engine, name, usage);
  }

  /**
   * Detaches like {@link Metric.detach} (default {@link RunningBatchWise}); in src mode, stops feeding the source
   * metric once no usage is attached.
   */
  override detach(engine: Engine<any, any>, usage: MetricUsage = RunningBatchWise): void {
    super.detach(engine, usage);
    const usages = [RunningBatchWise, RunningEpochWise, EpochWise, BatchWise];
    if (this.#src !== null && !usages.some((u) => this.isAttached(engine, u))) {
      if (engine.hasEventHandler(this.#feedSrc, Events.ITERATION_COMPLETED)) {
        engine.removeEventHandler(this.#feedSrc, Events.ITERATION_COMPLETED);
      }
    }
  }

  /** Like {@link Metric.isAttached}, with {@link RunningBatchWise} as the default usage. */
  override isAttached(engine: Engine<any, any>, usage: MetricUsage = RunningBatchWise): boolean {
    return super.isAttached(engine, usage);
  }

  /**
   * The running value as plain data. It must have been read back: call after the metric's value was computed
   * (attach the metric before the checkpoint handler), or `await compute()` first.
   */
  override stateDict(): RunningAverageStateDict {
    const entry = this.#state.snapshot().value;
    if (entry === undefined) return { value: null };
    return { value: entry.shape.length === 0 ? entry.values[0] : entry.values };
  }

  /** Restores the running value; the next STARTED event (a resumed run) keeps it instead of resetting. */
  override loadStateDict(stateDict: RunningAverageStateDict): void {
    const { value } = checkStateDict('RunningAverage.loadStateDict', stateDict, ['value']);
    const isNumbers = Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!(value === null || (typeof value === 'number' && Number.isFinite(value)) || isNumbers)) {
      throw new TypeError(
        `RunningAverage.loadStateDict: expected { value: number | number[] | null } with finite numbers, got ${describeValue(stateDict)}.`,
      );
    }
    this.reset();
    if (value !== null) {
      const values = typeof value === 'number' ? [value] : value;
      this.#state.restore({ value: { shape: typeof value === 'number' ? [] : [values.length], values } });
    }
    this.#skipNextStart = true;
  }
}
