import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  type BackendName,
  ChartFeed,
  Checkpoint,
  type Checkpointable,
  CheckpointError,
  CheckpointEvents,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  type Engine,
  EventLoopYielder,
  Events,
  IndexedDBSaver,
  Loss,
  manualSeed,
  resumeOrStart,
  ScalarHistory,
  selectBackend,
  TensorDataset,
  yieldToEventLoop,
} from 'kindling';
import { type Digits, loadDigits, NUM_PIXELS, splitDigits, take } from './data';
import { buildModel, lossFn } from './model';
import { BUSY_STATUSES, type Mistake, type RunConfig, SERIES, type SessionEvent, type SessionStatus } from './protocol';
import { makeLrSchedule } from './schedule';

/** Weight of the previous average in the running loss shown on the chart (each new loss weighs 1 - ALPHA). */
const ALPHA = 0.9;
/** Losses are read back from the device this many at a time (and at the end of each epoch, pause and checkpoint). */
const LOSS_CHUNK = 20;

/**
 * The running loss shown on the chart: the small state a checkpoint must carry besides model, optimizer and trainer.
 * Losses reach it a chunk at a time from a ScalarHistory; a checkpoint saves the value delivered so far, and the
 * history (saved after it) the losses not delivered yet, which loading it delivers again (see ScalarHistory).
 */
class RunningLoss {
  value: number | null = null;
  update(loss: number): number {
    this.value = this.value === null ? loss : ALPHA * this.value + (1 - ALPHA) * loss;
    return this.value;
  }
  stateDict(): { value: number | null } {
    return { value: this.value };
  }
  loadStateDict(sd: { value: number | null }): void {
    this.value = sd.value;
  }
}

interface Run {
  config: RunConfig;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  trainer: Engine<any, tf.Scalar>;
  /** Reads the losses back a chunk at a time, never stalling a step. */
  history: ScalarHistory;
  trainLoader: DataLoader<any, any>;
  datasets: TensorDataset[];
  /** The validation rows on the CPU, for the mistakes cell (no need to read them back from the device). */
  val: { pixels: Float32Array; labels: Int32Array };
  checkpoint: Checkpoint;
  /**
   * The validation logits of the last evaluation and the trainer iteration they belong to: the mistakes cell reads
   * them instead of running the model over the validation set a second time.
   */
  lastLogits: { iteration: number; batches: tf.Tensor[] } | null;
  saver: IndexedDBSaver;
  startedAt: number;
  startIteration: number;
}

/**
 * One training session of the demo: data, model, trainer, evaluator, checkpoints and chart feed. It knows nothing of
 * the page: it reports through `emit`, so it runs the same on the main thread and in a worker.
 */
export class TrainingSession {
  readonly #emit: (event: SessionEvent) => void;
  #digits: Digits | null = null;
  #backendReady: Promise<void> | null = null;
  #run: Run | null = null;
  #status: SessionStatus = 'idle';
  #isStopRequested = false;
  /** The start or resume under way (it never rejects), so that stop, reset and delete can wait for the run to end. */
  #active: Promise<void> | null = null;
  readonly #feed: ChartFeed;
  /** One saver per database, kept across runs: it holds the store's Web Lock while this session may write to it. */
  readonly #savers = new Map<string, IndexedDBSaver>();

  constructor(emit: (event: SessionEvent) => void) {
    this.#emit = emit;
    this.#feed = new ChartFeed({ sink: (frame) => this.#emit({ type: 'chart', frame: copyFrame(frame) }) });
  }

  get status(): SessionStatus {
    return this.#status;
  }

