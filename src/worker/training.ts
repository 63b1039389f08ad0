// The page's handle on a training, wherever it runs: trainHere (this thread) and trainInWorker (a module Worker)
// return the same shape, so an app switches between them with one flag.
import * as Comlink from 'comlink';
import { EventLoopYielder } from '../browser/yield';
import { type Engine, Events, type Stateful } from '../engine';
import { checkFunction, checkOptions, checkPlainObject, failType } from '../internal';
import { EngineMirror } from './mirror';
import type {
  ForwardedEvent,
  RunOutcome,
  SharedState,
  TrainingActions,
  TrainingRecipe,
  TrainingSetup,
} from './protocol';
import { checkSetup, keepingRandomState, runTracked } from './run';
import type { SharedLink, TrainingWorkerApi } from './serve';

/** A recipe's actions as the page calls them: the same arguments, results as promises. */
export type RemoteActions<A extends TrainingActions> = {
  [K in keyof A]: (...args: Parameters<A[K]>) => Promise<Awaited<ReturnType<A[K]>>>;
};

/**
 * A training the page controls, on its own thread ({@link trainHere}) or in a Worker ({@link trainInWorker}). Attach
 * handlers to `trainer` and `engines` (real engines here, EngineMirrors for a Worker), then `run()`.
 */
export interface Training<A extends TrainingActions = TrainingActions> {
  /** Where the training runs. */
  readonly where: 'page' | 'worker';
  /** The trainer, or its mirror: attach handlers (charts, progress bars, callbacks) here. */
  readonly trainer: Engine<any, any>;
  /** The recipe's other engines by name (e.g. `evaluator`), or their mirrors. */
  readonly engines: Readonly<Record<string, Engine<any, any>>>;
  /** What the recipe reported when it was built (e.g. the ResumeReport of `setupResumableTraining`). */
  readonly report: unknown;
  /** The recipe's actions, e.g. `await training.actions.findLearningRate()`. */
  readonly actions: RemoteActions<A>;
  /** True while `run()` (or `resume()`) is under way. */
  readonly isRunning: boolean;
  /**
   * Runs the recipe's `run()`: trains, or goes on after a pause. Resolves when the run ends or pauses, once the page
   * has handled every event of it; rejects with the run's error (also one from the Worker).
   */
  run(): Promise<RunOutcome>;
  /** Interrupts the run after its current iteration and resolves when it has paused (`end: 'interrupted'`). */
  pause(): Promise<RunOutcome | null>;
  /** Continues a paused run: the same as `run()`. */
  resume(): Promise<RunOutcome>;
  /** Terminates the run after its current iteration and resolves when it has ended (`end: 'terminated'`). */
  stop(): Promise<RunOutcome | null>;
  /** Stops the run, frees what the recipe made (its `dispose`), and ends the Worker. */
  close(): Promise<void>;
}

/** Options of {@link trainHere} and {@link trainInWorker}. */
export interface TrainingConnectOptions {
  /**
   * Page objects the recipe may checkpoint, by name, e.g. `{ charts }` (LiveCharts): the recipe gets them (in a
   * Worker, stand-ins that reach them) as its second argument.
   */
  shared?: Record<string, Stateful>;
}

/** What both kinds of Training share: the run in flight, pause, resume and stop. */
abstract class BaseTraining<A extends TrainingActions> implements Training<A> {
  abstract readonly where: 'page' | 'worker';
  abstract readonly trainer: Engine<any, any>;
  abstract readonly engines: Readonly<Record<string, Engine<any, any>>>;
  abstract readonly report: unknown;
  abstract readonly actions: RemoteActions<A>;
  #running: Promise<RunOutcome> | null = null;
  protected isClosed = false;

  get isRunning(): boolean {
    return this.#running !== null;
  }

  protected abstract runOnce(): Promise<RunOutcome>;
  protected abstract dispose(): Promise<void>;

  run(): Promise<RunOutcome> {
    if (this.isClosed) return Promise.reject(new Error('Training.run: this training was closed; make another.'));
    if (this.#running !== null) {
      return Promise.reject(
        new Error('Training.run: the training is already running; await it, or pause() or stop() it first.'),
      );
    }
    const running = this.runOnce().finally(() => {
      this.#running = null;
    });
    this.#running = running;
    return running;
  }

  async pause(): Promise<RunOutcome | null> {
    const running = this.#running;
    if (running === null) return null;
    this.trainer.interrupt();
    return running;
  }

  resume(): Promise<RunOutcome> {
    return this.run();
  }

  async stop(): Promise<RunOutcome | null> {
    const running = this.#running;
    if (running === null) return null;
    this.trainer.terminate();
    return running.catch(() => null);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    await this.stop();
    this.isClosed = true;
    await this.dispose();
  }
}

