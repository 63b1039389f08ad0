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
  if (latest === null) return { resumed: false, iteration: engine?.state.iteration ?? 0, filename: null, report: null };
  if (!isPlainObject(latest.data)) {
    throw new CheckpointError(
      `resumeOrStart: checkpoint '${latest.filename}' holds ${describeValue(latest.data)}, not an object of saved states.`,
      { code: 'MISMATCH' },
    );
  }
  const report = await loadObjects({ toLoad, checkpoint: latest.data, strict });
  return { resumed: true, iteration: engine?.state.iteration ?? 0, filename: latest.filename, report };
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object';
