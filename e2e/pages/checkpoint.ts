// Test API of e2e/checkpoint.spec.ts: each function of `window.kt` runs one scenario in this page and returns plain
// results; `window.ready` is true once the module has loaded. IndexedDBSaver + Checkpoint in Chromium: round trip,
// rotation, a crash mid-save, quota, damaged records, two tabs.
import * as tf from '@tensorflow/tfjs';
import {
  Checkpoint,
  CheckpointError,
  CheckpointEvents,
  Engine,
  EventLoopYielder,
  Events,
  IndexedDBSaver,
  resumeOrStart,
  type SaveMetadata,
} from 'kindling';

/** What a failed call reports to the spec. */
interface ErrorReport {
  name: unknown;
  isCheckpointError: boolean;
  code: unknown;
  message: string;
  causeName: unknown;
}

/** Globals the spec reads or the page sets for it. */
const win = window as unknown as {
  kt: typeof kt;
  ready: boolean;
  bigPutIssued?: boolean;
  bigSave?: Promise<'done' | ErrorReport>;
  release?: () => void;
  /** Set when a training run with background checkpoints has started writing its second checkpoint. */
  secondSaveStarted?: boolean;
  training?: Promise<'done' | ErrorReport>;
};

const buildModel = (seed: number): tf.Sequential =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        inputShape: [4],
        activation: 'tanh',
        name: 'hidden',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({ units: 3, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });

const step = (model: tf.LayersModel, optimizer: tf.Optimizer): void =>
  tf.tidy(() => {
    const x = tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], [2, 4]);
    const y = tf.tensor2d([1, 0, 0, 0, 1, 0], [2, 3]);
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar, false, variables);
  });

/** Every bit of each tensor, as numbers (Uint32 views of float32 data). */
const bits = (tensors: tf.Tensor[]): Promise<number[][]> =>
  Promise.all(tensors.map(async (t) => Array.from(new Uint32Array((await t.data()).slice().buffer))));

const weightBits = (model: tf.LayersModel): Promise<number[][]> => bits(model.weights.map((w) => w.read()));

/** The optimizer's slot variables, bit by bit (the first weight, its iteration count, is left out). */
const slotBits = async (optimizer: tf.Optimizer): Promise<number[][]> => {
  const weights = await optimizer.getWeights();
  weights[0]!.tensor.dispose();
  return bits(weights.slice(1).map((w) => w.tensor));
};

/** A cheap checksum of a typed array's bytes. */
const checksum = (view: ArrayBufferView): string => {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let hash = 2166136261;
  for (let i = 0; i < bytes.length; i += 97) hash = Math.imul(hash ^ bytes[i]!, 16777619) >>> 0;
  return `${bytes.length}:${hash}`;
};

/** `megabytes` of pseudo-random float32 values drawn from `seed`. */
const big = (megabytes: number, seed: number): Float32Array => {
  const values = new Float32Array((megabytes * 1024 * 1024) / 4);
  let x = seed;
  for (let i = 0; i < values.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    values[i] = x / 4294967296;
  }
  return values;
};

const describeError = (error: unknown): ErrorReport => {
  const e = error as { name?: unknown; code?: unknown; message?: unknown; cause?: { name?: unknown } } | null;
  return {
    name: e?.name,
    isCheckpointError: error instanceof CheckpointError,
    code: e?.code,
    message: String(e?.message ?? error),
    causeName: e?.cause?.name ?? null,
  };
};

/** The blobs saveBlob and startBigSave store. */
interface Blob {
  seed: number;
  values: Float32Array;
}

const warnings: string[] = [];
const savers = new Map<string, IndexedDBSaver>();
/** The page's saver of `dbName`; `worker: false` writes on the page's thread (the default writes in a Worker). */
const saverFor = (dbName: string, options: { worker?: boolean } = {}): IndexedDBSaver => {
  let saver = savers.get(dbName);
  if (saver === undefined) {
    saver = new IndexedDBSaver(dbName, { onWarning: (m) => warnings.push(m), ...options });
    savers.set(dbName, saver);
  }
  return saver;
};

/** Test instrumentation: notes when a typed array over 1 MB is handed to IndexedDB, here or to the storage Worker. */
function watchBigWrites(): void {
  const isBig = (value: unknown) => ((value as { byteLength?: number } | null)?.byteLength ?? 0) > 1024 * 1024;
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (this: IDBObjectStore, value: unknown, key?: IDBValidKey) {
    if (isBig(value)) win.bigPutIssued = true;
    return put.call(this, value, key);
  };
  const post = Worker.prototype.postMessage as (this: Worker, message: unknown, transfer?: Transferable[]) => void;
  Worker.prototype.postMessage = function (this: Worker, message: unknown, transfer?: Transferable[]) {
    const views = (message as { request?: { views?: unknown[] } } | null)?.request?.views ?? [];
    const isBigWrite = views.some(isBig); // before posting: the transfer empties the views
    post.call(this, message, transfer ?? []);
    if (isBigWrite) win.bigPutIssued = true;
  } as typeof Worker.prototype.postMessage;
}

