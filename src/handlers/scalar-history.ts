import * as tf from '@tensorflow/tfjs';
import { type Engine, type EventSpec, Events } from '../engine';
import {
  checkFunction,
  checkInteger,
  checkOptions,
  checkPlainObject,
  checkStateDict,
  describeValue,
  failRange,
  failType,
} from '../internal';
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

/** A read started and not delivered yet: its iterations, and its values once read. */
interface Undelivered {
  iterations: number[];
  values: Promise<number[]>;
}

/**
 * The state dict of a {@link ScalarHistory}: the values recorded before the call but not delivered to `onValues` yet,
 * in order. What `onValues` fed (a chart, a running average) saves its own state; together they make the history at
 * the checkpoint's iteration.
 */
export interface ScalarHistoryStateDict {
  iterations: number[];
  values: number[];
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
 * In a checkpoint, list the history in `toSave` **after** the objects `onValues` feeds (a chart's ChartFeed, a
 * running average): they save what was delivered when the checkpoint was taken, the history saves the values recorded
 * up to then but not delivered yet ({@link stateDict}), and loading it delivers those through `onValues`, so the fed
 * objects end up exactly at the checkpoint's iteration. Nothing waits for a read, so this works with checkpoints
 * written in the background (`Checkpoint({ async: true })`).
 *
 * @example
 * const history = new ScalarHistory({
 *   onValues: (iterations, losses) => iterations.forEach((it, i) => feed.push('loss', it, losses[i])),
 *   chunk: 20,
 * }).attach(trainer); // before handlers that rely on it, e.g. a Checkpoint on ITERATION_COMPLETED
 * const toSave = { model, optimizer, trainer, charts: feed, lossHistory: history }; // the history after the chart
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), new Checkpoint(toSave, saver, { async: true }));
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
  /** Reads started and not delivered yet, oldest first. */
  #undelivered: Undelivered[] = [];
  /** Bumped by loadStateDict: reads started before it deliver nothing. */
  #generation = 0;
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

  /**
   * The values recorded up to this call but not delivered to `onValues` yet, in order (see `Stateful`: taken at
   * the call; the pending scalars are stacked into a new tensor then, read with one `await data()`). Saved after the
   * objects `onValues` feeds, it completes them at the checkpoint's iteration.
   *
   * @example
   * const saved = await history.stateDict(); // { iterations: [41, 42], values: [0.31, 0.30] }
   */
  stateDict(): Promise<ScalarHistoryStateDict> {
    const batches = [...this.#undelivered];
    const entries = [...this.#pending];
    const tensors = entries.flatMap((entry) => (typeof entry.value === 'number' ? [] : [entry.value]));
    const stacked = tensors.length === 0 ? null : tf.keep(tf.stack(tensors));
    const pending: Undelivered = {
      iterations: entries.map((entry) => entry.iteration),
      values: valuesOf(
        entries,
        stacked === null ? Promise.resolve([]) : stacked.data().finally(() => stacked.dispose()),
      ),
    };
    return (async () => {
      const iterations: number[] = [];
      const values: number[] = [];
      for (const batch of [...batches, pending]) {
        iterations.push(...batch.iterations);
        values.push(...(await batch.values));
      }
      return { iterations, values };
    })();
  }

  /**
   * Restores a {@link stateDict}: delivers its values through `onValues` now, in order, after the objects it feeds
   * were loaded. Values recorded before the load and not delivered yet are dropped (the run goes on from the
   * checkpoint). Checks the state dict first: iterations non-negative integers, one number each.
   */
  loadStateDict(stateDict: ScalarHistoryStateDict): void {
    const where = 'ScalarHistory.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['iterations', 'values']);
    const { iterations, values } = sd as { iterations: unknown; values: unknown };
    if (!Array.isArray(iterations) || !iterations.every((i) => Number.isSafeInteger(i) && i >= 0)) {
      failType(where, "state dict entry 'iterations'", 'an array of non-negative integers', iterations);
    }
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
      failType(where, "state dict entry 'values'", 'an array of numbers', values);
    }
    if (values.length !== iterations.length) {
      failRange(where, "state dict entry 'values'", `${iterations.length} numbers, one per iteration`, values.length);
    }
    this.#generation += 1;
    this.#undelivered = [];
    for (const entry of this.#pending) if (typeof entry.value !== 'number') entry.value.dispose();
    this.#pending = [];
    if (iterations.length > 0) this.#onValues([...iterations], [...values]);
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
    const batch: Undelivered = { iterations: entries.map((entry) => entry.iteration), values: valuesOf(entries, read) };
    batch.values.catch(() => {}); // its failure is reported by the delivery below
    this.#undelivered.push(batch);
    const generation = this.#generation;
    const previous = this.#delivered;
    this.#delivered = Promise.all([previous, batch.values]).then(
      ([, values]) => {
        // Out of the undelivered list and into onValues in one go: a state dict sees each value in one place.
        this.#undelivered = this.#undelivered.filter((b) => b !== batch);
        if (generation === this.#generation) this.#onValues(batch.iterations, values);
      },
      (error: unknown) => {
        this.#undelivered = this.#undelivered.filter((b) => b !== batch);
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

/** The values of `entries` in order: numbers as they are, tensors from `read` (their stacked values, in order). */
async function valuesOf(entries: readonly Entry[], read: Promise<ArrayLike<number>>): Promise<number[]> {
  const data = await read;
  let next = 0;
  return entries.map((entry) => (typeof entry.value === 'number' ? entry.value : data[next++]!));
}

function describeRecorded(value: unknown): string {
  if (value instanceof tf.Tensor) {
    return value.isDisposed ? 'a disposed tensor (keep it until ITERATION_COMPLETED ends)' : describeValue(value);
  }
  return describeValue(value);
}
