import * as tf from '@tensorflow/tfjs';
import { checkFunction, checkOptions, checkStateDict } from '../internal';
import { OutputStore, type OutputsState } from './epoch-outputs';
import { type PredictionPair, toPair } from './inputs';
import { Metric, NotComputableError } from './metric';
import { markLoaded, planLoad } from './metric-state';

/** The state dict of an {@link EpochMetric}: every stored output (null before the first update). */
export interface EpochMetricStateDict {
  outputs: OutputsState | null;
}

/**
 * A metric computed once from every output of the epoch: `computeFn(yPred, y)` receives all batches since the last
 * reset concatenated along the first axis (the reference's `EpochMetric`).
 *
 * Inputs: `yPred` and `y` of shape (N) or (N, T) (a trailing axis of 1 is squeezed, as the reference does), dtype
 * float32, int32 or bool, the same row shape and dtype in every batch. **Memory:** it holds every value of `yPred`
 * and `y` since the last reset, 4 bytes each (stored as float32; int32 values beyond 2^24 lose precision): on the
 * device until `compute()` or `stateDict()` reads them back with one `await data()`, then on the host. `compute()`
 * hands `computeFn` tensors with the original dtypes and disposes them after it returns.
 *
 * @example
 * const mse = new EpochMetric(async (yPred, y) => (await tf.mean(tf.square(tf.sub(yPred, y))).data())[0]);
 * mse.attach(evaluator, 'mse');
 */
export class EpochMetric<Out = number> extends Metric<PredictionPair, Out> {
  readonly #computeFn: (yPred: tf.Tensor, y: tf.Tensor) => Out | Promise<Out>;
  readonly #store = new OutputStore('EpochMetric');

  /**
   * @param computeFn receives all predictions and targets of the epoch as tensors (disposed after it returns) and
   *   returns the metric's value (may be async; read tensors with `await data()`).
   * @param options.outputTransform maps the engine output to `[yPred, y]`.
   */
  constructor(
    computeFn: (yPred: tf.Tensor, y: tf.Tensor) => Out | Promise<Out>,
    options: { outputTransform?: (output: any) => PredictionPair } = {},
  ) {
    checkOptions('EpochMetric', options, ['outputTransform']);
    super(options);
    this.#computeFn = checkFunction('EpochMetric', 'argument computeFn', computeFn, '(yPred, y) => number');
  }

  protected override get metricName(): string {
    return 'EpochMetric';
  }

  /** Frees every stored output. */
  reset(): void {
    this.#store.reset();
  }

  /** Keeps this batch's `yPred` and `y` on the device (no readback); checks their shapes. */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, 'EpochMetric');
    const row = (t: tf.Tensor) => (t.rank === 2 && t.shape[1]! > 1 ? [t.shape[1]!] : []);
    const isRows = (t: tf.Tensor) => t.rank === 1 || (t.rank === 2 && t.shape[1]! >= 1);
    if (!isRows(yPred) || !isRows(y) || yPred.shape[0] !== y.shape[0]) {
      throw new RangeError(
        `EpochMetric: yPred and y should have shape (N) or (N, T) with the same N, got yPred [${yPred.shape}] and ` +
          `y [${y.shape}]. Reshape them in outputTransform.`,
      );
    }
    this.#store.append(yPred, y, row(yPred), row(y));
  }

  /**
   * Reads every stored output back once and calls `computeFn` with all of them; throws NotComputableError before any
   * update.
   */
  async compute(): Promise<Out> {
    if (this.#store.rows === 0) {
      throw new NotComputableError('EpochMetric must have at least one example before it can be computed.');
    }
    const outputs = await this.#store.read();
    const yPred = tf.tensor(outputs.yPred, [outputs.rows, ...outputs.yPredRow], outputs.yPredDtype);
    const y = tf.tensor(outputs.y, [outputs.rows, ...outputs.yRow], outputs.yDtype);
    try {
      return await this.#computeFn(yPred, y);
    } finally {
      yPred.dispose();
      y.dispose();
    }
  }

  /** Every stored output as plain data (reads pending ones back first, once). */
  override async stateDict(): Promise<EpochMetricStateDict> {
    return { outputs: await this.#store.capture() };
  }

  /** Restores the stored outputs; checks all of it first (finite numbers, shapes, dtypes). */
  override loadStateDict(stateDict: EpochMetricStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const sd = checkStateDict('EpochMetric.loadStateDict', stateDict, ['outputs']);
    const apply = this.#store.planRestore('EpochMetric.loadStateDict', 'outputs', sd.outputs);
    return () => {
      apply();
      markLoaded(this);
    };
  }
}
