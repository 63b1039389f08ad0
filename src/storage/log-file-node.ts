// A log file on disk in Node. The file system comes from `process.getBuiltinModule` (Node >= 20.16), never from an
// import statement, so this module is safe in browser bundles: there it is simply never called.
import type * as FsPromises from 'node:fs/promises';
import type * as Path from 'node:path';
import type { LogFile } from './log-file';

interface NodeProcess {
  getBuiltinModule(id: 'node:fs/promises'): typeof FsPromises;
  getBuiltinModule(id: 'node:path'): typeof Path;
}

function nodeModules(where: string): { fs: typeof FsPromises; path: typeof Path } {
  const proc = (globalThis as { process?: Partial<NodeProcess> }).process;
  if (typeof proc?.getBuiltinModule !== 'function') {
    throw new Error(
      `${where}: storage 'node' needs Node.js 20.16 or newer (process.getBuiltinModule); in a page use 'auto'.`,
    );
  }
  return { fs: proc.getBuiltinModule('node:fs/promises'), path: proc.getBuiltinModule('node:path') };
}

/** Creates (or empties) `dir/name` on disk, making `dir` if needed. */
export async function openNodeLogFile(dir: string, name: string, where: string): Promise<LogFile> {
  const { fs, path } = nodeModules(where);
  const target = path.resolve(dir, name);
  await fs.mkdir(path.dirname(target), { recursive: true });
  const handle = await fs.open(target, 'w');
  let size = 0;
  return {
    location: target,
    storage: 'node',
    async append(bytes) {
      await handle.write(bytes, 0, bytes.length, size);
      size += bytes.length;
    },
    async replace(bytes) {
      await handle.truncate(0);
      await handle.write(bytes, 0, bytes.length, 0);
      size = bytes.length;
    },
    async read() {
      return new Uint8Array(await fs.readFile(target));
    },
    async close() {
      await handle.close();
    },
  };
}
