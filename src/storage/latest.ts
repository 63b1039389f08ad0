// latest(): the one rule every saver follows to find the checkpoint to resume from.
import { CheckpointError } from './errors';
import type { LatestOptions, SaveMetadata, StoredCheckpoint } from './saver';

/** What `latestCheckpoint` needs to know of a stored checkpoint before loading it. */
export interface LatestCandidate {
  filename: string;
  savedAt: number;
  metadata: SaveMetadata | undefined;
}

/**
 * The newest checkpoint that loads: the candidates newest first (`savedAt`; on a tie, the later in the list),
 * those passing `options.filter`, each read with `read` until one loads. A damaged one (CheckpointError `CORRUPT`) is
 * reported through `options.onWarning ?? warn` and skipped; one gone meanwhile (`NOT_FOUND`) is skipped quietly;
 * any other error is thrown. Resolves to null when none loads.
 *
 * @param candidates the saver's checkpoints, without their data (e.g. what `listInfo()` returns).
 * @param read loads one checkpoint with what was stored beside it.
 * @param options the `latest()` options: `filter`, `onWarning`.
 * @param warn the saver's own warning sink.
 * @example
 * latest(options = {}) {
 *   return latestCheckpoint(await this.listInfo(), (name) => this.#read(name), options, this.#warn);
 * }
 */
export async function latestCheckpoint(
  candidates: readonly LatestCandidate[],
  read: (filename: string) => Promise<StoredCheckpoint>,
  options: LatestOptions,
  warn: (message: string) => void,
): Promise<StoredCheckpoint | null> {
  const report = options.onWarning ?? warn;
  const newestFirst = [...candidates].reverse().sort((a, b) => b.savedAt - a.savedAt);
  for (const { filename, metadata } of newestFirst) {
    if (options.filter !== undefined && !options.filter(filename, metadata)) continue;
    try {
      return await read(filename);
    } catch (error) {
      if (!(error instanceof CheckpointError) || (error.code !== 'CORRUPT' && error.code !== 'NOT_FOUND')) throw error;
      if (error.code === 'CORRUPT') report(`${error.message} Skipped it; trying the next newest checkpoint.`);
    }
  }
  return null;
}
