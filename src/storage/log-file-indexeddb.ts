// A log file in IndexedDB, for browsers without OPFS: each append is one record `[path, n] → bytes` in the store
// 'chunks' of the database 'kindling-logs'; reading concatenates them in order.
import { promisifyRequest } from 'idb-keyval';
import { concatBytes, type LogFile } from './log-file';

const DATABASE = 'kindling-logs';
const STORE = 'chunks';

function openDatabase(): Promise<IDBDatabase> {
  const request = indexedDB.open(DATABASE, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE);
  return promisifyRequest(request);
}

/** Creates (or empties) the file `dir/name` in IndexedDB. */
export async function openIndexedDBLogFile(dir: string, name: string): Promise<LogFile> {
  const path = dir === '' ? name : `${dir.replace(/\/+$/, '')}/${name}`;
  const range = IDBKeyRange.bound([path, 0], [path, Number.POSITIVE_INFINITY]);
  const db = await openDatabase();
  const write = async (fn: (store: IDBObjectStore) => void): Promise<void> => {
    const transaction = db.transaction(STORE, 'readwrite');
    fn(transaction.objectStore(STORE));
    await new Promise<void>((resolve, reject) => {
      transaction.oncomplete = () => resolve();
      transaction.onabort = transaction.onerror = () => reject(transaction.error);
    });
  };
  await write((store) => store.delete(range));
  let next = 0;
  let isClosed = false;
  return {
    location: `indexeddb:${path}`,
    storage: 'indexeddb',
    async append(bytes) {
      const index = next;
      await write((store) => store.put(bytes.slice(), [path, index]));
      next = index + 1;
    },
    async replace(bytes) {
      await write((store) => {
        store.delete(range);
        store.put(bytes.slice(), [path, 0]);
      });
      next = 1;
    },
    async read() {
      // after close() the file stays readable (for a download): through a connection of its own
      const reader = isClosed ? await openDatabase() : db;
      try {
        const transaction = reader.transaction(STORE, 'readonly');
        const chunks = await promisifyRequest(transaction.objectStore(STORE).getAll(range));
        return concatBytes(chunks as Uint8Array[]);
      } finally {
        if (isClosed) reader.close();
      }
    },
    async close() {
      db.close();
      isClosed = true;
    },
  };
}
