// Checkpoint: saves objects when its event fires, keeping the best. File naming is in filename.ts, loading in
// load-objects.ts, the state of tfjs models and optimizers in tf-state.ts. A little over 400 lines, half of them the
// doc comments of Ignite's options and static helpers.
import type * as tf from '@tensorflow/tfjs';
import {
  type CallableEvent,
  defineEvents,
  Engine,
  type EventSpec,
  Events,
  getLogger,
  type Stateful,
} from '../../engine';
import {
  checkBoolean,
  checkEngine,
  checkFunction,
  checkInteger,
  checkOptions,
  checkStateDict,
  checkString,
  describeValue,
  failRange,
  failType,
  isThenable,
} from '../../internal';
import type { SaveMetadata, Saver } from '../../storage';
import { EventHandler } from '../attachable';
import {
  checkFilenamePattern,
  formatScore,
  type GlobalStepTransform,
  type Placeholder,
  parsePattern,
} from './filename';
import { findNonFinite, findNonFiniteWeights } from './finite';
import {
  type Checkpointable,
  type Kind,
  kindsOf,
  type LoadObjectsOptions,
  type LoadReport,
  loadObjects,
} from './load-objects';
import {
  captureModel,
  captureOptimizer,
  disposeCapture,
  type ModelCapture,
  type OptimizerCapture,
  readModelCapture,
  readOptimizerCapture,
} from './tf-state';

/** A score: higher is better. Receives the engine the Checkpoint is attached to. */
export type ScoreFunction = (engine: Engine<any, any>) => number | Promise<number>;

/** Options of {@link Checkpoint}; names follow Ignite's in camelCase. */
export interface CheckpointOptions {
  /** Prefix of the file names: `{prefix}_{name}_...` (default none). */
  filenamePrefix?: string;
  /** Ranks checkpoints: those with the highest scores are kept. Default: rank by global step (newest kept). */
  scoreFunction?: ScoreFunction | null;
  /** Written in file names as `{scoreName}={score}`; alone (no scoreFunction), the score is `state.metrics[scoreName]`. */
  scoreName?: string | null;
  /** How many checkpoints to keep (default 1); null keeps all. */
  nSaved?: number | null;
  /** The global step written in file names; default `engine.state.iteration` (see {@link globalStepFromEngine}). */
  globalStepTransform?: GlobalStepTransform | null;
  /**
   * File name template with Ignite's placeholders `{filename_prefix}`, `{name}`, `{global_step}`, `{score_name}`,
   * `{score}`, `{ext}` (`{{` and `}}` for literal braces), e.g. `'{name}_{global_step}.{ext}'`. Default: see
   * {@link Checkpoint.setupFilenamePattern}.
   */
  filenamePattern?: string | null;
  /** Also save this Checkpoint's own state (its list of saved files) under the key `checkpointer` (default false). */
  includeSelf?: boolean;
  /** On equal priority, replace the kept checkpoint with the newer one (default false: keep the first). */
  greaterOrEqual?: boolean;
  /**
   * Write in the background (default false): at its event the Checkpoint only takes a snapshot that later steps
   * cannot change (clones of the weights and optimizer slots, every `stateDict()` called) and training goes on at
   * once; reading back and writing happen meanwhile. See {@link Checkpoint} for when it pays off.
   */
  async?: boolean;
}

/** Events of {@link Checkpoint}: `SAVED_CHECKPOINT` fires on the engine after each save (`state.savedCheckpoint` counts them). */
export const CheckpointEvents: { readonly SAVED_CHECKPOINT: CallableEvent } = defineEvents({
  SAVED_CHECKPOINT: 'saved_checkpoint',
});

const EXT = 'ckpt';

/** Registers `SAVED_CHECKPOINT` on `engine` (counted in `state.savedCheckpoint`) unless it already is. */
function registerSavedEvent(engine: Engine<any, any>): void {
  const event = CheckpointEvents.SAVED_CHECKPOINT;
  if (!engine.hasRegisteredEvents(event)) {
    engine.registerEvents([event], { eventToAttr: { [event.name]: 'savedCheckpoint' } });
  }
}

