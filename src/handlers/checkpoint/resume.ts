// resumeOrStart: on page load, restore everything from the newest checkpoint that loads, or start fresh.
import { Engine, getLogger } from '../../engine';
import { checkOptions, checkPlainObject, describeValue, failType, isPlainObject } from '../../internal';
import { CheckpointError, type LatestOptions, type Saver } from '../../storage';
import { type Checkpointable, kindsOf, type LoadReport, loadObjects } from './load-objects';

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
  /** The epochs the engine has completed after loading (`engine.state.epoch`; 0 when starting fresh). */
  epoch: number;
  /**
   * True when the loaded run had reached its end (`maxEpochs` or `maxIters` of the run that saved it): then
   * `trainer.run(data)` with the same limits would start a NEW run from iteration 0 on top of the trained weights (the
   * reference engine's rule), and its checkpoints would replace the good ones. Run only while `epoch < maxEpochs`,
   * or pass a larger `maxEpochs` to train on. False when starting fresh or when `toLoad` has no engine.
   */
  finished: boolean;
  /** The file name of the checkpoint loaded, or null when starting fresh. */
  name: string | null;
  /** The same as `name` (the first name of this field). */
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
 * A run that had finished when it was saved is reported with `finished: true` (and its `epoch`): calling
 * `trainer.run(loader, { maxEpochs })` with the same `maxEpochs` would start a new run from iteration 0 (the reference
 * engine's rule), so guard the call with `epoch < maxEpochs` as below; a larger `maxEpochs` trains on.
 *
 * @returns `{ resumed, iteration, epoch, finished, name }` (plus `filename`, the same as `name`, and `report`, what
 *   was loaded and skipped).
 * @example
 * const saver = new IndexedDBSaver('mnist');
 * const checkpoint = new Checkpoint({ trainer, model, optimizer }, saver, { nSaved: 2, includeSelf: true });
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), checkpoint);
 * const { resumed, epoch, finished } = await resumeOrStart({ saver, toLoad: { trainer, model, optimizer, checkpointer: checkpoint } });
 * const maxEpochs = 10;
 * if (epoch < maxEpochs) await trainer.run(loader, { maxEpochs }); // a finished run is not trained again
 */
export async function resumeOrStart(options: ResumeOptions): Promise<ResumeInfo> {
  const where = 'resumeOrStart';
  checkPlainObject(where, 'argument options', options, 'an object { saver, toLoad }');
  checkOptions(where, options, ['saver', 'toLoad', 'engine', 'strict', 'filter']);
  const { saver, toLoad, strict = true, filter } = options;
  if (!isObject(saver) || typeof saver.latest !== 'function') {
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
  if (latest === null) return { ...progressOf(engine), resumed: false, name: null, filename: null, report: null };
  if (!isPlainObject(latest.data)) {
    throw new CheckpointError(
      `resumeOrStart: checkpoint '${latest.filename}' holds ${describeValue(latest.data)}, not an object of saved states.`,
      { code: 'MISMATCH' },
    );
  }
  const report = await loadObjects({ toLoad, checkpoint: latest.data, strict });
  return { ...progressOf(engine), resumed: true, name: latest.filename, filename: latest.filename, report };
}

/**
 * Where `engine` stands: its iteration and completed epochs, and whether its run is over: its epochs reached
 * `maxEpochs` or its iterations `maxIters` (a loaded state's epoch counts only the epochs whose EPOCH_COMPLETED ran).
 */
function progressOf(engine: Engine<any, any> | undefined): { iteration: number; epoch: number; finished: boolean } {
  if (engine === undefined) return { iteration: 0, epoch: 0, finished: false };
  const { iteration, epoch, maxEpochs, maxIters } = engine.state;
  const finished = (maxIters !== null && iteration >= maxIters) || (maxEpochs !== null && epoch >= maxEpochs);
  return { iteration, epoch, finished };
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';
