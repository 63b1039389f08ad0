// saveBestModelByValScore and addEarlyStoppingByValScore: a validation metric keeps the best models and stops the
// trainer (Ignite's contrib/engines/common.py). Both attach to the evaluator's COMPLETED.
import { Engine, Events } from '../engine';
import {
  Checkpoint,
  type Checkpointable,
  type CheckpointOptions,
  EarlyStopping,
  globalStepFromEngine,
} from '../handlers';
import { checkInteger, checkOneOf, checkOptions, checkPlainObject, checkString, failType } from '../internal';
import type { Saver } from '../storage';

/** Options of {@link saveBestModelByValScore}. Give exactly one of `model` and `models`. */
export interface SaveBestModelOptions {
  /** Where the best models go: `new IndexedDBSaver(name)`, `new MemorySaver()`, `new DiskSaver(dir)` (kindling/node). */
  saver: Saver;
  /** The engine whose `state.metrics[metricName]` scores the model, at its COMPLETED. */
  evaluator: Engine<any, any>;
  /** The model to keep, saved under the name `model`. */
  model?: Checkpointable;
  /** Several objects to keep together, by name (Ignite's `gen_save_best_models_by_val_score`). */
  models?: Record<string, Checkpointable>;
  /** The metric of the evaluator that scores the model (higher is better, unless `scoreSign: -1`). */
  metricName: string;
  /** How many of the best to keep (default 3). */
  nSaved?: number;
  /** The trainer, whose epoch names the files (`best_model_{epoch}_val_accuracy=0.9312.ckpt`); default: none. */
  trainer?: Engine<any, any>;
  /** Prefix of the score's name in file names: `{tag}_{metricName}` (default `'val'`). */
  tag?: string;
  /** 1 (default): higher is better; -1 for error-like metrics, e.g. a loss. */
  scoreSign?: 1 | -1;
  /** More options of the {@link Checkpoint}: `filenamePrefix` (default `'best'`), `filenamePattern`, `includeSelf`, `greaterOrEqual`. */
  checkpointOptions?: Pick<CheckpointOptions, 'filenamePrefix' | 'filenamePattern' | 'includeSelf' | 'greaterOrEqual'>;
}

/**
 * Keeps the `nSaved` best models by a validation metric (Ignite's `save_best_model_by_val_score` and
 * `gen_save_best_models_by_val_score`): a {@link Checkpoint} attached to the evaluator's COMPLETED, scored by
 * `evaluator.state.metrics[metricName] * scoreSign`, files named `best_{name}[_{trainer epoch}]_{tag}_{metric}={score}.ckpt`
 * (the metric name in lower case, as in Ignite).
 *
 * @param options - see {@link SaveBestModelOptions}.
 * @returns the attached Checkpoint (`lastCheckpoint` names the best file); `remove()` takes it off.
 * @example
 * const best = saveBestModelByValScore({
 *   saver: new IndexedDBSaver('best'), evaluator, model, metricName: 'accuracy', trainer,
 * }); // best_model_7_val_accuracy=0.9312.ckpt
 * await Checkpoint.loadObjects({ toLoad: { model }, checkpoint: { saver: best.saver, filename: best.lastCheckpoint! } });
 */
