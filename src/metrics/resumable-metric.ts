import { type Engine, Events } from '../engine';
import { Metric } from './metric';

/**
 * Base of the metrics that save their state (internal, not exported from kindling): after `loadStateDict`, the
 * first reset the engine asks for is skipped when the run resumes inside the period the state was saved in, so a
 * checkpoint taken mid-epoch gives the same epoch value as a run that was never interrupted.
 *
 * The reset is skipped when it comes from STARTED (a running usage: the state covers the run so far) or from
 * EPOCH_STARTED while the engine's iteration is inside an epoch (a mid-epoch resume); any other reset (a new epoch, a
 * new batch with BatchWise) happens as usual. A subclass calls {@link markLoaded} at the end of its
 * `loadStateDict`, after every check has passed.
 */
export abstract class ResumableMetric<In = unknown, Out = number> extends Metric<In, Out> {
  #isLoaded = false;

  /** Handler of the usage's STARTED event: resets, unless this resumes the state loaded by `loadStateDict`. */
  override started(engine: Engine<any, any>): void {
    const keep = this.#isLoaded && resumesSavedPeriod(engine);
    this.#isLoaded = false;
    if (keep) this.resumed();
    else this.reset();
  }

  /** Called instead of `reset()` when a run resumes the loaded state (e.g. to restart a clock). Does nothing here. */
  protected resumed(): void {}

  /** Called by `loadStateDict` once the state is in place: the next STARTED may keep it (see the class comment). */
  protected markLoaded(): void {
    this.#isLoaded = true;
  }
}

function resumesSavedPeriod(engine: Engine<any, any>): boolean {
  const { iteration, epochLength } = engine.state;
  if (engine.lastEventName === Events.STARTED.name) return true;
  if (engine.lastEventName !== Events.EPOCH_STARTED.name) return false;
  return typeof epochLength === 'number' && epochLength > 0 && iteration % epochLength !== 0;
}