interface SavedItem {
  priority: number;
  filename: string;
}

/** What one checkpoint event decided: the file, its metadata, and the kept list once it is saved. */
interface SavePlan {
  filename: string;
  metadata: SaveMetadata;
  /** The kept checkpoints once this one is saved, lowest priority first. */
  saved: SavedItem[];
  /** The file this one displaces, removed after it is saved; null when none. */
  evicted: string | null;
}

/** One object's state as taken at the event: a tfjs capture (read back later) or what its `stateDict()` returned. */
type TakenState = ModelCapture | OptimizerCapture | { kind: 'stateful'; value: unknown };

/** Reads one taken state back: a capture's tensors (`await data()`, freeing the clones), or the awaited stateDict(). */
function readTaken(taken: TakenState): Promise<unknown> {
  if (taken.kind === 'model') return readModelCapture(taken);
  if (taken.kind === 'optimizer') return readOptimizerCapture(taken);
  return Promise.resolve(taken.value);
}

/** Frees the clones of optimizer captures still under way (a failed snapshot). */
async function releaseOptimizers(optimizers: readonly [string, Promise<OptimizerCapture>][]): Promise<void> {
  for (const result of await Promise.allSettled(optimizers.map(([, capture]) => capture))) {
    if (result.status === 'fulfilled') disposeCapture(result.value);
  }
}

/** Frees the clones of every taken capture (those already read are freed already). */
function releaseTaken(taken: Map<string, TakenState>): void {
  for (const state of taken.values()) if (state.kind !== 'stateful') disposeCapture(state);
}

/** The options a Checkpoint takes (also named by the common setup's hint for a misplaced one). */
export const CHECKPOINT_OPTION_NAMES = [
  'filenamePrefix',
  'scoreFunction',
  'scoreName',
  'nSaved',
  'globalStepTransform',
  'filenamePattern',
  'includeSelf',
  'greaterOrEqual',
  'async',
] as const;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';

const isSaver = (value: unknown): value is Saver =>
  isObject(value) && ['save', 'load', 'remove', 'list'].every((m) => typeof value[m] === 'function');

