// The Worker's side of the event stream: events of the mirrored engines, in the order they fired, delivered to the
// page in batches. An ITERATION_COMPLETED waits for its output's value, read back in chunks by a ScalarHistory, so
// no training step waits for the device; the events behind it wait too, so the page sees them in order.
import * as tf from '@tensorflow/tfjs';
import { type Engine, Events, type RemovableEventHandle } from '../engine';
import { ScalarHistory } from '../handlers';
import { isThenable } from '../internal';
import { type EngineSnapshot, type ForwardedEvent, snapshotOf } from './protocol';

/** Where batches go: resolves once the page has handled them (its handlers included). */
export type Deliver = (events: ForwardedEvent[]) => Promise<void>;

interface Entry {
  event: ForwardedEvent;
  /** The iteration whose output this event waits for, or null when it is ready. */
  awaiting: number | null;
}

/** At most this many events wait for the page before the Worker's engine waits for it (backpressure). */
const MAX_QUEUED = 2000;

/** True for what the page can see as a number: a scalar tensor or a number. */
const isScalar = (value: unknown): boolean =>
  typeof value === 'number' || (value instanceof tf.Tensor && value.size === 1 && !value.isDisposed);

/**
 * Queues the events of `engines` that the page subscribed to, and delivers them to the page in order, one batch at
 * a time (the next batch leaves once the page has handled the previous one).
 */
export class Outbox {
  readonly #engines: ReadonlyMap<string, Engine<any, any>>;
  readonly #deliver: Deliver;
  readonly #outputTransform: (output: any) => unknown;
  readonly #queue: Entry[] = [];
  readonly #outputs = new Map<number, number>();
  /** Iterations whose ITERATION_COMPLETED waits for its output's value. */
  readonly #awaited = new Set<number>();
  readonly #subscribed = new Set<string>();
  readonly #handles: RemovableEventHandle[] = [];
  #reader: ScalarHistory | null = null;
  #sending: Promise<void> | null = null;
  #error: unknown = null;
  #hasError = false;
  /** Waiters for an empty queue (drain) or for room in it (backpressure). */
  #waiters: Array<{ until: () => boolean; resolve: () => void }> = [];

  constructor(
    engines: ReadonlyMap<string, Engine<any, any>>,
    deliver: Deliver,
    outputTransform: (output: any) => unknown,
  ) {
    this.#engines = engines;
    this.#deliver = deliver;
    this.#outputTransform = outputTransform;
  }

  /**
   * Forwards `event` of engine `name` from now on. An engine without that event registered says so (register
   * custom events, e.g. CheckpointEvents.SAVED_CHECKPOINT, in the recipe first).
   */
  subscribe(name: string, event: string): void {
    const engine = this.#engines.get(name);
    if (engine === undefined) {
      throw new Error(
        `serveTraining: there is no engine '${name}' to watch; the recipe offers: ${[...this.#engines.keys()].join(', ')}.`,
      );
    }
    const key = `${name}\u0000${event}`;
    if (this.#subscribed.has(key)) return;
    if (event === Events.EXCEPTION_RAISED.name) {
      throw new Error(
        "EngineMirror: EXCEPTION_RAISED is not forwarded from the Worker (a handler there would catch the run's errors); an error in the Worker rejects training.run(): catch it there.",
      );
    }
    if (!engine.hasRegisteredEvents(event)) {
      throw new Error(
        `EngineMirror.on: the ${name} in the Worker has no event '${event}'; register it there first (in the recipe), e.g. trainer.registerEvents([...]).`,
      );
    }
    this.#subscribed.add(key);
    const iterationCompleted = name === 'trainer' && event === Events.ITERATION_COMPLETED.name;
    if (iterationCompleted) this.#startReader(engine);
    this.#handles.push(
      engine.on(event, (e: Engine<any, any>) => {
        const awaiting =
          iterationCompleted && isScalar(this.#outputTransform(e.state.output)) ? e.state.iteration : null;
        const event_: ForwardedEvent = { engine: name, name: event, states: this.#snapshots() };
        if (iterationCompleted && awaiting === null) event_.states[name]!.output = null;
        if (awaiting !== null) this.#awaited.add(awaiting);
        this.#queue.push({ event: event_, awaiting });
        this.#send();
        if (this.#hasError) throw this.#takeError();
        if (this.#queue.length > MAX_QUEUED) return this.#until(() => this.#queue.length <= MAX_QUEUED / 2);
        return undefined;
      }),
    );
  }

  /** Resolves once every event queued so far has reached the page and its handlers have run. */
  async drain(): Promise<void> {
    await this.#reader?.flush();
    this.#send();
    await this.#until(() => this.#queue.length === 0 && this.#sending === null);
    if (this.#hasError) throw this.#takeError();
  }

  /** Stops forwarding and reading. */
  close(): void {
    for (const handle of this.#handles) handle.remove();
    this.#handles.length = 0;
    this.#reader?.remove();
    this.#reader = null;
  }

  #snapshots(): Record<string, EngineSnapshot> {
    const states: Record<string, EngineSnapshot> = {};
    for (const [name, engine] of this.#engines) states[name] = snapshotOf(engine);
    return states;
  }

  /** Reads the trainer's outputs back a chunk at a time (never during a step), for the ITERATION_COMPLETED events. */
  #startReader(engine: Engine<any, any>): void {
    this.#reader = new ScalarHistory({
      outputTransform: (output) => {
        const value = this.#outputTransform(output);
        return isScalar(value) ? (value as tf.Tensor | number) : Number.NaN;
      },
      onValues: (iterations, values) => {
        iterations.forEach((iteration, i) => {
          if (this.#awaited.delete(iteration)) this.#outputs.set(iteration, values[i]!);
        });
        this.#send();
      },
    }).attach(engine);
  }

  /** Starts a delivery of the ready events at the head of the queue, unless one is under way. */
  #send(): void {
    if (this.#sending !== null) return;
    const batch: ForwardedEvent[] = [];
    while (this.#queue.length > 0) {
      const entry = this.#queue[0]!;
      if (entry.awaiting !== null) {
        const value = this.#outputs.get(entry.awaiting);
        if (value === undefined) break;
        this.#outputs.delete(entry.awaiting);
        entry.event.states[entry.event.engine]!.output = value;
      }
      batch.push(entry.event);
      this.#queue.shift();
    }
    if (batch.length === 0) {
      this.#wake();
      return;
    }
    let delivered: Promise<void>;
    try {
      const result = this.#deliver(batch);
      delivered = isThenable(result) ? Promise.resolve(result) : Promise.resolve();
    } catch (error) {
      delivered = Promise.reject(error);
    }
    this.#sending = delivered.then(
      () => {
        this.#sending = null;
        this.#send();
      },
      (error: unknown) => {
        this.#sending = null;
        if (!this.#hasError) {
          this.#hasError = true;
          this.#error = error;
        }
        this.#queue.length = 0;
        this.#wake();
      },
    );
  }

  #until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ until: test, resolve }));
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.until());
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  #takeError(): unknown {
    const error = this.#error;
    this.#hasError = false;
    this.#error = null;
    return error;
  }
}
