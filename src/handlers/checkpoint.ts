import * as tf from '@tensorflow/tfjs';
import {
  type CallableEvent,
  defineEvents,
  Engine,
  type EventLike,
  type EventSpec,
  Events,
  eventName,
  getLogger,
  type Stateful,
} from '../engine';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOptions,
  checkPlainObject,
  checkString,
  describeValue,
  failType,
  findUnsafeKey,
  isPlainObject,
  UNSAFE_KEYS,
  unsafeKeyMessage,
} from '../internal';
import { CheckpointError, type LatestOptions, type SaveMetadata, type Saver } from '../storage';
import { EventHandler } from './attachable';
import {
  checkOptimizerSaveable,
  type LoadIssue,
  type LoadPlan,
  mismatchError,
  modelStateDict,
  optimizerStateDict,
  planModelLoad,
  planOptimizerLoad,
} from './tf-state';

export type { Stateful } from '../engine';
export type { CheckpointErrorCode, LatestOptions, SaveMetadata, Saver, StoredCheckpoint } from '../storage';
export { CheckpointError } from '../storage';
export type { LayersModelState, LoadIssue, OptimizerState, TensorRecord } from './tf-state';

/** What `toSave` / `toLoad` may hold: Stateful objects, tfjs LayersModels (weights by name) and tfjs Optimizers. */
export type Checkpointable = Stateful | tf.LayersModel | tf.Optimizer;

/** A score: higher is better. Receives the engine the Checkpoint is attached to. */
export type ScoreFunction = (engine: Engine<any, any>) => number | Promise<number>;

/** Maps `(engine, eventName)` to the global step written in file names (Ignite's `global_step_transform`). */
export type GlobalStepTransform = (engine: Engine<any, any>, eventName: string | null) => number;

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
}

/** What {@link Checkpoint.loadObjects} loaded, and what it skipped (only with `strict: false`). */
export interface LoadReport {
  /** The keys of `toLoad` that were loaded (a model loaded in part is listed here and its gaps in `skipped`). */
  loaded: string[];
  /** What was not loaded and why: `model/hidden/kernel: shape [3,4] in the checkpoint, [3,5] in the model`. */
  skipped: LoadIssue[];
}

