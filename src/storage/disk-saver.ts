// Node only: exported from `kindling/node`, never from the browser entry.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AnyTypedArray,
  CorruptDataError,
  decodeCheckpoint,
  encodeCheckpoint,
  TYPED_ARRAYS,
  typedArrayName,
} from './encoding';
import { CheckpointError } from './errors';
import {
  type CheckpointInfo,
  checkFilename,
  describeValue,
  type LatestOptions,
  preciseNow,
  type SaveMetadata,
  type Saver,
  type StoredCheckpoint,
} from './saver';

/** The first 8 bytes of every checkpoint file. */
const MAGIC = Buffer.from('KNDLCKPT', 'latin1');
const FORMAT = 1;
/** Magic, format (u32 LE) and header length (u32 LE). */
const PREFIX_BYTES = 16;
const ALIGN = 8;
const TEMP_SUFFIX = '.tmp';

/** The JSON header of a checkpoint file. */
interface FileHeader {
  filename: string;
  savedAt: number;
  metadata: SaveMetadata | undefined;
  encoded: unknown;
  /** Byte offset of each typed array, from the start of the file. */
  offsets: number[];
}

const align = (offset: number): number => Math.ceil(offset / ALIGN) * ALIGN;

/** Options of {@link DiskSaver}. */
export interface DiskSaverOptions {
  /** Create the directory (and its parents) if it does not exist (default true). */
  createDir?: boolean;
  /** Refuse a directory that already holds `.ckpt` files, so that a new run does not mix with an old one (default true). */
  requireEmpty?: boolean;
  /** Where to report damaged checkpoints skipped by `latest()`; defaults to `console.warn`. */
  onWarning?: (message: string) => void;
}

/**
 * Saves checkpoints as files in a directory, for training under Node (import from `kindling/node`).
 *
 * Each checkpoint is one binary file: the bytes `KNDLCKPT`, the format number and the header length (both u32 LE),
 * a JSON header (plain data, metadata and where each typed array lies), then the typed arrays' raw bytes, each
 * 8-byte aligned. A save writes a temporary file in the same directory, flushes it, and renames it over the target,
 * so a crash or error leaves the previous file intact.
 *
 * @param dirname the directory to save into.
 * @param options `createDir` (default true), `requireEmpty` (default true), `onWarning`.
 *
 * @example
 * import { DiskSaver } from 'kindling/node';
 * const saver = new DiskSaver('./checkpoints', { requireEmpty: false });
 * trainer.on(Events.EPOCH_COMPLETED, new Checkpoint({ model, optimizer, trainer }, saver, { nSaved: 3 }));
 */
export class DiskSaver implements Saver {
  /** The directory checkpoints are saved in. */
  readonly dirname: string;
  readonly #warn: (message: string) => void;

  constructor(dirname: string, options: DiskSaverOptions = {}) {
    if (typeof dirname !== 'string' || dirname.length === 0) {
      throw new TypeError(`DiskSaver: argument dirname should be a non-empty string, got ${describeValue(dirname)}.`);
    }
    const { createDir = true, requireEmpty = true, onWarning } = options;
    if (onWarning !== undefined && typeof onWarning !== 'function') {
      throw new TypeError(`DiskSaver: option onWarning should be a function, got ${describeValue(onWarning)}.`);
    }
    this.dirname = dirname;
    this.#warn = onWarning ?? ((message) => console.warn(message));
    if (createDir) mkdirSync(dirname, { recursive: true });
    let isDirectory = false;
    try {
      isDirectory = statSync(dirname).isDirectory();
    } catch {
      // reported below
    }
    if (!isDirectory) {
      throw new Error(`DiskSaver: directory '${dirname}' is not found. Create it first, or pass { createDir: true }.`);
    }
    if (requireEmpty) {
      const matched = readdirSync(dirname).filter((name) => name.endsWith('.ckpt'));
      if (matched.length > 0) {
        throw new Error(
          `DiskSaver: files ${matched.map((name) => `'${name}'`).join(', ')} with extension '.ckpt' are already present in the directory '${dirname}'. If you want to use this directory anyway, pass { requireEmpty: false }.`,
        );
      }
    }
  }

