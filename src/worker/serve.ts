// serveTraining: the Worker's side. Builds the training from a recipe when the page asks, forwards the events the page
// watches (Outbox), runs, pauses and stops it on the page's word, and calls the recipe's actions.
import * as Comlink from 'comlink';
import { EventLoopYielder } from '../browser/yield';
import type { Engine, Stateful } from '../engine';
import { checkFunction, failType } from '../internal';
import { type Deliver, Outbox } from './outbox';
import {
  type EngineSnapshot,
  engineNames,
  type RunOutcome,
  type SharedState,
  snapshotOf,
  type TrainingRecipe,
  type TrainingSetup,
} from './protocol';
import { checkSetup, keepingRandomState, runTracked } from './run';

/** The page's end of the shared state: `stateDict(name)` / `loadStateDict(name, sd)` of its objects. */
export interface SharedLink {
  stateDict(name: string): Promise<unknown>;
  loadStateDict(name: string, stateDict: unknown): Promise<void>;
}

/** What the page learns when the Worker has built the training. */
export interface StartReply {
  engines: string[];
  states: Record<string, EngineSnapshot>;
  report: unknown;
  actions: string[];
}

/** The Worker's API, as the page calls it through Comlink. */
export interface TrainingWorkerApi {
  start(options: unknown, deliver: Deliver, shared: SharedLink, sharedNames: string[]): Promise<StartReply>;
  subscribe(engine: string, event: string): void;
  run(): Promise<RunOutcome>;
  control(engine: string, command: 'interrupt' | 'terminate' | 'terminateEpoch', flag: boolean): void;
  action(name: string, args: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** The scope a Worker module runs in, as far as Comlink needs it. */
type Endpoint = Parameters<typeof Comlink.expose>[1];

/**
 * Serves a training recipe from a dedicated module Worker: call it once at the top of the Worker's module. The page
 * then starts it with `trainInWorker(worker, options, shared)` (from `kindling/worker`): the recipe builds the training
 * here, the page attaches its handlers (charts, progress, its own callbacks) to mirrors of the engines there, and
 * controls the run (`run`, `pause`, `resume`, `stop`). Every iteration yields to this Worker's event loop once 16 ms
 * of work have passed, so the page's commands arrive during a run.
 *
 * @param recipe `(options, shared) => TrainingSetup`: the same function `trainHere` runs on the page's thread.
 * @example
 * // train.worker.ts
 * import { serveTraining } from 'kindling/worker';
 * import { digitsRecipe } from './recipe';
 * serveTraining(digitsRecipe);
 */
export function serveTraining<Options>(recipe: TrainingRecipe<Options, any>, endpoint?: Endpoint): void {
  checkFunction('serveTraining', 'argument recipe', recipe, '(options, shared) => TrainingSetup');
  const scope = endpoint ?? (globalThis as unknown as Endpoint);
  if (scope === undefined || typeof (scope as { postMessage?: unknown }).postMessage !== 'function') {
    failType('serveTraining', 'the global scope', 'a dedicated Worker (call serveTraining in a Worker module)', scope);
  }
  Comlink.expose(new TrainingServer(recipe), scope);
}

/** The API object behind {@link serveTraining}; one training at a time. */
export class TrainingServer<Options> implements TrainingWorkerApi {
  readonly #recipe: TrainingRecipe<Options, any>;
  #setup: TrainingSetup<any> | null = null;
  #engines = new Map<string, Engine<any, any>>();
  #outbox: Outbox | null = null;
  #running: Promise<RunOutcome> | null = null;

  constructor(recipe: TrainingRecipe<Options, any>) {
    this.#recipe = recipe;
  }

  async start(options: unknown, deliver: Deliver, link: SharedLink, sharedNames: string[]): Promise<StartReply> {
    if (this.#setup !== null) {
      throw new Error(
        'serveTraining: this Worker already serves a training; close() it first, or make another Worker.',
      );
    }
    let outbox: Outbox | null = null;
    const shared: SharedState = {};
    for (const name of sharedNames) shared[name] = sharedStandIn(name, link, () => outbox?.drain());
    const setup = checkSetup('serveTraining', await this.#recipe(options as Options, shared));
    this.#setup = setup;
    for (const name of engineNames(setup))
      this.#engines.set(name, name === 'trainer' ? setup.trainer : setup.engines![name]!);
    outbox = new Outbox(
      this.#engines,
      (events) => keepingRandomState(() => deliver(events)),
      setup.outputTransform ?? ((output: unknown) => output),
    );
    this.#outbox = outbox;
    // The page's commands (pause, stop) arrive between iterations.
    new EventLoopYielder({ budgetMs: 16 }).attach(setup.trainer);
    const states: Record<string, EngineSnapshot> = {};
    for (const [name, engine] of this.#engines) states[name] = snapshotOf(engine);
    return {
      engines: [...this.#engines.keys()],
      states,
      report: setup.report ?? null,
      actions: Object.keys(setup.actions ?? {}),
    };
  }

  subscribe(engine: string, event: string): void {
    this.#outboxOrFail('subscribe').subscribe(engine, event);
  }

  async run(): Promise<RunOutcome> {
    const setup = this.#setupOrFail('run');
    if (this.#running !== null) {
      throw new Error('TrainingServer.run: the training is already running; pause() or stop() it first.');
    }
    const running = runTracked(setup).then(async (outcome) => {
      await this.#outbox?.drain(); // the page has seen every event before run() resolves there
      return outcome;
    });
    this.#running = running;
    try {
      return await running;
    } finally {
      this.#running = null;
    }
  }

  control(name: string, command: 'interrupt' | 'terminate' | 'terminateEpoch', flag: boolean): void {
    const engine = this.#engines.get(name);
    if (engine === undefined) throw new Error(`TrainingServer.control: no engine '${name}'.`);
    if (command === 'interrupt') engine.interrupt();
    else if (command === 'terminate') engine.terminate(flag);
    else engine.terminateEpoch(flag);
  }

  async action(name: string, args: unknown[]): Promise<unknown> {
    const action = this.#setupOrFail('action').actions?.[name];
    if (typeof action !== 'function') {
      throw new Error(
        `Training.actions: the recipe has no action '${name}'; it offers: ${Object.keys(this.#setup?.actions ?? {}).join(', ') || 'none'}.`,
      );
    }
    return action(...args);
  }

  async close(): Promise<void> {
    const setup = this.#setup;
    if (setup === null) return;
    this.#outbox?.close();
    this.#outbox = null;
    this.#setup = null;
    this.#engines = new Map();
    await setup.dispose?.();
  }

  #setupOrFail(method: string): TrainingSetup<any> {
    if (this.#setup === null) throw new Error(`TrainingServer.${method}: no training yet: start() it first.`);
    return this.#setup;
  }

  #outboxOrFail(method: string): Outbox {
    this.#setupOrFail(method);
    return this.#outbox!;
  }
}

/**
 * A Worker-side stand-in for the page's object `name`: `stateDict()` first waits until the page has handled every
 * event sent so far (so a chart history reaches the checkpoint's iteration), then asks the page.
 */
function sharedStandIn(name: string, link: SharedLink, drain: () => Promise<void> | undefined): Stateful {
  return {
    async stateDict() {
      await drain();
      return keepingRandomState(() => link.stateDict(name));
    },
    async loadStateDict(stateDict: unknown) {
      await keepingRandomState(() => link.loadStateDict(name, stateDict));
    },
  };
}
