import * as tf from '@tensorflow/tfjs';
import { getRandomState, type RandomState, setRandomState } from '../data';
import { Engine, Events, getLogger, type RemovableEventHandle, type Stateful } from '../engine';
import {
  checkFunction,
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkPlainObject,
  failType,
} from '../internal';
import {
  checkOptimizerSaveable,
  type LayersModelState,
  loadModelStateDict,
  loadOptimizerStateDict,
  modelStateDict,
  type OptimizerState,
  optimizerStateDict,
} from './checkpoint/tf-state';

/** Options of {@link FastaiLRFinder.attach}; names follow the reference's in camelCase. */
export interface FastaiLRFinderOptions {
  /** Picks the loss from `engine.state.output`: a number or a one-element tensor (default: the output itself). */
  outputTransform?: (output: any) => tf.Tensor | number;
  /**
   * Iterations of the test (default: what the run has left, from `maxEpochs` or `maxIters`; a longer test extends
   * the run).
   */
  numIter?: number | null;
  /** The first learning rate (default: the optimizer's). */
  startLr?: number | null;
  /** The last learning rate (default 10). */
  endLr?: number;
  /** How the rate grows from `startLr` to `endLr`: `'exp'` (default, evenly in log scale) or `'linear'`. */
  stepMode?: 'exp' | 'linear';
  /** Loss smoothing in [0, 1): each point is `smoothF · loss + (1 − smoothF) · previous point` (default 0.05). */
  smoothF?: number;
  /** Stop when the smoothed loss exceeds `divergeTh` × the best so far (default 5, at least 1). */
  divergeTh?: number;
}

/** The learning rates tried and the (smoothed) losses they gave, one per iteration. */
export interface LRFinderResults {
  lr: number[];
  loss: number[];
}