  /** Writes `data` to `dirname/filename` atomically (temporary file, flush, rename), replacing any file of that name. */
  async save(data: unknown, filename: string, metadata?: SaveMetadata): Promise<void> {
    checkFilename('DiskSaver.save', filename);
    this.#checkName('DiskSaver.save', filename);
    const encoded = encodeCheckpoint(data, 'DiskSaver.save');
    const offsets: number[] = [];
    const fileHeader: FileHeader = { filename, savedAt: preciseNow(), metadata, encoded: encoded.header, offsets };
    // Offsets depend on the header's length, which depends on the offsets' digits: grow until the header fits.
    let headerLength = 0;
    let headerBytes: Buffer;
    for (;;) {
      let offset = align(PREFIX_BYTES + headerLength);
      offsets.length = 0;
      for (const view of encoded.views) {
        offsets.push(offset);
        offset = align(offset + view.byteLength);
      }
      headerBytes = Buffer.from(JSON.stringify(fileHeader), 'utf8');
      if (headerBytes.length <= headerLength) break;
      headerLength = headerBytes.length;
    }
    const prefix = Buffer.alloc(PREFIX_BYTES);
    MAGIC.copy(prefix, 0);
    prefix.writeUInt32LE(FORMAT, 8);
    prefix.writeUInt32LE(headerBytes.length, 12);

    await mkdir(this.dirname, { recursive: true });
    const target = join(this.dirname, filename);
    const temp = join(this.dirname, `.${filename}.${process.pid}.${Math.random().toString(36).slice(2)}${TEMP_SUFFIX}`);
    try {
      const handle = await open(temp, 'w');
      try {
        await handle.write(prefix, 0, PREFIX_BYTES, 0);
        await handle.write(headerBytes, 0, headerBytes.length, PREFIX_BYTES);
        for (let i = 0; i < encoded.views.length; i++) {
          const view = encoded.views[i]!;
          const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
          if (bytes.length > 0) await handle.write(bytes, 0, bytes.length, offsets[i]);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true }).catch(() => {});
      throw new CheckpointError(
        `DiskSaver.save: could not write checkpoint '${filename}' to '${this.dirname}': ${String(error)}. Older checkpoints are intact.`,
        { code: (error as { code?: string }).code === 'ENOSPC' ? 'QUOTA_EXCEEDED' : 'FAILED', cause: error },
      );
    }
  }

