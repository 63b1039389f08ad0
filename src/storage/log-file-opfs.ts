// A log file in the Origin Private File System. In a Worker it writes through a sync access handle (in place); in
// the page, each append commits a writable stream that keeps the existing data (the browser copies the file to a
// swap file and back, so the loggers batch their appends).
import type { LogFile } from './log-file';

interface SyncAccessHandle {
  write(buffer: Uint8Array, options: { at: number }): number;
  read(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

type SyncCapableHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncAccessHandle> };

/** Creates (or empties) `dir/name` in OPFS, making the directories of `dir` (split at `/`). */
export async function openOpfsLogFile(dir: string, name: string, where: string): Promise<LogFile> {
  let folder = await navigator.storage.getDirectory();
  for (const part of dir.split('/').filter((p) => p !== '' && p !== '.')) {
    if (part === '..') throw new TypeError(`${where}: a log directory in OPFS cannot go up ('..'), got '${dir}'.`);
    folder = await folder.getDirectoryHandle(part, { create: true });
  }
  const file = (await folder.getFileHandle(name, { create: true })) as SyncCapableHandle;
  const location = `opfs:${[...dir.split('/').filter((p) => p !== '' && p !== '.'), name].join('/')}`;
  const sync = typeof file.createSyncAccessHandle === 'function' ? await file.createSyncAccessHandle() : null;
  if (sync !== null) {
    sync.truncate(0);
    let isClosed = false;
    return {
      location,
      storage: 'opfs',
      async append(bytes) {
        sync.write(bytes, { at: sync.getSize() });
        sync.flush();
      },
      async replace(bytes) {
        sync.truncate(0);
        sync.write(bytes, { at: 0 });
        sync.flush();
      },
      async read() {
        if (isClosed) return new Uint8Array(await (await file.getFile()).arrayBuffer());
        const out = new Uint8Array(sync.getSize());
        sync.read(out, { at: 0 });
        return out;
      },
      async close() {
        sync.close();
        isClosed = true;
      },
    };
  }
  const empty = await file.createWritable({ keepExistingData: false });
  await empty.close();
  let size = 0;
  return {
    location,
    storage: 'opfs',
    async append(bytes) {
      const writable = await file.createWritable({ keepExistingData: true });
      await writable.write({ type: 'write', position: size, data: bytes as Uint8Array<ArrayBuffer> });
      await writable.close();
      size += bytes.length;
    },
    async replace(bytes) {
      const writable = await file.createWritable({ keepExistingData: false });
      await writable.write(bytes as Uint8Array<ArrayBuffer>);
      await writable.close();
      size = bytes.length;
    },
    async read() {
      return new Uint8Array(await (await file.getFile()).arrayBuffer());
    },
    async close() {},
  };
}
