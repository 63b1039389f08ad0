// Append-only log files for the loggers (TensorBoard event files, CSV): in Node a file on disk, in the page a file in
// the Origin Private File System, else records in IndexedDB, or memory. Knows nothing of Engine or of what is logged.
// This module holds the interface and the memory file; open-log-file.ts picks a storage.

/** Where a log file lives: `'auto'` picks Node's file system, else OPFS, else IndexedDB. */
export type LogStorage = 'auto' | 'node' | 'opfs' | 'indexeddb' | 'memory';

/** An append-only file of bytes. Calls must not overlap: await each before the next (the loggers chain them). */
export interface LogFile {
  /** Where it is: a path in Node, `opfs:<dir>/<name>`, `indexeddb:<dir>/<name>` or `memory:<dir>/<name>`. */
  readonly location: string;
  /** Which storage holds it. */
  readonly storage: Exclude<LogStorage, 'auto'>;
  /** Adds bytes at the end. */
  append(bytes: Uint8Array): Promise<void>;
  /** Replaces the whole content. */
  replace(bytes: Uint8Array): Promise<void>;
  /** The whole content. */
  read(): Promise<Uint8Array>;
  /** Releases the file; it cannot be written afterwards. */
  close(): Promise<void>;
}

/** Joins a directory and a file name with one `/`. */
export const joinPath = (dir: string, name: string): string =>
  dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;

/** A log file in memory. */
export class MemoryLogFile implements LogFile {
  readonly location: string;
  readonly storage = 'memory' as const;
  #chunks: Uint8Array[] = [];

  constructor(path: string) {
    this.location = `memory:${path}`;
  }

  async append(bytes: Uint8Array): Promise<void> {
    this.#chunks.push(bytes.slice());
  }

  async replace(bytes: Uint8Array): Promise<void> {
    this.#chunks = [bytes.slice()];
  }

  async read(): Promise<Uint8Array> {
    return concatBytes(this.#chunks);
  }

  async close(): Promise<void> {}
}

/** One array of all the chunks. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