/** A training on the page's own thread. */
class PageTraining<A extends TrainingActions> extends BaseTraining<A> {
  readonly where = 'page' as const;
  readonly trainer: Engine<any, any>;
  readonly engines: Readonly<Record<string, Engine<any, any>>>;
  readonly report: unknown;
  readonly actions: RemoteActions<A>;
  readonly #setup: TrainingSetup<A>;

  constructor(setup: TrainingSetup<A>) {
    super();
    this.#setup = setup;
    this.trainer = setup.trainer;
    this.engines = { ...setup.engines };
    this.report = setup.report ?? null;
    const actions: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const [name, action] of Object.entries(setup.actions ?? {})) {
      actions[name] = async (...args: unknown[]) => action(...args);
    }
    this.actions = actions as RemoteActions<A>;
    // Keeps the page responsive: before each step and after it (the trainer's and every engine's, the evaluator's
    // too), the yielder lets the page have its turn when the step would take the task past 8 ms of work.
    const yielder = new EventLoopYielder({ budgetMs: 8 });
    for (const engine of [setup.trainer, ...Object.values(this.engines)]) {
      yielder.attach(engine, Events.ITERATION_STARTED.or(Events.ITERATION_COMPLETED));
    }
  }

  protected runOnce(): Promise<RunOutcome> {
    return runTracked(this.#setup);
  }

  protected async dispose(): Promise<void> {
    await this.#setup.dispose?.();
  }
}

/**
 * Runs a training recipe on the page's own thread, with the same handle as {@link trainInWorker}: an app picks one or
 * the other with one flag. Before and after each step of the trainer and of its engines, it yields to the event loop when the step would take the task past 8 ms of work, so the page stays responsive.
 *
 * @param recipe `(options, shared) => TrainingSetup` (see `TrainingSetup`).
 * @param options plain data for the recipe (the same a Worker would receive).
 * @param connect `{ shared }`: page objects the recipe may checkpoint, e.g. `{ charts }`.
 * @returns a {@link Training}: `trainer`, `engines`, `report`, `actions`, `run()`, `pause()`, `resume()`, `stop()`, `close()`.
 * @example
 * const training = useWorker
 *   ? await trainInWorker(new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' }), options, { shared: { charts } })
 *   : await trainHere(recipe, options, { shared: { charts } });
 * charts.attach(training.trainer);
 * await training.run();
 */
export async function trainHere<Options, A extends TrainingActions = TrainingActions>(
  recipe: TrainingRecipe<Options, A>,
  options: Options,
  connect: TrainingConnectOptions = {},
): Promise<Training<A>> {
  checkFunction('trainHere', 'argument recipe', recipe, '(options, shared) => TrainingSetup');
  const shared = readShared('trainHere', connect);
  const setup = checkSetup('trainHere', await recipe(options, shared)) as TrainingSetup<A>;
  return new PageTraining(setup);
}

/** A training in a Worker, seen through mirrors. */
class WorkerTraining<A extends TrainingActions> extends BaseTraining<A> {
  readonly where = 'worker' as const;
  readonly trainer: EngineMirror;
  readonly engines: Readonly<Record<string, EngineMirror>>;
  readonly report: unknown;
  readonly actions: RemoteActions<A>;
  readonly #api: Comlink.Remote<TrainingWorkerApi>;
  readonly #worker: Worker;
  readonly #mirrors: Map<string, EngineMirror>;
  /** Subscriptions sent to the Worker and not yet confirmed: run() waits for them (and fails with their errors). */
  #pending: Promise<unknown>[] = [];