/** Arguments of {@link Checkpoint.loadObjects}. */
export interface LoadObjectsOptions {
  /** The objects to restore, keyed as they were saved. */
  toLoad: Record<string, Checkpointable>;
  /** A loaded checkpoint (what `saver.load()` returned), or where to load it from: `{ saver, filename }`. */
  checkpoint: Record<string, unknown> | { saver: Saver; filename: string };
  /** Fail on anything missing or mismatched, before loading anything (default true); false loads what matches. */
  strict?: boolean;
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
const PLACEHOLDERS = ['filename_prefix', 'name', 'global_step', 'score_name', 'score', 'ext'] as const;
type Placeholder = (typeof PLACEHOLDERS)[number];

interface SavedItem {
  priority: number;
  filename: string;
}

type Kind = 'stateful' | 'model' | 'optimizer';

const kindOf = (value: unknown, method: 'stateDict' | 'loadStateDict'): Kind | null => {
  if (value === null || typeof value !== 'object') return null;
  if (typeof (value as Record<string, unknown>)[method] === 'function') return 'stateful';
  if (value instanceof tf.LayersModel) return 'model';
  if (value instanceof tf.Optimizer) return 'optimizer';
  return null;
};

const OPTION_NAMES = [
  'filenamePrefix',
  'scoreFunction',
  'scoreName',
  'nSaved',
  'globalStepTransform',
  'filenamePattern',
  'includeSelf',
  'greaterOrEqual',
] as const;

const isSaver = (value: unknown): value is Saver =>
  isPlainOrInstance(value) && ['save', 'load', 'remove', 'list'].every((m) => typeof value[m] === 'function');

const isPlainOrInstance = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object';

/**
 * Checks `toSave` (method `stateDict`) or `toLoad` (method `loadStateDict`): a non-empty object of named objects,
 * each Stateful, a tf.LayersModel or a tf.Optimizer; returns each key's kind.
 */
function kindsOf(where: string, objects: unknown, method: 'stateDict' | 'loadStateDict'): Map<string, Kind> {
  const subject = method === 'stateDict' ? 'toSave' : 'toLoad';
  const record = checkPlainObject(where, `argument ${subject}`, objects, 'an object of named objects');
  const keys = Object.keys(record);
  if (keys.length === 0) {
    throw new TypeError(
      `${where}: argument ${subject} is empty; pass the objects to ${method === 'stateDict' ? 'save' : 'load'}, e.g. { model, optimizer, trainer }.`,
    );
  }
  const kinds = new Map<string, Kind>();
  for (const key of keys) {
    if (UNSAFE_KEYS.has(key)) throw new TypeError(`${where}: ${subject} may not use the key '${key}'; rename it.`);
    const kind = kindOf(record[key], method);
    if (kind === null) {
      const fix =
        method === 'stateDict'
          ? 'should have a stateDict() method or be a tf.LayersModel or tf.Optimizer'
          : 'cannot be loaded: it should have a loadStateDict(stateDict) method or be a tf.LayersModel or tf.Optimizer';
      throw new TypeError(`${where}: ${subject}.${key} ${fix}, got ${describeValue(record[key])}.`);
    }
    if (kind === 'optimizer' && method === 'stateDict') checkOptimizerSaveable(record[key] as tf.Optimizer, key);
    kinds.set(key, kind);
  }
  return kinds;
}

/** Checks a filename pattern against what the Checkpoint can fill in: a score, a score name, a global step. */
function checkFilenamePattern(
  pattern: string,
  checkpoint: { scoreFunction: unknown; scoreName: unknown; globalStepTransform: unknown },
): string {
  const used = new Set(parsePattern(pattern).flatMap((part) => (typeof part === 'string' ? [] : [part.key])));
  const hasScore = checkpoint.scoreFunction !== null;
  if (used.has('score') && !hasScore) {
    throw new RangeError(
      `Checkpoint: option filenamePattern uses {score} but there is no score; pass scoreFunction or scoreName.`,
    );
  }
  if (used.has('score_name') && checkpoint.scoreName === null) {
    throw new RangeError(
      `Checkpoint: option filenamePattern uses {score_name} but scoreName is not set; pass scoreName.`,
    );
  }
  if (used.has('global_step') && hasScore && checkpoint.globalStepTransform === null) {
    throw new RangeError(
      'Checkpoint: option filenamePattern uses {global_step} but checkpoints ranked by score have no global step; pass globalStepTransform, e.g. globalStepFromEngine(trainer).',
    );
  }
  return pattern;
}

/** Splits a filename pattern into literal text and placeholders; throws a RangeError for unknown or broken ones. */
function parsePattern(pattern: string): (string | { key: Placeholder })[] {
  const parts: (string | { key: Placeholder })[] = [];
  let text = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if ((char === '{' || char === '}') && pattern[i + 1] === char) {
      text += char;
      i++;
    } else if (char === '{') {
      const close = pattern.indexOf('}', i);
      const key = close < 0 ? '' : pattern.slice(i + 1, close);
      if (!(PLACEHOLDERS as readonly string[]).includes(key)) {
        throw new RangeError(
          `Checkpoint: option filenamePattern has an unknown placeholder ${close < 0 ? 'or an unclosed {' : `{${key}}`} in '${pattern}'; use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} (and {{ or }} for a literal brace).`,
        );
      }
      if (text !== '') parts.push(text);
      text = '';
      parts.push({ key: key as Placeholder });
      i = close;
    } else if (char === '}') {
      throw new RangeError(
        `Checkpoint: option filenamePattern has a lone '}' in '${pattern}'; write }} for a literal brace.`,
      );
    } else {
      text += char;
    }
  }
  if (text !== '') parts.push(text);
  return parts;
}

