import * as tf from '@tensorflow/tfjs';
import { type Engine, type EventSpec, Events } from '../engine';
import { checkFunction, checkInteger, checkOptions, checkPlainObject, describeValue, failRange } from '../internal';
import { EventHandler } from './attachable';

/** Options of {@link ScalarHistory}. */
export interface ScalarHistoryOptions {
  /**
   * Receives the values in the order they were recorded, a chunk at a time: the iteration of each value and the
   * value. Called from a promise callback, never during a training step.
   */
  onValues: (iterations: number[], values: number[]) => void;
  /** Picks the scalar to record from `engine.state.output` (default: the output itself). */
  outputTransform?: (output: any) => tf.Tensor | number;
  /** Start one read back every this many recorded values (default 20). */
  chunk?: number;
  /**
   * Backpressure: when more reads than this are still in flight, the recording call waits for the oldest, so the
   * host never queues more than about `chunk * maxReadsInFlight` steps ahead of the device (default 3;
   * `Infinity` never waits).
   */
  maxReadsInFlight?: number;
}

/** One recorded value not yet read back: a number, or a float32 scalar this history owns. */
interface Entry {
  iteration: number;
  value: number | tf.Tensor;
}

/**
 * Records one scalar per iteration, usually the loss in `engine.state.output`, **without stalling the step**: it keeps
 * a `tf.clone` of each scalar on the device, and every `chunk` values stacks them into one tensor and starts one
 * asynchronous read of it, which the engine does not wait for. The values reach `onValues` in order, a chunk at a
 * time, shortly after; the clones and the stacked tensor are disposed once read. Numbers are recorded as they are.
 *
 * Reads also start at `EPOCH_COMPLETED`, `COMPLETED`, `TERMINATE` and `INTERRUPT` (with whatever is pending), on
 * {@link detach}, and on {@link flush}. `flush()` resolves once every value recorded so far has been delivered:
 * await it where the history must be complete, e.g. in the `stateDict()` of a Stateful listed in a Checkpoint's
 * `toSave` **before** the objects `onValues` feeds (Checkpoint gathers states in key order), so that a checkpoint's
 * chart history reaches its own iteration. A failed read, or an `onValues` that throws, is raised by the next
 * recording call (failing the run) or by `flush()`.
 *
 * A trainer's `state.output` is valid only until the next step (see `createSupervisedTrainer`): the clone is what lets
 * the value outlive it. Cost: one clone per iteration and one device-to-host read per chunk, instead of one per step.
 *
 * @example
 * const history = new ScalarHistory({
 *   onValues: (iterations, losses) => iterations.forEach((it, i) => feed.push('loss', it, losses[i])),
 *   chunk: 20,
 * }).attach(trainer); // before handlers that rely on it, e.g. a Checkpoint on ITERATION_COMPLETED
 * const charts = {
 *   stateDict: async () => { await history.flush(); return feed.stateDict(); },
 *   loadStateDict: (s: ReturnType<typeof feed.stateDict>) => feed.loadStateDict(s),
 * };
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), new Checkpoint({ model, optimizer, trainer, charts }, saver));
 */
export class ScalarHistory extends EventHandler {
  protected override get handlerName(): string {
    return 'ScalarHistory';
  }

  readonly #onValues: (iterations: number[], values: number[]) => void;
  readonly #outputTransform: (output: any) => unknown;
  readonly #chunk: number;
  readonly #maxReadsInFlight: number;
  #pending: Entry[] = [];
  /** One promise per read not yet delivered, oldest first; each settles (never rejects) once delivered. */
  readonly #inFlight: Promise<void>[] = [];
  /** Settles once every read started so far has been delivered; never rejects. */
  #delivered: Promise<void> = Promise.resolve();
  #error: { error: unknown } | null = null;
  readonly #startRead = (): void => this.#read();