/**
 * Saves objects (engine, model, optimizer, metrics, handlers) when its event fires, keeping the `nSaved` best:
 * PyTorch Ignite's `Checkpoint`. It has no timing options: the schedule lives in the event it is added on.
 *
 * The priority of a checkpoint is its score when `scoreFunction` (or `scoreName`) is given, else its global step
 * (`engine.state.iteration` unless `globalStepTransform`). A new checkpoint is saved while fewer than `nSaved` are kept
 * or when its priority beats the lowest kept (`>`, or `>=` with `greaterOrEqual`); the lowest is then removed from the
 * saver, after the new one is safely saved. File names: `[{prefix}_]{name}[_{globalStep}][_{scoreName}={score}|_{score}].ckpt`,
 * where `name` is the single key of `toSave`, else `checkpoint`; integer scores print as integers, others with 4
 * decimals. A file name already in use is overwritten.
 *
 * The checkpoint is plain data plus typed arrays: each object's `stateDict()`; a `tf.LayersModel`'s weights by variable
 * name; a `tf.Optimizer`'s named slots. With one key in `toSave` the data is that object's state itself (as in
 * Ignite); with `includeSelf` it is always `{ [key]: state, checkpointer: this.stateDict() }`.
 * A state whose engine output (the loss) or model weights hold NaN or Inf is not saved (a warning says so): with
 * `TerminateOnNan`, which stops the run an iteration later, the last finite checkpoint stays the newest.
 * After each save, `CheckpointEvents.SAVED_CHECKPOINT` fires on the engine (registered by `attach`, or on first use).
 *
 * **Background saves** (`async: true`, for large models): at its event the Checkpoint takes a snapshot and returns to
 * the loop at once: clones of the model's weights, the optimizer's slots and Adam's accumulators (no copy: a step
 * assigns new tensors to the variables, so the clones keep the values of this iteration), and every Stateful's
 * `stateDict()` called right then ({@link Stateful}: it captures its state at the call, even if it resolves later).
 * Reading back (`await data()`) and writing go on while training continues; `SAVED_CHECKPOINT` fires once the save is
 * durable, from the background (`checkpoint.lastCheckpoint` names it; `engine.state.iteration` has moved on). The
 * content is exactly the state at the iteration the file is named after. One save is in flight at a time: a checkpoint
 * event that comes while one is being written **waits** for it, then takes its snapshot, so every event still
 * writes its file (the same files as without `async`), device memory holds at most one snapshot, and a save interval
 * shorter than the write shows as a pause rather than as checkpoints silently skipped. The run does not end
 * (COMPLETED, TERMINATE, INTERRUPT, an exception, `run()` resolving) before the save in flight is done
 * ({@link Engine.waitUntil}); a failed background save fails the run like an error in a handler (EXCEPTION_RAISED
 * handlers, or `run()` rejects). Outside a run `handle()` saves in the foreground. A crash or a closed tab during a
 * background save leaves the previous checkpoints as they were. The snapshot's clones are freed as they are read,
 * and on any failure. The NaN guard checks the engine's output at the event and the models' weights on the host once
 * read back (no device pass over every weight while the loop waits); a non-finite state is not written, as above.
 * The write needs the event loop (IndexedDB, the storage Worker's reply): a loop that never yields to it (the CPU
 * backend resolves `data()` in microtasks) leaves the write waiting until the next checkpoint event, which then
 * pauses as long as a foreground save. Attach an `EventLoopYielder` (a page needs one anyway to stay responsive).
 *
 * @param toSave the objects to save, by name: Stateful objects, tfjs LayersModels and Optimizers.
 * @param saver where to save: {@link IndexedDBSaver}, {@link MemorySaver}, `DiskSaver` (node) or your own {@link Saver}.
 * @param options filenamePrefix, scoreFunction, scoreName, nSaved (default 1), globalStepTransform, filenamePattern,
 *   includeSelf, greaterOrEqual, async (default false).
 *
 * @example
 * const checkpoint = new Checkpoint({ trainer, model, optimizer }, new IndexedDBSaver('run-1'), { nSaved: 2 });
 * checkpoint.attach(trainer, Events.ITERATION_COMPLETED({ every: 500 })); // or trainer.on(event, checkpoint)
 * // a large model: write in the background while training goes on
 * new Checkpoint({ trainer, model, optimizer }, saver, { async: true }).attach(trainer, Events.ITERATION_COMPLETED({ every: 100 }));
 * // keep the best model by validation accuracy, named after the trainer's epoch:
 * evaluator.on(Events.COMPLETED, new Checkpoint({ model }, saver, {
 *   filenamePrefix: 'best', scoreName: 'accuracy', globalStepTransform: globalStepFromEngine(trainer),
 * })); // best_model_7_accuracy=0.9312.ckpt
 */
export class Checkpoint extends EventHandler implements Stateful {
  protected override get handlerName(): string {
    return 'Checkpoint';
  }

