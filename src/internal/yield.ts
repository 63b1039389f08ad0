// Yielding to the event loop without being throttled in a background tab. Used by browser/ (EventLoopYielder,
// yieldToEventLoop) and by storage/ (copies made in slices before a write).

interface SchedulerWithYield {
  yield(): Promise<void>;
}

let channel: MessageChannel | null = null;
const waiting: Array<() => void> = [];

/** Resolves on a fresh macrotask posted through a MessageChannel, which browsers do not throttle in background tabs. */
function postTask(): Promise<void> {
  if (!channel) {
    channel = new MessageChannel();
    channel.port1.onmessage = () => waiting.shift()?.();
    // In Node the port would keep the process alive; browsers have no unref.
    (channel.port1 as { unref?: () => void }).unref?.();
  }
  return new Promise((resolve) => {
    waiting.push(resolve);
    channel!.port2.postMessage(null);
  });
}

/**
 * Lets the browser handle input, paint and other tasks, then resolves. Uses `scheduler.yield()` where it exists (the
 * continuation keeps its priority) and a `MessageChannel` message otherwise; unlike `requestAnimationFrame` or
 * `setTimeout`, neither stalls or is clamped to 1 s in a background tab, so work keeps going there.
 *
 * @returns a promise that resolves on a later task.
 * @example
 * for (const batch of batches) { step(batch); await yieldToEventLoop(); }
 */
export function yieldToEventLoop(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: Partial<SchedulerWithYield> }).scheduler;
  if (typeof scheduler?.yield === 'function') return scheduler.yield();
  return postTask();
}
