// setupResumableTraining: one call that checkpoints everything a run carries, resumes from the newest good checkpoint,
// knows a finished run, and says what it did. Built on Checkpoint and resumeOrStart.
import { Engine, type EventSpec, Events, type RemovableEventHandle, type RunData, type State } from '../engine';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOptions,
  checkPlainObject,
  checkString,
  failType,
} from '../internal';
import type { LatestOptions, Saver } from '../storage';
import { Checkpoint, type CheckpointOptions } from './checkpoint/checkpoint';
import { type Checkpointable, loadObjects } from './checkpoint/load-objects';
import { type ResumeInfo, resumeOrStart } from './checkpoint/resume';
import type { LoadIssue } from './checkpoint/tf-state';

/** Checkpoint options that {@link setupResumableTraining} decides itself: a resumable run ranks by step. */
const DECIDED = ['scoreFunction', 'scoreName', 'globalStepTransform', 'includeSelf', 'greaterOrEqual'] as const;

/**
 * Options of the Checkpoint that {@link setupResumableTraining} makes, beyond `nSaved` and `filenamePrefix`: any
 * option `Checkpoint` accepts except those that would rank checkpoints by anything but their step (scoreFunction,
 * scoreName, globalStepTransform, greaterOrEqual) or leave the Checkpoint's own list out (includeSelf). Passed through
 * as given, so options Checkpoint gains later (e.g. asynchronous saves) work here too.
 */
export type ResumableCheckpointOptions = Omit<
  CheckpointOptions,
  (typeof DECIDED)[number] | 'nSaved' | 'filenamePrefix'
> &
  Record<string, unknown>;

/** Options of {@link setupResumableTraining}. */
export interface ResumableTrainingOptions {
  /** Where checkpoints go and come from: `IndexedDBSaver` in the page, `DiskSaver` in Node, `MemorySaver` in tests. */
  saver: Saver;
  /**
   * Everything else the run carries, by name: model, optimizer, metrics, schedulers, EarlyStopping, EMA, chart
   * history (`LiveCharts`)... The trainer is added under `trainer`, the Checkpoint's own list under `checkpointer`.
   */
  toSave: Record<string, Checkpointable>;
  /** Save every this many iterations, besides each epoch end (default 100; null: at epoch ends only). */
  saveEveryIters?: number | null;
  /** How many checkpoints to keep (default 2, so that a damaged newest one leaves one to fall back on). */
  nSaved?: number;
  /** Prefix of the checkpoint file names (default none). */
  filenamePrefix?: string;
  /** Resume from this checkpoint instead of the newest good one (a name from `saver.list()`). */
  from?: string | null;
  /** Only resume from checkpoints whose file name passes this test (ignored with `from`). */
  filter?: LatestOptions['filter'];
  /** Fail on anything missing or mismatched in the checkpoint, before loading anything (default true). */
  strict?: boolean;
  /** Further options of the Checkpoint, passed through (see {@link ResumableCheckpointOptions}). */
  checkpointOptions?: ResumableCheckpointOptions;
}

/** What {@link setupResumableTraining} did when it was set up. Plain data (it crosses to a Worker's page as it is). */
export interface ResumeReport {
  /** True when a checkpoint was loaded. */
  resumed: boolean;
  /** The trainer's iteration after loading (0 when starting fresh). */
  iteration: number;
  /** Epochs completed at that iteration (`iteration / epochLength`, rounded down; 0 when starting fresh). */
  epoch: number;
  /** True when the loaded run had reached its own end (its `maxEpochs` or `maxIters`). */
  finished: boolean;
  /** The checkpoint loaded, or null. */
  name: string | null;
  /** The keys of `toSave` that were loaded. */
  loaded: string[];
  /** What was not loaded and why (only with `strict: false`). */
  skipped: LoadIssue[];
  /** One line for a log: `resumed from checkpoint_50.ckpt at iteration 50 (epoch 1 of 3 done)`. */
  summary: string;
}

/** What {@link ResumableTraining.run} did. */
export interface ResumableRun<Batch = unknown, Output = unknown> {
  /** False when the limits asked for were already reached, so that nothing was trained. */
  trained: boolean;
  /** The trainer's state afterwards. */
  state: State<Batch, Output>;
}

/**
 * A trainer set up by {@link setupResumableTraining}: its Checkpoint, what the setup found, and `run()`, which trains
 * on from there and never trains a finished run again.
 */
export class ResumableTraining<Batch = unknown, Output = unknown> implements RemovableEventHandle {
  /** The trainer. */
  readonly trainer: Engine<Batch, Output>;
  /** The Checkpoint of everything (`includeSelf`, ranked by iteration). */
  readonly checkpoint: Checkpoint;
  /** What the setup loaded, or that it started fresh. */
  readonly report: ResumeReport;
  readonly #events: EventSpec;
  #handle: RemovableEventHandle | null = null;
  #isRemoved = false;

  /** @internal made by {@link setupResumableTraining}. */
  constructor(trainer: Engine<Batch, Output>, checkpoint: Checkpoint, report: ResumeReport, events: EventSpec) {
    this.trainer = trainer;
    this.checkpoint = checkpoint;
    this.report = report;
    this.#events = events;
    this.#attach();
  }

