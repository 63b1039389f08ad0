// Storage: where checkpoints go. The only code that touches IndexedDB; knows nothing of Engine.
// DiskSaver (Node) is exported from `kindling/node`.
export { CheckpointError, type CheckpointErrorCode } from './errors';
export { IndexedDBSaver, type IndexedDBSaverOptions } from './indexeddb-saver';
export { MemorySaver } from './memory-saver';
export type { CheckpointInfo, LatestOptions, SaveMetadata, Saver, StoredCheckpoint } from './saver';
