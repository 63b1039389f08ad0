// The dry-run loader protocol: an object that can check a whole state dict before changing anything has a
// `[planLoad]` method returning the function that applies it. Composite metrics and Checkpoint.loadObjects use it to
// check all their parts before loading any. Internal: not exported from kindling.

/**
 * The dry-run loader: `object[planLoad](stateDict)` checks the whole state dict (throwing what `loadStateDict` would
 * throw) and returns a function that applies it and does not fail.
 */
export const planLoad: unique symbol = Symbol('kindling.planLoad');

/** An object with a {@link planLoad} dry-run loader. */
export interface PlansLoad {
  [planLoad](stateDict: unknown): () => void | Promise<void>;
}

/** True when `object` has a {@link planLoad} dry-run loader. */
export function plansLoad(object: unknown): object is PlansLoad {
  return typeof (object as Partial<PlansLoad> | null)?.[planLoad] === 'function';
}
