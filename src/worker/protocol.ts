// What crosses between the page and a training Worker: plain data only (structured clone), and the recipe contract
// both sides share. Comlink carries the calls; this file has no Comlink and no DOM.
import type { Engine, Stateful } from '../engine';
import { isPlainObject } from '../internal';

/**
 * What a training recipe returns: the engines, how to run them, and what the page may call. The same recipe runs on
 * the page's thread (`trainHere`) or in a Worker (`serveTraining` there, `trainInWorker` on the page).
 */
export interface TrainingSetup<Actions extends TrainingActions = TrainingActions> {
  /** The engine that trains: its events and state reach the page (in a Worker, through an EngineMirror). */
  trainer: Engine<any, any>;
  /** Other engines the page may watch, by name, e.g. `{ evaluator }`. */
  engines?: Record<string, Engine<any, any>>;
  /**
   * Trains, or goes on training (after a pause), until the run ends or is interrupted; `Training.run()` calls it.
   * E.g. `() => training.run(loader, { maxEpochs })` with a ResumableTraining.
   */
  run(): Promise<unknown>;
  /** Plain data the page gets as `Training.report`, e.g. the ResumeReport of `setupResumableTraining`. */
  report?: unknown;
  /** Functions the page may call as `Training.actions.name(...)`; arguments and results are plain data. */
  actions?: Actions;
  /** Picks the number the page sees as `state.output` from the trainer's output (default: a scalar tensor or number). */
  outputTransform?: (output: any) => unknown;
  /** Frees what the recipe made (models, tensors, savers); `Training.close()` calls it. */
  dispose?(): void | Promise<void>;
}

/** Functions a recipe offers the page. */
export type TrainingActions = Record<string, (...args: any[]) => unknown>;

/**
 * Page objects a recipe may put in its checkpoints, by name (e.g. `{ charts }` for LiveCharts): the objects themselves
 * on the page's thread; in a Worker, stand-ins whose `stateDict()` / `loadStateDict()` reach the page's objects.
 */
export type SharedState = Record<string, Stateful>;

/** A recipe: builds the training from plain-data options and the page's shared state. */
export type TrainingRecipe<Options = any, Actions extends TrainingActions = TrainingActions> = (
  options: Options,
  shared: SharedState,
) => TrainingSetup<Actions> | Promise<TrainingSetup<Actions>>;

/** How a `Training.run()` call ended. */
export interface RunOutcome {
  /**
   * `completed`: the run reached its limits; `interrupted`: paused (`run()` again continues); `terminated`: stopped;
   * `untouched`: the recipe's run trained nothing (e.g. a finished run loaded from a checkpoint).
   */
  end: 'completed' | 'interrupted' | 'terminated' | 'untouched';
  /** The trainer's iteration and epoch afterwards. */
  iteration: number;
  epoch: number;
}

/**
 * An engine's state as the page sees it: progress, plain-data metrics, the output as a number (or null), and every
 * other state attribute that is a number, string, boolean or null (`state.lr`, `state.savedCheckpoint`...).
 */
export interface EngineSnapshot {
  iteration: number;
  epoch: number;
  epochLength: number | null;
  maxEpochs: number | null;
  maxIters: number | null;
  seed: number | null;
  times: { EPOCH_COMPLETED: number | null; COMPLETED: number | null };
  metrics: Record<string, unknown>;
  /** Present on ITERATION_COMPLETED: that iteration's output as a number, or null when it is not a scalar. */
  output?: number | null;
  extra: Record<string, number | string | boolean | null>;
}

/** One event of a Worker engine, with the state of every mirrored engine when it fired. */
export interface ForwardedEvent {
  engine: string;
  name: string;
  states: Record<string, EngineSnapshot>;
}

/** State attributes the snapshot carries apart, or never (live objects). */
const OWN_KEYS = new Set([
  'iteration',
  'epoch',
  'epochLength',
  'maxEpochs',
  'maxIters',
  'seed',
  'times',
  'metrics',
  'output',
  'batch',
  'dataloader',
]);

/** The page's view of `engine.state` (the output is filled in separately). */
export function snapshotOf(engine: Engine<any, any>): EngineSnapshot {
  const state = engine.state;
  const extra: EngineSnapshot['extra'] = {};
  for (const key of Object.keys(state)) {
    if (OWN_KEYS.has(key)) continue;
    const value = state[key];
    if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) extra[key] = value;
  }
  const metrics: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(state.metrics ?? {})) {
    if (isPlainValue(value, 0)) metrics[name] = value;
  }
  return {
    iteration: state.iteration,
    epoch: state.epoch,
    epochLength: state.epochLength,
    maxEpochs: state.maxEpochs,
    maxIters: state.maxIters,
    seed: state.seed,
    times: { ...state.times },
    metrics,
    extra,
  };
}

/** Numbers, strings, booleans, null, and arrays or plain objects of them (a few levels deep): what metrics may be. */
function isPlainValue(value: unknown, depth: number): boolean {
  if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) return true;
  if (depth > 4) return false;
  if (Array.isArray(value)) return value.every((v) => isPlainValue(v, depth + 1));
  if (isPlainObject(value)) return Object.values(value).every((v) => isPlainValue(v, depth + 1));
  return false;
}

/** Engine names a recipe's setup offers: `trainer` and the keys of `engines`. */
export function engineNames(setup: TrainingSetup<any>): string[] {
  return ['trainer', ...Object.keys(setup.engines ?? {})];
}