/** Formats a priority as Ignite does: integers as they are, other numbers with 4 decimals (ties to even, like Python). */
export function formatScore(value: number): string {
  if (Number.isInteger(value)) return String(value);
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  if (Number.isNaN(value)) return 'nan';
  // A double lies exactly halfway between two 4-decimal numbers only if it is an odd multiple of 1/32.
  const thirtySeconds = value * 32;
  if (Number.isInteger(thirtySeconds) && thirtySeconds % 2 !== 0 && Math.abs(value) < 2 ** 40) {
    let units = Math.floor(Math.abs(thirtySeconds) * 312.5);
    if (units % 2 !== 0) units += 1;
    const digits = String(units).padStart(5, '0');
    return `${value < 0 ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
  }
  return value.toFixed(4);
}

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
 * After each save, `CheckpointEvents.SAVED_CHECKPOINT` fires on the engine (registered on first use).
 *
 * @param toSave the objects to save, by name: Stateful objects, tfjs LayersModels and Optimizers.
 * @param saver where to save: {@link IndexedDBSaver}, {@link MemorySaver}, `DiskSaver` (node) or your own {@link Saver}.
 * @param options filenamePrefix, scoreFunction, scoreName, nSaved (default 1), globalStepTransform, filenamePattern,
 *   includeSelf, greaterOrEqual.
 *
 * @example
 * const checkpoint = new Checkpoint({ trainer, model, optimizer }, new IndexedDBSaver('run-1'), { nSaved: 2 });
 * trainer.on(Events.ITERATION_COMPLETED({ every: 500 }), checkpoint);
 * // keep the best model by validation accuracy, named after the trainer's epoch:
 * evaluator.on(Events.COMPLETED, new Checkpoint({ model }, saver, {
 *   filenamePrefix: 'best', scoreName: 'accuracy', globalStepTransform: globalStepFromEngine(trainer),
 * })); // best_model_7_accuracy=0.9312.ckpt
 */
export class Checkpoint extends EventHandler implements Stateful {
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
  /** Kept checkpoints, lowest priority first. */
  #saved: SavedItem[] = [];
  readonly #kinds: ReadonlyMap<string, Kind>;
  /** Saves run one after another even if `handle` is called without awaiting. */
  #queue: Promise<void> = Promise.resolve();

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
    const given = checkOptions(where, options, OPTION_NAMES);
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

  /** Forgets the kept checkpoints (the files stay in the saver), e.g. before a new independent run. */
  reset(): void {
    this.#saved = [];
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
    registerSavedEvent(engine);
    return super.attach(engine, event);
  }

  /**
   * Called by the engine on the event it was added on: saves a checkpoint if its priority earns a place, removes the
   * one it displaces, and fires `CheckpointEvents.SAVED_CHECKPOINT`.
   */
  handle(engine: Engine<any, any>): Promise<void> {
    const run = this.#queue.then(() => this.#save(engine));
    this.#queue = run.catch(() => {});
    return run;
  }

  async #save(engine: Engine<any, any>): Promise<void> {
    if (!(engine instanceof Engine)) {
      throw new TypeError(
        `Checkpoint: handle(engine) should be given the Engine it is attached to, got ${describeValue(engine)}.`,
      );
    }
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
        return;
      }
    } else {
      globalStep ??= engine.state.iteration;
      priority = globalStep;
    }
    if (!(this.#hasRoom(this.#saved) || this.#beats(priority))) return;

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

    const states: Record<string, unknown> = {};
    for (const key of keys) states[key] = await this.#stateOf(key);
    let data: unknown = states;
    if (this.includeSelf) states.checkpointer = { saved: saved.map((item) => [item.priority, item.filename]) };
    else if (keys.length === 1) data = states[name];

    await this.saver.save(data, filename, metadata);
    this.#saved = saved;
    if (evicted !== null) await this.saver.remove(evicted);

    registerSavedEvent(engine);
    engine.state.savedCheckpoint = (Number(engine.state.savedCheckpoint) || 0) + 1;
    await engine.fireEvent(CheckpointEvents.SAVED_CHECKPOINT);
  }

  async #stateOf(key: string): Promise<unknown> {
    const object = this.toSave[key];
    switch (this.#kinds.get(key)) {
      case 'model':
        return modelStateDict(object as tf.LayersModel);
      case 'optimizer':
        return optimizerStateDict(object as tf.Optimizer);
      default:
        return (object as Stateful).stateDict();
    }
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

  /** Restores the kept checkpoints from {@link stateDict}, so that rotation goes on after a resume. */
  loadStateDict(stateDict: { saved: [number, string][] }): void {
    const saved = (stateDict as { saved?: unknown } | null)?.saved;
    if (
      !Array.isArray(saved) ||
      !saved.every((item) => Array.isArray(item) && typeof item[0] === 'number' && typeof item[1] === 'string')
    ) {
      throw new TypeError(
        `Checkpoint.loadStateDict: argument stateDict should be { saved: [priority, filename][] } as stateDict() returns, got ${describeValue(stateDict)}.`,
      );
    }
    this.#saved = saved.map(([priority, filename]) => ({ priority, filename })).sort((a, b) => a.priority - b.priority);
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
   * @returns which keys were loaded and what was skipped.
   * @example
   * await Checkpoint.loadObjects({ toLoad: { trainer, model, optimizer }, checkpoint: { saver, filename: 'checkpoint_500.ckpt' } });
   * const { skipped } = await Checkpoint.loadObjects({ toLoad: { model }, checkpoint: pretrained, strict: false });
   */
  static async loadObjects({ toLoad, checkpoint, strict = true }: LoadObjectsOptions): Promise<LoadReport> {
    const where = 'Checkpoint.loadObjects';
    const kinds = kindsOf(where, toLoad, 'loadStateDict');
    checkBoolean(where, 'option strict', strict);
    const keys = [...kinds.keys()];

    let data: unknown;
    const source = checkpoint as { saver?: Saver; filename?: unknown };
    if (!isPlainObject(checkpoint)) {
      failType(where, 'argument checkpoint', 'a loaded checkpoint object or { saver, filename }', checkpoint);
    }
    if (typeof source.saver?.load === 'function' && typeof source.filename === 'string') {
      data = await source.saver.load(source.filename);
    } else {
      data = checkpoint;
    }
    const unsafe = findUnsafeKey(data);
    if (unsafe !== null) {
      throw new CheckpointError(unsafeKeyMessage(`${where}: the checkpoint`, unsafe), { code: 'UNSAFE_KEY' });
    }
    if (!isPlainObject(data)) {
      throw new CheckpointError(`${where}: the checkpoint should be an object, got ${describeValue(data)}.`, {
        code: 'MISMATCH',
      });
    }

    // Phase 1: find every problem before touching any object.
    const entries: { key: string; state: unknown }[] = [];
    const skipped: LoadIssue[] = [];
    if (keys.length === 1 && !Object.hasOwn(data, keys[0]!)) {
      entries.push({ key: keys[0]!, state: data });
    } else {
      for (const key of keys) {
        if (Object.hasOwn(data, key)) entries.push({ key, state: data[key] });
        else
          skipped.push({
            path: key,
            reason: `not found in the checkpoint (its keys: ${Object.keys(data).join(', ')})`,
          });
      }
    }
    if (strict && skipped.length > 0) {
      throw new CheckpointError(
        `${where}: ${skipped.map((issue) => `object '${issue.path}' from toLoad is ${issue.reason}`).join('; ')}. Use the keys the checkpoint was saved with, or pass strict: false to load the others.`,
        { code: 'MISMATCH' },
      );
    }
    const plans = new Map<string, LoadPlan>();
    for (const { key, state } of entries) {
      const kind = kinds.get(key);
      if (kind === 'model') plans.set(key, planModelLoad(toLoad[key] as tf.LayersModel, state, key, where));
      else if (kind === 'optimizer')
        plans.set(key, await planOptimizerLoad(toLoad[key] as tf.Optimizer, state, key, where));
    }
    if (strict) {
      for (const [key, plan] of plans)
        if (plan.issues.length > 0) throw mismatchError(where, key, plan.issues, plan.hint);
    }

    // Phase 2: load.
    const loaded: string[] = [];
    for (const { key, state } of entries) {
      const plan = plans.get(key);
      if (plan !== undefined) {
        skipped.push(...plan.issues);
        await plan.apply();
        if (kinds.get(key) === 'model' || plan.issues.length === 0) loaded.push(key);
        continue;
      }
      try {
        await (toLoad[key] as Stateful).loadStateDict(state);
      } catch (error) {
        throw new CheckpointError(
          `${where}: toLoad.${key}.loadStateDict() rejected the checkpoint's '${key}' entry: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      loaded.push(key);
    }
    return { loaded, skipped };
  }
}