  constructor(
    worker: Worker,
    api: Comlink.Remote<TrainingWorkerApi>,
    mirrors: Map<string, EngineMirror>,
    report: unknown,
    actionNames: string[],
  ) {
    super();
    this.#worker = worker;
    this.#api = api;
    this.#mirrors = mirrors;
    this.trainer = mirrors.get('trainer')!;
    const engines: Record<string, EngineMirror> = {};
    for (const [name, mirror] of mirrors) if (name !== 'trainer') engines[name] = mirror;
    this.engines = engines;
    this.report = report;
    const actions: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
    for (const name of actionNames)
      actions[name] = (...args: unknown[]) => keepingRandomState(() => this.#api.action(name, args));
    this.actions = actions as RemoteActions<A>;
  }

  /** @internal The mirrors' link: subscriptions and control calls, in order on the one channel. */
  subscribe(name: string, event: string): void {
    this.#pending.push(keepingRandomState(() => this.#api.subscribe(name, event)));
  }

  /** @internal */
  control(name: string, command: 'interrupt' | 'terminate' | 'terminateEpoch', flag: boolean): void {
    void keepingRandomState(() => this.#api.control(name, command, flag));
  }

  /** @internal Fires a batch of the Worker's events on the mirrors, in order, awaiting async handlers. */
  async receive(events: ForwardedEvent[]): Promise<void> {
    for (const event of events) {
      for (const [name, snapshot] of Object.entries(event.states)) this.#mirrors.get(name)?.receive(snapshot);
      await this.#mirrors.get(event.engine)?.fireEvent(event.name);
    }
  }

  protected async runOnce(): Promise<RunOutcome> {
    const pending = this.#pending;
    this.#pending = [];
    await Promise.all(pending);
    return keepingRandomState(() => this.#api.run());
  }

  protected async dispose(): Promise<void> {
    try {
      await keepingRandomState(() => this.#api.close());
    } finally {
      this.#api[Comlink.releaseProxy]();
      this.#worker.terminate();
    }
  }
}

/**
 * Starts a training in a dedicated module Worker whose module calls `serveTraining(recipe)`, and returns its handle:
 * the page attaches handlers to mirrors of the Worker's engines (`training.trainer`, `training.engines.evaluator`),
 * which receive the Worker's events and state (numbers and plain data; see EngineMirror), and controls the run with
 * `run()`, `pause()`, `resume()`, `stop()`. The recipe is built in the Worker from `options` (structured-cloned:
 * plain data only). Page objects in `shared` (e.g. LiveCharts) can be checkpointed by the recipe: its stand-ins reach
 * them, and a stand-in's `stateDict()` first waits until the page has handled every event sent before it. The
 * messaging is Comlink's.
 *
 * @param worker a dedicated module Worker: `new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' })`.
 * @param options plain data for the recipe.
 * @param connect `{ shared }`: page objects the recipe may checkpoint, e.g. `{ charts }`.
 * @returns a {@link Training}; `close()` ends the Worker.
 * @example
 * const training = await trainInWorker(new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' }),
 *   { epochs: 10 }, { shared: { charts } });
 * charts.attach(training.trainer);
 * training.trainer.on(Events.EPOCH_COMPLETED, (e) => log(`epoch ${e.state.epoch}: ${e.state.metrics.accuracy}`));
 * await training.run();
 */
export async function trainInWorker<A extends TrainingActions = TrainingActions>(
  worker: Worker,
  options: unknown,
  connect: TrainingConnectOptions = {},
): Promise<Training<A>> {
  const where = 'trainInWorker';
  if (worker === null || typeof worker !== 'object' || typeof (worker as Worker).postMessage !== 'function') {
    failType(
      where,
      'argument worker',
      "a Worker: new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' })",
      worker,
    );
  }
  const shared = readShared(where, connect);
  const api = Comlink.wrap<TrainingWorkerApi>(worker);
  let training: WorkerTraining<A> | null = null;
  const early: ForwardedEvent[][] = [];
  const deliver = async (events: ForwardedEvent[]) => {
    if (training === null) early.push(events);
    else await training.receive(events);
  };
  const link: SharedLink = {
    stateDict: async (name) => shared[name]!.stateDict(),
    loadStateDict: async (name, stateDict) => {
      await shared[name]!.loadStateDict(stateDict);
    },
  };
  let reply: Awaited<ReturnType<TrainingWorkerApi['start']>>;
  try {
    reply = await keepingRandomState(() =>
      api.start(options, Comlink.proxy(deliver), Comlink.proxy(link), Object.keys(shared)),
    );
  } catch (error) {
    api[Comlink.releaseProxy]();
    worker.terminate();
    throw error;
  }
  const mirrors = new Map<string, EngineMirror>();
  const mirrorLink = {
    subscribe: (name: string, event: string) => training!.subscribe(name, event),
    control: (name: string, command: 'interrupt' | 'terminate' | 'terminateEpoch', flag: boolean) =>
      training!.control(name, command, flag),
  };
  for (const name of reply.engines) mirrors.set(name, new EngineMirror(name, mirrorLink, reply.states[name]!));
  training = new WorkerTraining<A>(worker, api, mirrors, reply.report, reply.actions);
  for (const events of early) await training.receive(events);
  return training;
}

function readShared(where: string, connect: TrainingConnectOptions): SharedState {
  const given = checkOptions(where, checkPlainObject(where, 'argument connect', connect, '{ shared? }'), ['shared']);
  const shared = checkPlainObject(where, 'option shared', given.shared ?? {}, 'an object of named Stateful objects');
  for (const [name, object] of Object.entries(shared)) {
    const s = object as Partial<Stateful> | null;
    if (typeof s?.stateDict !== 'function' || typeof s.loadStateDict !== 'function') {
      failType(
        where,
        `option shared.${name}`,
        'a Stateful object (stateDict and loadStateDict), e.g. LiveCharts',
        object,
      );
    }
  }
  return shared as SharedState;
}