  /** The file extension of checkpoints. */
  static readonly ext = EXT;
  /** The objects saved, by name. */
  readonly toSave: Readonly<Record<string, Checkpointable>>;
  /** Where checkpoints go. */
  readonly saver: Saver;
  /** Prefix of the file names (`''`: none). */
  readonly filenamePrefix: string;
  /** Ranks checkpoints by score (highest kept), or null to rank by `scoreName` or the global step. */
  readonly scoreFunction: ScoreFunction | null;
  /** Written in file names as `{scoreName}={score}`; alone, the score is `state.metrics[scoreName]`. Or null. */
  readonly scoreName: string | null;
  /** How many checkpoints are kept; null keeps all. */
  readonly nSaved: number | null;
  /** Gives the global step for file names and ranking, or null for `engine.state.iteration`. */
  readonly globalStepTransform: GlobalStepTransform | null;
  /** The file name template with Ignite placeholders, or null for the default pattern. */
  readonly filenamePattern: string | null;
  /** Whether each checkpoint also holds this Checkpoint's own state under `checkpointer`. */
  readonly includeSelf: boolean;
  /** Whether an equal priority replaces the kept checkpoint (`>=`) instead of keeping the first (`>`). */
  readonly greaterOrEqual: boolean;
  /** Whether checkpoints are written in the background while training goes on (see {@link Checkpoint}). */
  readonly async: boolean;
  /** Kept checkpoints, lowest priority first. */
  #saved: SavedItem[] = [];
  /** Bumped by reset() and loadStateDict(): a save in flight then leaves the kept list alone. */
  #generation = 0;
  readonly #kinds: ReadonlyMap<string, Kind>;
  /** Checkpoint events run one after another even if `handle` is called without awaiting. */
  #queue: Promise<void> = Promise.resolve();
  /** The background save in flight (settles, never rejects, when it is done); resolved when none is. */
  #inFlight: Promise<void> = Promise.resolve();

  constructor(toSave: Record<string, Checkpointable>, saver: Saver, options: CheckpointOptions = {}) {
    super();
    const where = 'Checkpoint';
    this.#kinds = kindsOf(where, toSave, 'stateDict');
    if (!isSaver(saver)) {
      failType(
        where,
        'argument saver',
        'a Saver with save, load, remove and list methods (e.g. new IndexedDBSaver())',
        saver,
      );
    }
    const given = checkOptions(where, options, CHECKPOINT_OPTION_NAMES);
    const { scoreFunction, scoreName, globalStepTransform, filenamePattern } = given;
    this.toSave = toSave;
    this.saver = saver;
    this.filenamePrefix = checkString(where, 'option filenamePrefix', given.filenamePrefix ?? '', { allowEmpty: true });
    this.scoreName = scoreName == null ? null : checkString(where, 'option scoreName', scoreName);
    this.scoreFunction =
      scoreFunction == null
        ? this.scoreName === null
          ? null
          : Checkpoint.getDefaultScoreFn(this.scoreName)
        : checkFunction<ScoreFunction>(where, 'option scoreFunction', scoreFunction, '(engine) => number');
    this.nSaved = checkInteger(where, 'argument nSaved', given.nSaved === undefined ? 1 : given.nSaved, {
      min: 1,
      nullable: true,
    });
    this.globalStepTransform =
      globalStepTransform == null
        ? null
        : checkFunction<GlobalStepTransform>(
            where,
            'option globalStepTransform',
            globalStepTransform,
            '(engine, eventName) => number',
          );
    this.includeSelf = checkBoolean(where, 'option includeSelf', given.includeSelf ?? false);
    this.greaterOrEqual = checkBoolean(where, 'option greaterOrEqual', given.greaterOrEqual ?? false);
    this.async = checkBoolean(where, 'option async', given.async ?? false);
    if (this.includeSelf && 'checkpointer' in toSave) {
      throw new RangeError(
        "Checkpoint: toSave may not have the key 'checkpointer' when includeSelf is true (this Checkpoint's state goes there); rename it.",
      );
    }
    this.filenamePattern =
      filenamePattern == null
        ? null
        : checkFilenamePattern(checkString(where, 'option filenamePattern', filenamePattern), this);
  }

  /** The file name of the highest-priority checkpoint kept (the newest, when ranked by step), or null. */
  get lastCheckpoint(): string | null {
    return this.#saved.at(-1)?.filename ?? null;
  }

  /**
   * Forgets the kept checkpoints (the files stay in the saver), e.g. before a new independent run. A save in flight
   * still completes, but no longer counts among the kept ones.
   */
  reset(): void {
    this.#saved = [];
    this.#generation += 1;
  }

  /** `attach(trainer)` saves at every `EPOCH_COMPLETED`; pass e.g. `Events.ITERATION_COMPLETED({ every: 500 })`. */
  protected get defaultEvent(): EventSpec {
    return Events.EPOCH_COMPLETED;
  }

