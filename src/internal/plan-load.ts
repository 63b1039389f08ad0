// The dry-run loader: `object[planLoad](stateDict)` checks a whole state dict and returns a function that applies it
// (and cannot fail), so that an object made of parts (a composite metric, a ConcatScheduler) checks every part before
// changing any, and `loadStateDict(sd)` is `this[planLoad](sd)()`: all or nothing. Imports nothing.

/** The key of the dry-run loader; see {@link PlansLoad}. Internal: not exported from kindling. */
export const planLoad: unique symbol = Symbol('kindling.planLoad');

/** An object with a {@link planLoad} dry-run loader. */
export interface PlansLoad {
  [planLoad](stateDict: unknown): () => void | Promise<void>;
}

/** True when `value` has a {@link planLoad} dry-run loader. */
export function plansLoad(value: unknown): value is PlansLoad {
  return typeof (value as Partial<PlansLoad> | null)?.[planLoad] === 'function';
}
