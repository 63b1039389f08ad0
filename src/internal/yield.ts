// Yielding to the event loop without being throttled in a background tab, two ways:
// - yieldToEventLoop (browser/'s EventLoopYielder and yieldToEventLoop, the training loop): a MessageChannel message,
//   which queues behind every task already waiting, so a Worker's reply, an IndexedDB event or a timer runs at every
//   yield of the loop;
// - yieldWithinJob (storage/ and checkpoint/'s slices of one background job: copies, the NaN scan): scheduler.yield()
//   where it exists, whose continuation runs before ordinary tasks (after input and paint), so a job of many slices
//   finishes in one stretch of short tasks instead of one slice per yield of a busy loop.
//
// Measured in Chromium (2026-12-02): a loop of 30 ms steps yielding with scheduler.yield() ran all its steps before
// any of 5 pending MessageChannel messages; yielding with a MessageChannel message, it handled them at its first yields.

interface SchedulerWithYield {
  yield(): Promise<void>;
}

let channel: MessageChannel | null = null;
const waiting: Array<() => void> = [];

/**
 * Resolves on a fresh macrotask that queues behind the tasks already waiting. In a browser (page or Worker): a
 * MessageChannel message, which browsers do not throttle in background tabs. In Node: setImmediate, which runs after
 * pending I/O and other ports' messages (Node drains one port's messages, new ones included, before it turns to other
 * ports, so a loop yielding through a MessageChannel there would starve them).
 */
function postTask(): Promise<void> {
  if (typeof globalThis.setImmediate === 'function' && typeof globalThis.window === 'undefined') {
    return new Promise((resolve) => setImmediate(resolve));
  }
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    // Where a port would keep the process alive; browsers have no unref.
    (channel.port1 as { unref?: () => void }).unref?.();
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel!.port2.postMessage(null);
  });
}

/**
 * Lets the browser run every task that is waiting (input, paint, a Worker's reply, IndexedDB events, timers), then
 * resolves. Posts a `MessageChannel` message (`setImmediate` in Node), which queues behind them; unlike
 * `requestAnimationFrame` or `setTimeout`, it neither stalls nor is clamped to 1 s in a background tab, so work keeps
 * going there.
 * (`scheduler.yield()` is not used here: its continuation runs before ordinary tasks, so a loop yielding with it
 * starves them until it stops.)
 *
 * @returns a promise that resolves on a later task.
 * @example
 * for (const batch of batches) { step(batch); await yieldToEventLoop(); }
 */
export function yieldToEventLoop(): Promise<void> {
  return postTask();
}

/**
 * Lets input and paint through between two slices of one job, then resolves ahead of ordinary tasks: uses
 * `scheduler.yield()` where it exists, a `MessageChannel` message otherwise. For library work cut into short slices
 * (copying or scanning a large checkpoint), so that the job finishes in one stretch of short tasks rather than one
 * slice per yield of a training loop.
 */
export function yieldWithinJob(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: Partial<SchedulerWithYield> }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return postTask();
}
