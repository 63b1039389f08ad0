// The plugin contract every kindling handler follows (Checkpoint, EarlyStopping, TerminateOnNan, ScalarHistory, the
// parameter schedulers, Timer, ProgressBar, EventLoopYielder): attach() returns the handler itself, and the handler is
// a RemovableEventHandle that takes back what its attach() calls added.
import type { Engine, EventSpec, Handler, RemovableEventHandle } from '../engine';
import { checkEngine } from '../internal';

/** One handler an attach call adds: what the user called the event (for messages), the event, the handler, its args. */
export type HandlerEntry = readonly [subject: string, event: EventSpec, handler: Handler<any>, ...args: unknown[]];

/**
 * Adds every entry's handler to `engine`, or none: when the engine refuses one (an unregistered custom event, a
 * malformed filter), the handlers already added are taken off again and the engine's message is rethrown, prefixed
 * with `where` and the entry's subject (e.g. "Timer.attach: option pause was refused: ..."), with the same class.
 *
 * @returns the handles of the added handlers, in the entries' order.
 */
export function addHandlers(
  engine: Engine<any, any>,
  where: string,
  entries: readonly HandlerEntry[],
): RemovableEventHandle[] {
  const handles: RemovableEventHandle[] = [];
  for (const [subject, event, handler, ...args] of entries) {
    try {
      handles.push(engine.addEventHandler(event, handler, ...args));
    } catch (error) {
      for (const handle of handles) handle.remove();
      // The engine's message says what is wrong with the event; say which handler and option it came from.
      if (!(error instanceof Error)) throw error;
      const Class = error instanceof RangeError ? RangeError : error instanceof TypeError ? TypeError : Error;
      throw new Class(`${where}: ${subject} was refused: ${error.message}`, { cause: error });
    }
  }
  return handles;
}

/**
 * A handler wired to engines by `attach(engine, ...)`, which returns the handler itself (so `const timer = new
 * Timer().attach(trainer)` keeps the timer). The handler is a {@link RemovableEventHandle}: `remove()`, or the end of a
 * `using` block, takes away everything its `attach` calls added, on every engine; `detach(engine)` on one engine.
 *
 * @example
 * using timer = new Timer().attach(trainer); // detached from trainer at the end of the block
 */
export abstract class Attachable implements RemovableEventHandle {
  readonly #attached = new Map<Engine<any, any>, RemovableEventHandle[]>();

  /**
   * The handler's name in error messages. Each kindling handler returns its class name literally (a minifier renames
   * classes); a subclass of yours may override it too, else its messages say 'EventHandler'.
   */
  protected get handlerName(): string {
    return 'EventHandler';
  }

  /** Keeps `handles` (what an attach call added on `engine`) so that `detach` and `remove` can take them back. */
  protected track(engine: Engine<any, any>, ...handles: RemovableEventHandle[]): void {
    const list = this.#attached.get(engine);
    if (list === undefined) this.#attached.set(engine, handles);
    else list.push(...handles);
  }

  /** True when `attach` added something on `engine` that is still there. */
  protected isAttachedTo(engine: Engine<any, any>): boolean {
    return this.#attached.has(engine);
  }

  /**
   * Removes what `attach` added on `engine`; other engines keep theirs.
   *
   * @example
   * handler.detach(evaluator);
   */
  detach(engine: Engine<any, any>): void {
    for (const handle of this.#attached.get(engine) ?? []) handle.remove();
    this.#attached.delete(engine);
  }

  /** Removes what `attach` added, on every engine. Calling it again does nothing. */
  remove(): void {
    for (const engine of [...this.#attached.keys()]) this.detach(engine);
  }

  /** The same as {@link remove}, for `using`. */
  [Symbol.dispose](): void {
    this.remove();
  }
}

/**
 * A handler that runs on one event: `handle(engine, ...)` is what the engine calls, so `engine.on(event, handler)`
 * works, and `attach(engine, event = defaultEvent)` adds it there and returns the handler (see {@link Attachable}).
 *
 * @example
 * class LogLoss extends EventHandler {
 *   protected get defaultEvent() { return Events.ITERATION_COMPLETED({ every: 100 }); }
 *   handle(engine: Engine) { console.log(engine.state.iteration, engine.state.output); }
 * }
 * new LogLoss().attach(trainer);
 */
export abstract class EventHandler extends Attachable {
  /** The event `attach` uses when it is given none. */
  protected abstract get defaultEvent(): EventSpec;

  /** Does the handler's work; called by the engine on the event it was added on. */
  abstract handle(engine: Engine<any, any>, ...args: any[]): unknown;

  /**
   * Adds this handler to `engine` on `event` (default: the handler's own, e.g. `ITERATION_COMPLETED`).
   *
   * @returns this handler; `remove()` takes it off again.
   */
  attach(engine: Engine<any, any>, event: EventSpec = this.defaultEvent): this {
    const where = `${this.handlerName}.attach`;
    checkEngine(where, 'argument engine', engine);
    this.track(engine, ...addHandlers(engine, where, [['argument event', event, this]]));
    return this;
  }
}
