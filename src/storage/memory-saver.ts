import { encodeCheckpoint } from './encoding';
import { CheckpointError } from './errors';
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

interface Entry {
  data: unknown;
  metadata: SaveMetadata | undefined;
  savedAt: number;
  bytes: number;
}

/**
 * Keeps checkpoints in memory, for tests and for keeping the best model of a run without touching storage.
 * Saving takes a deep copy (`structuredClone`) and loading returns a fresh copy, so neither side can change the other.
 * It accepts exactly the data the other savers accept (plain data and typed arrays).
 *
 * @example
 * const saver = new MemorySaver();
 * trainer.on(Events.EPOCH_COMPLETED, new Checkpoint({ model }, saver, { nSaved: 2 }));
 * await trainer.run(data, { maxEpochs: 3 });
 * await saver.list(); // ['model_20.ckpt', 'model_30.ckpt']
 */
export class MemorySaver implements Saver {
  readonly #entries = new Map<string, Entry>();

  /** Stores a deep copy of `data` under `filename`, replacing any checkpoint of that name. */
  async save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void> {
    checkFilename('MemorySaver.save', filename);
    const { bytes } = encodeCheckpoint(data, 'MemorySaver.save'); // the same checks as the other savers
    this.#entries.delete(filename); // keep insertion order = save order
    this.#entries.set(filename, {
      data: structuredClone(data),
      metadata: metadata === undefined ? undefined : structuredClone(metadata),
      savedAt: preciseNow(),
      bytes,
    });
  }

  /** A deep copy of the data saved under `filename`; rejects with CheckpointError `NOT_FOUND` if there is none. */
  async load(filename: string): Promise<unknown> {
    checkFilename('MemorySaver.load', filename);
    return structuredClone(this.#entry('MemorySaver.load', filename).data);
  }

  /** Forgets the checkpoint saved under `filename`; does nothing if there is none. */
  async remove(filename: string): Promise<void> {
    checkFilename('MemorySaver.remove', filename);
    this.#entries.delete(filename);
  }

  /** The names of the saved checkpoints, oldest first. */
  async list(): Promise<string[]> {
    return [...this.#entries.keys()];
  }

  /** Name, time, size (as IndexedDBSaver counts it) and metadata of each saved checkpoint, oldest first. */
  async listInfo(): Promise<CheckpointInfo[]> {
    return [...this.#entries].map(([filename, entry]) => ({
      filename,
      savedAt: entry.savedAt,
      bytes: entry.bytes,
      metadata: entry.metadata === undefined ? undefined : structuredClone(entry.metadata),
    }));
  }

  /** The newest checkpoint (passing `options.filter`), or null when there is none. */
  async latest(options: LatestOptions = {}): Promise<StoredCheckpoint | null> {
    return latestCheckpoint(await this.listInfo(), async (filename) => this.#stored(filename), options, console.warn);
  }

  /** A copy of the checkpoint saved under `filename`, with its metadata and time. */
  #stored(filename: string): StoredCheckpoint {
    const entry = this.#entry('MemorySaver.latest', filename);
    return {
      filename,
      data: structuredClone(entry.data),
      metadata: entry.metadata === undefined ? undefined : structuredClone(entry.metadata),
      savedAt: entry.savedAt,
    };
  }

  #entry(where: string, filename: string): Entry {
    const entry = this.#entries.get(filename);
    if (entry === undefined) {
      throw new CheckpointError(
        `${where}: no checkpoint named '${filename}'; saved ones: ${this.#names() || '(none)'}.`,
        {
          code: 'NOT_FOUND',
        },
      );
    }
    return entry;
  }

  #names(): string {
    return [...this.#entries.keys()].join(', ');
  }
}