/**
 * A `globalStepTransform` that reads another engine's progress: its epoch for epoch events (STARTED, EPOCH_*,
 * COMPLETED) and its iteration for iteration events (ITERATION_*, GET_BATCH_*). The event is the one that triggered the
 * save, unless `event` is given. Typical use: name the evaluator's best-model checkpoints after the trainer's epoch.
 *
 * @param engine the engine whose counter to read (usually the trainer).
 * @param event read the counter of this event instead of the triggering one, e.g. `Events.ITERATION_COMPLETED`.
 * @example
 * evaluator.on(Events.COMPLETED, new Checkpoint({ model }, saver, {
 *   scoreName: 'accuracy', globalStepTransform: globalStepFromEngine(trainer),
 * }));
 */
export function globalStepFromEngine(engine: Engine<any, any>, event?: EventLike): GlobalStepTransform {
  if (!(engine instanceof Engine)) {
    throw new TypeError(`globalStepFromEngine: argument engine should be an Engine, got ${describeValue(engine)}.`);
  }
  const fixed = event === undefined ? null : eventName(event);
  return (_engine, triggering) => {
    const name = fixed ?? triggering;
    if (name === null) {
      throw new RangeError(
        'globalStepFromEngine: no event to read a counter for; pass one as the second argument (e.g. Events.EPOCH_COMPLETED reads state.epoch).',
      );
    }
    try {
      return engine.getEventAttribValue(name);
    } catch (cause) {
      throw new RangeError(
        `globalStepFromEngine: cannot tell which counter of the engine goes with event '${name}'; pass an event as the second argument (e.g. Events.EPOCH_COMPLETED reads state.epoch), map one with registerEvents(events, { eventToAttr }), or write the transform yourself: () => engine.state.myCounter.`,
        { cause },
      );
    }
  };
}

