// EngineMirror: the page's stand-in for an engine that runs in a Worker.
import {
  Engine,
  EventList,
  type EventSpec,
  Events,
  eventName,
  type Handler,
  type RemovableEventHandle,
  type RunData,
  type RunOptions,
  type State,
} from '../engine';
import { isEventLike } from '../engine/events';
import type { EngineSnapshot } from './protocol';

/** How a mirror reaches its engine in the Worker. */
export interface MirrorLink {
  /** Starts forwarding `event` of the engine named `name` (events fire on the mirror from then on). */
  subscribe(name: string, event: string): void;
  /** Passes a control call on to the engine in the Worker. */
  control(name: string, command: 'interrupt' | 'terminate' | 'terminateEpoch', flag: boolean): void;
}

/**
 * The page's mirror of an engine that runs in a Worker (see `trainInWorker`). It is an `Engine` for the handlers
 * added to it: `on(event, handler)` with filters, event lists and `using`, `state` with `iteration`, `epoch`,
 * `epochLength`, `maxEpochs`, `metrics` (their plain-data values) and `output` (the trainer's output as a number, or
 * null), and the Worker engine's other number, string and boolean state attributes (e.g. `state.lr`). The events
 * come from the Worker in the order they fired there, a little later (ITERATION_COMPLETED waits until its output has
 * been read back, which happens in chunks), and each comes with the state as it was when it fired. Only the events
 * the mirror has handlers for are sent.
 *
 * `interrupt()`, `terminate()` and `terminateEpoch()` act on the engine in the Worker (it stops after the iteration it
 * is on, which may be a few iterations past what the mirror has fired). A mirror does not run: `run()` throws (use
 * `Training.run()`), and so does `loadStateDict()` (the state lives in the Worker). EXCEPTION_RAISED cannot be
 * watched here: an error in the Worker rejects `Training.run()`. Custom events the Worker's engine fires (e.g.
 * `CheckpointEvents.SAVED_CHECKPOINT`) need `registerEvents` on the mirror too.
 *
 * @example
 * const training = await trainInWorker(worker, options);
 * training.trainer.on(Events.EPOCH_COMPLETED, (engine) => log(`epoch ${engine.state.epoch}`));
 * new ProgressBar().attach(training.trainer);
 */
export class EngineMirror extends Engine<unknown, number | null> {
  /** The engine's name in the recipe: `trainer`, or a key of its `engines`. */
  readonly name: string;
  readonly #link: MirrorLink;
  readonly #subscribed = new Set<string>();

  /** @internal made by `trainInWorker`. */
  constructor(name: string, link: MirrorLink, snapshot: EngineSnapshot) {
    super(() => {
      throw new Error('EngineMirror: a mirror has no process function; its engine runs in the Worker.');
    });
    this.name = name;
    this.#link = link;
    this.receive(snapshot);
  }

  /**
   * Adds `handler` on `event` as an Engine does, and asks the Worker to send that event from now on.
   *
   * @example
   * training.trainer.on(Events.ITERATION_COMPLETED({ every: 10 }), (e) => console.log(e.state.output));
   */
  override addEventHandler(event: EventSpec, handler: Handler<this>, ...args: unknown[]): RemovableEventHandle {
    if (namesOf(event).includes(Events.EXCEPTION_RAISED.name)) {
      throw new Error(
        "EngineMirror.on: EXCEPTION_RAISED is not forwarded from the Worker (a handler there would catch the run's errors); an error in the Worker rejects training.run(): catch it there.",
      );
    }
    const handle = super.addEventHandler(event, handler, ...args);
    for (const name of namesOf(event)) {
      if (this.#subscribed.has(name)) continue;
      this.#subscribed.add(name);
      this.#link.subscribe(this.name, name);
    }
    return handle;
  }

  /** Asks the engine in the Worker to interrupt (pause) after its current iteration. */
  override interrupt(): void {
    this.#link.control(this.name, 'interrupt', false);
  }

  /** Asks the engine in the Worker to terminate after its current iteration. */
  override terminate(skipCompleted = false): void {
    this.#link.control(this.name, 'terminate', skipCompleted);
  }

  /** Asks the engine in the Worker to end its current epoch. */
  override terminateEpoch(skipEpochCompleted = false): void {
    this.#link.control(this.name, 'terminateEpoch', skipEpochCompleted);
  }

  /** A mirror does not run: the engine runs in the Worker. Throws, naming `Training.run()`. */
  override run(_data?: RunData<unknown> | null, _options?: RunOptions): Promise<State<unknown, number | null>> {
    return Promise.reject(
      new Error(
        `EngineMirror.run: the ${this.name} runs in the Worker; call training.run() (from trainInWorker) to run it there.`,
      ),
    );
  }

  /** The state lives in the Worker: throws. Load checkpoints in the recipe (e.g. setupResumableTraining). */
  override loadStateDict(_stateDict: Record<string, unknown>): void {
    throw new Error(
      `EngineMirror.loadStateDict: the ${this.name}'s state lives in the Worker; load checkpoints there, in the recipe (e.g. setupResumableTraining).`,
    );
  }

  /** @internal Takes the state the Worker sent. */
  receive(snapshot: EngineSnapshot): void {
    const state = this.state;
    for (const [key, value] of Object.entries(snapshot.extra)) state[key] = value;
    state.iteration = snapshot.iteration;
    state.epoch = snapshot.epoch;
    state.epochLength = snapshot.epochLength;
    state.maxEpochs = snapshot.maxEpochs;
    state.maxIters = snapshot.maxIters;
    state.seed = snapshot.seed;
    state.times = snapshot.times;
    state.metrics = snapshot.metrics;
    if (snapshot.output !== undefined) state.output = snapshot.output;
  }
}

/** The event names an EventSpec covers. */
function namesOf(event: EventSpec): string[] {
  if (event instanceof EventList) return event.events.map((e) => eventName(e));
  if (Array.isArray(event)) return event.filter(isEventLike).map((e) => eventName(e));
  return isEventLike(event) ? [eventName(event as Parameters<typeof eventName>[0])] : [];
}