  /** The data saved in `dirname/filename`; rejects with CheckpointError `NOT_FOUND` or `CORRUPT`. */
  async load(filename: string): Promise<unknown> {
    checkFilename('DiskSaver.load', filename);
    this.#checkName('DiskSaver.load', filename);
    return (await this.#read(filename, 'DiskSaver.load')).data;
  }

  /** Deletes `dirname/filename`; does nothing if it does not exist. */
  async remove(filename: string): Promise<void> {
    checkFilename('DiskSaver.remove', filename);
    this.#checkName('DiskSaver.remove', filename);
    await rm(join(this.dirname, filename), { force: true });
  }

  /** The names of the checkpoint files in the directory (files that start with the checkpoint signature), sorted. */
  async list(): Promise<string[]> {
    const names = (await readdir(this.dirname, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && !entry.name.endsWith(TEMP_SUFFIX))
      .map((entry) => entry.name)
      .sort();
    const checks = await Promise.all(names.map((name) => this.#hasMagic(name)));
    return names.filter((_, index) => checks[index]);
  }

  /**
   * Name, time, size on disk and metadata of each checkpoint file, oldest first. Reads only each file's header, never
   * its typed arrays; a file with a damaged header is skipped with a warning naming it.
   *
   * @example
   * const infos = await new DiskSaver('checkpoints').listInfo(); // [{ filename, savedAt, bytes, metadata }, ...]
   */
  async listInfo(): Promise<CheckpointInfo[]> {
    const infos: CheckpointInfo[] = [];
    for (const filename of await this.list()) {
      try {
        const { savedAt, metadata, bytes } = await this.#readHeader(filename, 'DiskSaver.listInfo');
        infos.push({ filename, savedAt, bytes, metadata });
      } catch (error) {
        if (error instanceof CheckpointError && error.code === 'CORRUPT') this.#warn(`${error.message} Skipped it.`);
        else if ((error as { code?: string }).code !== 'ENOENT') throw error; // removed meanwhile: not listed
      }
    }
    return infos.sort((a, b) => a.savedAt - b.savedAt);
  }

  /**
   * The newest checkpoint that loads (passing `options.filter`), or null when there is none. A damaged file is
   * skipped with a warning naming it.
   */
  async latest(options: LatestOptions = {}): Promise<StoredCheckpoint | null> {
    const warn = options.onWarning ?? this.#warn;
    const headers: { filename: string; savedAt: number; metadata: SaveMetadata | undefined }[] = [];
    for (const filename of await this.list()) {
      try {
        headers.push(await this.#readHeader(filename, 'DiskSaver.latest'));
      } catch (error) {
        if (!(error instanceof CheckpointError) || error.code !== 'CORRUPT') throw error;
        warn(`${error.message} Skipped it.`);
      }
    }
    headers.sort((a, b) => b.savedAt - a.savedAt);
    for (const { filename, metadata } of headers) {
      if (options.filter !== undefined && !options.filter(filename, metadata)) continue;
      try {
        return await this.#read(filename, 'DiskSaver.latest');
      } catch (error) {
        if (!(error instanceof CheckpointError) || (error.code !== 'CORRUPT' && error.code !== 'NOT_FOUND'))
          throw error;
        if (error.code === 'CORRUPT') warn(`${error.message} Skipped it; trying the next newest checkpoint.`);
      }
    }
    return null;
  }

  #checkName(where: string, filename: string): void {
    if (filename.includes('/') || filename.includes('\\') || filename === '.' || filename === '..') {
      throw new TypeError(`${where}: filename should be a plain file name without directories, got '${filename}'.`);
    }
  }

  #corrupt(where: string, filename: string, detail: string): CheckpointError {
    return new CheckpointError(
      `${where}: checkpoint file '${join(this.dirname, filename)}' is damaged (${detail}) and cannot be loaded; other checkpoints are unaffected. Delete it with saver.remove('${filename}').`,
      { code: 'CORRUPT' },
    );
  }

  async #hasMagic(filename: string): Promise<boolean> {
    try {
      const handle = await open(join(this.dirname, filename), 'r');
      try {
        const prefix = Buffer.alloc(MAGIC.length);
        const { bytesRead } = await handle.read(prefix, 0, MAGIC.length, 0);
        return bytesRead === MAGIC.length && prefix.equals(MAGIC);
      } finally {
        await handle.close();
      }
    } catch {
      return false;
    }
  }

  /** Parses the prefix and header of a file's first bytes; throws CORRUPT errors. */
  #parseHeader(bytes: Buffer, filename: string, where: string): { header: FileHeader; end: number } {
    if (bytes.length < PREFIX_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw this.#corrupt(where, filename, 'it does not start with the checkpoint signature');
    }
    const format = bytes.readUInt32LE(8);
    if (format !== FORMAT) throw this.#corrupt(where, filename, `unknown format ${format}`);
    const length = bytes.readUInt32LE(12);
    if (bytes.length < PREFIX_BYTES + length) throw this.#corrupt(where, filename, 'its header is cut short');
    let header: FileHeader;
    try {
      header = JSON.parse(bytes.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + length));
    } catch {
      throw this.#corrupt(where, filename, 'its header is not valid JSON');
    }
    if (
      header === null ||
      typeof header !== 'object' ||
      typeof header.savedAt !== 'number' ||
      !Array.isArray(header.offsets) ||
      header.encoded === null ||
      typeof header.encoded !== 'object'
    ) {
      throw this.#corrupt(where, filename, 'its header is malformed');
    }
    return { header, end: PREFIX_BYTES + length };
  }

