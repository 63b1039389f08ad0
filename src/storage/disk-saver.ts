// Node only: exported from `kindling/node`, never from the browser entry.
import { type Dirent, mkdirSync, readdirSync, statSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkBoolean,
  checkFunction,
  checkOptions,
  checkString,
  failRange,
  failType,
  isPlainObject,
} from '../internal';
import { decodeFile, decodeHeader, decodePrefix, layOutFile, looksLikeCheckpoint, PREFIX_MAX } from './disk-format';
import {
  acquireDirectoryLock,
  checkDirectoryLock,
  holdsDirectoryLock,
  LOCK_NAME,
  releaseDirectoryLock,
  tempName,
} from './disk-lock';
import { assertSafeKeys, CorruptDataError, encodeCheckpoint } from './encoding';
import { CheckpointError } from './errors';
import {
  type CheckpointInfo,
  type LatestOptions,
  preciseNow,
  type SaveMetadata,
  type Saver,
  type StoredCheckpoint,
} from './saver';

/** The longest file name common file systems take, in bytes (ext4, APFS, NTFS in UTF-16 units, tmpfs). */
const NAME_MAX = 255;
/** Batches for `writev` (below IOV_MAX everywhere). */
const WRITEV_BATCH = 512;
/** Directory fsync is not supported everywhere (Windows, some network file systems): those errors are ignored. */
const NO_DIR_SYNC = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EBADF', 'ENOTSUP', 'EOPNOTSUPP']);

const errorCode = (error: unknown): string | undefined => (error as { code?: string } | null)?.code;

/** Options of {@link DiskSaver}. */
export interface DiskSaverOptions {
  /** Create the directory (and its parents) if it does not exist (default true). */
  createDir?: boolean;
  /**
   * Refuse a directory that already holds `.ckpt` files, so that a new run does not mix with an old one (default
   * true, Ignite's `require_empty`). Pass false to resume from them (see {@link resumeOrStart}).
   */
  requireEmpty?: boolean;
  /**
   * Where to report damaged checkpoints skipped by `latest()`, stale locks taken over and leftover temporary files
   * removed; defaults to `console.warn`.
   */
  onWarning?: (message: string) => void;
}

/**
 * Saves checkpoints as files in a directory, for training under Node (import from `kindling/node`).
 *
 * Each checkpoint is one binary file: the bytes `KNDLCKPT`, then as u32 LE the format number (2), the header length,
 * the CRC32C of the header (the 16 bytes before it and the JSON) and the CRC32C of the payload (every byte after the
 * header); then the JSON header (plain data, metadata, where each typed array lies) and the typed arrays' raw bytes,
 * each 8-byte aligned. Files of format 1 (16-byte prefix, no checksums) are still read. A flipped byte anywhere or a
 * cut-short file is a CheckpointError `CORRUPT` naming the file, and `latest()` then falls back to the next newest
 * checkpoint with a warning naming the damaged one; so does a file carrying `__proto__`, `constructor` or
 * `prototype` keys (`UNSAFE_KEY`). `listInfo()` reads headers only, so it checks the header checksum alone.
 *
 * A save writes a temporary file `.kindling-<12 hex digits>.tmp` in the same directory, flushes it to disk, renames it
 * over the target and flushes the directory: a crash, a `kill -9` or a full disk leaves the previous checkpoint
 * intact and loadable. The first write takes the directory's lock file `.kindling.lock` (pid, host, time) so that a
 * second process cannot write into the same directory (CheckpointError `LOCKED`); it is released by `close()` or
 * when the process exits, and a lock left by a process that is gone is taken over with a warning. Temporary files
 * left by a killed save are deleted when a saver is constructed on the directory (unless another running process
 * holds its lock) and when the lock is taken. File names may not end in `.tmp` or contain directories.
 *
 * @param dirname the directory to save into.
 * @param options `createDir` (default true), `requireEmpty` (default true), `onWarning`.
 *
 * @example
 * import { DiskSaver } from 'kindling/node';
 * const saver = new DiskSaver('./checkpoints'); // a new run: refuses a directory that holds .ckpt files
 * trainer.on(Events.EPOCH_COMPLETED, new Checkpoint({ model, optimizer, trainer }, saver, { nSaved: 3 }));
 * // to resume instead: new DiskSaver('./checkpoints', { requireEmpty: false }) and resumeOrStart({ saver, toLoad })
 */
