// DiskSaver's file format, as pure functions over bytes (no file system here).
//
// Format 2: the bytes `KNDLCKPT`; then as u32 LE the format number (2), the header length, the CRC32C of the header
// (the 16 bytes before it and the JSON) and the CRC32C of the payload (every byte after the header); then the JSON
// header and the typed arrays' raw bytes, each 8-byte aligned, zero padding between. Every byte of a file is covered
// by one of the two checksums, and the header's can be checked without reading the payload (listing).
// Format 1 (before checksums) is the same without the two checksums: a 16-byte prefix. It is still read.
import CRC32C from 'crc-32/crc32c.js';
import { isPlainObject } from '../internal';
import {
  type AnyTypedArray,
  assertSafeKeys,
  CorruptDataError,
  decodeCheckpoint,
  TYPED_ARRAYS,
  typedArrayName,
} from './encoding';
import type { SaveMetadata } from './saver';

/** The first 8 bytes of every checkpoint file. */
const MAGIC = Buffer.from('KNDLCKPT', 'latin1');
/** The format written. */
const FORMAT = 2;
/** Prefix bytes by format. */
const PREFIX_BYTES: Readonly<Record<number, number>> = { 1: 16, 2: 24 };
const HEADER_CRC_OFFSET = 16;
const PAYLOAD_CRC_OFFSET = 20;
const ALIGN = 8;
/** The largest header read when listing (a damaged length field must not allocate gigabytes). */
const HEADER_MAX = 64 * 1024 * 1024;

/** How many bytes to read to find where the header lies, whatever the format. */
export const PREFIX_MAX = PREFIX_BYTES[FORMAT]!;

/** The JSON header of a checkpoint file. */
export interface FileHeader {
  filename: string;
  savedAt: number;
  metadata: SaveMetadata | undefined;
  encoded: unknown;
  /** Byte offset of each typed array, from the start of the file. */
  offsets: number[];
}

/** Where a file's header lies. */
export interface Prefix {
  format: number;
  /** Offset of the JSON header. */
  start: number;
  /** Length of the JSON header in bytes. */
  length: number;
}