const kt = {
  warnings,

  async backend(name: string): Promise<string> {
    await tf.setBackend(name);
    await tf.ready();
    return tf.getBackend();
  },

  /** Trains model + Adam 3 steps through an Engine and saves { trainer, model, optimizer } at iteration 3. */
  async saveTrained(dbName: string) {
    const model = buildModel(1);
    const optimizer = tf.train.adam(0.05);
    const trainer = new Engine(() => step(model, optimizer));
    const checkpoint = new Checkpoint({ trainer, model, optimizer }, saverFor(dbName));
    trainer.on(Events.ITERATION_COMPLETED({ every: 3 }), checkpoint);
    await trainer.run([1, 2, 3], { maxEpochs: 1 });
    const weights = await weightBits(model);
    const slots = await slotBits(optimizer);
    const files = await saverFor(dbName).list();
    // Two more steps: what resuming must reproduce.
    step(model, optimizer);
    step(model, optimizer);
    return { weights, slots, files, after: await weightBits(model) };
  },

  /** In a fresh page: resumes another model + Adam + engine from the store, then takes the same two steps. */
  async resumeTrained(dbName: string) {
    const model = buildModel(50);
    const optimizer = tf.train.adam(0.05);
    const trainer = new Engine(() => step(model, optimizer));
    const info = await resumeOrStart({ saver: saverFor(dbName), toLoad: { trainer, model, optimizer } });
    const result = {
      info: { resumed: info.resumed, iteration: info.iteration, filename: info.filename, loaded: info.report?.loaded },
      state: trainer.stateDict(),
      iterations: (optimizer as unknown as { iterations: number }).iterations,
      weights: await weightBits(model),
      slots: await slotBits(optimizer),
    };
    step(model, optimizer);
    step(model, optimizer);
    return { ...result, after: await weightBits(model) };
  },

  /** Checkpoint every 2 iterations of 3 epochs of 3, keeping 2, into IndexedDB. */
  async rotation(dbName: string) {
    const saver = saverFor(dbName);
    const counter = {
      value: 0,
      stateDict() {
        return { value: this.value, data: new Float32Array([this.value]) };
      },
      loadStateDict(sd: { value: number }) {
        this.value = sd.value;
      },
    };
    const trainer = new Engine(() => {
      counter.value += 1;
    });
    trainer.on(Events.ITERATION_COMPLETED({ every: 2 }), new Checkpoint({ counter }, saver, { nSaved: 2 }));
    await trainer.run([1, 2, 3], { maxEpochs: 3 });
    const latest = (await saver.latest())!;
    const data = latest.data as { value: number; data: Float32Array };
    return {
      files: await saver.list(),
      latest: latest.filename,
      data: { value: data.value, array: Array.from(data.data) },
    };
  },

  /**
   * Saves a blob while storage Workers cannot start (their blob: script fails to load, as under a CSP forbidding
   * them), then a second one; returns both checksums, what latest() loads and the warnings.
   */
  async saveWithoutWorker(dbName: string) {
    const createObjectURL = URL.createObjectURL;
    URL.createObjectURL = () => `blob:${location.origin}/00000000-0000-4000-8000-000000000000`; // revoked: loads nothing
    try {
      const first = await kt.saveBlob(dbName, 'first.ckpt', 2, 1);
      const second = await kt.saveBlob(dbName, 'second.ckpt', 2, 2);
      return { first, second, ...(await kt.latest(dbName)) };
    } finally {
      URL.createObjectURL = createObjectURL;
    }
  },

  async saveBlob(dbName: string, filename: string, megabytes: number, seed: number, worker = true): Promise<string> {
    const values = big(megabytes, seed);
    await saverFor(dbName, { worker }).save({ seed, values }, filename);
    return checksum(values);
  },

  /**
   * Trains a small model with Adam, `iterations` steps, with a background Checkpoint at every iteration of
   * { trainer, model, optimizer, blob }: the blob is `megabytes` of values drawn from the iteration, so each
   * checkpoint is large and says which iteration it holds. Does not wait: `window.training` resolves when the run
   * ends, and `window.secondSaveStarted` becomes true when the write of the second checkpoint starts.
   */
  startBackgroundTraining(dbName: string, megabytes: number, iterations: number): void {
    const model = buildModel(1);
    const optimizer = tf.train.adam(0.05);
    const trainer = new Engine(() => step(model, optimizer));
    const blob = {
      stateDict: () => {
        const seed = trainer.state.iteration;
        return { seed, values: big(megabytes, seed) };
      },
      loadStateDict() {},
    };
    const inner = saverFor(dbName);
    const saver = {
      save: (data: unknown, filename: string, metadata?: SaveMetadata) => {
        if (filename === 'checkpoint_2.ckpt') win.secondSaveStarted = true;
        return inner.save(data, filename, metadata);
      },
      load: (filename: string) => inner.load(filename),
      remove: (filename: string) => inner.remove(filename),
      list: () => inner.list(),
    };
    const checkpoint = new Checkpoint({ trainer, model, optimizer, blob }, saver, { async: true, nSaved: 2 });
    trainer.on(Events.ITERATION_COMPLETED, checkpoint);
    win.training = trainer.run(Array.from({ length: iterations }, (_, i) => i)).then(
      () => 'done' as const,
      (e: unknown) => describeError(e),
    );
  },

  /**
   * A loop of 60 busy 30 ms steps with an EventLoopYielder, as a CPU-backend training loop is: one background save of
   * `megabytes` at iteration 2, and a timer set then. Returns the iteration at which the save was durable
   * (SAVED_CHECKPOINT) and the one at which the timer fired: the page's other tasks (the storage Worker's reply,
   * IndexedDB's events, timers) must run while the loop goes on, not only once it ends.
   */
  async backgroundSaveDuringBusyLoop(dbName: string, megabytes: number, worker: boolean) {
    const trainer = new Engine(() => {
      const start = performance.now();
      while (performance.now() - start < 30) {
        // busy, as a step of tfjs's CPU backend is
      }
    });
    const blob = {
      stateDict: () => ({ seed: 2, values: big(megabytes, 2) }),
      loadStateDict() {},
    };
    const checkpoint = new Checkpoint({ blob }, saverFor(dbName, { worker }), { async: true });
    trainer.registerEvents([CheckpointEvents.SAVED_CHECKPOINT]);
    let savedAt: number | null = null;
    let timerAt: number | null = null;
    trainer.on(CheckpointEvents.SAVED_CHECKPOINT, () => {
      savedAt = trainer.state.iteration;
    });
    trainer.on(Events.ITERATION_COMPLETED({ once: 2 }), checkpoint);
    trainer.on(Events.ITERATION_COMPLETED({ once: 2 }), () => {
      setTimeout(() => {
        timerAt = trainer.state.iteration;
      }, 0);
    });
    new EventLoopYielder({ budgetMs: 8 }).attach(trainer);
    await trainer.run(Array.from({ length: 60 }, (_, i) => i));
    return { savedAt, timerAt, iterations: trainer.state.iteration };
  },

  /** Trains like startBackgroundTraining (2 iterations) and waits: the run's error (e.g. quota, lock), or null. */
  async trainExpectingError(dbName: string, megabytes: number) {
    kt.startBackgroundTraining(dbName, megabytes, 2);
    const outcome = await win.training!;
    return outcome === 'done' ? null : outcome;
  },

  /** What latest() finds in a background-training store: the checkpoint's iteration, and its blob's checksum. */
  async latestBackground(dbName: string) {
    const saver = saverFor(dbName);
    const latest = await saver.latest();
    const blob = (latest?.data as { blob?: Blob } | undefined)?.blob;
    return {
      filename: latest?.filename ?? null,
      seed: blob?.seed ?? null,
      checksumMatches: blob ? checksum(blob.values) === checksum(big(blob.values.length / 262144, blob.seed)) : null,
      files: await saver.list(),
      warnings: [...warnings],
    };
  },

  /**
   * Starts a save without waiting for it; `window.bigPutIssued` becomes true once the big typed array has been handed
   * to IndexedDB (or to the storage Worker, which writes it at once): the transaction is then in flight.
   */
  startBigSave(dbName: string, filename: string, megabytes: number, seed: number, worker = true): string {
    const values = big(megabytes, seed);
    watchBigWrites();
    win.bigSave = saverFor(dbName, { worker })
      .save({ seed, values }, filename)
      .then(
        () => 'done' as const,
        (e: unknown) => describeError(e),
      );
    return checksum(values);
  },

  async latest(dbName: string) {
    const saver = saverFor(dbName);
    const latest = await saver.latest();
    const blob = latest?.data as Blob | undefined;
    const files = await saver.list();
    const loadable: boolean[] = [];
    for (const name of files) {
      loadable.push(
        await saver.load(name).then(
          () => true,
          () => false,
        ),
      );
    }
    return {
      filename: latest?.filename ?? null,
      seed: blob?.seed ?? null,
      checksum: blob ? checksum(blob.values) : null,
      files,
      loadable,
      warnings: [...warnings],
    };
  },

  async saveExpectingError(dbName: string, filename: string, megabytes: number, seed: number) {
    try {
      await saverFor(dbName).save({ seed, values: big(megabytes, seed) }, filename);
      return null;
    } catch (error) {
      return describeError(error);
    }
  },

  async estimate() {
    const { usage, quota } = await navigator.storage.estimate();
    return { usage, quota };
  },

  /** Damages a stored checkpoint behind the saver's back: deletes its first typed-array record. */
  async damage(dbName: string, filename: string): Promise<void> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(dbName);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await new Promise((resolve, reject) => {
      const tx = db.transaction('data', 'readwrite');
      tx.objectStore('data').delete([filename, 0]);
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
    db.close();
  },

  async acquire(dbName: string) {
    try {
      win.release = await saverFor(dbName).acquireLock();
      return 'acquired';
    } catch (error) {
      return describeError(error);
    }
  },

  async resumeExpectingError(dbName: string) {
    try {
      const counter = { stateDict: () => ({}), loadStateDict() {} };
      await resumeOrStart({ saver: saverFor(dbName), toLoad: { counter } });
      return null;
    } catch (error) {
      return describeError(error);
    }
  },
};

win.kt = kt;
win.ready = true;
