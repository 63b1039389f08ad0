// IndexedDBSaver: checkpoints in two object stores (metadata apart from weights), each written in one transaction,
// guarded by a Web Lock. A little over 400 lines: one class whose transaction, lock and read paths share private state.
import { promisifyRequest } from 'idb-keyval';
import { checkBoolean, checkFunction, checkOptions, checkString, yieldWithinJob } from '../internal';
import { type AnyTypedArray, CorruptDataError, decodeCheckpoint, encodeCheckpoint } from './encoding';
import { CheckpointError } from './errors';
import {
  CheckpointWriter,
  openCheckpointDatabase,
  type RecordLayout,
  type WriteRequest,
  writeCheckpointRecords,
} from './indexeddb-records';
import { latestCheckpoint } from './latest';
import {
  type CheckpointInfo,
  checkFilename,
  type LatestOptions,
  preciseNow,
  type SaveMetadata,
  type Saver,
  type StoredCheckpoint,
} from './saver';

const META = 'meta';
const DATA = 'data';
/** The data-store key index of a checkpoint's header; its typed arrays follow at 0, 1, 2, ... */
const HEADER_INDEX = -1;
const FORMAT = 1;
/** Waits between attempts at the store's Web Lock before reporting it as held elsewhere (about 1 s in all). */
const LOCK_RETRY_DELAYS_MS = [0, 50, 150, 300, 500];
const LAYOUT: RecordLayout = { meta: META, data: DATA, headerIndex: HEADER_INDEX };
/** Copies for the storage Worker are made this many bytes at a time... */
const COPY_SLICE_BYTES = 4 * 1024 * 1024;
/** ...yielding to the event loop once this much time has passed, so that no task of the page runs long. */
const COPY_BUDGET_MS = 8;
/** Checkpoints this large or larger go through the storage Worker (see the `worker` option). */
const WORKER_MIN_BYTES = 1024 * 1024;

/** One record of the 'meta' store: all that listing needs, never the weights. */
interface MetaRecord {
  format: typeof FORMAT;
  filename: string;
  savedAt: number;
  /** About how many bytes the checkpoint takes: typed arrays plus header. */
  bytes: number;
  metadata: SaveMetadata | undefined;
  /** How many typed arrays the 'data' store holds for it, at keys [filename, 0 .. buffers - 1]. */
  buffers: number;
}

/** Options of {@link IndexedDBSaver}. */
export interface IndexedDBSaverOptions {
  /**
   * Take a Web Lock on the store before the first write, so that a second tab cannot train into the same store
   * (default true). Without `navigator.locks` (old browsers, Node) there is no lock and no protection.
   */
  lock?: boolean;
  /** Where to report damaged checkpoints skipped by `latest()`; defaults to `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * Write checkpoints of 1 MiB or more in a storage Worker (default: true on a page's main thread, false in a Worker,
   * where there is no page to keep responsive). The page then only copies the typed arrays (in slices, yielding
   * between them) and transfers the copies; serializing them for IndexedDB and writing happen in the Worker. Smaller
   * checkpoints are written on the calling thread, where their structured clone takes less than the Worker's round
   * trip (bench/RESULTS.md). Where Workers cannot be made, saves are written on the calling thread.
   */
  worker?: boolean;
}

const isMetaRecord = (value: unknown): value is MetaRecord => {
  const record = value as MetaRecord;
  return (
    record !== null &&
    typeof record === 'object' &&
    record.format === FORMAT &&
    typeof record.filename === 'string' &&
    typeof record.savedAt === 'number' &&
    Number.isInteger(record.buffers) &&
    record.buffers >= 0
  );
};

/** A read the browser failed (the request's error), told apart from the records it returns. */
class Unreadable {
  constructor(readonly error: unknown) {}
}

/**
 * Resolves with the request's result, or with an {@link Unreadable} holding its error: the error is handled (its
 * default, aborting the transaction, prevented) so that the rest of the transaction still reads.
 */
const resultOrUnreadable = <T>(request: IDBRequest<T>): Promise<T | Unreadable> =>
  new Promise((resolve) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = (event) => {
      event.preventDefault();
      event.stopPropagation();
      resolve(new Unreadable(request.error));
    };
  });

const keyRange = (filename: string): IDBKeyRange =>
  IDBKeyRange.bound([filename, HEADER_INDEX], [filename, Number.POSITIVE_INFINITY]);

