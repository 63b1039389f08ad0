import { animationFrameScheduler } from 'kindling';

/** Wraps `fn` so that many calls within one frame run it once, at the next animation frame (or a timer when hidden). */
export function throttleToFrame(fn: () => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    animationFrameScheduler(() => {
      pending = false;
      fn();
    });
  };
}