  /** Reads only a file's prefix and JSON header; `bytes` is the file's size. */
  async #readHeader(
    filename: string,
    where: string,
  ): Promise<{ filename: string; savedAt: number; metadata: SaveMetadata | undefined; bytes: number }> {
    const handle = await open(join(this.dirname, filename), 'r');
    try {
      const { size } = await handle.stat();
      const prefix = Buffer.alloc(PREFIX_BYTES);
      await handle.read(prefix, 0, PREFIX_BYTES, 0);
      const length = prefix.readUInt32LE(12);
      const bytes = Buffer.alloc(PREFIX_BYTES + Math.min(length, 64 * 1024 * 1024));
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
      const { header } = this.#parseHeader(bytes.subarray(0, bytesRead), filename, where);
      return { filename, savedAt: header.savedAt, metadata: header.metadata, bytes: size };
    } finally {
      await handle.close();
    }
  }

  async #read(filename: string, where: string): Promise<StoredCheckpoint> {
    let bytes: Buffer;
    try {
      bytes = await readFile(join(this.dirname, filename));
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') {
        const names = await this.list().catch(() => []);
        throw new CheckpointError(
          `${where}: no checkpoint file '${filename}' in '${this.dirname}'; checkpoint files there: ${names.join(', ') || '(none)'}.`,
          { code: 'NOT_FOUND', cause: error },
        );
      }
      throw new CheckpointError(`${where}: could not read '${join(this.dirname, filename)}': ${String(error)}.`, {
        cause: error,
      });
    }
    const { header, end } = this.#parseHeader(bytes, filename, where);
    const entries = (header.encoded as { buffers?: unknown }).buffers;
    if (!Array.isArray(entries) || entries.length !== header.offsets.length) {
      throw this.#corrupt(where, filename, 'its header lists typed arrays and offsets that do not match');
    }
    const views: AnyTypedArray[] = [];
    for (let i = 0; i < entries.length; i++) {
      const { type, byteLength } = entries[i] as { type: string; byteLength: number };
      const offset = header.offsets[i];
      const Class = Object.hasOwn(TYPED_ARRAYS, type)
        ? (TYPED_ARRAYS as Record<string, new (buffer: ArrayBuffer) => AnyTypedArray>)[type]
        : undefined;
      if (
        Class === undefined ||
        !Number.isInteger(offset) ||
        !Number.isInteger(byteLength) ||
        offset < end ||
        offset + byteLength > bytes.length
      ) {
        throw this.#corrupt(where, filename, `typed array ${i} lies outside the file or has an unknown type`);
      }
      // Copy into its own buffer: typed arrays must not share the file's buffer (alignment, and structuredClone size).
      const copy = new Uint8Array(bytes.subarray(offset, offset + byteLength)).buffer;
      let view: AnyTypedArray;
      try {
        view = new Class(copy);
      } catch {
        throw this.#corrupt(where, filename, `typed array ${i} has a length that does not fit a ${type}`);
      }
      if (typedArrayName(view) !== type) throw this.#corrupt(where, filename, `typed array ${i} is not a ${type}`);
      views.push(view);
    }
    try {
      const data = decodeCheckpoint(header.encoded, views);
      return { filename, data, metadata: header.metadata, savedAt: header.savedAt };
    } catch (error) {
      if (error instanceof CorruptDataError) throw this.#corrupt(where, filename, error.message);
      throw error;
    }
  }
}
