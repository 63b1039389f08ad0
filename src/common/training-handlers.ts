// setupCommonTrainingHandlers: the handlers most training runs want, in one call (Ignite's
// contrib/engines/common.py, adapted: a Saver instead of a path, one progress bar, no GPU or distributed options).
import * as tf from '@tensorflow/tfjs';
import { ProgressBar, type ProgressBarOptions } from '../browser';
import { Engine, Events, type RemovableEventHandle } from '../engine';
import {
  Checkpoint,
  type Checkpointable,
  type CheckpointOptions,
  ParamGroupScheduler,
  ParamScheduler,
  ReduceLROnPlateauScheduler,
  TerminateOnNan,
} from '../handlers';
import { CHECKPOINT_OPTION_NAMES } from '../handlers/checkpoint/checkpoint';
import {
  checkBoolean,
  checkInteger,
  checkOptions,
  checkPlainObject,
  checkString,
  describeValue,
  failRange,
  failType,
  isPlainObject,
  UNSAFE_KEYS,
} from '../internal';
import { RunningAverage, RunningBatchWise } from '../metrics';
import type { Saver } from '../storage';

const WHERE = 'setupCommonTrainingHandlers';

/** Options of {@link setupCommonTrainingHandlers}; Ignite's names in camelCase, a `saver` where Ignite takes a path. */
export interface CommonTrainingOptions {
  /** Objects to checkpoint every `saveEveryIters` iterations, by name (trainer, model, optimizer, ...); needs `saver`. */
  toSave?: Record<string, Checkpointable>;
  /** Where checkpoints go: `new IndexedDBSaver(name)`, `new MemorySaver()`, `new DiskSaver(dir)` (kindling/node). */
  saver?: Saver;
  /** Iterations between checkpoints (default 1000). */
  saveEveryIters?: number;
  /** Options of the {@link Checkpoint} (`nSaved`, `includeSelf`, ...); `filenamePrefix` defaults to `'training'`. */
  checkpointOptions?: CheckpointOptions;
  /** An optimizer scheduler or a {@link ParamGroupScheduler}, attached at `ITERATION_STARTED`. */
  lrScheduler?: ParamScheduler | ParamGroupScheduler;
  /**
   * Names of the trainer's outputs to smooth with a {@link RunningAverage} each, into `state.metrics[name]`: entries of
   * an object output, positions of an array output, or the output itself when it is a number or a tensor (the
   * supervised trainer's loss: `outputNames: ['loss']`).
   */
  outputNames?: string[];
  /** Draw a progress bar (default true). */
  withPbars?: boolean;
  /** The bar follows iterations within each epoch (default true); false: one bar over the epochs, kept at the end. */
  withPbarOnIters?: boolean;
  /** Iterations between two advances of the iteration bar (default 1; the bar also limits redraws to one per 100 ms). */
  logEveryIters?: number;
  /** Where and how the bar draws (`{ container }` in the page, `{ stream }` or `{ sink }`); default as {@link ProgressBar}. */
  progressBarOptions?: ProgressBarOptions;
  /** Stop the run when the output holds a NaN or an infinity, with {@link TerminateOnNan} (default true). */
  stopOnNan?: boolean;
}

/** What {@link setupCommonTrainingHandlers} attached: each handler (or null), and `remove()` to take them all off. */
export interface CommonTrainingHandlers extends RemovableEventHandle {
  /** Stops the run on a NaN or infinite output (`stopOnNan`), or null. */
  readonly terminateOnNan: TerminateOnNan | null;
  /** The learning-rate scheduler as attached, or null. */
  readonly lrScheduler: ParamScheduler | ParamGroupScheduler | null;
  /** Saves `toSave` every `saveEveryIters` iterations, or null. */
  readonly checkpoint: Checkpoint | null;
  /** One running average per output name, attached under that name. */
  readonly runningAverages: Readonly<Record<string, RunningAverage>>;
  /** The progress bar, or null. */
  readonly progressBar: ProgressBar | null;
  /** Takes every handler above off the trainer (and frees the running averages' device state). */
  remove(): void;
}

const OPTION_NAMES = [
  'toSave',
  'saver',
  'saveEveryIters',
  'checkpointOptions',
  'lrScheduler',
  'outputNames',
  'withPbars',
  'withPbarOnIters',
  'logEveryIters',
  'progressBarOptions',
  'stopOnNan',
] as const;

/** Ignite's options that kindling does without, and what to write instead. */
const IGNITE_ONLY: Readonly<Record<string, string>> = {
  outputPath:
    "kindling saves through a Saver, not a path: pass saver: new DiskSaver(dir) (from 'kindling/node'), or new IndexedDBSaver(name) in the page.",
  saveHandler:
    'kindling calls it saver: pass saver: new IndexedDBSaver(name), new MemorySaver() or new DiskSaver(dir).',
  trainSampler:
    'kindling trains on one device and has no distributed sampler; leave it out (DataLoader({ shuffle: true }) draws a new order each epoch).',
  withGpuStats: 'tfjs reports no GPU statistics; log tf.memory() from a handler instead, and leave this option out.',
  clearCudaCache: 'tfjs has no cache to clear: tensors are freed when disposed. Leave this option out.',
  ...Object.fromEntries(
    CHECKPOINT_OPTION_NAMES.map((name) => [
      name,
      `It is an option of Checkpoint: pass checkpointOptions: { ${name} }.`,
    ]),
  ),
};

