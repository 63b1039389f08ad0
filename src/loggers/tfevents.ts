// TensorBoard event files in pure TypeScript: `Event` protocol buffers (tensorflow/core/util/event.proto, with
// `Summary` and `HistogramProto` from summary.proto and histogram.proto), each framed as a TFRecord:
//   uint64 length | uint32 masked CRC32C of the length bytes | data | uint32 masked CRC32C of the data
// all little-endian. Encoding by @bufbuild/protobuf's BinaryWriter; CRC32C by crc-32's `crc32c` module.
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import CRC32C from 'crc-32/crc32c.js';

/** What the first event of every file says (`Event.file_version`). */
export const FILE_VERSION = 'brain.Event:2';

/** A histogram as TensorBoard stores it (`HistogramProto`): bucket `i` counts values in (limit[i-1], limit[i]]. */
export interface HistogramData {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

/** One value of an event's summary: a scalar (`simple_value`) or a histogram (`histo`). */
export type SummaryValue = { tag: string; simpleValue: number } | { tag: string; histogram: HistogramData };

/** One event: wall time in seconds, the step, and either the file version or a summary. */
export interface EventData {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: readonly SummaryValue[];
}

/** TFRecord's CRC: CRC32C (Castagnoli) rotated right by 15 bits plus 0xa282ead8, modulo 2^32. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = CRC32C.buf(bytes) >>> 0;
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}

/** Frames `data` as one TFRecord. */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length + 4);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length % 2 ** 32, true);
  view.setUint32(4, Math.floor(data.length / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}

// Field numbers of the messages written (from TensorBoard's compat protos).
const EVENT = { wallTime: 1, step: 2, fileVersion: 3, summary: 5 } as const;
const SUMMARY = { value: 1 } as const;
const VALUE = { tag: 1, simpleValue: 2, histo: 5 } as const;
const HISTOGRAM = { min: 1, max: 2, num: 3, sum: 4, sumSquares: 5, bucketLimit: 6, bucket: 7 } as const;

function writePackedDoubles(writer: BinaryWriter, field: number, values: readonly number[]): void {
  writer.tag(field, WireType.LengthDelimited).fork();
  for (const value of values) writer.double(value);
  writer.join();
}

function writeHistogram(writer: BinaryWriter, histogram: HistogramData): void {
  writer.tag(HISTOGRAM.min, WireType.Bit64).double(histogram.min);
  writer.tag(HISTOGRAM.max, WireType.Bit64).double(histogram.max);
  writer.tag(HISTOGRAM.num, WireType.Bit64).double(histogram.num);
  writer.tag(HISTOGRAM.sum, WireType.Bit64).double(histogram.sum);
  writer.tag(HISTOGRAM.sumSquares, WireType.Bit64).double(histogram.sumSquares);
  writePackedDoubles(writer, HISTOGRAM.bucketLimit, histogram.bucketLimit);
  writePackedDoubles(writer, HISTOGRAM.bucket, histogram.bucket);
}

/** Encodes an `Event` message (not framed). */
export function encodeEvent(event: EventData): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(EVENT.wallTime, WireType.Bit64).double(event.wallTime);
  if (event.step !== 0) writer.tag(EVENT.step, WireType.Varint).int64(event.step);
  if (event.fileVersion !== undefined)
    writer.tag(EVENT.fileVersion, WireType.LengthDelimited).string(event.fileVersion);
  if (event.summary !== undefined) {
    writer.tag(EVENT.summary, WireType.LengthDelimited).fork();
    for (const value of event.summary) {
      writer.tag(SUMMARY.value, WireType.LengthDelimited).fork();
      writer.tag(VALUE.tag, WireType.LengthDelimited).string(value.tag);
      if ('simpleValue' in value) {
        writer.tag(VALUE.simpleValue, WireType.Bit32).float(Math.fround(value.simpleValue));
      } else {
        writer.tag(VALUE.histo, WireType.LengthDelimited).fork();
        writeHistogram(writer, value.histogram);
        writer.join();
      }
      writer.join();
    }
    writer.join();
  }
  return writer.finish();
}

let defaultLimits: Float64Array | null = null;

/**
 * TensorFlow's default histogram bucket limits: ±1e-12 growing by 10% up to 1e20, then ±DBL_MAX, and 0 in the middle
 * (1551 limits), as TensorFlow's histogram summaries (and torch's `bins='tensorflow'`) use.
 */
export function defaultBucketLimits(): Float64Array {
  if (defaultLimits === null) {
    const positive: number[] = [];
    for (let v = 1e-12; v < 1e20; v *= 1.1) positive.push(v);
    positive.push(Number.MAX_VALUE);
    defaultLimits = Float64Array.from([...positive.map((v) => -v).reverse(), 0, ...positive]);
  }
  return defaultLimits;
}

/**
 * A histogram of `values` over TensorFlow's default buckets, as TensorFlow encodes it: runs of empty buckets are
 * merged into one, so only the populated range is stored. Non-finite values are left out.
 */
export function makeHistogram(values: ArrayLike<number>): HistogramData {
  const limits = defaultBucketLimits();
  const counts = new Float64Array(limits.length);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let num = 0;
  let sum = 0;
  let sumSquares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    num += 1;
    sum += v;
    sumSquares += v * v;
    // the first limit greater than v (a value equal to a limit falls in the next bucket, as in TensorFlow)
    let lo = 0;
    let hi = limits.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (limits[mid]! > v) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]! += 1;
  }
  const bucketLimit: number[] = [];
  const bucket: number[] = [];
  for (let i = 0; i < counts.length; ) {
    let end = limits[i]!;
    const count = counts[i]!;
    i += 1;
    if (count === 0) {
      while (i < counts.length && counts[i] === 0) {
        end = limits[i]!;
        i += 1;
      }
    }
    bucketLimit.push(end);
    bucket.push(count);
  }
  if (num === 0) return { min: 0, max: 0, num: 0, sum: 0, sumSquares: 0, bucketLimit: [Number.MAX_VALUE], bucket: [0] };
  return { min, max, num, sum, sumSquares, bucketLimit, bucket };
}