export class DiskSaver implements Saver {
  /** The directory checkpoints are saved in. */
  readonly dirname: string;
  readonly #createDir: boolean;
  readonly #warn: (message: string) => void;
  #release: (() => void) | null = null;
  /** Saves and removes in progress. */
  readonly #writes = new Set<Promise<void>>();

  constructor(dirname: string, options: DiskSaverOptions = {}) {
    checkString('DiskSaver', 'argument dirname', dirname, { fix: "Pass a directory path, e.g. './checkpoints'." });
    const known = checkOptions('DiskSaver', options, ['createDir', 'requireEmpty', 'onWarning'], {
      create_dir: "Write createDir (Ignite's create_dir).",
      require_empty: "Write requireEmpty (Ignite's require_empty).",
      atomic: 'DiskSaver always writes atomically (temporary file, fsync, rename); drop the option.',
    });
    const createDir = checkBoolean('DiskSaver', 'option createDir', known.createDir ?? true);
    const requireEmpty = checkBoolean('DiskSaver', 'option requireEmpty', known.requireEmpty ?? true);
    const onWarning =
      known.onWarning === undefined
        ? (message: string) => console.warn(message)
        : checkFunction<(message: string) => void>(
            'DiskSaver',
            'option onWarning',
            known.onWarning,
            '(message) => void',
          );
    this.dirname = dirname;
    this.#createDir = createDir;
    this.#warn = onWarning;
    if (createDir) {
      try {
        mkdirSync(dirname, { recursive: true });
      } catch (error) {
        if (errorCode(error) !== 'EEXIST' && errorCode(error) !== 'ENOTDIR') {
          throw new Error(
            `DiskSaver: could not create directory '${dirname}': ${String(error)}. Create it first, or check the permissions of its parent.`,
            { cause: error },
          );
        }
      }
    }
    let stats: ReturnType<typeof statSync> | undefined;
    try {
      stats = statSync(dirname);
    } catch {
      // reported below
    }
    if (stats === undefined) {
      throw new Error(`DiskSaver: directory '${dirname}' is not found. Create it first, or pass { createDir: true }.`);
    }
    if (!stats.isDirectory()) {
      throw new Error(`DiskSaver: '${dirname}' is not a directory. Pass the path of a directory for the checkpoints.`);
    }
    this.#tidy();
    if (requireEmpty) {
      const matched = readdirSync(dirname).filter((name) => name.endsWith('.ckpt'));
      if (matched.length > 0) {
        throw new Error(
          `DiskSaver: files ${matched.map((name) => `'${name}'`).join(', ')} with extension '.ckpt' are already present in the directory '${dirname}' (option requireEmpty is true, so that a new run does not mix with an old one). To resume from them with resumeOrStart(), or to use this directory anyway, pass { requireEmpty: false }; to start a new run, use another directory or delete them.`,
        );
      }
    }
  }

  /**
   * Writes `data` to `dirname/filename` atomically (temporary file, fsync, rename, directory fsync), replacing any
   * file of that name. Takes the directory's lock first. Rejects with CheckpointError `LOCKED` when another process
   * holds it, `QUOTA_EXCEEDED` when the disk is full and `FAILED` for other write errors; older checkpoints are intact.
   *
   * @example
   * await saver.save({ step: 3, weights: new Float32Array(10) }, 'model_3.ckpt', { priority: 3 });
   */
  save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void> {
    return this.#track(this.#save(data, filename, metadata));
  }

