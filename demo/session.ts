// The page's training session: one Training (kindling/worker's handle, on this thread or in a Worker) at a time,
// the live charts and the epoch log it checkpoints, and the statuses the page shows. What trains is demo/recipe.ts.
import {
  type BackendName,
  CheckpointError,
  CheckpointEvents,
  type Engine,
  Events,
  IndexedDBSaver,
  LiveCharts,
  type ResumeReport,
  type Stateful,
  yieldToEventLoop,
} from 'kindling';
import { type Training, trainHere, trainInWorker } from 'kindling/worker';
import {
  BUSY_STATUSES,
  type EpochEntry,
  type RecipeOptions,
  type RunConfig,
  type SessionEvent,
  type SessionStatus,
} from './protocol';
import { chooseBackend, digitsRecipe } from './recipe';

type Actions = Awaited<ReturnType<typeof digitsRecipe>>['actions'];
type Report = ResumeReport & { backend: import('kindling').BackendSelection };

/** The epoch log: a Stateful the recipe checkpoints, so the log comes back after a reload. */
export class EpochLog implements Stateful {
  entries: EpochEntry[] = [];
  stateDict() {
    return { entries: this.entries };
  }
  loadStateDict(sd: { entries: EpochEntry[] }) {
    if (!Array.isArray(sd?.entries)) throw new TypeError('EpochLog.loadStateDict: expected { entries: [...] }.');
    this.entries = sd.entries;
  }
}

/**
 * One training session of the demo page. It reports through `emit`; `inWorker` picks where the recipe runs (a module
 * Worker per run, or this thread).
 */
export class TrainingSession {
  readonly charts: LiveCharts;
  readonly log = new EpochLog();
  readonly #emit: (event: SessionEvent) => void;
  readonly #inWorker: boolean;
  #training: Training<Actions> | null = null;
  #config: RunConfig | null = null;
  #status: SessionStatus = 'idle';
  #isStopRequested = false;
  /** The start, resume or reset under way (it never rejects): stop, reset and delete wait for it. */
  #active: Promise<void> | null = null;

  constructor(charts: HTMLElement, inWorker: boolean, emit: (event: SessionEvent) => void) {
    this.#emit = emit;
    this.#inWorker = inWorker;
    this.charts = new LiveCharts(charts, {
      metrics: { left: ['accuracy'], right: ['loss'], leftLabel: 'validation accuracy', rightLabel: 'validation loss' },
      learningRate: (engine) => engine.state.lr,
      width: 540,
    });
  }

  get status(): SessionStatus {
    return this.#status;
  }

  /** The current run's recipe actions (evaluation, LR finder, TensorBoard log), or null without a run. */
  get actions(): Training<Actions>['actions'] | null {
    return this.#training?.actions ?? null;
  }