/** Resolves when the transaction commits; rejects with its error when it aborts. */
const transactionDone = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
  });

const formatBytes = (bytes: number): string =>
  bytes >= 1e9
    ? `${(bytes / 1e9).toFixed(2)} GB`
    : bytes >= 1e6
      ? `${(bytes / 1e6).toFixed(1)} MB`
      : `${(bytes / 1e3).toFixed(1)} kB`;

/**
 * Saves checkpoints in the browser's IndexedDB, where they survive a reload, a crash and a closed tab.
 *
 * The database `dbName` holds two object stores: `meta` (file name → name, time, size, metadata; listing reads only
 * this) and `data` (the checkpoint's JSON-safe header and each typed array as its own binary record). Each save is
 * one transaction over both stores, so a reload, crash or error during a save leaves the previous checkpoints
 * intact and never exposes a partial one. A full disk becomes a CheckpointError (`QUOTA_EXCEEDED`) saying how much
 * was needed. The first write takes a Web Lock named `kindling:<dbName>`, held until {@link releaseLock} or the
 * page goes away; a second tab writing to the same store gets a CheckpointError (`LOCKED`).
 *
 * @param dbName the IndexedDB database to use (default `'kindling'`); one store per training run avoids mix-ups.
 * @param options `lock` (default true) and `onWarning`.
 *
 * @example
 * const saver = new IndexedDBSaver('mnist-run');
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), new Checkpoint({ trainer, model, optimizer }, saver));
 * // after a reload:
 * const latest = await saver.latest(); // { filename: 'checkpoint_1200.ckpt', data, metadata, savedAt } or null
 */
export class IndexedDBSaver implements Saver {
  /** The IndexedDB database this saver uses. */
  readonly dbName: string;
  /** The Web Lock name guarding writes to the database. */
  readonly lockName: string;
  readonly #useLock: boolean;
  readonly #useWorker: boolean;
  readonly #warn: (message: string) => void;
  #db: Promise<IDBDatabase> | null = null;
  /** The storage Worker, made at the first save; null until then, or when saves go on this thread. */
  #writer: CheckpointWriter | null = null;
  /** True once making (or using) the storage Worker failed: saves then go on this thread. */
  #writerUnavailable = false;
  #release: (() => void) | null = null;
  #lockPending: Promise<() => void> | null = null;

