/**
 * An object whose state a checkpoint can hold: `stateDict()` returns plain data (typed arrays allowed) that survives
 * `structuredClone` and `JSON.stringify`, and `loadStateDict()` restores it, checking every value before changing
 * anything. Either may be async. The Engine, every metric and every handler that holds state across iterations are
 * Stateful.
 */
export interface Stateful {
  stateDict(): unknown | Promise<unknown>;
  loadStateDict(stateDict: any): void | Promise<void>;
}