  /**
   * Adds this Checkpoint to `engine` on `event` (default `EPOCH_COMPLETED`) and registers
   * `CheckpointEvents.SAVED_CHECKPOINT` there (counted in `state.savedCheckpoint`), so handlers can be added on it
   * before the first save.
   *
   * @returns this Checkpoint; `remove()` takes it off again.
   * @example
   * checkpoint.attach(trainer, Events.ITERATION_COMPLETED({ every: 500 }));
   * trainer.on(CheckpointEvents.SAVED_CHECKPOINT, () => console.log('saved', checkpoint.lastCheckpoint));
   */
  override attach(engine: Engine<any, any>, event: EventSpec = this.defaultEvent): this {
    checkEngine('Checkpoint.attach', 'argument engine', engine);
    registerSavedEvent(engine);
    return super.attach(engine, event);
  }

  /**
   * Called by the engine on the event it was added on: saves a checkpoint if its priority earns a place, removes the
   * one it displaces, and fires `CheckpointEvents.SAVED_CHECKPOINT`. With `async` during a run, resolves once the
   * snapshot is taken (after the save in flight, if any, is done) and the save goes on in the background.
   */
  handle(engine: Engine<any, any>): Promise<void> {
    const run = this.#queue.then(() => this.#checkpoint(engine));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #checkpoint(engine: Engine<any, any>): Promise<void> {
    if (!(engine instanceof Engine)) {
      throw new TypeError(
        `Checkpoint: handle(engine) should be given the Engine it is attached to, got ${describeValue(engine)}.`,
      );
    }
    await this.#inFlight; // at most one save in flight: an event during a background save waits for it
    const plan = await this.#plan(engine);
    if (plan === null) return;
    const iteration = engine.state.iteration;
    if (!this.async || !engine.isRunning) {
      // The NaN guard on the device, on the engine's output and the models' weights, before anything is taken.
      if (!(await this.#finite(findNonFinite(engine, this.toSave, this.#kinds), iteration))) return;
      return this.#write(engine, plan, await this.#take(), iteration);
    }
    // In the background, the guard checks the engine's output on the device (dispatched now: small) and the models'
    // weights on the host once the snapshot is read back, which costs the loop no device pass over every weight.
    const finite = this.#finite(findNonFinite(engine, this.toSave, new Map()), iteration);
    finite.catch(() => {}); // read below; observed now in case taking the snapshot throws first
    const taken = await this.#take();
    const save = finite.then(
      (ok) => (ok ? this.#write(engine, plan, taken, iteration, true) : releaseTaken(taken)),
      (error: unknown) => {
        releaseTaken(taken);
        throw error;
      },
    );
    this.#inFlight = save.then(
      () => {},
      () => {},
    );
    engine.waitUntil(save);
  }

  /**
   * The NaN guard's verdict on what `found` names (see {@link findNonFinite}): false, with a warning, when something
   * holds NaN or Inf (such a state is not saved, so it never replaces the last finite checkpoint), true otherwise.
   */
  async #finite(found: Promise<string | null>, iteration: number): Promise<boolean> {
    const nonFinite = await found;
    if (nonFinite === null) return true;
    getLogger().warn(
      `Checkpoint: no checkpoint saved at iteration ${iteration}: NaN or Inf in ${nonFinite}. The last finite checkpoint is kept: ${this.lastCheckpoint ?? 'none yet'}.`,
    );
    return false;
  }

  /** Decides whether this event saves, and under which name; null when it does not. */
  async #plan(engine: Engine<any, any>): Promise<SavePlan | null> {
    let globalStep: number | null = null;
    if (this.globalStepTransform !== null) {
      globalStep = this.globalStepTransform(engine, engine.lastEventName);
      if (typeof globalStep !== 'number' || !Number.isFinite(globalStep)) {
        throw new TypeError(
          `Checkpoint: globalStepTransform should return a number, got ${describeValue(globalStep)}.`,
        );
      }
    }
    let priority: number;
    if (this.scoreFunction !== null) {
      priority = await this.scoreFunction(engine);
      if (typeof priority !== 'number') {
        throw new TypeError(`Checkpoint: scoreFunction should return a number, got ${describeValue(priority)}.`);
      }
      if (Number.isNaN(priority)) {
        getLogger().warn(`Checkpoint: the score is NaN at iteration ${engine.state.iteration}; no checkpoint saved.`);
        return null;
      }
    } else {
      globalStep ??= engine.state.iteration;
      priority = globalStep;
    }
    if (!(this.#hasRoom(this.#saved) || this.#beats(priority))) return null;

    const keys = [...this.#kinds.keys()];
    const name = keys.length === 1 ? keys[0]! : 'checkpoint';
    const pattern =
      this.filenamePattern ??
      Checkpoint.setupFilenamePattern({
        withPrefix: this.filenamePrefix.length > 0,
        withScore: this.scoreFunction !== null,
        withScoreName: this.scoreName !== null,
        withGlobalStep: globalStep !== null,
      });
    const values: Record<Placeholder, string> = {
      filename_prefix: this.filenamePrefix,
      name,
      global_step: globalStep === null ? '' : String(globalStep),
      score_name: this.scoreName ?? '',
      score: formatScore(priority),
      ext: EXT,
    };
    const filename = parsePattern(pattern)
      .map((part) => (typeof part === 'string' ? part : values[part.key]))
      .join('');
    const metadata: SaveMetadata = {
      basename: `${this.filenamePrefix}${this.filenamePrefix.length > 0 ? '_' : ''}${name}`,
      scoreName: this.scoreName,
      priority,
    };

    // The new list of kept checkpoints; it becomes ours only once the save succeeded.
    const saved = [...this.#saved];
    const same = saved.findIndex((item) => item.filename === filename);
    let evicted: string | null = null;
    if (same >= 0) saved.splice(same, 1);
    else if (!this.#hasRoom(saved)) evicted = saved.shift()!.filename;
    saved.push({ priority, filename });
    saved.sort((a, b) => a.priority - b.priority);
    return { filename, metadata, saved, evicted };
  }

  /**
   * Takes every object's state now, in one synchronous pass: clones of the model weights, and each Stateful's
   * `stateDict()` called (each captures its state at the call, and may resolve later; see {@link Stateful}), so that
   * no promise callback (a metric's read landing, a history delivering values) runs between two of them. Optimizer
   * slots are cloned once tfjs's async `getWeights()` resolves, which takes only microtasks (no step can come
   * between). On a failure, frees what was taken and throws.
   */
  async #take(): Promise<Map<string, TakenState>> {
    const taken = new Map<string, TakenState>();
    const optimizers: [string, Promise<OptimizerCapture>][] = [];
    try {
      for (const [key, kind] of this.#kinds) {
        const object = this.toSave[key];
        if (kind === 'model') {
          taken.set(key, captureModel(object as tf.LayersModel));
        } else if (kind === 'optimizer') {
          optimizers.push([key, captureOptimizer(object as tf.Optimizer)]);
          taken.set(key, { kind: 'stateful', value: null }); // keeps the key order; replaced below
        } else {
          const value = (object as Stateful).stateDict();
          // Observed at once, so that a rejection is never reported as unhandled while other states are read.
          if (isThenable(value)) value.then(undefined, () => {});
          taken.set(key, { kind: 'stateful', value });
        }
      }
    } catch (error) {
      releaseTaken(taken);
      await releaseOptimizers(optimizers);
      throw error;
    }
    const settled = await Promise.allSettled(optimizers.map(([, capture]) => capture));
    const failed = settled.find((result) => result.status === 'rejected');
    settled.forEach((result, i) => {
      if (result.status === 'fulfilled') taken.set(optimizers[i]![0], result.value);
    });
    if (failed !== undefined) {
      releaseTaken(taken);
      throw failed.reason;
    }
    return taken;
  }

  /** Reads the taken states back, saves them, removes the displaced file and fires SAVED_CHECKPOINT. */
  async #write(
    engine: Engine<any, any>,
    plan: SavePlan,
    taken: Map<string, TakenState>,
    iteration: number,
    checkWeights = false,
  ): Promise<void> {
    const generation = this.#generation;
    const keys = [...taken.keys()];
    const settled = await Promise.allSettled(keys.map((key) => readTaken(taken.get(key)!)));
    const failed = settled.find((result) => result.status === 'rejected');
    if (failed !== undefined) {
      releaseTaken(taken);
      throw failed.reason;
    }
    const states: Record<string, unknown> = {};
    keys.forEach((key, i) => {
      states[key] = (settled[i] as PromiseFulfilledResult<unknown>).value;
    });
    // The background NaN guard's second half: the models' weights, as read back (see #checkpoint).
    if (checkWeights && !(await this.#finite(findNonFiniteWeights(states, this.#kinds), iteration))) return;
    let data: unknown = states;
    if (this.includeSelf) states.checkpointer = { saved: plan.saved.map((item) => [item.priority, item.filename]) };
    else if (keys.length === 1) data = states[keys[0]!];

    await this.saver.save(data, plan.filename, plan.metadata);
    if (generation === this.#generation) this.#saved = plan.saved;
    if (plan.evicted !== null) await this.saver.remove(plan.evicted);

    registerSavedEvent(engine);
    engine.state.savedCheckpoint = (Number(engine.state.savedCheckpoint) || 0) + 1;
    await engine.fireEvent(CheckpointEvents.SAVED_CHECKPOINT);
  }

  #hasRoom(saved: readonly SavedItem[]): boolean {
    return this.nSaved === null || saved.length < this.nSaved;
  }

  #beats(priority: number): boolean {
    const lowest = this.#saved[0]!.priority;
    return this.greaterOrEqual ? priority >= lowest : priority > lowest;
  }

  /** This Checkpoint's state: the kept checkpoints as `[priority, filename]` pairs, lowest priority first. */
  stateDict(): { saved: [number, string][] } {
    return { saved: this.#saved.map((item) => [item.priority, item.filename]) };
  }

  /**
   * Restores the kept checkpoints from {@link stateDict}, so that rotation goes on after a resume. Checked before
   * anything changes: `saved` is a list of `[priority, filename]` pairs with numeric priorities (not NaN), distinct
   * non-empty file names, and no more of them than `nSaved`.
   */
  loadStateDict(stateDict: { saved: [number, string][] }): void {
    const where = 'Checkpoint.loadStateDict';
    const { saved } = checkStateDict(where, stateDict, ['saved']);
    if (!Array.isArray(saved))
      failType(where, "state dict entry 'saved'", 'an array of [priority, filename] pairs', saved);
    if (this.nSaved !== null && saved.length > this.nSaved) {
      failRange(
        where,
        "state dict entry 'saved'",
        `at most nSaved = ${this.nSaved} checkpoints`,
        `${saved.length} of them`,
        `Make this Checkpoint with nSaved: ${saved.length} (or null) to go on with the run that saved them.`,
      );
    }
    const names = new Set<string>();
    const items = saved.map((item: unknown, i) => {
      const subject = `state dict entry 'saved' at ${i}`;
      if (!Array.isArray(item) || item.length !== 2) failType(where, subject, 'a [priority, filename] pair', item);
      const [priority, filename] = item as unknown[];
      if (typeof priority !== 'number' || Number.isNaN(priority)) {
        failType(where, `${subject}: its priority`, 'a number other than NaN', priority);
      }
      const name = checkString(where, `${subject}: its filename`, filename);
      if (names.has(name)) {
        failRange(where, `${subject}: its filename`, 'a name listed once', filename, 'Each file is kept once.');
      }
      names.add(name);
      return { priority, filename: name };
    });
    this.#saved = items.sort((a, b) => a.priority - b.priority);
    this.#generation += 1;
  }

  /**
   * The default file name pattern (Ignite's `setup_filename_pattern`):
   * `{filename_prefix}_{name}_{global_step}_{score_name}={score}.{ext}` with the parts switched off left out.
   *
   * @example
   * Checkpoint.setupFilenamePattern({ withScore: false, withScoreName: false }); // '{filename_prefix}_{name}_{global_step}.{ext}'
   */
  static setupFilenamePattern(
    options: { withPrefix?: boolean; withScore?: boolean; withScoreName?: boolean; withGlobalStep?: boolean } = {},
  ): string {
    const { withPrefix = true, withScore = true, withScoreName = true, withGlobalStep = true } = options;
    if (!withGlobalStep && !withScore) {
      throw new RangeError(
        'Checkpoint.setupFilenamePattern: at least one of withScore and withGlobalStep should be true.',
      );
    }
    if (withScoreName && !withScore) {
      throw new RangeError('Checkpoint.setupFilenamePattern: withScoreName needs withScore to be true as well.');
    }
    let pattern = '{name}';
    if (withGlobalStep) pattern += '_{global_step}';
    if (withScore) pattern += withScoreName ? '_{score_name}={score}' : '_{score}';
    if (withPrefix) pattern = `{filename_prefix}_${pattern}`;
    return `${pattern}.{ext}`;
  }

  /**
   * A score function reading `engine.state.metrics[metricName]`, times `scoreSign` (use -1 for losses, so that lower
   * is better).
   *
   * @example
   * new Checkpoint({ model }, saver, { scoreName: 'negLoss', scoreFunction: Checkpoint.getDefaultScoreFn('loss', -1) });
   */
  static getDefaultScoreFn(metricName: string, scoreSign: 1 | -1 = 1): ScoreFunction {
    if (scoreSign !== 1 && scoreSign !== -1) {
      throw new RangeError(
        `Checkpoint.getDefaultScoreFn: argument scoreSign should be 1 or -1, got ${describeValue(scoreSign)}.`,
      );
    }
    return (engine) => {
      const value = engine.state.metrics[metricName];
      if (typeof value !== 'number') {
        throw new TypeError(
          `Checkpoint: engine.state.metrics.${metricName} should be a number to score the checkpoint, got ${describeValue(value)}. Attach the metric under that name to the engine the Checkpoint is added on.`,
        );
      }
      return scoreSign * value;
    };
  }

  /**
   * Restores objects from a checkpoint: each `toLoad[key]` from `checkpoint[key]` (with a single key in `toLoad` and
   * no such key in the checkpoint, from the whole checkpoint, as Ignite does). Stateful objects get `loadStateDict()`;
   * models get their weights by variable name with shape and dtype checks; optimizers their named slots.
   *
   * Loaded data is data only: a key `__proto__`, `constructor` or `prototype` anywhere rejects the whole checkpoint.
   * With `strict` (default), a missing key or any mismatch throws a CheckpointError naming it before anything is
   * loaded; with `strict: false`, what matches is loaded and the rest reported in the result's `skipped`.
   *
   * All or nothing: every entry is checked before any object changes. Models and optimizers are checked by name,
   * shape and dtype; engines and metrics check their entry without changing anything; any other Stateful object is
   * loaded first, after a copy of its `stateDict()` is taken, and put back from that copy if a later entry is rejected.
   * Models and optimizers are loaded last. So a rejected trainer entry leaves model and optimizer untouched, and the
   * CheckpointError says that nothing was loaded.
   *
   * @returns which keys were loaded and what was skipped.
   * @example
   * await Checkpoint.loadObjects({ toLoad: { trainer, model, optimizer }, checkpoint: { saver, filename: 'checkpoint_500.ckpt' } });
   * const { skipped } = await Checkpoint.loadObjects({ toLoad: { model }, checkpoint: pretrained, strict: false });
   */
  static loadObjects(options: LoadObjectsOptions): Promise<LoadReport> {
    return loadObjects(options);
  }
}