/**
 * Attaches the handlers most training runs want to `trainer` (Ignite's `setup_common_training_handlers`):
 *
 * - {@link TerminateOnNan} at `ITERATION_COMPLETED` (`stopOnNan`, default true);
 * - `lrScheduler` at `ITERATION_STARTED`;
 * - a {@link RunningAverage} of each of `outputNames`, into `trainer.state.metrics[name]`;
 * - a {@link Checkpoint} of `toSave` into `saver` every `saveEveryIters` iterations (file names
 *   `training_checkpoint_{iteration}.ckpt`; `checkpointOptions` go to the Checkpoint);
 * - a {@link ProgressBar} (`withPbars`, default true) showing every metric: over the iterations of each epoch, its
 *   title counting epochs (`Epoch [2/10]`), or with `withPbarOnIters: false` over the epochs.
 *
 * Differences from Ignite: a `saver` replaces `outputPath`/`saveHandler`; one bar instead of two (the iteration bar
 * already counts epochs, and two bars cannot share one terminal line); the running averages are attached before the
 * checkpoint, so that a Checkpoint of them saves this iteration's value; `trainSampler`, `withGpuStats` and
 * `clearCudaCache` do not apply and are rejected with what to do instead. Everything is checked before anything is
 * attached.
 *
 * @param trainer - the training engine.
 * @param options - see {@link CommonTrainingOptions}.
 * @returns the attached handlers; `remove()` (or the end of a `using` block) takes them all off.
 * @example
 * const common = setupCommonTrainingHandlers(trainer, {
 *   toSave: { trainer, model, optimizer }, saver: new IndexedDBSaver('digits'), saveEveryIters: 500,
 *   lrScheduler: new CosineAnnealingScheduler(optimizer, { startValue: 1e-2, endValue: 1e-4, cycleSize: 1000 }),
 *   outputNames: ['loss'],
 * });
 * await trainer.run(loader, { maxEpochs: 10 });
 * common.remove();
 */
export function setupCommonTrainingHandlers(
  trainer: Engine<any, any>,
  options: CommonTrainingOptions = {},
): CommonTrainingHandlers {
  if (!(trainer instanceof Engine)) {
    failType(WHERE, 'argument trainer', 'an Engine', trainer, 'Pass the trainer, e.g. createSupervisedTrainer(...).');
  }
  const given = checkOptions(WHERE, options, OPTION_NAMES, IGNITE_ONLY) as CommonTrainingOptions;
  const {
    toSave,
    saver,
    saveEveryIters = 1000,
    checkpointOptions = {},
    lrScheduler,
    outputNames = [],
    withPbars = true,
    withPbarOnIters = true,
    logEveryIters = 1,
    progressBarOptions = {},
    stopOnNan = true,
  } = given;

  // Check everything and build the handlers first, so that a wrong option attaches nothing.
  checkBoolean(WHERE, 'option stopOnNan', stopOnNan);
  checkBoolean(WHERE, 'option withPbars', withPbars);
  checkBoolean(WHERE, 'option withPbarOnIters', withPbarOnIters);
  const every = checkInteger(WHERE, 'option saveEveryIters', saveEveryIters, { min: 1 });
  const logEvery = checkInteger(WHERE, 'option logEveryIters', logEveryIters, { min: 1 });
  checkLrScheduler(lrScheduler);
  const names = checkOutputNames(outputNames);
  checkPlainObject(WHERE, 'option progressBarOptions', progressBarOptions);
  const barOptions = (['withPbarOnIters', 'logEveryIters', 'progressBarOptions'] as const).filter(
    (name) => given[name] !== undefined,
  );
  if (!withPbars && barOptions.length > 0) {
    throw new TypeError(
      `${WHERE}: option ${barOptions[0]} describes the progress bar, but withPbars is false; leave one of them out.`,
    );
  }
  if (!withPbarOnIters && given.logEveryIters !== undefined) {
    throw new TypeError(
      `${WHERE}: option logEveryIters paces the iteration bar, but withPbarOnIters is false (one bar over the epochs); leave one of them out.`,
    );
  }

  let checkpoint: Checkpoint | null = null;
  if (toSave !== undefined) {
    if (saver === undefined) {
      throw new TypeError(
        `${WHERE}: option toSave needs a saver to save into; pass saver: new IndexedDBSaver(name), new MemorySaver() or new DiskSaver(dir) (kindling/node).`,
      );
    }
    checkPlainObject(WHERE, 'option checkpointOptions', checkpointOptions);
    checkpoint = new Checkpoint(toSave, saver, { filenamePrefix: 'training', ...checkpointOptions });
  } else if (saver !== undefined || given.saveEveryIters !== undefined || given.checkpointOptions !== undefined) {
    throw new TypeError(
      `${WHERE}: options saver, saveEveryIters and checkpointOptions describe a checkpoint of toSave, which is missing; pass toSave: { trainer, model, optimizer }, or leave them out.`,
    );
  }
  const terminateOnNan = stopOnNan ? new TerminateOnNan() : null;
  const runningAverages: Record<string, RunningAverage> = {};
  names.forEach((name, index) => {
    runningAverages[name] = new RunningAverage({ outputTransform: (output: unknown) => pick(output, name, index) });
  });
  const progressBar = withPbars
    ? new ProgressBar({ ...(withPbarOnIters ? {} : { persist: true }), ...progressBarOptions })
    : null;

  // Attach, in the order the handlers should run at the same event.
  terminateOnNan?.attach(trainer);
  // the scheduler is the caller's, maybe attached elsewhere too: take off only what this call adds
  const schedulerHandle = lrScheduler ? trainer.addEventHandler(Events.ITERATION_STARTED, lrScheduler) : null;
  for (const [name, average] of Object.entries(runningAverages)) average.attach(trainer, name, RunningBatchWise);
  checkpoint?.attach(trainer, Events.ITERATION_COMPLETED({ every }));
  if (progressBar !== null) {
    if (withPbarOnIters) {
      progressBar.attach(trainer, { metricNames: 'all', event: Events.ITERATION_COMPLETED({ every: logEvery }) });
    } else {
      progressBar.attach(trainer, {
        metricNames: 'all',
        event: Events.EPOCH_COMPLETED,
        closingEvent: Events.COMPLETED,
      });
    }
  }

  let removed = false;
  return {
    terminateOnNan,
    lrScheduler: lrScheduler ?? null,
    checkpoint,
    runningAverages,
    progressBar,
    remove() {
      if (removed) return;
      removed = true;
      progressBar?.detach(trainer);
      checkpoint?.detach(trainer);
      for (const average of Object.values(runningAverages)) {
        average.detach(trainer, RunningBatchWise);
        average.reset();
      }
      schedulerHandle?.remove();
      terminateOnNan?.detach(trainer);
    },
    [Symbol.dispose]() {
      this.remove();
    },
  };
}

