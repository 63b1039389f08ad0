import { type EventSpec, Events } from '../engine';
import { EventHandler } from '../handlers';
import { checkNumber, checkOptions, yieldToEventLoop as yieldOnce } from '../internal';

/**
 * Lets the browser handle input, paint and other tasks, then resolves. Uses `scheduler.yield()` where it exists (the
 * continuation keeps its priority) and a `MessageChannel` message otherwise; unlike `requestAnimationFrame` or
 * `setTimeout`, neither stalls or is clamped to 1 s in a background tab, so training keeps going there.
 *
 * @returns a promise that resolves on a later task.
 * @example
 * for (const batch of batches) { step(batch); await yieldToEventLoop(); }
 */
export function yieldToEventLoop(): Promise<void> {
  return yieldOnce();
}

/** Options of {@link EventLoopYielder}. */
export interface EventLoopYielderOptions {
  /** Yield once this many milliseconds have passed since the last yield. Default 8; 0 yields every call. */
  budgetMs?: number;
}

/**
 * A handler that keeps a page responsive during training: attached to an engine event, it yields to the event loop
 * whenever more than `budgetMs` of work has run since it last yielded, so no task grows past the 50 ms that counts as a
 * long task. The engine awaits it, so the next iteration starts after the browser has had its turn.
 *
 * @example
 * new EventLoopYielder({ budgetMs: 8 }).attach(trainer); // or trainer.on(Events.ITERATION_COMPLETED, yielder)
 */
export class EventLoopYielder extends EventHandler {
  readonly #budgetMs: number;
  #last = now();

  /** @param options.budgetMs milliseconds of work allowed between yields (default 8). */
  constructor(options: EventLoopYielderOptions = {}) {
    super();
    const { budgetMs = 8 } = checkOptions('EventLoopYielder', options, ['budgetMs']);
    this.#budgetMs = checkNumber('EventLoopYielder', 'option budgetMs', budgetMs, {
      min: 0,
      expected: 'a number >= 0',
    });
  }

  /** `attach(trainer)` yields (when the budget is spent) after every `ITERATION_COMPLETED`. */
  protected get defaultEvent(): EventSpec {
    return Events.ITERATION_COMPLETED;
  }

  /** Yields when the budget is spent; otherwise returns at once. */
  handle(): Promise<void> | undefined {
    if (now() - this.#last < this.#budgetMs) return undefined;
    return yieldToEventLoop().then(() => {
      this.#last = now();
    });
  }
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