  async #save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void> {
    this.#checkName('DiskSaver.save', filename);
    if (metadata !== undefined) this.#checkMetadata(metadata);
    const encoded = encodeCheckpoint(data, 'DiskSaver.save');
    const { chunks, bytes } = layOutFile(
      { filename, savedAt: preciseNow(), metadata, encoded: encoded.header },
      encoded.views,
    );
    await this.#lockForWriting('DiskSaver.save');
    const target = join(this.dirname, filename);
    const temp = join(this.dirname, tempName());
    try {
      const handle = await open(temp, 'wx');
      try {
        let written = 0;
        for (let i = 0; i < chunks.length; i += WRITEV_BATCH) {
          written += (await handle.writev(chunks.slice(i, i + WRITEV_BATCH))).bytesWritten;
        }
        if (written !== bytes) throw new Error(`wrote ${written} of ${bytes} bytes`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw this.#writeError(error, filename, bytes);
    }
    await this.#syncDirectory(filename, bytes);
  }

  /**
   * The data saved in `dirname/filename`, all or nothing: rejects with CheckpointError `NOT_FOUND`, `CORRUPT` (bad
   * checksum, cut short, malformed) or `UNSAFE_KEY` (a `__proto__`, `constructor` or `prototype` key), naming the file.
   *
   * @example
   * const data = await saver.load('model_3.ckpt'); // { step: 3, weights: Float32Array(10) }
   */
  async load(filename: string): Promise<unknown> {
    this.#checkName('DiskSaver.load', filename);
    return (await this.#read(filename, 'DiskSaver.load')).data;
  }

  /**
   * Deletes `dirname/filename` (taking the directory's lock first); does nothing if it does not exist.
   *
   * @example
   * await saver.remove('model_1.ckpt');
   */
  remove(filename: string): Promise<void> {
    return this.#track(this.#remove(filename));
  }

  async #remove(filename: string): Promise<void> {
    this.#checkName('DiskSaver.remove', filename);
    await this.#lockForWriting('DiskSaver.remove');
    try {
      await rm(join(this.dirname, filename), { force: true });
    } catch (error) {
      throw new CheckpointError(
        `DiskSaver.remove: could not remove '${join(this.dirname, filename)}': ${String(error)}.`,
        { cause: error },
      );
    }
    await this.#syncDirectory(filename, 0).catch(() => {});
  }

  /**
   * The names of the checkpoint files in the directory, sorted: files that start with the checkpoint signature (one
   * damaged byte tolerated) or end in `.ckpt`, so that a damaged checkpoint is listed and reported, never invisible.
   * The lock file and temporary files are not listed. A directory that no longer exists lists nothing.
   *
   * @example
   * await saver.list(); // ['model_2.ckpt', 'model_3.ckpt']
   */
  async list(): Promise<string[]> {
    let entries: Dirent[];
    try {
      entries = await readdir(this.dirname, { withFileTypes: true });
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw new CheckpointError(`DiskSaver.list: could not read directory '${this.dirname}': ${String(error)}.`, {
        cause: error,
      });
    }
    const names = entries
      .filter((entry) => entry.isFile() && entry.name !== LOCK_NAME && !entry.name.endsWith('.tmp'))
      .map((entry) => entry.name)
      .sort();
    const checks = await Promise.all(names.map((name) => name.endsWith('.ckpt') || this.#hasSignature(name)));
    return names.filter((_, index) => checks[index]);
  }

  /**
   * Name, time, size on disk and metadata of each checkpoint file, oldest first. Reads only each file's header, never
   * its typed arrays: the header's checksum is checked here, the typed arrays' by `load()` and `latest()`. A file
   * with a damaged header is skipped with a warning naming it.
   *
   * @example
   * const infos = await saver.listInfo(); // [{ filename, savedAt, bytes, metadata }, ...]
   */
  async listInfo(): Promise<CheckpointInfo[]> {
    const infos: CheckpointInfo[] = [];
    for (const filename of await this.list()) {
      try {
        const { savedAt, metadata, bytes } = await this.#readHeader(filename, 'DiskSaver.listInfo');
        infos.push({ filename, savedAt, bytes, metadata });
      } catch (error) {
        if (isDamaged(error)) this.#warn(`${error.message} Skipped it.`);
        else if (!(error instanceof CheckpointError && error.code === 'NOT_FOUND')) throw error; // removed meanwhile
      }
    }
    return infos.sort((a, b) => a.savedAt - b.savedAt);
  }

  /**
   * The newest checkpoint that loads (passing `options.filter`), or null when there is none. A damaged file (bad
   * checksum, cut short, unsafe keys) is skipped with a warning naming it, and the next newest is tried.
   *
   * @example
   * const latest = await saver.latest(); // { filename: 'checkpoint_120.ckpt', data, metadata, savedAt } or null
   */
  async latest(options: LatestOptions = {}): Promise<StoredCheckpoint | null> {
    const known = checkOptions('DiskSaver.latest', options, ['filter', 'onWarning']);
    const filter =
      known.filter === undefined
        ? undefined
        : checkFunction<NonNullable<LatestOptions['filter']>>(
            'DiskSaver.latest',
            'option filter',
            known.filter,
            '(filename, metadata) => boolean',
          );
    const warn =
      known.onWarning === undefined
        ? this.#warn
        : checkFunction<(message: string) => void>(
            'DiskSaver.latest',
            'option onWarning',
            known.onWarning,
            '(message) => void',
          );
    const headers: { filename: string; savedAt: number; metadata: SaveMetadata | undefined }[] = [];
    for (const filename of await this.list()) {
      try {
        headers.push(await this.#readHeader(filename, 'DiskSaver.latest'));
      } catch (error) {
        if (isDamaged(error)) warn(`${error.message} Skipped it.`);
        else if (!(error instanceof CheckpointError && error.code === 'NOT_FOUND')) throw error; // removed meanwhile
      }
    }
    headers.sort((a, b) => b.savedAt - a.savedAt);
    for (const { filename, metadata } of headers) {
      if (filter !== undefined && !filter(filename, metadata)) continue;
      try {
        return await this.#read(filename, 'DiskSaver.latest');
      } catch (error) {
        if (isDamaged(error)) warn(`${error.message} Skipped it; trying the next newest checkpoint.`);
        else if (!(error instanceof CheckpointError && error.code === 'NOT_FOUND')) throw error; // removed meanwhile
      }
    }
    return null;
  }

  /**
   * Takes the directory's lock file for this process, if no other running process holds it; resolves to a function
   * that releases it (for this saver). Calling it again while held returns the same function. Saves and removes call
   * it themselves; {@link resumeOrStart} calls it first, so that a second process fails before training starts.
   * Rejects with CheckpointError `LOCKED`, naming the other process and the fix.
   *
   * @example
   * const release = await saver.acquireLock(); // fail early, before training starts
   */
  async acquireLock(): Promise<() => void> {
    if (this.#release !== null && holdsDirectoryLock(this.dirname, this)) return this.#release;
    this.#ensureDirectory('DiskSaver.acquireLock');
    acquireDirectoryLock(this.dirname, this, this.#warn);
    const release = () => {
      if (this.#release === release) this.#release = null;
      releaseDirectoryLock(this.dirname, this);
    };
    this.#release = release;
    return release;
  }

  /**
   * Releases the directory's lock if this saver holds it; the lock file goes when no saver of this process holds it.
   *
   * @example
   * saver.releaseLock(); // another process may now write checkpoints into the directory
   */
  releaseLock(): void {
    if (this.#release !== null) this.#release();
    else releaseDirectoryLock(this.dirname, this);
  }

  /**
   * Waits for this saver's saves and removes in progress, then releases the lock as {@link releaseLock}; the saver
   * takes it again on its next write.
   *
   * @example
   * await trainer.run(loader, { maxEpochs: 10 });
   * await saver.close();
   */
  async close(): Promise<void> {
    await Promise.allSettled([...this.#writes]);
    this.releaseLock();
  }

  /** Keeps `write` in {@link #writes} until it settles, so that close() waits for it. */
  #track(write: Promise<void>): Promise<void> {
    this.#writes.add(write);
    const settled = () => {
      this.#writes.delete(write);
    };
    write.then(settled, settled);
    return write;
  }

  /** At construction: takes the lock if it is free (or stale) to delete leftover temporary files, then lets it go. */
  #tidy(): void {
    const holder = {};
    try {
      acquireDirectoryLock(this.dirname, holder, this.#warn);
    } catch (error) {
      // Held by another running process (its temporary files may be in flight), or a read-only directory.
      if (error instanceof CheckpointError || ['EACCES', 'EPERM', 'EROFS'].includes(errorCode(error) ?? '')) return;
      throw error;
    }
    releaseDirectoryLock(this.dirname, holder);
  }

  #ensureDirectory(where: string): void {
    if (this.#createDir) {
      mkdirSync(this.dirname, { recursive: true });
      return;
    }
    try {
      if (statSync(this.dirname).isDirectory()) return;
    } catch {
      // reported below
    }
    throw new CheckpointError(
      `${where}: directory '${this.dirname}' no longer exists. Create it again, or construct the saver with { createDir: true }.`,
    );
  }

  async #lockForWriting(where: string): Promise<void> {
    if (this.#release === null || !holdsDirectoryLock(this.dirname, this)) {
      await this.acquireLock();
      return;
    }
    this.#ensureDirectory(where);
    checkDirectoryLock(this.dirname, this, where, this.#warn);
  }

  #checkName(where: string, value: unknown): void {
    const filename = checkString(where, 'argument filename', value);
    if (
      filename.includes('/') ||
      filename.includes('\\') ||
      filename.includes('\0') ||
      filename === '.' ||
      filename === '..'
    ) {
      failType(
        where,
        'argument filename',
        'a plain file name without directories',
        filename,
        `DiskSaver saves into its own directory ('${this.dirname}'); make a DiskSaver per directory.`,
      );
    }
    if (filename.endsWith('.tmp')) {
      failRange(
        where,
        'argument filename',
        "a name that does not end in '.tmp' (DiskSaver's temporary files do, and are deleted as leftovers of interrupted saves)",
        filename,
        `Use another extension, e.g. '${filename.slice(0, -4)}.ckpt'.`,
      );
    }
    if (filename === LOCK_NAME) {
      failRange(
        where,
        'argument filename',
        `a name other than '${LOCK_NAME}' (the directory's lock file)`,
        filename,
        "Use another name, e.g. 'checkpoint.ckpt'.",
      );
    }
    const length = Buffer.byteLength(filename);
    if (length > NAME_MAX) {
      failRange(
        where,
        'argument filename',
        `at most ${NAME_MAX} bytes long (the file-name limit of common file systems)`,
        filename,
        `It is ${length} bytes; shorten it, e.g. with a shorter filenamePrefix.`,
      );
    }
  }

  #checkMetadata(metadata: unknown): void {
    if (!isPlainObject(metadata)) {
      failType('DiskSaver.save', 'argument metadata', 'a plain object or undefined', metadata);
    }
    try {
      assertSafeKeys(metadata, 'argument metadata');
    } catch {
      failType(
        'DiskSaver.save',
        'argument metadata',
        "plain data without the keys '__proto__', 'constructor' and 'prototype'",
        metadata,
        'Rename that key: a checkpoint carrying it could never be loaded.',
      );
    }
  }

  async #syncDirectory(filename: string, bytes: number): Promise<void> {
    let handle: FileHandle | undefined;
    try {
      handle = await open(this.dirname, 'r');
      await handle.sync();
    } catch (error) {
      if (NO_DIR_SYNC.has(errorCode(error) ?? '')) return;
      throw this.#writeError(error, filename, bytes, true);
    } finally {
      await handle?.close().catch(() => {});
    }
  }

  #writeError(error: unknown, filename: string, bytes: number, renamed = false): CheckpointError {
    if (error instanceof CheckpointError) return error;
    const code = errorCode(error);
    const where = `DiskSaver.save: could not write checkpoint '${filename}' (${bytes} bytes) to '${this.dirname}'`;
    const after = renamed
      ? ' The file is in place, but the directory could not be flushed, so it may not survive a power cut.'
      : ' Older checkpoints are intact.';
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      return new CheckpointError(
        `${where}: the disk is full (${code}).${after} Free space, or keep fewer checkpoints (Checkpoint option nSaved).`,
        { code: 'QUOTA_EXCEEDED', cause: error },
      );
    }
    const fix =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? ' Check that the directory is writable by this process, or save elsewhere.'
        : '';
    return new CheckpointError(`${where}: ${String(error)}.${after}${fix}`, { cause: error });
  }

  #readError(where: string, filename: string, error: unknown): CheckpointError {
    if (errorCode(error) === 'ENOENT') {
      return new CheckpointError(`${where}: no checkpoint file '${filename}' in '${this.dirname}'.`, {
        code: 'NOT_FOUND',
        cause: error,
      });
    }
    const fix = ['EACCES', 'EPERM'].includes(errorCode(error) ?? '')
      ? ' Check that this process may read it, or remove it with saver.remove().'
      : ' Nothing was loaded; try again, or remove it with saver.remove().';
    return new CheckpointError(`${where}: could not read '${join(this.dirname, filename)}': ${String(error)}.${fix}`, {
      cause: error,
    });
  }

  /** Whether the file starts with the signature, allowing one damaged byte. */
  async #hasSignature(filename: string): Promise<boolean> {
    try {
      const handle = await open(join(this.dirname, filename), 'r');
      try {
        const first = Buffer.alloc(8);
        const { bytesRead } = await handle.read(first, 0, first.length, 0);
        return looksLikeCheckpoint(first.subarray(0, bytesRead));
      } finally {
        await handle.close();
      }
    } catch {
      return false;
    }
  }

  /** Turns what the format functions throw into CheckpointErrors naming the file. */
  #damaged(where: string, filename: string, error: unknown): unknown {
    const path = join(this.dirname, filename);
    if (error instanceof CorruptDataError) {
      return new CheckpointError(
        `${where}: checkpoint file '${path}' is damaged (${error.message}) and cannot be loaded; other checkpoints are unaffected. Delete it with saver.remove('${filename}').`,
        { code: 'CORRUPT' },
      );
    }
    if (error instanceof CheckpointError && error.code === 'UNSAFE_KEY') {
      return new CheckpointError(
        `${where}: checkpoint file '${path}' is not loaded: ${error.message} Delete it with saver.remove('${filename}').`,
        { code: 'UNSAFE_KEY' },
      );
    }
    return error;
  }