/** Options of {@link resumeOrStart}. */
export interface ResumeOptions {
  /** Where the checkpoints are; it must have `latest()` (all kindling savers do). */
  saver: Saver;
  /** The objects to restore, keyed as they were saved: e.g. `{ trainer, model, optimizer, checkpointer }`. */
  toLoad: Record<string, Checkpointable>;
  /** The engine whose progress is reported; default the first Engine in `toLoad`. */
  engine?: Engine<any, any>;
  /** Passed to {@link Checkpoint.loadObjects} (default true). */
  strict?: boolean;
  /** Only resume from checkpoints whose file name passes this test (e.g. skip best-model files). */
  filter?: LatestOptions['filter'];
}

/** What {@link resumeOrStart} found. */
export interface ResumeInfo {
  /** True when a checkpoint was loaded. */
  resumed: boolean;
  /** The engine's iteration after loading (0 when starting fresh). */
  iteration: number;
  /** The checkpoint loaded, or null. */
  filename: string | null;
  /** What loadObjects loaded and skipped, or null when starting fresh. */
  report: LoadReport | null;
}

/**
 * On page load: takes the saver's lock (so a second tab fails now, not mid-training), finds the newest checkpoint
 * that loads (damaged ones are skipped with a warning through the kindling logger), and restores every object of
 * `toLoad` from it. Then call `trainer.run(...)` as usual: the engine continues from the restored iteration (a
 * DeterministicEngine also fast-forwards its data). Include a Checkpoint saved with `includeSelf` under the key
 * `checkpointer` so that it keeps rotating the files saved before the reload. RNG state can join as a Stateful:
 * `{ stateDict: getRandomState, loadStateDict: setRandomState }`.
 *
 * @returns `{ resumed, iteration, filename, report }`.
 * @example
 * const saver = new IndexedDBSaver('mnist');
 * const checkpoint = new Checkpoint({ trainer, model, optimizer }, saver, { nSaved: 2 });
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), checkpoint);
 * const { resumed, iteration } = await resumeOrStart({ saver, toLoad: { trainer, model, optimizer } });
 * await trainer.run(loader, { maxEpochs: 10 });
 */
export async function resumeOrStart(options: ResumeOptions): Promise<ResumeInfo> {
  const where = 'resumeOrStart';
  checkPlainObject(where, 'argument options', options, 'an object { saver, toLoad }');
  checkOptions(where, options, ['saver', 'toLoad', 'engine', 'strict', 'filter']);
  const { saver, toLoad, strict = true, filter } = options;
  if (!isPlainOrInstance(saver) || typeof saver.latest !== 'function') {
    failType(where, 'option saver', 'a Saver with a latest() method (IndexedDBSaver, MemorySaver, DiskSaver)', saver);
  }
  kindsOf(where, toLoad, 'loadStateDict');
  const engine =
    options.engine ?? Object.values(toLoad).find((value): value is Engine<any, any> => value instanceof Engine);
  if (typeof saver.acquireLock === 'function') await saver.acquireLock();
  const logger = getLogger();
  const latest = await saver.latest({
    onWarning: (message) => logger.warn(message),
    ...(filter === undefined ? {} : { filter }),
  });
  if (latest === null) return { resumed: false, iteration: engine?.state.iteration ?? 0, filename: null, report: null };
  if (!isPlainObject(latest.data)) {
    throw new CheckpointError(
      `resumeOrStart: checkpoint '${latest.filename}' holds ${describeValue(latest.data)}, not an object of saved states.`,
      { code: 'MISMATCH' },
    );
  }
  const report = await Checkpoint.loadObjects({ toLoad, checkpoint: latest.data, strict });
  return { resumed: true, iteration: engine?.state.iteration ?? 0, filename: latest.filename, report };
}