/** Returned by {@link FastaiLRFinder.attach}: restores everything when detached (also by `await using`). */
export interface LRFinderHandle {
  /** The trainer the finder is attached to: run it now. */
  readonly trainer: Engine<any, any>;
  /** Removes the finder's handlers and restores the trainer, `toSave` and the random state as they were at attach. */
  detach(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What objects `toSave` may hold: the optimizer (required), models and Stateful objects. */
export type LRFinderSavable = tf.Optimizer | tf.LayersModel | Stateful;

type Snapshot =
  | { kind: 'model'; key: string; target: tf.LayersModel; state: LayersModelState }
  | { kind: 'optimizer'; key: string; target: tf.Optimizer; state: OptimizerState; learningRate: number }
  | { kind: 'stateful'; key: string; target: Stateful; state: unknown };

interface Settings {
  optimizer: tf.Optimizer;
  outputTransform: (output: any) => unknown;
  numIter: number | null;
  startLr: number;
  endLr: number;
  stepMode: 'exp' | 'linear';
  smoothF: number;
  divergeTh: number;
}

const WHERE = 'FastaiLRFinder.attach';

/** True for a tf.Optimizer (whose `instanceof` check throws on undefined and null). */
const isOptimizer = (value: unknown): value is tf.Optimizer =>
  value !== null && typeof value === 'object' && value instanceof tf.Optimizer;

/** Sets an optimizer's learning rate: through `setLearningRate` where tfjs keeps it in a tensor (SGD, Momentum). */
function writeLearningRate(optimizer: tf.Optimizer, value: number): void {
  const target = optimizer as tf.Optimizer & { learningRate: number; setLearningRate?: (lr: number) => void };
  if (typeof target.setLearningRate === 'function') target.setLearningRate(value);
  else target.learningRate = value;
}

function readLearningRate(where: string, optimizer: tf.Optimizer): number {
  const value = (optimizer as tf.Optimizer & { learningRate?: unknown }).learningRate;
  if (typeof value !== 'number') {
    failType(where, 'the optimizer', 'a tfjs optimizer with a numeric learningRate', optimizer);
  }
  return value;
}

/**
 * The learning-rate range test of fastai (Smith, "Cyclical Learning Rates for Training Neural Networks"), as PyTorch
 * Ignite's `FastaiLRFinder`: while attached, each iteration of the trainer's run uses a larger learning rate, from
 * `startLr` to `endLr`, and records the loss; the run stops after `numIter` iterations or when the loss diverges.
 * Detaching restores the trainer, the model and the optimizer **exactly** (weights, slots, iteration count, Adam's
 * hidden accumulators, learning rate) and the random state, so training afterwards is the same as without the test.
 *
 * State is captured at `attach` (read back with `await data()`), and losses are read asynchronously one iteration
 * behind, so the device always has the next step queued. Other handlers on the trainer run during the test too.
 *
 * @example
 * const finder = new FastaiLRFinder();
 * {
 *   await using _ = await finder.attach(trainer, { model, optimizer }, { startLr: 1e-5, endLr: 1, numIter: 100 });
 *   await trainer.run(loader, { maxEpochs: 1 });
 * } // restored here
 * console.log(finder.getResults(), finder.lrSuggestion());
 * finder.applySuggestion(optimizer);
 * await trainer.run(loader, { maxEpochs: 10 });
 */
export class FastaiLRFinder {
  #history: LRFinderResults = { lr: [], loss: [] };
  #hasRun = false;
  #bestLoss: number | null = null;
  #diverged = false;
  #isAttached = false;
  /** Iterations of the current test so far, and the rate of the current iteration. */
  #step = 0;
  #numIter = 0;
  #currentLr = 0;
  #pending: { lr: number; loss: Promise<number> } | null = null;

  /**
   * Captures `toSave` and the trainer's state, then makes the trainer's next run a range test.
   *
   * @param trainer - the trainer, e.g. from `createSupervisedTrainer`.
   * @param toSave - what to restore afterwards; it must hold the optimizer under `optimizer`, and should hold the
   *   model(s): `{ model, optimizer }`. tfjs LayersModels and Optimizers are captured by name; other objects by
   *   their `stateDict()`.
   * @param options - see {@link FastaiLRFinderOptions}.
   * @returns a handle whose `detach()` (or `await using`) ends the test and restores everything.
   */
  async attach(
    trainer: Engine<any, any>,
    toSave: Record<string, LRFinderSavable>,
    options: FastaiLRFinderOptions = {},
  ): Promise<LRFinderHandle> {
    if (!(trainer instanceof Engine)) failType(WHERE, 'argument trainer', 'an Engine', trainer);
    if (this.#isAttached) {
      throw new Error(`${WHERE}: this finder is attached already; detach it (await handle.detach()) first.`);
    }
    const settings = this.#settings(toSave, options);
    const snapshots = await capture(toSave);
    const trainerState = structuredClone(trainer.stateDict());
    const randomState: RandomState = getRandomState();
    this.#isAttached = true;

    const handles: RemovableEventHandle[] = [
      trainer.addEventHandler(Events.STARTED, (engine: Engine<any, any>) => this.#start(engine, settings)),
      trainer.addEventHandler(Events.ITERATION_STARTED, () => this.#setRate(settings)),
      trainer.addEventHandler(Events.ITERATION_COMPLETED, (engine: Engine<any, any>) => this.#record(engine, settings)),
      trainer.addEventHandler(Events.TERMINATE, (engine: Engine<any, any>) =>
        engine.shouldTerminate === 'skip_completed' ? this.#finish(engine, settings) : undefined,
      ),
      trainer.addEventHandler(Events.COMPLETED, (engine: Engine<any, any>) => this.#finish(engine, settings)),
    ];
    let detached: Promise<void> | null = null;
    const detach = (): Promise<void> => {
      detached ??= (async () => {
        for (const handle of handles) handle.remove();
        this.#pending = null;
        restoreTrainer(trainer, trainerState);
        await restore(snapshots);
        setRandomState(randomState);
        this.#isAttached = false;
      })();
      return detached;
    };
    return { trainer, detach, [Symbol.asyncDispose]: detach };
  }

  /** The learning rates and smoothed losses of the last test (copies; empty before any). */
  getResults(): LRFinderResults {
    return { lr: [...this.#history.lr], loss: [...this.#history.loss] };
  }

  /**
   * The learning rate where the loss falls fastest: the steepest (most negative) central difference of the loss
   * curve before its minimum, as the reference suggests.
   *
   * @throws Error before a test, or when the curve falls for fewer than three points (lower `startLr` or raise `endLr`).
   */
  lrSuggestion(): number {
    if (!this.#hasRun) {
      throw new Error('FastaiLRFinder.lrSuggestion: the finder has not run yet; attach it and run the trainer first.');
    }
    const { lr, loss } = this.#history;
    let minIndex = 0;
    for (let i = 1; i < loss.length; i++) if (loss[i]! < loss[minIndex]!) minIndex = i;
    if (minIndex + 1 < 3) {
      throw new Error(
        'FastaiLRFinder.lrSuggestion: the loss curve falls for fewer than 3 points, it should be somehow U-shaped; decrease startLr or increase endLr.',
      );
    }
    let best = 1;
    let bestSlope = Number.POSITIVE_INFINITY;
    for (let i = 1; i < minIndex; i++) {
      const slope = 0.5 * (loss[i + 1]! - loss[i - 1]!);
      if (slope < bestSlope) {
        bestSlope = slope;
        best = i;
      }
    }
    return lr[best]!;
  }

  /**
   * Sets the optimizer's learning rate to {@link lrSuggestion}.
   *
   * @returns the rate set.
   */
  applySuggestion(optimizer: tf.Optimizer): number {
    if (!isOptimizer(optimizer)) {
      failType('FastaiLRFinder.applySuggestion', 'argument optimizer', 'a tf.Optimizer', optimizer);
    }
    readLearningRate('FastaiLRFinder.applySuggestion', optimizer);
    const lr = this.lrSuggestion();
    writeLearningRate(optimizer, lr);
    return lr;
  }

  #settings(toSave: unknown, options: FastaiLRFinderOptions): Settings {
    const record = checkPlainObject(
      WHERE,
      'argument toSave',
      toSave,
      'an object of named objects, e.g. { model, optimizer }',
    );
    const optimizer = record.optimizer;
    if (!isOptimizer(optimizer)) {
      failType(
        WHERE,
        'toSave.optimizer',
        'a tf.Optimizer',
        optimizer,
        "Pass the trainer's optimizer as { optimizer }.",
      );
    }
    for (const [key, value] of Object.entries(record)) {
      if (isOptimizer(value)) checkOptimizerSaveable(value, key, WHERE);
      else if (!(value instanceof tf.LayersModel) && !isStateful(value)) {
        failType(
          WHERE,
          `toSave.${key}`,
          'a tf.LayersModel, a tf.Optimizer or an object with stateDict()/loadStateDict()',
          value,
        );
      }
    }
    const {
      outputTransform = (output: unknown) => output,
      numIter = null,
      startLr = null,
      endLr = 10,
      stepMode = 'exp',
      smoothF = 0.05,
      divergeTh = 5,
    } = checkOptions(WHERE, options, [
      'outputTransform',
      'numIter',
      'startLr',
      'endLr',
      'stepMode',
      'smoothF',
      'divergeTh',
    ]);
    const positive = { min: 0, minExclusive: true };
    const start =
      startLr === null ? readLearningRate(WHERE, optimizer) : checkNumber(WHERE, 'option startLr', startLr, positive);
    const end = checkNumber(WHERE, 'option endLr', endLr, positive);
    if (start >= end) {
      throw new RangeError(`${WHERE}: startLr should be less than endLr, got startLr ${start} and endLr ${end}.`);
    }
    return {
      optimizer,
      outputTransform: checkFunction(WHERE, 'option outputTransform', outputTransform, '(output) => loss'),
      numIter: checkInteger(WHERE, 'option numIter', numIter, { min: 1, nullable: true }),
      startLr: start,
      endLr: end,
      stepMode: checkOneOf(WHERE, 'option stepMode', stepMode, ['exp', 'linear'] as const),
      smoothF: checkNumber(WHERE, 'option smoothF', smoothF, { min: 0, max: 1, maxExclusive: true }),
      divergeTh: checkNumber(WHERE, 'option divergeTh', divergeTh, { min: 1 }),
    };
  }

  /** At STARTED: a new test; its length, extending the run if needed. */
  #start(engine: Engine<any, any>, settings: Settings): void {
    this.#history = { lr: [], loss: [] };
    this.#hasRun = true;
    this.#bestLoss = null;
    this.#diverged = false;
    this.#step = 0;
    this.#pending = null;
    // A run may continue an earlier one: count from where it starts.
    const { epochLength, maxEpochs, maxIters, iteration } = engine.state;
    const end = maxIters ?? (epochLength !== null && maxEpochs !== null ? epochLength * maxEpochs : null);
    const remaining = end === null ? null : end - iteration;
    const numIter = settings.numIter ?? remaining;
    if (numIter === null) {
      throw new Error(
        "FastaiLRFinder: the run's length is unknown (data without a length); pass the option numIter to attach().",
      );
    }
    if (remaining === null || remaining < numIter) {
      if (maxIters !== null || epochLength === null) engine.state.maxIters = iteration + numIter;
      else engine.state.maxEpochs = Math.ceil((iteration + numIter) / epochLength);
    }
    this.#numIter = numIter;
    getLogger().debug(`FastaiLRFinder: running the range test for ${numIter} iterations.`);
  }

  /** At ITERATION_STARTED: this iteration's learning rate. */
  #setRate(settings: Settings): void {
    this.#step += 1;
    const { startLr, endLr, stepMode } = settings;
    const t = this.#numIter <= 1 ? 0 : (this.#step - 1) / (this.#numIter - 1);
    this.#currentLr = stepMode === 'exp' ? startLr * (endLr / startLr) ** t : startLr + (endLr - startLr) * t;
    writeLearningRate(settings.optimizer, this.#currentLr);
  }

  /** At ITERATION_COMPLETED: starts reading this loss, records the previous one, stops after numIter. */
  async #record(engine: Engine<any, any>, settings: Settings): Promise<void> {
    const loss = readLoss(settings.outputTransform(engine.state.output));
    const previous = this.#pending;
    this.#pending = { lr: this.#currentLr, loss };
    if (previous !== null) this.#take(engine, previous.lr, await previous.loss, settings);
    if (this.#step >= this.#numIter) engine.terminate();
  }

  /** At the end of the run: records the last loss. */
  async #finish(engine: Engine<any, any>, settings: Settings): Promise<void> {
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) this.#take(engine, pending.lr, await pending.loss, settings);
    if (!this.#diverged) {
      getLogger().warn(
        'FastaiLRFinder: the run completed without the loss diverging; increase endLr, decrease divergeTh or look at getResults().',
      );
    }
  }

  #take(engine: Engine<any, any>, lr: number, loss: number, settings: Settings): void {
    if (this.#diverged) return;
    const { lr: rates, loss: losses } = this.#history;
    if (losses.length > 0 && settings.smoothF > 0) {
      loss = settings.smoothF * loss + (1 - settings.smoothF) * losses[losses.length - 1]!;
    }
    rates.push(lr);
    losses.push(loss);
    if (this.#bestLoss === null || loss < this.#bestLoss) this.#bestLoss = loss;
    if (!Number.isFinite(loss) || loss > settings.divergeTh * this.#bestLoss) {
      this.#diverged = true;
      getLogger().info('FastaiLRFinder: stopping early, the loss has diverged.');
      engine.terminate();
    }
  }
}

function isStateful(value: unknown): value is Stateful {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Stateful).stateDict === 'function' &&
    typeof (value as Stateful).loadStateDict === 'function'
  );
}

/** Starts reading a loss (a number, or a one-element tensor read through a clone it then disposes). */
function readLoss(loss: unknown): Promise<number> {
  if (typeof loss === 'number') return Promise.resolve(loss);
  if (loss instanceof tf.Tensor && loss.size === 1 && !loss.isDisposed) {
    const held = tf.clone(loss);
    const value = held.data().then(
      (data) => {
        held.dispose();
        return data[0] as number;
      },
      (error: unknown) => {
        held.dispose();
        throw error;
      },
    );
    value.catch(() => {}); // awaited one iteration later; keep an early rejection from being reported as unhandled
    return value;
  }
  return failType(
    'FastaiLRFinder',
    'the loss (outputTransform of the output)',
    'a number or a one-element tensor',
    loss,
    'Pick it with the option outputTransform, e.g. (output) => output.loss.',
  );
}

async function capture(toSave: Record<string, LRFinderSavable>): Promise<Snapshot[]> {
  const snapshots: Snapshot[] = [];
  for (const [key, target] of Object.entries(toSave)) {
    if (isOptimizer(target)) {
      const learningRate = readLearningRate(WHERE, target);
      snapshots.push({ kind: 'optimizer', key, target, state: await optimizerStateDict(target, WHERE), learningRate });
    } else if (target instanceof tf.LayersModel) {
      snapshots.push({ kind: 'model', key, target, state: await modelStateDict(target, WHERE) });
    } else {
      const state = structuredClone(await target.stateDict());
      snapshots.push({ kind: 'stateful', key, target, state });
    }
  }
  return snapshots;
}

async function restore(snapshots: readonly Snapshot[]): Promise<void> {
  const where = 'FastaiLRFinder.detach';
  for (const snapshot of snapshots) {
    if (snapshot.kind === 'model') {
      await loadModelStateDict(snapshot.target, snapshot.state, { key: snapshot.key, where });
    } else if (snapshot.kind === 'optimizer') {
      await loadOptimizerStateDict(snapshot.target, snapshot.state, { key: snapshot.key, where });
      writeLearningRate(snapshot.target, snapshot.learningRate);
    } else {
      await snapshot.target.loadStateDict(structuredClone(snapshot.state));
    }
  }
}

/**
 * Puts the trainer back as `attach` found it. A trainer whose limits were set to null (Ignite's way to make the next
 * run start over) has progress without a limit, which loadStateDict refuses as impossible for a saved run: it is
 * loaded at iteration 0, then its counters are put back as they were.
 */
function restoreTrainer(trainer: Engine<any, any>, saved: Record<string, unknown>): void {
  const isReset = (saved.maxEpochs ?? saved.maxIters ?? null) === null && saved.iteration !== 0;
  if (!isReset) {
    trainer.loadStateDict(saved);
    return;
  }
  trainer.loadStateDict({ ...saved, iteration: 0 });
  const { iteration, epochLength } = saved as { iteration: number; epochLength: number | null };
  trainer.state.iteration = iteration;
  trainer.state.epoch = epochLength !== null && epochLength > 0 ? Math.floor(iteration / epochLength) : 0;
}