function checkLrScheduler(lrScheduler: unknown): void {
  if (lrScheduler === undefined) return;
  if (lrScheduler instanceof ReduceLROnPlateauScheduler) {
    throw new TypeError(
      `${WHERE}: option lrScheduler is a ReduceLROnPlateauScheduler, which follows a validation metric, not the iterations; attach it to the evaluator yourself: scheduler.attach(evaluator).`,
    );
  }
  if (!(lrScheduler instanceof ParamScheduler || lrScheduler instanceof ParamGroupScheduler)) {
    failType(
      WHERE,
      'option lrScheduler',
      'an optimizer scheduler (e.g. CosineAnnealingScheduler) or a ParamGroupScheduler',
      lrScheduler,
      'State schedulers set engine.state: attach them yourself with scheduler.attach(trainer).',
    );
  }
}

function checkOutputNames(outputNames: unknown): string[] {
  if (!Array.isArray(outputNames)) {
    failType(WHERE, 'option outputNames', "an array of output names, e.g. ['loss']", outputNames);
  }
  const names = outputNames.map((name, i) => checkString(WHERE, `option outputNames [${i}]`, name));
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) failRange(WHERE, 'option outputNames', 'unique names', names, `'${repeated}' repeats.`);
  const unsafe = names.find((name) => UNSAFE_KEYS.has(name));
  if (unsafe !== undefined) failRange(WHERE, 'option outputNames', `names other than '${unsafe}'`, names);
  return names;
}

/** The value named `name` (at `index`) in the trainer's output, as Ignite's `output_transform` picks it. */
function pick(output: unknown, name: string, index: number): number | tf.Tensor {
  let value: unknown;
  if (isPlainObject(output)) {
    if (!Object.hasOwn(output, name)) {
      throw new RangeError(
        `${WHERE}: the trainer's output has no entry '${name}' (keys: ${Object.keys(output).join(', ') || 'none'}); outputNames should name entries of it.`,
      );
    }
    value = output[name];
  } else if (Array.isArray(output)) {
    if (index >= output.length) {
      throw new RangeError(
        `${WHERE}: the trainer's output has ${output.length} values, so output name '${name}' (position ${index}) has none; give one name per value.`,
      );
    }
    value = output[index];
  } else {
    value = output;
  }
  if (typeof value === 'number' || value instanceof tf.Tensor) return value;
  throw new TypeError(
    `${WHERE}: output '${name}' should be a number or a one-value tensor to average, got ${describeValue(value)}; the trainer's output should be a number, a tensor, an array or an object of them.`,
  );
}