  /** On this thread: picks the backend now, so the page shows it before the first run. */
  async prepare(backend: BackendName | null): Promise<void> {
    if (!this.#inWorker)
      this.#emit({ type: 'backend', selection: await chooseBackend(backend), forced: backend !== null });
  }

  /**
   * Starts a run: its store's latest checkpoint when it has one (or `from`), else a fresh run; a run loaded by
   * {@link open} with the same settings just starts. Resolves when the run stops for any reason.
   */
  start(config: RunConfig, backend: BackendName | null, from: string | null): Promise<void> {
    if (BUSY_STATUSES.includes(this.#status)) {
      throw new Error(`TrainingSession.start: the session is ${this.#status}; wait for it, or stop the run first.`);
    }
    this.#isStopRequested = false;
    return this.#track(
      (async () => {
        const isLoaded = this.#status === 'ready' && this.#config?.dbName === config.dbName && from === null;
        if (isLoaded || (await this.#open({ config, backend, from }))) await this.#go();
      })(),
    );
  }

  /** Loads the run `start` would continue, without training (the LR finder works on its model). */
  open(config: RunConfig, backend: BackendName | null): Promise<void> {
    return this.#track(
      (async () => {
        if (await this.#open({ config, backend, from: null })) this.#setStatus('ready');
      })(),
    );
  }

  /** Suspends the run after its current iteration; {@link resume} continues at the same iteration. */
  pause(): void {
    if (this.#status === 'running') void this.#training?.pause();
  }

  /** Continues a paused run where it stopped. */
  resume(): Promise<void> {
    if (this.#status !== 'paused') return Promise.resolve();
    this.#isStopRequested = false;
    return this.#track(this.#go());
  }

  /** Ends the run and resolves once it has ended; checkpoints stay, so start continues from the latest. */
  async stop(): Promise<void> {
    if (this.#status === 'running' || this.#status === 'loading') {
      this.#isStopRequested = true;
      void this.#training?.stop();
      await this.#active;
    } else if (this.#status === 'paused' || this.#status === 'ready') this.#setStatus('stopped');
  }

  /** Stops the run, frees it, and deletes one stored checkpoint (the store's lock is free once the run is closed). */
  async deleteCheckpoint(dbName: string, name: string): Promise<void> {
    await this.stop();
    await this.#close();
    await withSaver(dbName, (saver) => saver.remove(name));
  }

  /** Stops and frees the run, deletes every checkpoint of the store and clears the charts and log. */
  async reset(dbName: string): Promise<void> {
    await this.stop();
    await this.#active;
    this.#setStatus('resetting');
    await this.#close();
    this.charts.clear();
    this.log.entries = [];
    try {
      await withSaver(dbName, async (saver) => {
        for (const name of await saver.list()) await saver.remove(name);
      });
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#setStatus('idle');
  }

  /** Makes the Training (closing the previous one) and wires the page's handlers to it; false when it failed. */
  async #open(options: RecipeOptions): Promise<boolean> {
    try {
      this.#setStatus('loading');
      await this.#close();
      this.charts.clear(); // a resumed run loads its history back
      this.log.entries = [];
      const shared = { shared: { charts: this.charts, epochLog: this.log } };
      const training = this.#inWorker
        ? await trainInWorker<Actions>(
            new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module', name: 'kindling-training' }),
            options,
            shared,
          )
        : await trainHere(digitsRecipe, options, shared);
      this.#training = training;
      this.#config = options.config;
      const report = training.report as Report;
      this.#emit({ type: 'backend', selection: report.backend, forced: options.backend !== null });
      this.#wire(training, options.config);
      for (const entry of this.log.entries) this.#emit({ type: 'epoch', restored: true, ...entry });
      await yieldToEventLoop();
      if (report.resumed) {
        const { name, iteration, epoch, finished } = report;
        this.#emit({ type: 'resumed', name: name!, iteration, epoch, finished });
        // The evaluation cell of the restored weights (a finished run shows it when its run() completes).
        if (!finished) this.#emit({ type: 'evaluation', ...(await training.actions.evaluate()) });
      }
      return true;
    } catch (error) {
      this.#fail(error);
      return false;
    }
  }

  #wire(training: Training<Actions>, config: RunConfig): void {
    const { trainer } = training;
    const evaluator = training.engines.evaluator!;
    this.charts.remove();
    this.charts.attach(trainer, { evaluator });
    let startedAt = performance.now();
    let startIteration = trainer.state.iteration;
    let epochStart = startedAt;
    trainer.on(Events.STARTED, (engine: Engine) => {
      startedAt = performance.now();
      startIteration = engine.state.iteration;
    });
    trainer.on(Events.ITERATION_COMPLETED, (engine: Engine) => {
      const { iteration, epoch, epochLength, maxEpochs } = engine.state;
      const seconds = (performance.now() - startedAt) / 1000;
      this.#emit({
        type: 'iteration',
        iteration,
        epoch,
        epochIteration: ((iteration - 1) % epochLength!) + 1,
        epochLength: epochLength!,
        maxEpochs: maxEpochs ?? config.epochs,
        rate: seconds > 0 ? (iteration - startIteration) / seconds : 0,
      });
    });
    trainer.on(Events.EPOCH_STARTED, () => {
      epochStart = performance.now();
    });
    trainer.on(Events.EPOCH_COMPLETED, async (engine: Engine) => {
      await this.charts.settle(); // the running loss of the epoch's last iteration
      const metrics: Record<string, number> = { ...evaluator.state.metrics };
      const average = this.charts.series.lossAverage?.y.at(-1);
      if (average !== undefined) metrics.runningLoss = average;
      const entry = {
        epoch: engine.state.epoch,
        iteration: engine.state.iteration,
        metrics,
        seconds: (performance.now() - epochStart) / 1000,
      };
      this.log.entries = [...this.log.entries, entry];
      this.#emit({ type: 'epoch', ...entry });
    });
    const saved = CheckpointEvents.SAVED_CHECKPOINT;
    if (!trainer.hasRegisteredEvents(saved)) trainer.registerEvents([saved]); // on a Worker's mirror
    trainer.on(saved, (engine: Engine) => {
      const name = engine.state.lastCheckpoint as string;
      this.#emit({
        type: 'checkpoint',
        name,
        iteration: engine.state.iteration,
        where: `IndexedDB '${config.dbName}' / ${name}`,
      });
    });
  }

  async #go(): Promise<void> {
    const training = this.#training!;
    if (this.#isStopRequested) {
      this.#setStatus('stopped'); // stop() arrived while the run was loading
      return;
    }
    this.#setStatus('running');
    try {
      const { end } = await training.run();
      await this.charts.settle(); // charts complete before the status says paused, stopped or completed
      if (end === 'interrupted') this.#setStatus('paused');
      else if (end === 'terminated') this.#setStatus('stopped');
      else {
        const evaluation = await training.actions.evaluate();
        await yieldToEventLoop(); // drawing it is a task of its own
        this.#emit({ type: 'evaluation', ...evaluation });
        this.#setStatus('completed');
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  async #close(): Promise<void> {
    const training = this.#training;
    this.#training = null;
    this.#config = null;
    this.charts.remove();
    await training?.close();
  }

  /** Remembers `work` as the work under way until it settles. */
  #track(work: Promise<void>): Promise<void> {
    const active = work.finally(() => {
      if (this.#active === active) this.#active = null;
    });
    this.#active = active;
    return active;
  }

  #setStatus(status: SessionStatus, message?: string): void {
    this.#status = status;
    this.charts.flush();
    const state = this.#training?.trainer.state;
    this.#emit({ type: 'status', status, iteration: state?.iteration ?? 0, epoch: state?.epoch ?? 0, message });
  }

  /** Reports a failure; a store held by another tab is not one (status `locked`, no error event). */
  #fail(error: unknown): void {
    // A CheckpointError from a Worker arrives as an Error with the same name and message (its code stays behind).
    const isLocked =
      (error instanceof CheckpointError && error.code === 'LOCKED') ||
      (error instanceof Error && error.name === 'CheckpointError' && /is in use by another tab/.test(error.message));
    if (isLocked) {
      this.#setStatus('locked', 'the checkpoint store is in use by another tab; close it to train here');
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#emit({ type: 'error', message });
    this.#setStatus('failed', message);
  }
}

/** Runs `work` with a saver of the store that takes its lock for the deletes and lets it go afterwards. */
async function withSaver(dbName: string, work: (saver: IndexedDBSaver) => Promise<void>): Promise<void> {
  const saver = new IndexedDBSaver(dbName);
  try {
    await work(saver);
  } finally {
    await saver.close();
  }
}
