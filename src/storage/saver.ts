import { checkString } from '../internal';

/**
 * What {@link Checkpoint} tells a saver about each checkpoint (Ignite's `metadata`): the file name without step and
 * score, the score name if any, and the priority that ranked it. Savers store it beside the data, untouched.
 */
export interface SaveMetadata {
  /** The file prefix (if any) and the checkpoint's name, e.g. `best_model`. */
  basename?: string;
  /** The score's name, or null when the checkpoint is ranked by step. */
  scoreName?: string | null;
  /** The value that ranked the checkpoint: its score, or its global step. */
  priority?: number;
  [key: string]: unknown;
}

/** A loaded checkpoint with what was stored beside it, as returned by a saver's `latest()`. */
export interface StoredCheckpoint {
  /** The checkpoint's file name, e.g. `checkpoint_120.ckpt`. */
  filename: string;
  /** The checkpoint's data, as `load(filename)` returns it. */
  data: unknown;
  /** The metadata given to `save()`, if any. */
  metadata: SaveMetadata | undefined;
  /** When it was saved, in milliseconds since the epoch (sub-millisecond precision where available). */
  savedAt: number;
}

/** What a saver's `listInfo()` tells about one stored checkpoint, without loading its data. */
export interface CheckpointInfo {
  /** The checkpoint's file name, e.g. `checkpoint_120.ckpt`. */
  filename: string;
  /** When it was saved, in milliseconds since the epoch. */
  savedAt: number;
  /** About how many bytes it takes in storage (its typed arrays plus the rest as JSON; a file's size on disk). */
  bytes: number;
  /** The metadata given to `save()`, if any: with Checkpoint, `{ basename, scoreName, priority }`. */
  metadata: SaveMetadata | undefined;
}

/** Options of a saver's `latest()`. */
export interface LatestOptions {
  /** Only consider checkpoints whose file name passes this test, e.g. `(name) => name.startsWith('trainer_')`. */
  filter?: (filename: string, metadata: SaveMetadata | undefined) => boolean;
  /** Where to report a damaged checkpoint that was skipped; defaults to the saver's own warning sink. */
  onWarning?: (message: string) => void;
}

/**
 * Where checkpoints go: a small interface injected into {@link Checkpoint} (Ignite's `BaseSaveHandler`).
 * Data is plain data (objects, arrays, numbers, strings, booleans, null) plus typed arrays; every saver keeps typed
 * arrays as binary, never as JSON numbers. Kindling ships {@link MemorySaver}, {@link IndexedDBSaver} and, for
 * Node, `DiskSaver` from `kindling/node`.
 *
 * @example
 * class LoggingSaver implements Saver {
 *   inner = new MemorySaver();
 *   async save(data: unknown, filename: string, metadata?: SaveMetadata) {
 *     console.log('saving', filename);
 *     await this.inner.save(data, filename, metadata);
 *   }
 *   load(filename: string) { return this.inner.load(filename); }
 *   remove(filename: string) { return this.inner.remove(filename); }
 *   list() { return this.inner.list(); }
 * }
 */
export interface Saver {
  /** Stores `data` under `filename`, replacing a checkpoint of the same name; all or nothing. */
  save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void>;
  /** Returns the data saved under `filename`; rejects with a CheckpointError (`NOT_FOUND`, `CORRUPT`) otherwise. */
  load(filename: string): Promise<unknown>;
  /** Deletes the checkpoint saved under `filename`; removing a missing one does nothing. */
  remove(filename: string): Promise<void>;
  /** The names of the stored checkpoints, without loading any. */
  list(): Promise<string[]>;
  /**
   * The newest checkpoint that loads, or null when there is none. A damaged one is skipped with a warning naming it.
   * Optional here so that any object with the four methods above is a Saver; {@link resumeOrStart} needs it.
   */
  latest?(options?: LatestOptions): Promise<StoredCheckpoint | null>;
  /**
   * Name, time, size and metadata of each stored checkpoint, oldest first, without loading any checkpoint's data.
   * Optional here so that any object with the four methods above is a Saver.
   */
  listInfo?(): Promise<CheckpointInfo[]>;
  /**
   * Takes the store's write lock for this tab (savers shared between tabs); resolves to a function that releases it.
   * Optional: savers without one are not protected against a second tab.
   */
  acquireLock?(): Promise<() => void>;
}

/** Throws a TypeError unless `filename` is a non-empty string: the savers' common argument check. */
export function checkFilename(where: string, filename: unknown): asserts filename is string {
  checkString(where, 'argument filename', filename);
}

// disk-saver.ts imports describeValue from here; the one implementation is internal/'s.
export { describeValue } from '../internal';

/** Current time in milliseconds since the epoch, with sub-millisecond precision so that successive saves order. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}
