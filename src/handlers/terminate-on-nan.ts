import * as tf from '@tensorflow/tfjs';
import { type Engine, type EventSpec, Events, getLogger } from '../engine';
import { checkFunction, checkOptions, describeValue, isPlainObject } from '../internal';
import { EventHandler } from './attachable';
import { anyNonFinite, visitFloats } from './non-finite';

/** Options of {@link TerminateOnNan}. */
export interface TerminateOnNanOptions {
  /** Picks what to check from `engine.state.output` (default: the whole output). */
  outputTransform?: (output: any) => unknown;
}

interface PendingCheck {
  iteration: number;
  described: string;
  result: Promise<boolean>;
}

/**
 * Stops training when the process function's output holds a NaN or an infinite value.
 *
 * The output may be a number, a `tf.Tensor`, or arrays and plain objects of them (int and bool tensors cannot hold
 * NaN and are skipped). Numbers are checked at once and stop the run in the same iteration. Tensors are checked **on
 * the device**: the handler reduces them to one boolean with `isNaN`/`isInf`/`any` and starts an asynchronous read of
 * it without waiting for it; it waits only for the previous call's read, which has had a whole iteration to arrive,
 * so the device always has the next step queued. The last read is settled at `EPOCH_COMPLETED` and `COMPLETED`.
 *
 * Lag: **one call**. A NaN produced at iteration k stops the run at the end of iteration k + 1 (whose process function
 * still runs), or at the end of the epoch if k was its last iteration. With a filtered event such as
 * `ITERATION_COMPLETED({ every: 10 })` the lag is one period. Adding it with `on(ITERATION_COMPLETED, handler)`
 * registers the end-of-epoch checks on its first call (after the EPOCH_COMPLETED handlers already there); `attach()`
 * registers them at once.
 *
 * @example
 * trainer.on(Events.ITERATION_COMPLETED, new TerminateOnNan());
 * // or, checking one entry of a dict output:
 * new TerminateOnNan({ outputTransform: (out) => out.loss }).attach(trainer);
 */
export class TerminateOnNan extends EventHandler {
  readonly #outputTransform: (output: any) => unknown;
  readonly #hookedEngines = new WeakSet<Engine<any, any>>();
  #pending: PendingCheck | null = null;
  readonly #flush = (engine: Engine<any, any>): Promise<void> => this.#settle(engine);

  /** @param options - `{ outputTransform? }`, see {@link TerminateOnNanOptions}. */
  constructor(options: TerminateOnNanOptions = {}) {
    super();
    const { outputTransform = (output: unknown) => output } = checkOptions('TerminateOnNan', options, [
      'outputTransform',
    ]);
    this.#outputTransform = checkFunction(
      'TerminateOnNan',
      'option outputTransform',
      outputTransform,
      '(output) => value',
    );
  }

  /** `attach(engine)` checks at every `ITERATION_COMPLETED`. */
  protected get defaultEvent(): EventSpec {
    return Events.ITERATION_COMPLETED;
  }

  /**
   * Adds this handler to `engine` on `event` (default `ITERATION_COMPLETED`) and the end-of-epoch checks.
   *
   * @returns this handler; `remove()` takes it and its checks off again.
   */
  override attach(engine: Engine<any, any>, event: EventSpec = this.defaultEvent): this {
    super.attach(engine, event);
    this.#hook(engine);
    return this;
  }

  /** Removes what `attach` (or the first call through `engine.on`) added on `engine`. */
  override detach(engine: Engine<any, any>): void {
    super.detach(engine);
    this.#hookedEngines.delete(engine);
  }

  /**
   * Settles the previous tensor check (terminating if it found NaN/Inf), then checks the current output.
   * Called by the engine.
   */
  async handle(engine: Engine<any, any>): Promise<void> {
    this.#hook(engine);
    await this.#settle(engine);
    if (engine.shouldTerminate) return;
    const output = this.#outputTransform(engine.state.output);
    const tensors: tf.Tensor[] = [];
    let hasBadNumber = false;
    visitFloats(output, (value) => {
      if (typeof value !== 'number') tensors.push(value);
      else if (!Number.isFinite(value)) hasBadNumber = true;
    });
    if (hasBadNumber) {
      this.#stop(engine, engine.state.iteration, describeOutput(output));
      return;
    }
    if (tensors.length === 0) return;
    const flag = anyNonFinite(tensors);
    const result = flag.data().then(
      (values) => {
        flag.dispose();
        return values[0] !== 0;
      },
      (error: unknown) => {
        flag.dispose();
        throw error;
      },
    );
    // Keep an unobserved rejection from being reported before #settle awaits it.
    result.catch(() => {});
    this.#pending = { iteration: engine.state.iteration, described: describeOutput(output), result };
  }

  /** Registers the end-of-epoch and end-of-run checks once per engine. */
  #hook(engine: Engine<any, any>): void {
    if (this.#hookedEngines.has(engine)) return;
    this.#hookedEngines.add(engine);
    this.track(
      engine,
      engine.addEventHandler(Events.EPOCH_COMPLETED, this.#flush),
      engine.addEventHandler(Events.COMPLETED, this.#flush),
    );
  }

  /** Waits for the outstanding tensor check, if any, and stops the run if it found NaN/Inf. */
  async #settle(engine: Engine<any, any>): Promise<void> {
    const pending = this.#pending;
    if (pending === null) return;
    this.#pending = null;
    if (await pending.result) this.#stop(engine, pending.iteration, pending.described);
  }

  #stop(engine: Engine<any, any>, iteration: number, described: string): void {
    getLogger().warn(
      `TerminateOnNan: Output ${described} of iteration ${iteration} contains NaN or Inf. Stop training`,
    );
    engine.terminate();
  }
}

/** A short rendering of the checked output for the log: numbers as they are, tensors by dtype and shape. */
function describeOutput(output: unknown): string {
  const render = (value: unknown, depth: number): string => {
    if (value instanceof tf.Tensor) return `Tensor(${value.dtype}, [${value.shape.join(', ')}])`;
    if (depth > 2) return '...';
    if (Array.isArray(value)) return `[${value.map((v) => render(v, depth + 1)).join(', ')}]`;
    if (isPlainObject(value)) {
      return `{ ${Object.entries(value)
        .map(([k, v]) => `${k}: ${render(v, depth + 1)}`)
        .join(', ')} }`;
    }
    return typeof value === 'number' ? String(value) : describeValue(value);
  };
  const text = render(output, 0);
  return `'${text.length > 120 ? `${text.slice(0, 117)}...` : text}'`;
}
