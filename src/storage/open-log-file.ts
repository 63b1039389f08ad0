// Picks where a log file lives: Node's file system, OPFS, IndexedDB or memory.
import { joinPath, type LogFile, type LogStorage, MemoryLogFile } from './log-file';
import { openIndexedDBLogFile } from './log-file-indexeddb';
import { openNodeLogFile } from './log-file-node';
import { openOpfsLogFile } from './log-file-opfs';

/** True in Node (or Deno/Bun), where `process.getBuiltinModule` gives the file system without an import statement. */
export function hasNodeFileSystem(): boolean {
  const candidate = (globalThis as { process?: { getBuiltinModule?: unknown } }).process;
  return typeof candidate?.getBuiltinModule === 'function';
}

/**
 * Creates (or empties) the file `name` in directory `dir` of the chosen storage. With `'auto'`: Node's file system
 * when there is one, else OPFS (`navigator.storage.getDirectory()`), else IndexedDB; a failing OPFS falls back to
 * IndexedDB.
 */
export async function openLogFile(dir: string, name: string, storage: LogStorage, where: string): Promise<LogFile> {
  if (storage === 'memory') return new MemoryLogFile(joinPath(dir, name));
  if (storage === 'node' || (storage === 'auto' && hasNodeFileSystem())) return openNodeLogFile(dir, name, where);
  const hasOpfs = typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function';
  if (storage === 'opfs' || (storage === 'auto' && hasOpfs)) {
    try {
      return await openOpfsLogFile(dir, name, where);
    } catch (error) {
      if (storage === 'opfs') throw error;
    }
  }
  if (typeof indexedDB === 'undefined') {
    throw new Error(
      `${where}: no storage for log files here (no file system, OPFS or IndexedDB); pass storage: 'memory' and read the log with toBlob().`,
    );
  }
  return openIndexedDBLogFile(dir, name);
}