export function saveBestModelByValScore(options: SaveBestModelOptions): Checkpoint {
  const where = 'saveBestModelByValScore';
  checkPlainObject(where, 'argument options', options, 'an options object { saver, evaluator, model, metricName }');
  checkOptions(
    where,
    options,
    [
      'saver',
      'evaluator',
      'model',
      'models',
      'metricName',
      'nSaved',
      'trainer',
      'tag',
      'scoreSign',
      'checkpointOptions',
    ],
    {
      outputPath:
        "kindling saves through a Saver, not a path: pass saver: new DiskSaver(dir) (from 'kindling/node'), or new IndexedDBSaver(name) in the page.",
      saveHandler: 'kindling calls it saver.',
    },
  );
  const { saver, evaluator, model, models, nSaved = 3, trainer, tag = 'val', scoreSign = 1 } = options;
  checkEngine(where, 'option evaluator', evaluator);
  if (trainer !== undefined) checkEngine(where, 'option trainer', trainer);
  const metricName = checkString(where, 'option metricName', options.metricName);
  checkString(where, 'option tag', tag);
  checkOneOf(where, 'option scoreSign', scoreSign, [1, -1] as const);
  checkInteger(where, 'option nSaved', nSaved, { min: 1 });
  if ((model === undefined) === (models === undefined)) {
    throw new TypeError(
      `${where}: give exactly one of the options model (saved as 'model') and models (several objects by name), got ${model === undefined ? 'neither' : 'both'}.`,
    );
  }
  const toSave = models ?? { model: model! };
  const checkpointOptions = checkOptions(`${where}: option checkpointOptions`, options.checkpointOptions, [
    'filenamePrefix',
    'filenamePattern',
    'includeSelf',
    'greaterOrEqual',
  ]) as SaveBestModelOptions['checkpointOptions'];
  const checkpoint = new Checkpoint(toSave, saver, {
    filenamePrefix: 'best',
    ...checkpointOptions,
    nSaved,
    globalStepTransform: trainer === undefined ? null : globalStepFromEngine(trainer),
    scoreName: `${tag}_${metricName.toLowerCase()}`,
    scoreFunction: Checkpoint.getDefaultScoreFn(metricName, scoreSign),
  });
  return checkpoint.attach(evaluator, Events.COMPLETED);
}

/** Options of {@link addEarlyStoppingByValScore}. */
export interface EarlyStoppingByValScoreOptions {
  /** Evaluations without improvement after which the trainer stops; a positive integer. */
  patience: number;
  /** The engine whose `state.metrics[metricName]` is watched, at its COMPLETED. */
  evaluator: Engine<any, any>;
  /** The engine to stop. */
  trainer: Engine<any, any>;
  /** The metric that should improve (increase, unless `scoreSign: -1`). */
  metricName: string;
  /** 1 (default): higher is better; -1 for error-like metrics, e.g. a loss. */
  scoreSign?: 1 | -1;
}

/**
 * Stops the trainer when a validation metric has not improved for `patience` evaluations (Ignite's
 * `add_early_stopping_by_val_score`): an {@link EarlyStopping} attached to the evaluator's COMPLETED, scored by
 * `evaluator.state.metrics[metricName] * scoreSign`.
 *
 * @param options - see {@link EarlyStoppingByValScoreOptions}.
 * @returns the attached EarlyStopping (Stateful: put it in a checkpoint); `remove()` takes it off.
 * @example
 * trainer.on(Events.EPOCH_COMPLETED, async () => { await evaluator.run(valLoader); });
 * addEarlyStoppingByValScore({ patience: 5, evaluator, trainer, metricName: 'loss', scoreSign: -1 });
 */
export function addEarlyStoppingByValScore(options: EarlyStoppingByValScoreOptions): EarlyStopping {
  const where = 'addEarlyStoppingByValScore';
  checkPlainObject(
    where,
    'argument options',
    options,
    'an options object { patience, evaluator, trainer, metricName }',
  );
  checkOptions(where, options, ['patience', 'evaluator', 'trainer', 'metricName', 'scoreSign']);
  const { patience, evaluator, trainer, scoreSign = 1 } = options;
  checkEngine(where, 'option evaluator', evaluator);
  checkEngine(where, 'option trainer', trainer);
  const metricName = checkString(where, 'option metricName', options.metricName);
  checkOneOf(where, 'option scoreSign', scoreSign, [1, -1] as const);
  checkInteger(where, 'option patience', patience, { min: 1 });
  const stopper = new EarlyStopping({
    patience,
    scoreFunction: Checkpoint.getDefaultScoreFn(metricName, scoreSign),
    trainer,
  });
  return stopper.attach(evaluator, Events.COMPLETED);
}

function checkEngine(where: string, subject: string, value: unknown): void {
  if (!(value instanceof Engine)) failType(where, subject, 'an Engine', value);
}