  /** Picks the backend once per session (tfjs has one global backend). */
  ensureBackend(backend: BackendName | null): Promise<void> {
    this.#backendReady ??= selectBackend(backend ? { prefer: backend } : {}).then((selection) => {
      this.#emit({ type: 'backend', selection, forced: backend !== null });
    });
    return this.#backendReady;
  }

  /**
   * Starts a run: a fresh one, or one continued from a stored checkpoint (`'latest'` or a name). Resolves when the
   * run stops for any reason (completed, paused, stopped, failed, locked). It takes the store's Web Lock first: when
   * another tab holds it, the status becomes `locked` and nothing is loaded or trained.
   */
  start(config: RunConfig, backend: BackendName | null, resumeFrom: string | null): Promise<void> {
    if (BUSY_STATUSES.includes(this.#status)) {
      throw new Error(`TrainingSession.start: the session is ${this.#status}; wait for it, or stop the run first.`);
    }
    this.#isStopRequested = false;
    return this.#track(this.#start(config, backend, resumeFrom));
  }

  async #start(config: RunConfig, backend: BackendName | null, resumeFrom: string | null): Promise<void> {
    try {
      this.#setStatus('loading');
      await this.#saver(config.dbName).acquireLock(); // fail early, before disposing the current run
      await this.ensureBackend(backend);
      this.#digits ??= await loadDigits();
      await yieldToEventLoop();
      this.#dispose();
      const run = this.#build(config);
      this.#run = run;
      await yieldToEventLoop(); // building the model and data is the longest step of a start: let the page breathe
      const toLoad = this.#toSave(run);
      let name: string | null = null;
      if (resumeFrom === 'latest') {
        name = (await resumeOrStart({ saver: run.saver, toLoad })).filename;
      } else if (resumeFrom !== null) {
        await Checkpoint.loadObjects({
          toLoad,
          checkpoint: (await run.saver.load(resumeFrom)) as Record<string, unknown>,
        });
        name = resumeFrom;
      }
      if (name) {
        await yieldToEventLoop();
        const { iteration, epoch } = run.trainer.state;
        this.#emit({ type: 'resumed', name, iteration, epoch });
      } else {
        this.#feed.clear();
      }
      await this.#go(run);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Suspends the run at the next event (`engine.interrupt()`); {@link resume} continues at the same iteration. */
  pause(): void {
    if (this.#status === 'running') this.#run?.trainer.interrupt();
  }

  /** Continues a paused run where it stopped. */
  resume(): Promise<void> {
    const run = this.#run;
    if (this.#status !== 'paused' || !run) return Promise.resolve();
    this.#isStopRequested = false;
    return this.#track(
      this.#go(run).catch((error: unknown) => {
        this.#fail(error);
      }),
    );
  }

  /**
   * Ends the run (`engine.terminate()`) and resolves once it has ended: the step and its handlers (checkpoint,
   * evaluation) are done. Checkpoints stay, so start continues from the latest. A start still loading ends before
   * training; a paused run becomes stopped.
   */
  async stop(): Promise<void> {
    if (this.#status === 'running' || this.#status === 'loading') {
      this.#isStopRequested = true;
      if (this.#status === 'running') this.#run?.trainer.terminate();
      await this.#active;
    } else if (this.#status === 'paused') this.#setStatus('stopped');
  }

  /**
   * Deletes one stored checkpoint, through this session's saver (which holds the store's lock). A run under way is
   * stopped first, and this waits for it to end: its Checkpoint keeps its own list of what it saved.
   */
  async deleteCheckpoint(dbName: string, name: string): Promise<void> {
    await this.stop();
    await this.#saver(dbName).remove(name);
  }

  /**
   * Stops the run and waits for it to end, then frees its model and tensors, deletes every checkpoint of the store
   * and clears the charts. Ends `idle`, or `locked` when another tab holds the store.
   */
  async reset(dbName: string): Promise<void> {
    await this.stop();
    await this.#active; // a reset that raced a start: never dispose what a step may still use
    this.#setStatus('resetting');
    this.#dispose();
    this.#feed.clear();
    try {
      const saver = this.#saver(dbName);
      for (const name of await saver.list()) await saver.remove(name);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.#setStatus('idle');
  }

  /** Remembers `work` as the run under way until it settles. */
  #track(work: Promise<void>): Promise<void> {
    const active = work.finally(() => {
      if (this.#active === active) this.#active = null;
    });
    this.#active = active;
    return active;
  }

  #build(config: RunConfig): Run {
    const digits = this.#digits!;
    manualSeed(config.seed);
    const model = buildModel(config.model);
    const optimizer = tf.train.adam(config.learningRate);
    const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
    const split = splitDigits(digits);
    const [train, val] = [take(digits, split.train), take(digits, split.val)];
    const [trainSet, valSet] = [train, val].map(
      ({ pixels, labels }) =>
        new TensorDataset(tf.tensor2d(pixels, [labels.length, NUM_PIXELS]), tf.tensor1d(labels, 'int32')),
    ) as [TensorDataset, TensorDataset];
    const trainLoader = new DataLoader(trainSet, { batchSize: config.batchSize, shuffle: true });
    // One batch: on a GPU each batch costs a round of kernel launches, and 360 rows fit easily.
    const valLoader = new DataLoader(valSet, { batchSize: val.labels.length });
    const evaluator = createSupervisedEvaluator(model, {
      metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) },
    });
    const saver = this.#saver(config.dbName);
    const running = new RunningLoss();
    const feed = this.#feed;
    // Attached first, so that the handlers below (checkpoints, epoch metrics) see this iteration's loss recorded.
    const history = new ScalarHistory({
      chunk: LOSS_CHUNK,
      onValues: (iterations, losses) => {
        iterations.forEach((iteration, i) => {
          feed.push(SERIES.loss, iteration, losses[i]!);
          feed.push(SERIES.avgLoss, iteration, running.update(losses[i]!));
        });
      },
    }).attach(trainer);
    const run: Run = {
      config,
      model,
      optimizer,
      trainer,
      history,
      trainLoader,
      datasets: [trainSet, valSet],
      val,
      checkpoint: null as unknown as Checkpoint,
      lastLogits: null,
      saver,
      startedAt: 0,
      startIteration: 0,
    };
    // The loss history after what it feeds (runningLoss, charts): loading it delivers the losses they had not seen.
    const toSave: Record<string, unknown> = { model, optimizer, trainer, runningLoss: running, charts: feed };
    const schedule = makeLrSchedule(config, optimizer, trainLoader.length);
    if (schedule) {
      trainer.on(Events.ITERATION_STARTED, schedule);
      toSave.lrSchedule = schedule;
    }
    toSave.lossHistory = history;
    run.checkpoint = new Checkpoint(toSave as Record<string, Checkpointable>, saver, {
      nSaved: 3,
      filenamePrefix: config.model,
      includeSelf: true,
      async: config.asyncCheckpoints,
    });
    this.#toSaveByRun.set(run, { ...toSave, checkpointer: run.checkpoint });
    const saved = CheckpointEvents.SAVED_CHECKPOINT;
    trainer.registerEvents([saved], { eventToAttr: { [saved.name]: 'savedCheckpoint' } });
    trainer.on(saved, () => this.#reportCheckpoint(run));

    const yielder = new EventLoopYielder({ budgetMs: 16 });
    trainer.on(Events.ITERATION_COMPLETED, (engine) => {
      const { iteration, epoch, epochLength, maxEpochs } = engine.state;
      const seconds = (performance.now() - run.startedAt) / 1000;
      this.#emit({
        type: 'iteration',
        iteration,
        epoch,
        epochIteration: ((iteration - 1) % epochLength!) + 1,
        epochLength: epochLength!,
        maxEpochs: maxEpochs ?? config.epochs,
        rate: seconds > 0 ? (iteration - run.startIteration) / seconds : 0,
      });
    });
    trainer.on(Events.ITERATION_COMPLETED({ every: config.checkpointEvery }), run.checkpoint);
    trainer.on(Events.ITERATION_COMPLETED, yielder);
    evaluator.on(Events.ITERATION_COMPLETED, yielder);
    let epochStart = 0;
    trainer.on(Events.EPOCH_STARTED, () => {
      epochStart = performance.now();
    });
    trainer.on(Events.EPOCH_COMPLETED, async (engine) => {
      await evaluator.run(valLoader);
      await history.flush(); // the running loss of the epoch's last iteration
      const metrics = { ...(evaluator.state.metrics as Record<string, number>) };
      const { epoch, iteration } = engine.state;
      this.#feed.push(SERIES.valAccuracy, epoch, metrics.accuracy!);
      this.#feed.push(SERIES.valLoss, epoch, metrics.loss!);
      if (running.value !== null) metrics.runningLoss = running.value;
      this.#emit({ type: 'epoch', epoch, iteration, metrics, seconds: (performance.now() - epochStart) / 1000 });
    });
    trainer.on(Events.EPOCH_COMPLETED, run.checkpoint);
    // Keep the logits of the evaluation that follows the last step (a clone: the evaluator disposes its own output).
    evaluator.on(Events.STARTED, () => releaseLogits(run));
    evaluator.on(Events.ITERATION_COMPLETED, (engine) => {
      const iteration = trainer.state.iteration;
      if (iteration < run.trainLoader.length * config.epochs) return;
      run.lastLogits ??= { iteration, batches: [] };
      run.lastLogits.batches.push(tf.clone((engine.state.output as [tf.Tensor, tf.Tensor])[0]));
    });
    trainer.on(Events.COMPLETED, () => this.#evaluateMistakes(run));
    return run;
  }

  #saver(dbName: string): IndexedDBSaver {
    let saver = this.#savers.get(dbName);
    if (!saver) {
      saver = new IndexedDBSaver(dbName);
      this.#savers.set(dbName, saver);
    }
    return saver;
  }

  readonly #toSaveByRun = new WeakMap<Run, Record<string, unknown>>();

  #toSave(run: Run): Record<string, any> {
    return this.#toSaveByRun.get(run)!;
  }

  async #go(run: Run): Promise<void> {
    const { config, trainer } = run;
    const total = run.trainLoader.length * config.epochs;
    if (trainer.state.iteration >= total) {
      await this.#evaluateMistakes(run);
      this.#setStatus('completed');
      return;
    }
    if (this.#isStopRequested) {
      this.#setStatus('stopped'); // stop() arrived while the run was loading
      return;
    }
    run.startedAt = performance.now();
    run.startIteration = trainer.state.iteration;
    this.#setStatus('running');
    try {
      await trainer.run(run.trainLoader, { maxEpochs: config.epochs });
    } finally {
      await run.history.flush(); // charts complete before the status says paused, stopped or completed
    }
    if (this.#status !== 'running') return;
    const { iteration } = trainer.state;
    if (iteration >= total) this.#setStatus('completed');
    else this.#setStatus(this.#isStopRequested ? 'stopped' : 'paused');
  }

  #reportCheckpoint(run: Run): void {
    // The newest kept checkpoint and its step (with background saves the trainer has moved on since).
    const newest = run.checkpoint.stateDict().saved.at(-1);
    if (newest) {
      const [iteration, name] = newest;
      const where = `IndexedDB '${run.config.dbName}' / ${name}`;
      this.#emit({ type: 'checkpoint', name, iteration, where });
    }
  }

  /**
   * Fills the evaluation cell: confusion matrix and the first misclassified digits. It uses the logits kept from the
   * evaluation after the last step when there are some (one read, no second pass over the validation set), and runs
   * the model otherwise (a run resumed from a finished checkpoint). The arg-max is taken here, on 360 x 10 numbers.
   */
  async #evaluateMistakes(run: Run): Promise<void> {
    const { pixels, labels } = run.val;
    const kept = run.lastLogits?.iteration === run.trainer.state.iteration ? run.lastLogits.batches : null;
    const logits = tf.tidy(() => {
      if (!kept) return run.model.predict(run.datasets[1]!.tensors[0] as tf.Tensor2D) as tf.Tensor;
      return kept.length === 1 ? tf.clone(kept[0]!) : tf.concat(kept);
    });
    releaseLogits(run);
    const values = await logits.data(); // the only read: pixels and labels are on the CPU already
    const numClasses = logits.shape[1]!;
    logits.dispose();
    const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
    const mistakes: Mistake[] = [];
    let correct = 0;
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      const row = values.subarray(i * numClasses, (i + 1) * numClasses);
      let guess = 0; // the first of equal maxima, as tf.argMax
      for (let c = 1; c < numClasses; c++) if (row[c]! > row[guess]!) guess = c;
      confusion[label]![guess]! += 1;
      if (label === guess) correct += 1;
      else if (mistakes.length < 12) {
        mistakes.push({
          label,
          predicted: guess,
          pixels: Array.from(pixels.subarray(i * NUM_PIXELS, (i + 1) * NUM_PIXELS)),
        });
      }
    }
    this.#emit({ type: 'evaluation', confusion, mistakes, accuracy: correct / labels.length });
  }

  #setStatus(status: SessionStatus, message?: string): void {
    this.#status = status;
    this.#feed.flush();
    const state = this.#run?.trainer.state;
    this.#emit({ type: 'status', status, iteration: state?.iteration ?? 0, epoch: state?.epoch ?? 0, message });
  }

  /** Reports a failure; a store held by another tab is not one (status `locked`, no error event). */
  #fail(error: unknown): void {
    if (error instanceof CheckpointError && error.code === 'LOCKED') {
      this.#setStatus('locked', 'the checkpoint store is in use by another tab; close it to train here');
      return;
    }
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.#emit({ type: 'error', message });
    this.#setStatus('failed', message);
  }

  #dispose(): void {
    const run = this.#run;
    if (!run) return;
    this.#run = null;
    releaseLogits(run);
    run.model.dispose();
    run.optimizer.dispose();
    for (const ds of run.datasets) tf.dispose([...ds.tensors]);
  }
}

/** Disposes the logits kept for the mistakes cell, if any. */
function releaseLogits(run: Run): void {
  if (run.lastLogits) tf.dispose(run.lastLogits.batches);
  run.lastLogits = null;
}

/** Frames cross postMessage in worker mode; copying also keeps the main thread from sharing the feed's live arrays. */
function copyFrame(frame: { series: Record<string, { x: number[]; y: number[] }>; changed: string[] }) {
  const series: Record<string, { x: number[]; y: number[] }> = {};
  for (const name of frame.changed) {
    const s = frame.series[name];
    series[name] = s ? { x: [...s.x], y: [...s.y] } : { x: [], y: [] };
  }
  return { series, changed: [...frame.changed] };
}