  constructor(dbName = 'kindling', options: IndexedDBSaverOptions = {}) {
    const where = 'IndexedDBSaver';
    this.dbName = checkString(where, 'argument dbName', dbName);
    const { lock = true, onWarning, worker } = checkOptions(where, options, ['lock', 'onWarning', 'worker']);
    this.lockName = `kindling:${dbName}`;
    this.#useLock = checkBoolean(where, 'option lock', lock);
    this.#useWorker = checkBoolean(
      where,
      'option worker',
      worker ?? (typeof document !== 'undefined' && typeof Worker === 'function'),
    );
    this.#warn =
      onWarning === undefined
        ? (message) => console.warn(message)
        : checkFunction<(message: string) => void>(where, 'option onWarning', onWarning, '(message) => void');
  }

  /**
   * Stores `data` under `filename` in one transaction, replacing a checkpoint of that name; with the `worker` option
   * (the default on a page), in the storage Worker. The typed arrays of `data` are neither changed nor detached.
   * Rejects with CheckpointError `QUOTA_EXCEEDED` when storage is full and `LOCKED` when another tab holds the store.
   */
  async save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void> {
    checkFilename('IndexedDBSaver.save', filename);
    const encoded = encodeCheckpoint(data, 'IndexedDBSaver.save');
    await this.#lockForWriting();
    const record: MetaRecord = {
      format: FORMAT,
      filename,
      savedAt: preciseNow(),
      bytes: encoded.bytes,
      metadata,
      buffers: encoded.views.length,
    };
    const request: WriteRequest = {
      dbName: this.dbName,
      filename,
      header: encoded.header,
      views: encoded.views,
      meta: record,
    };
    try {
      const writer = encoded.bytes >= WORKER_MIN_BYTES ? this.#storageWriter() : null;
      let written = false;
      if (writer !== null) {
        try {
          // The Worker gets buffers this saver owns: copies (the caller's arrays, e.g. a tfjs backend's, stay intact).
          await writer.write({ ...request, views: await copyInSlices(encoded.views) });
          written = true;
        } catch (error) {
          // A write the Worker refused (quota, ...) or a saver closed meanwhile fails the save. A Worker that could
          // not run (e.g. a Content-Security-Policy forbidding blob: Workers) or died: this thread writes instead
          // (the same records: a write the Worker had committed is replaced by the same checkpoint).
          if (writer.failure === null || writer.stopped) throw error;
          this.#storageWriter(); // warns once and writes on this thread from now on
        }
      }
      if (!written) await writeCheckpointRecords(await this.#open(), request, LAYOUT);
    } catch (error) {
      throw await this.#saveError(error, filename, encoded.bytes);
    }
  }

  /** The storage Worker, made on first use; null when saves are written on this thread. */
  #storageWriter(): CheckpointWriter | null {
    if (!this.#useWorker) return null;
    if (this.#writer?.failure) {
      this.#warn(
        `IndexedDBSaver: ${this.#writer.failure.message}; checkpoints of database '${this.dbName}' are written on the page's thread from now on.`,
      );
      this.#writer = null;
      this.#writerUnavailable = true;
    }
    if (this.#writer === null && !this.#writerUnavailable) {
      this.#writer = CheckpointWriter.create(LAYOUT);
      this.#writerUnavailable = this.#writer === null;
    }
    return this.#writer;
  }

  /**
   * The data saved under `filename`. Rejects with CheckpointError `NOT_FOUND` when there is none and `CORRUPT`
   * when its records are damaged.
   */
  async load(filename: string): Promise<unknown> {
    checkFilename('IndexedDBSaver.load', filename);
    return (await this.#read(filename, 'IndexedDBSaver.load')).data;
  }

  /** Deletes the checkpoint saved under `filename` (both stores, one transaction); does nothing if there is none. */
  async remove(filename: string): Promise<void> {
    checkFilename('IndexedDBSaver.remove', filename);
    await this.#lockForWriting();
    try {
      await this.#transact('readwrite', (tx) => {
        tx.objectStore(META).delete(filename);
        tx.objectStore(DATA).delete(keyRange(filename));
      });
    } catch (error) {
      throw new CheckpointError(
        `IndexedDBSaver.remove: could not remove checkpoint '${filename}' from database '${this.dbName}': ${String(error)}.`,
        { cause: error },
      );
    }
  }

  /** The names of the stored checkpoints, oldest first; reads only the small 'meta' store. */
  async list(): Promise<string[]> {
    return (await this.#metaRecords()).map((record) => record.filename);
  }

  /**
   * Name, time, size and metadata of each stored checkpoint, oldest first. Reads only the small 'meta' store, never
   * the weights; a damaged meta entry is skipped with a warning.
   *
   * @example
   * for (const { filename, savedAt, bytes, metadata } of await saver.listInfo()) console.log(filename, metadata?.priority, bytes);
   */
  async listInfo(): Promise<CheckpointInfo[]> {
    return (await this.#metaRecords()).map(({ filename, savedAt, bytes, metadata }) => ({
      filename,
      savedAt,
      bytes: typeof bytes === 'number' ? bytes : 0,
      metadata,
    }));
  }

  /**
   * The newest checkpoint that loads (passing `options.filter`), or null when there is none. A damaged checkpoint is
   * skipped with a warning naming it, and the next newest is tried.
   */
  async latest(options: LatestOptions = {}): Promise<StoredCheckpoint | null> {
    const warn = options.onWarning ?? this.#warn;
    const read = (filename: string) => this.#read(filename, 'IndexedDBSaver.latest');
    return latestCheckpoint(await this.#metaRecords(warn), read, options, warn);
  }

  /**
   * Takes the store's Web Lock for this tab, if it is free; resolves to a function that releases it. Calling it
   * again while held returns the same release function. Saves and removes call it themselves.
   * Rejects with CheckpointError `LOCKED`, naming the store and the fix, when another tab or window holds it.
   *
   * @example
   * const release = await saver.acquireLock(); // fail early, before training starts
   */
  async acquireLock(): Promise<() => void> {
    if (this.#release !== null) return this.#release;
    if (this.#lockPending !== null) return this.#lockPending;
    const locks = globalThis.navigator?.locks;
    if (locks === undefined) return () => {};
    this.#lockPending = (async () => {
      // A page that was just reloaded may find its previous document still letting go of the lock: retry briefly.
      for (const delay of LOCK_RETRY_DELAYS_MS) {
        if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
        const release = await this.#tryLock(locks);
        if (release !== null) return release;
      }
      throw new CheckpointError(
        `IndexedDBSaver: the checkpoint store '${this.dbName}' is in use by another tab or window of this site (it holds the Web Lock '${this.lockName}'). Only one page may write checkpoints to a store: close the other tab, or give this page its own store, e.g. new IndexedDBSaver('${this.dbName}-2').`,
        { code: 'LOCKED' },
      );
    })().finally(() => {
      this.#lockPending = null;
    });
    return this.#lockPending;
  }

  /** One attempt at the lock: resolves to its release function, or null when another context holds it. */
  #tryLock(locks: LockManager): Promise<(() => void) | null> {
    return new Promise((resolve, reject) => {
      let unlock!: () => void;
      const held = new Promise<void>((done) => {
        unlock = done;
      });
      locks
        .request(this.lockName, { ifAvailable: true }, async (lock) => {
          if (lock === null) {
            resolve(null);
            return;
          }
          const release = () => {
            if (this.#release === release) this.#release = null;
            unlock();
          };
          this.#release = release;
          resolve(release);
          await held;
        })
        .catch(reject);
    });
  }

  /** Releases the store's Web Lock if this saver holds it, so that another tab may write. */
  releaseLock(): void {
    this.#release?.();
  }

  /**
   * Releases the lock, stops the storage Worker (a save still in flight there rejects) and closes the database
   * connection; the saver reopens what it needs on next use.
   */
  async close(): Promise<void> {
    this.releaseLock();
    this.#writer?.terminate();
    this.#writer = null;
    const db = this.#db;
    this.#db = null;
    if (db !== null) (await db.catch(() => null))?.close();
  }

  async #lockForWriting(): Promise<void> {
    if (this.#useLock) await this.acquireLock();
  }

  async #read(filename: string, where: string): Promise<StoredCheckpoint> {
    let meta: unknown;
    let values: unknown[] | Unreadable;
    try {
      const db = await this.#open();
      const tx = db.transaction([META, DATA], 'readonly');
      const done = transactionDone(tx);
      [meta, values] = await Promise.all([
        promisifyRequest(tx.objectStore(META).get(filename)),
        resultOrUnreadable(tx.objectStore(DATA).getAll(keyRange(filename))),
      ]).catch(async (error: unknown) => {
        await done.catch(() => {});
        throw error;
      });
      // Chromium aborts the transaction after a record it could not read, whatever the request's handler did.
      await done.catch((error: unknown) => {
        if (!(values instanceof Unreadable)) throw error;
      });
    } catch (error) {
      throw new CheckpointError(
        `${where}: could not read checkpoint '${filename}' from database '${this.dbName}': ${String(error)}.`,
        { cause: error },
      );
    }
    const corrupt = (detail: string) =>
      new CheckpointError(
        `${where}: checkpoint '${filename}' in database '${this.dbName}' is damaged (${detail}) and cannot be loaded; other checkpoints are unaffected. Remove it with saver.remove('${filename}').`,
        { code: 'CORRUPT' },
      );
    if (values instanceof Unreadable) {
      // The records are there but the browser cannot read them back, e.g. Chromium's "Failed to read large IndexedDB
      // value" for a value whose blob was cut short (see README): damaged like a missing record, never partly loaded.
      throw corrupt(`its data could not be read back: ${String(values.error)}`);
    }
    if (meta === undefined) {
      if (values.length > 0) throw corrupt('its entry in the meta store is missing');
      const names = await this.list().catch(() => []);
      throw new CheckpointError(
        `${where}: no checkpoint named '${filename}' in database '${this.dbName}'; stored ones: ${names.join(', ') || '(none)'}.`,
        { code: 'NOT_FOUND' },
      );
    }
    if (!isMetaRecord(meta) || meta.filename !== filename) throw corrupt('its entry in the meta store is malformed');
    if (values.length !== meta.buffers + 1) {
      throw corrupt(`the data store should hold ${meta.buffers + 1} records for it, found ${values.length}`);
    }
    try {
      const data = decodeCheckpoint(values[0], values.slice(1));
      return { filename, data, metadata: meta.metadata, savedAt: meta.savedAt };
    } catch (error) {
      if (error instanceof CorruptDataError) throw corrupt(error.message);
      throw error;
    }
  }

  async #metaRecords(warn = this.#warn): Promise<MetaRecord[]> {
    let values: unknown[];
    let keys: IDBValidKey[];
    try {
      [values, keys] = await this.#transact('readonly', (tx) =>
        Promise.all([
          promisifyRequest(tx.objectStore(META).getAll()),
          promisifyRequest(tx.objectStore(META).getAllKeys()),
        ]),
      );
    } catch (error) {
      throw new CheckpointError(
        `IndexedDBSaver: could not list the checkpoints of database '${this.dbName}': ${String(error)}.`,
        { cause: error },
      );
    }
    const records: MetaRecord[] = [];
    values.forEach((value, index) => {
      if (isMetaRecord(value)) records.push(value);
      else
        warn(
          `IndexedDBSaver: the meta entry '${String(keys[index])}' in database '${this.dbName}' is damaged; ignoring it.`,
        );
    });
    return records.sort((a, b) => a.savedAt - b.savedAt);
  }

  /** Runs `body` in one transaction over both stores; resolves with its result once the transaction commits. */
  async #transact<T>(mode: IDBTransactionMode, body: (tx: IDBTransaction) => T | PromiseLike<T>): Promise<T> {
    const db = await this.#open();
    const tx = db.transaction([META, DATA], mode, { durability: mode === 'readwrite' ? 'strict' : 'default' });
    const done = transactionDone(tx);
    let result: T | PromiseLike<T>;
    try {
      result = body(tx);
    } catch (error) {
      tx.abort();
      await done.catch(() => {});
      throw error;
    }
    const [value] = await Promise.all([result, done]);
    return value;
  }

  #open(): Promise<IDBDatabase> {
    this.#db ??= openCheckpointDatabase(this.dbName, LAYOUT).then(
      (db) => {
        db.onclose = () => {
          this.#db = null;
        };
        db.onversionchange = () => {
          db.close();
          this.#db = null;
        };
        return db;
      },
      (error: unknown) => {
        this.#db = null;
        throw new CheckpointError(
          `IndexedDBSaver: could not open the IndexedDB database '${this.dbName}': ${String(error)}. IndexedDB may be disabled (private browsing, blocked storage); try another browser profile or MemorySaver.`,
          { cause: error },
        );
      },
    );
    return this.#db;
  }

  async #saveError(error: unknown, filename: string, bytes: number): Promise<CheckpointError> {
    if (error instanceof CheckpointError) return error;
    if ((error as { name?: unknown } | null)?.name === 'QuotaExceededError') {
      let usage = '';
      try {
        const estimate = await globalThis.navigator?.storage?.estimate?.();
        if (estimate?.quota !== undefined && estimate.usage !== undefined) {
          usage = ` This site uses ${formatBytes(estimate.usage)} (${estimate.usage} bytes) of its ${formatBytes(estimate.quota)} (${estimate.quota} bytes) quota.`;
        }
      } catch {
        // no estimate: the message goes without it
      }
      return new CheckpointError(
        `IndexedDBSaver.save: not enough storage to save checkpoint '${filename}' in database '${this.dbName}': it needs about ${formatBytes(bytes)} (${bytes} bytes).${usage} Older checkpoints are intact. Free space by keeping fewer checkpoints (Checkpoint option nSaved), removing old ones with saver.remove(name), clearing other site data, or asking for more with navigator.storage.persist().`,
        { code: 'QUOTA_EXCEEDED', cause: error },
      );
    }
    return new CheckpointError(
      `IndexedDBSaver.save: could not save checkpoint '${filename}' in database '${this.dbName}': ${String(error)}. Older checkpoints are intact.`,
      { cause: error },
    );
  }
}

/**
 * Copies typed arrays into new ones (buffers the caller may transfer), a few megabytes at a time, yielding to the
 * event loop whenever a few milliseconds have passed, so that copying a large checkpoint adds no long task.
 */
async function copyInSlices(views: readonly AnyTypedArray[]): Promise<AnyTypedArray[]> {
  const copies: AnyTypedArray[] = [];
  let since = performance.now();
  for (const view of views) {
    const copy = new (view.constructor as new (length: number) => AnyTypedArray)(view.length);
    const step = Math.max(1, Math.floor(COPY_SLICE_BYTES / view.BYTES_PER_ELEMENT));
    for (let start = 0; start < view.length; start += step) {
      (copy as Float32Array).set(view.subarray(start, start + step) as Float32Array, start);
      if (performance.now() - since > COPY_BUDGET_MS) {
        await yieldWithinJob();
        since = performance.now();
      }
    }
    copies.push(copy);
  }
  return copies;
}