  /**
   * Trains until `options`' limits (as `trainer.run`), continuing from where the trainer is: a resumed run goes on at
   * the loaded iteration, a paused one where it stopped. When the trainer has already reached those limits (a finished
   * run loaded after a reload, or a second call), it trains nothing and resolves with `trained: false`, instead of
   * starting the run over on trained weights as `trainer.run` would. Ask for more epochs to train on.
   *
   * The checkpoint handlers are put back last on the trainer first, so every handler added before this call (metrics,
   * evaluation, charts) has seen an iteration before its checkpoint is taken.
   *
   * @returns whether it trained, and the trainer's state.
   * @example
   * const { trained } = await training.run(loader, { maxEpochs: 10 });
   * if (!trained) log('already trained for 10 epochs: ask for more to train on');
   */
  async run(
    data: RunData<Batch> | null = null,
    options: { maxEpochs?: number; maxIters?: number; epochLength?: number } = {},
  ): Promise<ResumableRun<Batch, Output>> {
    if (this.#isRemoved) {
      throw new Error(
        'ResumableTraining.run: this training was removed (remove() took its checkpoints off); set it up again.',
      );
    }
    checkOptions('ResumableTraining.run', options, ['maxEpochs', 'maxIters', 'epochLength']);
    if (hasReached(this.trainer, options)) return { trained: false, state: this.trainer.state };
    this.#attach();
    const state = await this.trainer.run(data, options);
    return { trained: true, state };
  }

  /** Takes the checkpoint handlers off the trainer (the stored checkpoints stay). */
  remove(): void {
    this.#isRemoved = true;
    this.#handle?.remove();
    this.#handle = null;
  }

  /** The same as {@link remove}, for `using`. */
  [Symbol.dispose](): void {
    this.remove();
  }

  /** (Re)adds the checkpoint handlers, after every handler the trainer has now. */
  #attach(): void {
    this.#handle?.remove();
    this.#handle = this.checkpoint.attach(this.trainer, this.#events);
  }
}

/**
 * Makes a run survive a reload, a crash or a closed tab, in one call (the resumable part of Ignite's
 * `setup_common_training_handlers`): it adds a {@link Checkpoint} of the trainer and everything in `toSave` every
 * `saveEveryIters` iterations and at each epoch end, keeping the `nSaved` newest, then loads the newest checkpoint that
 * loads (damaged ones are skipped with a warning) and reports what it found. `run()` then trains on from there; for a
 * run that had already finished it trains nothing (say so to the user; ask for more epochs to go on).
 *
 * For an exact resume, mid-epoch included, use a trainer made with `createSupervisedTrainer(..., { deterministic: true
 * })` (a DeterministicEngine carries the seed and RNG state, and skips to the batch it stopped at) and put every object
 * that changes during training in `toSave`: metrics attached to the trainer, schedulers, EarlyStopping, EMAHandler,
 * the chart history (`LiveCharts` is Stateful). The saver's lock is taken first, so a second tab fails at once with a
 * `CheckpointError` `LOCKED`.
 *
 * @param trainer the engine to checkpoint and resume.
 * @param options `{ saver, toSave, saveEveryIters?, nSaved?, filenamePrefix?, from?, filter?, strict?, checkpointOptions? }`,
 *   see {@link ResumableTrainingOptions}.
 * @returns a {@link ResumableTraining}: `report`, `checkpoint`, `run(data, options)`, `remove()`.
 * @example
 * const training = await setupResumableTraining(trainer, {
 *   saver: new IndexedDBSaver('digits'),
 *   toSave: { model, optimizer, charts },
 *   saveEveryIters: 50,
 * });
 * log(training.report.summary); // "resumed from checkpoint_150.ckpt at iteration 150 (epoch 3 of 10 done)"
 * await training.run(loader, { maxEpochs: 10 });
 */
