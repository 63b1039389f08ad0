import { type EventSpec, Events } from '../engine';
import { EventHandler } from '../handlers';
import { checkNumber, checkOptions, yieldToEventLoop as yieldOnce } from '../internal';

/**
 * Lets the browser run every task that is waiting (input, paint, a Worker's reply, IndexedDB events, timers, a
 * background checkpoint's next step), then resolves. Posts a `MessageChannel` message (`setImmediate` in Node), which
 * queues behind them; unlike `requestAnimationFrame` or `setTimeout`, it neither stalls nor is clamped to 1 s in a
 * background tab, so training keeps going there. (Not `scheduler.yield()`: its continuation runs before ordinary tasks, so a training
 * loop yielding with it would starve them until the run ends.)
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
  /**
   * Milliseconds of work a task may hold between yields. Default 8; 0 yields every call. The yielder yields before
   * the work it expects next (as long as the longer of the last two spans between its calls) would take the task
   * past the budget, so a task stays near the budget even when one iteration alone is close to it.
   */
  budgetMs?: number;
}

/**
 * A handler that keeps a page responsive during training: attached to engine events, it yields to the event loop
 * whenever the work since it last yielded, plus the work it expects until its next call, would pass `budgetMs`, so
 * no task grows past the 50 ms that counts as a long task. It expects the next span of work to last as long as the
 * longer of the last two spans between its calls (attached at ITERATION_STARTED and ITERATION_COMPLETED, these are
 * the step and what runs between steps). The engine awaits it, so the next iteration starts after the browser has
 * had its turn. One yielder may serve several engines (a trainer and its evaluator): they share its clock.
 *
 * @example
 * new EventLoopYielder({ budgetMs: 8 }).attach(trainer); // or trainer.on(Events.ITERATION_COMPLETED, yielder)
 * const yielder = new EventLoopYielder();
 * for (const engine of [trainer, evaluator]) yielder.attach(engine, Events.ITERATION_STARTED.or(Events.ITERATION_COMPLETED));
 */
export class EventLoopYielder extends EventHandler {
  protected override get handlerName(): string {
    return 'EventLoopYielder';
  }

  readonly #budgetMs: number;
  /** When the current task's work began: the yielder's creation, or the end of its last yield. */
  #last = now();
  /** When `handle` was last called (or a yield ended), and the last two spans of work between calls. */
  #lastCall = this.#last;
  #span = 0;
  #previousSpan = 0;

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

  /** Yields when the work done plus the work expected next would pass the budget; otherwise returns at once. */
  handle(): Promise<void> | undefined {
    const time = now();
    this.#previousSpan = this.#span;
    this.#span = time - this.#lastCall;
    this.#lastCall = time;
    const expected = Math.max(this.#span, this.#previousSpan);
    if (time - this.#last + expected < this.#budgetMs) return undefined;
    return yieldToEventLoop().then(() => {
      this.#last = now();
      this.#lastCall = this.#last;
    });
  }
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
