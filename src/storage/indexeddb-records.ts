// How IndexedDBSaver lays a checkpoint out in its database, and the one function that writes it: used in the page,
// and in a storage Worker so that the page's main thread neither serializes nor writes the weights.
//
// The functions marked "self-contained" reach nothing outside their own body (no imports, no module constants): the
// Worker's source is built from their text (`Function.prototype.toString`), so they must run the same there. What
// they need (store names, the header's key) comes in as arguments.

/** Store names and keys of a checkpoint database: `meta` maps a file name to its record; `data` holds, at
 * `[filename, headerIndex]`, the JSON-safe header and at `[filename, 0 .. n - 1]` each typed array. */
export interface RecordLayout {
  meta: string;
  data: string;
  headerIndex: number;
}

/** What one save writes: the meta record, the header and the typed arrays of `filename`. */
export interface WriteRequest {
  dbName: string;
  filename: string;
  header: unknown;
  views: ArrayBufferView[];
  meta: unknown;
}

/** Self-contained. Opens (creating or upgrading as needed) a database holding the layout's two stores. */
export async function openCheckpointDatabase(name: string, layout: RecordLayout): Promise<IDBDatabase> {
  const open = (version?: number) =>
    new Promise<IDBDatabase>((resolve, reject) => {
      const request = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
      request.onupgradeneeded = () => {
        const db = request.result;
        for (const store of [layout.meta, layout.data]) {
          if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  const db = await open();
  if (db.objectStoreNames.contains(layout.meta) && db.objectStoreNames.contains(layout.data)) return db;
  // The database exists without our stores (made by other code): add them in a version upgrade.
  const version = db.version + 1;
  db.close();
  return open(version);
}

/**
 * Self-contained. Writes one checkpoint in a single transaction over both stores (replacing one of that name), with
 * strict durability; resolves when it commits, rejects with the transaction's error (e.g. `QuotaExceededError`) when
 * it aborts. A crash or a closed page before the commit leaves the database as it was.
 */
export function writeCheckpointRecords(db: IDBDatabase, request: WriteRequest, layout: RecordLayout): Promise<void> {
  const { filename, header, views, meta } = request;
  const tx = db.transaction([layout.meta, layout.data], 'readwrite', { durability: 'strict' });
  const done = new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted.', 'AbortError'));
  });
  try {
    const store = tx.objectStore(layout.data);
    store.delete(IDBKeyRange.bound([filename, layout.headerIndex], [filename, Number.POSITIVE_INFINITY]));
    store.put(header, [filename, layout.headerIndex]);
    for (let index = 0; index < views.length; index++) store.put(views[index], [filename, index]);
    tx.objectStore(layout.meta).put(meta, filename);
  } catch (error) {
    tx.abort();
    return done.then(
      () => Promise.reject(error),
      () => Promise.reject(error),
    );
  }
  return done;
}

/** What the page sends the storage Worker, and what it answers. */
interface WorkerRequest {
  id: number;
  request: WriteRequest;
}
interface WorkerReply {
  id: number;
  error: { name: string; message: string } | null;
}

/**
 * Self-contained. The storage Worker's body: answers each `{ id, request }` message by writing it with `write` into
 * the database `request.dbName` (opened once with `open`, closed when another connection upgrades it), then posts
 * `{ id, error }` back, `error` being null or the failure's name and message.
 */
export function serveCheckpointWrites(
  scope: { onmessage: ((event: MessageEvent) => void) | null; postMessage(message: unknown): void },
  open: typeof openCheckpointDatabase,
  write: typeof writeCheckpointRecords,
  layout: RecordLayout,
): void {
  const databases = new Map<string, Promise<IDBDatabase>>();
  const databaseFor = (name: string): Promise<IDBDatabase> => {
    let db = databases.get(name);
    if (db === undefined) {
      db = open(name, layout).then((opened) => {
        opened.onversionchange = () => {
          opened.close();
          databases.delete(name);
        };
        opened.onclose = () => {
          databases.delete(name);
        };
        return opened;
      });
      db.catch(() => {
        databases.delete(name);
      });
      databases.set(name, db);
    }
    return db;
  };
  scope.onmessage = async (event: MessageEvent) => {
    const { id, request } = event.data as WorkerRequest;
    let reply: WorkerReply;
    try {
      await write(await databaseFor(request.dbName), request, layout);
      reply = { id, error: null };
    } catch (error) {
      const e = error as { name?: unknown; message?: unknown } | null;
      reply = { id, error: { name: String(e?.name ?? 'Error'), message: String(e?.message ?? error) } };
    }
    scope.postMessage(reply);
  };
}

/** The storage Worker's source: the self-contained functions above, and a call to serve the page's writes. */
function workerSource(layout: RecordLayout): string {
  return [
    '"use strict";',
    `const open = ${openCheckpointDatabase.toString()};`,
    `const write = ${writeCheckpointRecords.toString()};`,
    `(${serveCheckpointWrites.toString()})(self, open, write, ${JSON.stringify(layout)});`,
  ].join('\n');
}

/**
 * Writes checkpoints in a dedicated Worker (made from a Blob URL, so no bundler setup is needed): the page sends the
 * records with their typed arrays' buffers transferred, not copied, and the Worker serializes and writes them.
 */
export class CheckpointWriter {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: () => void; reject: (error: unknown) => void }>();
  #next = 0;
  #failure: Error | null = null;
  #stopped = false;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const { id, error } = event.data;
      const waiting = this.#waiting.get(id);
      this.#waiting.delete(id);
      if (error === null) waiting?.resolve();
      else waiting?.reject(new DOMException(error.message, error.name));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#fail(new Error(`the storage worker failed: ${event.message || 'it could not start'}`));
    };
  }

  /** A writer in a new Worker, or null where Workers cannot be made (no `Worker`, or a policy forbids Blob URLs). */
  static create(layout: RecordLayout): CheckpointWriter | null {
    if (typeof Worker !== 'function' || typeof Blob !== 'function' || typeof URL?.createObjectURL !== 'function') {
      return null;
    }
    const url = URL.createObjectURL(new Blob([workerSource(layout)], { type: 'text/javascript' }));
    try {
      return new CheckpointWriter(new Worker(url, { name: 'kindling checkpoint writer' }));
    } catch {
      return null;
    } finally {
      // The Worker has fetched its script by the time it runs; revoking now only stops new uses of the URL.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
  }

  /** Set when the Worker failed: later writes should not be sent to it. */
  get failure(): Error | null {
    return this.#failure;
  }

  /**
   * Writes `request` in the Worker; the buffers of `request.views` are transferred (they are unusable here
   * afterwards). Resolves when the transaction commits; rejects with its error (a DOMException of the same name).
   */
  write(request: WriteRequest): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const id = this.#next++;
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      const transfer = request.views.map((view) => view.buffer as ArrayBuffer);
      this.#worker.postMessage({ id, request } satisfies WorkerRequest, transfer);
    });
  }

  /** True once {@link terminate} was called (as opposed to the Worker failing on its own). */
  get stopped(): boolean {
    return this.#stopped;
  }

  /** Stops the Worker; writes still in flight reject. */
  terminate(): void {
    this.#stopped = true;
    this.#worker.terminate();
    this.#fail(new Error('the storage worker was stopped (saver.close()) before the write finished'));
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const { reject } of this.#waiting.values()) reject(error);
    this.#waiting.clear();
  }
}