export async function setupResumableTraining<Batch, Output>(
  trainer: Engine<Batch, Output>,
  options: ResumableTrainingOptions,
): Promise<ResumableTraining<Batch, Output>> {
  const where = 'setupResumableTraining';
  if (!(trainer instanceof Engine))
    failType(where, 'argument trainer', 'an Engine (e.g. from createSupervisedTrainer)', trainer);
  checkPlainObject(where, 'argument options', options, 'an object { saver, toSave, ... }');
  checkOptions(where, options, [
    'saver',
    'toSave',
    'saveEveryIters',
    'nSaved',
    'filenamePrefix',
    'from',
    'filter',
    'strict',
    'checkpointOptions',
  ]);
  const { saver, saveEveryIters = 100, nSaved = 2, filenamePrefix, from = null, filter, strict = true } = options;
  const toSave = checkPlainObject(
    where,
    'option toSave',
    options.toSave,
    'an object of named objects: { model, optimizer, ... }',
  );
  for (const key of ['trainer', 'checkpointer'] as const) {
    if (Object.hasOwn(toSave, key) && !(key === 'trainer' && toSave[key] === trainer)) {
      throw new RangeError(
        `${where}: option toSave may not use the key '${key}' (the ${key === 'trainer' ? 'trainer' : "Checkpoint's own list"} goes there); rename it.`,
      );
    }
  }
  const every = checkInteger(where, 'option saveEveryIters', saveEveryIters, { min: 1, nullable: true });
  checkInteger(where, 'option nSaved', nSaved, { min: 1 });
  if (from !== null) checkString(where, 'option from', from);
  if (filter !== undefined) checkFunction(where, 'option filter', filter, '(filename, metadata) => boolean');
  checkBoolean(where, 'option strict', strict);
  const extra = checkCheckpointOptions(where, options.checkpointOptions);

  const objects = { trainer: trainer as Engine<any, any>, ...(toSave as Record<string, Checkpointable>) };
  const checkpoint = new Checkpoint(objects, saver, {
    ...extra,
    nSaved,
    includeSelf: true,
    ...(filenamePrefix === undefined ? {} : { filenamePrefix }),
  });
  const toLoad = { ...objects, checkpointer: checkpoint };
  let info: ResumeInfo;
  if (from === null) {
    info = await resumeOrStart({ saver, toLoad, engine: trainer, strict, ...(filter === undefined ? {} : { filter }) });
  } else {
    if (typeof saver.acquireLock === 'function') await saver.acquireLock();
    const report = await loadObjects({ toLoad, checkpoint: { saver, filename: from }, strict });
    const { iteration, epoch } = trainer.state;
    info = { resumed: true, iteration, epoch, finished: isRunFinished(trainer), name: from, filename: from, report };
  }
  const iterationFilter = every === null ? null : Events.ITERATION_COMPLETED({ eventFilter: savesAt(every) });
  const events: EventSpec =
    iterationFilter === null ? Events.EPOCH_COMPLETED : iterationFilter.or(Events.EPOCH_COMPLETED);
  return new ResumableTraining(trainer, checkpoint, describeResume(info, trainer), events);
}

/**
 * Saves at multiples of `every`, except at an epoch's last iteration: EPOCH_COMPLETED saves that one moments later,
 * after the epoch's handlers (evaluation, epoch metrics), under the same name.
 */
function savesAt(every: number): (engine: Engine<any, any>, iteration: number) => boolean {
  return (engine, iteration) => {
    const { epochLength } = engine.state;
    return iteration % every === 0 && (epochLength === null || iteration % epochLength !== 0);
  };
}

function checkCheckpointOptions(where: string, options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  const given = checkPlainObject(where, 'option checkpointOptions', options, 'an object of Checkpoint options');
  for (const key of [...DECIDED, 'nSaved', 'filenamePrefix']) {
    if (Object.hasOwn(given, key)) {
      const fix =
        key === 'nSaved' || key === 'filenamePrefix'
          ? `pass ${key} to ${where} itself`
          : 'a resumable run keeps its newest checkpoints, ranked by iteration; keep the best model with a Checkpoint of its own';
      throw new RangeError(`${where}: option checkpointOptions.${key} is decided by ${where}: ${fix}.`);
    }
  }
  return given;
}

/** The report of a resume: resumeOrStart's `{ resumed, iteration, epoch, finished, name }`, what was loaded, a summary. */
function describeResume(info: ResumeInfo, trainer: Engine<any, any>): ResumeReport {
  const { state } = trainer;
  const { iteration, epoch, finished, name } = info;
  const loaded = info.report?.loaded ?? [];
  const skipped = info.report?.skipped ?? [];
  let summary: string;
  if (!info.resumed) summary = 'started fresh: no checkpoint to resume from';
  else {
    const total = state.maxEpochs !== null ? ` of ${state.maxEpochs}` : '';
    summary = `resumed from ${name} at iteration ${iteration} (epoch ${epoch}${total} done)`;
    if (finished) summary += ': the run had finished; ask for more epochs to train on';
    if (skipped.length > 0) summary += `; not loaded: ${skipped.map((issue) => issue.path).join(', ')}`;
  }
  return { resumed: info.resumed, iteration, epoch, finished, name, loaded, skipped, summary };
}

/** True when the engine's state has reached its own limits (`maxIters`, or `maxEpochs` epochs of `epochLength`). */
function isRunFinished(engine: Engine<any, any>): boolean {
  const { maxIters, maxEpochs, epochLength, iteration } = engine.state;
  if (maxIters !== null) return iteration >= maxIters;
  return maxEpochs !== null && epochLength !== null && iteration >= maxEpochs * epochLength;
}

/** True when `options`' limits are already reached by the engine's progress (so running again would start over). */
function hasReached(engine: Engine<any, any>, options: { maxEpochs?: number; maxIters?: number }): boolean {
  const { iteration, epochLength } = engine.state;
  if (iteration === 0) return false;
  if (options.maxIters !== undefined && options.maxIters !== null) return iteration >= options.maxIters;
  if (options.maxEpochs !== undefined && options.maxEpochs !== null) {
    return epochLength !== null && iteration >= options.maxEpochs * epochLength;
  }
  return isRunFinished(engine);
}