const align = (offset: number): number => Math.ceil(offset / ALIGN) * ALIGN;
const hex = (value: number): string => `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
const bytesOf = (view: ArrayBufferView): Uint8Array => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

/** CRC32C of the given bytes, one after the other. */
function crc32c(...parts: readonly Uint8Array[]): number {
  let crc = 0;
  for (const part of parts) crc = CRC32C.buf(part, crc);
  return crc >>> 0;
}

/** Whether `first` (a file's first bytes) starts with the signature, allowing one damaged byte. */
export function looksLikeCheckpoint(first: Uint8Array): boolean {
  let matching = 0;
  for (let i = 0; i < Math.min(first.length, MAGIC.length); i++) if (first[i] === MAGIC[i]) matching++;
  return matching >= MAGIC.length - 1;
}

/**
 * The bytes of a format-2 file in order (prefix with checksums, header, padded typed arrays) and their total length,
 * without copying the typed arrays.
 */
export function layOutFile(header: Omit<FileHeader, 'offsets'>, views: readonly AnyTypedArray[]) {
  const prefixBytes = PREFIX_BYTES[FORMAT]!;
  const offsets: number[] = [];
  const fileHeader: FileHeader = { ...header, offsets };
  // Offsets depend on the header's length, which depends on the offsets' digits: grow until the header fits.
  let headerLength = 0;
  let json: Buffer;
  let end: number;
  for (;;) {
    end = prefixBytes + headerLength;
    offsets.length = 0;
    for (const view of views) {
      end = align(end);
      offsets.push(end);
      end += view.byteLength;
    }
    json = Buffer.from(JSON.stringify(fileHeader), 'utf8');
    if (json.length <= headerLength) break;
    headerLength = json.length;
  }
  // The JSON may have come out shorter than the room kept for it: pad with spaces (JSON whitespace).
  const headerBytes = Buffer.alloc(headerLength, 0x20);
  json.copy(headerBytes);
  const prefix = Buffer.alloc(prefixBytes);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(FORMAT, 8);
  prefix.writeUInt32LE(headerLength, 12);
  prefix.writeUInt32LE(crc32c(prefix.subarray(0, HEADER_CRC_OFFSET), headerBytes), HEADER_CRC_OFFSET);
  const payload: Uint8Array[] = [];
  let position = prefixBytes + headerLength;
  views.forEach((view, index) => {
    const offset = offsets[index]!;
    if (offset > position) payload.push(new Uint8Array(offset - position));
    if (view.byteLength > 0) payload.push(bytesOf(view));
    position = offset + view.byteLength;
  });
  prefix.writeUInt32LE(crc32c(...payload), PAYLOAD_CRC_OFFSET);
  return { chunks: [prefix, headerBytes, ...payload], bytes: end };
}

/** Checks the signature, format and header length of a file's first bytes (`size`: the file's); CorruptDataError. */
export function decodePrefix(first: Buffer, size: number): Prefix {
  if (first.length < MAGIC.length || !first.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new CorruptDataError('it does not start with the checkpoint signature KNDLCKPT');
  }
  if (first.length < 16) throw new CorruptDataError(`it is cut short at ${size} bytes`);
  const format = first.readUInt32LE(8);
  const start = PREFIX_BYTES[format];
  if (start === undefined) {
    throw new CorruptDataError(
      `its format number is ${format}; this version of kindling reads formats 1 and 2, so it is damaged or from a newer kindling`,
    );
  }
  const length = first.readUInt32LE(12);
  if (length > HEADER_MAX) throw new CorruptDataError(`its header length ${length} is implausible`);
  if (size < start + length) {
    throw new CorruptDataError(`it is cut short at ${size} bytes, its header alone takes ${start + length}`);
  }
  return { format, start, length };
}

/**
 * Checks the header's checksum (format 2), then parses the JSON header and checks its shape: CorruptDataError. A key
 * `__proto__`, `constructor` or `prototype` anywhere in it is a CheckpointError `UNSAFE_KEY` (from assertSafeKeys).
 */
export function decodeHeader(first: Buffer, prefix: Prefix, json: Buffer): FileHeader {
  if (prefix.format >= 2) {
    const stored = first.readUInt32LE(HEADER_CRC_OFFSET);
    const actual = crc32c(first.subarray(0, HEADER_CRC_OFFSET), json);
    if (stored !== actual) {
      throw new CorruptDataError(
        `the CRC32C checksum of its header is ${hex(actual)}, the file says ${hex(stored)}: bytes changed after it was written`,
      );
    }
  }
  let header: FileHeader;
  try {
    header = JSON.parse(json.toString('utf8'));
  } catch {
    throw new CorruptDataError('its header is not valid JSON');
  }
  if (
    header === null ||
    typeof header !== 'object' ||
    typeof header.savedAt !== 'number' ||
    !Number.isFinite(header.savedAt) ||
    !Array.isArray(header.offsets) ||
    header.encoded === null ||
    typeof header.encoded !== 'object' ||
    (header.metadata !== undefined && !isPlainObject(header.metadata))
  ) {
    throw new CorruptDataError('its header is malformed');
  }
  assertSafeKeys(header, 'its header');
  return header;
}

/**
 * Decodes a whole file: prefix, header, payload checksum (format 2), typed arrays (each copied into its own buffer),
 * then the data. Throws CorruptDataError, or CheckpointError `UNSAFE_KEY`.
 */
export function decodeFile(bytes: Buffer): { header: FileHeader; data: unknown } {
  const prefix = decodePrefix(bytes, bytes.length);
  const end = prefix.start + prefix.length;
  const header = decodeHeader(bytes, prefix, bytes.subarray(prefix.start, end));
  if (prefix.format >= 2) {
    const stored = bytes.readUInt32LE(PAYLOAD_CRC_OFFSET);
    const actual = crc32c(bytes.subarray(end));
    if (stored !== actual) {
      throw new CorruptDataError(
        `the CRC32C checksum of its typed arrays is ${hex(actual)}, the file says ${hex(stored)}: bytes changed or went missing after it was written (${bytes.length} bytes now)`,
      );
    }
  }
  const entries = (header.encoded as { buffers?: unknown }).buffers;
  if (!Array.isArray(entries) || entries.length !== header.offsets.length) {
    throw new CorruptDataError('its header lists typed arrays and offsets that do not match');
  }
  const views: AnyTypedArray[] = [];
  for (let i = 0; i < entries.length; i++) {
    const { type, byteLength } = (entries[i] ?? {}) as { type: string; byteLength: number };
    const offset = header.offsets[i];
    const Class = Object.hasOwn(TYPED_ARRAYS, type)
      ? (TYPED_ARRAYS as Record<string, new (buffer: ArrayBuffer) => AnyTypedArray>)[type]
      : undefined;
    if (
      Class === undefined ||
      !Number.isSafeInteger(offset) ||
      !Number.isSafeInteger(byteLength) ||
      byteLength < 0 ||
      offset < end ||
      offset + byteLength > bytes.length
    ) {
      throw new CorruptDataError(`typed array ${i} lies outside the file or has an unknown type`);
    }
    // Copy into its own buffer: typed arrays must not share the file's buffer (alignment, and structuredClone size).
    const copy = new Uint8Array(bytes.subarray(offset, offset + byteLength)).buffer;
    let view: AnyTypedArray;
    try {
      view = new Class(copy);
    } catch {
      throw new CorruptDataError(`typed array ${i} has a length that does not fit a ${type}`);
    }
    if (typedArrayName(view) !== type) throw new CorruptDataError(`typed array ${i} is not a ${type}`);
    views.push(view);
  }
  return { header, data: decodeCheckpoint(header.encoded, views) };
}