  /** Reads only a file's prefix and JSON header; `bytes` is the file's size. */
  async #readHeader(
    filename: string,
    where: string,
  ): Promise<{ filename: string; savedAt: number; metadata: SaveMetadata | undefined; bytes: number }> {
    let handle: FileHandle;
    try {
      handle = await open(join(this.dirname, filename), 'r');
    } catch (error) {
      throw this.#readError(where, filename, error);
    }
    try {
      const { size } = await handle.stat();
      const buffer = Buffer.alloc(PREFIX_MAX);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const first = buffer.subarray(0, bytesRead);
      const prefix = decodePrefix(first, size);
      const json = Buffer.alloc(prefix.length);
      await handle.read(json, 0, prefix.length, prefix.start);
      const { savedAt, metadata } = decodeHeader(first, prefix, json);
      return { filename, savedAt, metadata, bytes: size };
    } catch (error) {
      if (error instanceof CheckpointError && error.code !== 'UNSAFE_KEY') throw error;
      if (error instanceof CorruptDataError || error instanceof CheckpointError) {
        throw this.#damaged(where, filename, error);
      }
      throw this.#readError(where, filename, error);
    } finally {
      await handle.close();
    }
  }

  async #read(filename: string, where: string): Promise<StoredCheckpoint> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dirname, filename));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw this.#readError(where, filename, error);
      const names = await this.list().catch(() => []);
      throw new CheckpointError(
        `${where}: no checkpoint file '${filename}' in '${this.dirname}'; checkpoint files there: ${names.join(', ') || '(none)'}.`,
        { code: 'NOT_FOUND', cause: error },
      );
    }
    try {
      const { header, data } = decodeFile(bytes);
      return { filename, data, metadata: header.metadata, savedAt: header.savedAt };
    } catch (error) {
      throw this.#damaged(where, filename, error);
    }
  }
}

/** A checkpoint that `latest()` and `listInfo()` skip with a warning: damaged, or carrying unsafe keys. */
const isDamaged = (error: unknown): error is CheckpointError =>
  error instanceof CheckpointError && (error.code === 'CORRUPT' || error.code === 'UNSAFE_KEY');