  /** @param options `{ onValues, outputTransform?, chunk?, maxReadsInFlight? }`, see {@link ScalarHistoryOptions}. */
  constructor(options: ScalarHistoryOptions) {
    super();
    const where = 'ScalarHistory';
    checkPlainObject(where, 'argument options', options, '{ onValues, outputTransform?, chunk?, maxReadsInFlight? }');
    const given = checkOptions(where, options, ['onValues', 'outputTransform', 'chunk', 'maxReadsInFlight']);
    const { outputTransform = (output: unknown) => output, chunk = 20, maxReadsInFlight = 3 } = given;
    this.#onValues = checkFunction(where, 'option onValues', given.onValues, '(iterations, values) => void');
    this.#outputTransform = checkFunction(
      where,
      'option outputTransform',
      outputTransform,
      '(output) => tf.Scalar | number',
    );
    this.#chunk = checkInteger(where, 'option chunk', chunk, { min: 1 });
    if (
      maxReadsInFlight !== Number.POSITIVE_INFINITY &&
      !(Number.isSafeInteger(maxReadsInFlight) && (maxReadsInFlight as number) >= 1)
    ) {
      failRange(where, 'option maxReadsInFlight', 'a positive integer or Infinity', maxReadsInFlight);
    }
    this.#maxReadsInFlight = maxReadsInFlight as number;
  }

  /** How many recorded values wait for a read to start (at most `chunk`). */
  get pendingCount(): number {
    return this.#pending.length;
  }

  /**
   * Records on `event` (default `ITERATION_COMPLETED`) and starts reads at the end of each epoch and of the run.
   * Attach it before handlers that await {@link flush} on the same event, so that the current value is recorded.
   *
   * @returns this history; `remove()` takes its handlers off again.
   * @example
   * new ScalarHistory({ onValues }).attach(trainer, Events.ITERATION_COMPLETED({ every: 10 }));
   */
  override attach(engine: Engine<any, any>, event: EventSpec = this.defaultEvent): this {
    if (this.isAttachedTo(engine)) {
      throw new Error('ScalarHistory.attach: this history is already attached to that engine; detach it first.');
    }
    super.attach(engine, event);
    for (const end of [Events.EPOCH_COMPLETED, Events.COMPLETED, Events.TERMINATE, Events.INTERRUPT]) {
      this.track(engine, engine.addEventHandler(end, this.#startRead));
    }
    return this;
  }

  /** `attach(engine)` records at every `ITERATION_COMPLETED`. */
  protected get defaultEvent(): EventSpec {
    return Events.ITERATION_COMPLETED;
  }

  /** Removes this history's handlers from `engine` and starts a read of what is pending (await {@link flush}). */
  override detach(engine: Engine<any, any>): void {
    super.detach(engine);
    this.#read();
  }

  /** How many started reads have not been delivered yet. */
  get readsInFlight(): number {
    return this.#inFlight.length;
  }

  /**
   * Records the current value (called by the engine); starts a read once `chunk` values are pending. Returns a
   * promise (which the engine awaits) only when more than `maxReadsInFlight` reads are in flight.
   */
  handle(engine: Engine<any, any>): void | Promise<void> {
    if (this.#error !== null) {
      const { error } = this.#error;
      this.#error = null;
      throw error;
    }
    const { iteration } = engine.state;
    const value = this.#outputTransform(engine.state.output);
    if (typeof value === 'number') {
      this.#pending.push({ iteration, value });
    } else if (value instanceof tf.Tensor && value.rank === 0 && !value.isDisposed) {
      this.#pending.push({ iteration, value: value.dtype === 'float32' ? tf.clone(value) : tf.cast(value, 'float32') });
    } else {
      throw new TypeError(
        `ScalarHistory: the value of iteration ${iteration} should be a tf.Scalar or a number, got ${describeRecorded(value)}. Pick one with option outputTransform, e.g. (output) => output.loss.`,
      );
    }
    if (this.#pending.length >= this.#chunk) this.#read();
    if (this.#inFlight.length > this.#maxReadsInFlight) return this.#inFlight[0];
  }

  /**
   * Starts a read of what is pending and resolves once every value recorded so far has reached `onValues`. Rejects
   * with the error of a failed read or of `onValues`, if one happened since the last flush.
   *
   * @example
   * await history.flush(); // the chart now holds every loss up to engine.state.iteration
   */
  async flush(): Promise<void> {
    this.#read();
    await this.#delivered;
    if (this.#error !== null) {
      const { error } = this.#error;
      this.#error = null;
      throw error;
    }
  }

  /** Stacks the pending values into one tensor and starts its read; delivery waits for the reads started before. */
  #read(): void {
    if (this.#pending.length === 0) return;
    const entries = this.#pending;
    this.#pending = [];
    const tensors = entries.flatMap((entry) => (typeof entry.value === 'number' ? [] : [entry.value]));
    let read: Promise<ArrayLike<number>>;
    if (tensors.length === 0) {
      read = Promise.resolve([]);
    } else {
      const stacked = tf.stack(tensors);
      tf.dispose(tensors);
      read = stacked.data().finally(() => stacked.dispose());
    }
    const previous = this.#delivered;
    this.#delivered = Promise.all([previous, read]).then(
      ([, read]) => {
        let next = 0;
        const values = entries.map((entry) => (typeof entry.value === 'number' ? entry.value : read[next++]!));
        this.#onValues(
          entries.map((entry) => entry.iteration),
          values,
        );
      },
      (error: unknown) => {
        this.#error ??= { error };
      },
    );
    // onValues throwing: keep the first error for the next handle() or flush(); the chain itself never rejects.
    this.#delivered = this.#delivered.catch((error: unknown) => {
      this.#error ??= { error };
    });
    const delivered = this.#delivered.then(() => {
      this.#inFlight.splice(this.#inFlight.indexOf(delivered), 1);
    });
    this.#inFlight.push(delivered);
  }
}

function describeRecorded(value: unknown): string {
  if (value instanceof tf.Tensor) {
    return value.isDisposed ? 'a disposed tensor (keep it until ITERATION_COMPLETED ends)' : describeValue(value);
  }
  return describeValue(value);
}
