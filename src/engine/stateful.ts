/**
 * An object whose state a checkpoint can hold: `stateDict()` returns plain data (typed arrays allowed) that survives
 * `structuredClone` and `JSON.stringify`, and `loadStateDict()` restores it, checking every value before changing
 * anything. Either may be async. The Engine, every metric and every handler that holds state across iterations are
 * Stateful.
 *
 * **Capture contract**: `stateDict()` takes the state **at the call**, even when it resolves later. Whatever happens
 * after the call returns — more updates, a reset, training going on while a background checkpoint is written
 * (`Checkpoint({ async: true })` calls every `stateDict()` at its event and awaits them afterwards) — does not change
 * what it resolves to. So before its first `await`, an async `stateDict()` copies its host values and keeps what it
 * will read from the device (a `tf.clone`, or a new tensor made from the device parts), and it never returns live
 * references it mutates later (return copies of arrays and objects). kindling's metrics and handlers follow it; for
 * the Engine, the values of `stateDictUserKeys` are saved as they are, so replace them rather than mutate them.
 *
 * @example
 * class Counter implements Stateful {
 *   counts = [0, 0];
 *   stateDict() { return { counts: [...this.counts] }; } // a copy: later counting does not change it
 *   loadStateDict(sd: { counts: number[] }) { this.counts = [...sd.counts]; }
 * }
 */
export interface Stateful {
  stateDict(): unknown | Promise<unknown>;
  loadStateDict(stateDict: any): void | Promise<void>;
}
