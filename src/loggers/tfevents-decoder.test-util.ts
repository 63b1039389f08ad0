// An independent reader of TensorBoard event files for the tests: TFRecord framing checked with a CRC32C written
// here (not the library's), `Event` messages decoded by protobufjs from tensorboard.proto.
import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';

const schema = protobuf.parse(readFileSync(new URL('./tensorboard.test-util.proto', import.meta.url), 'utf8')).root;
const EventType = schema.lookupType('tensorboard.Event');

/** CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), bit by bit. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masking: rotate right by 15, add 0xa282ead8. */
export const masked = (crc: number): number => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;

/** A decoded event: protobufjs's plain object (int64 as numbers). */
export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: {
    value: {
      tag: string;
      simpleValue?: number;
      histo?: {
        min: number;
        max: number;
        num: number;
        sum: number;
        sumSquares: number;
        bucketLimit: number[];
        bucket: number[];
      };
    }[];
  };
}

/** Splits a file into records, checking both CRCs of each; throws at the first bad one. */
export function readRecords(bytes: Uint8Array): Uint8Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const records: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < 16) throw new Error(`truncated record header at byte ${offset}`);
    const length = Number(view.getBigUint64(offset, true));
    const lengthCrc = view.getUint32(offset + 8, true);
    if (lengthCrc !== masked(crc32c(bytes.subarray(offset, offset + 8))))
      throw new Error(`bad length CRC at byte ${offset}`);
    const data = bytes.subarray(offset + 12, offset + 12 + length);
    if (data.length !== length) throw new Error(`truncated record at byte ${offset}`);
    const dataCrc = view.getUint32(offset + 12 + length, true);
    if (dataCrc !== masked(crc32c(data))) throw new Error(`bad data CRC at byte ${offset}`);
    records.push(data);
    offset += 16 + length;
  }
  return records;
}

/** Every event of an event file, CRCs checked. */
export function decodeEvents(bytes: Uint8Array): DecodedEvent[] {
  return readRecords(bytes).map(
    (record) => EventType.toObject(EventType.decode(record), { longs: Number, defaults: false }) as DecodedEvent,
  );
}

/** The scalars of decoded events as `[step, tag, value]`, in file order. */
export function scalarsOf(events: readonly DecodedEvent[]): [number, string, number][] {
  const out: [number, string, number][] = [];
  for (const event of events) {
    for (const value of event.summary?.value ?? []) {
      if (value.simpleValue !== undefined) out.push([event.step ?? 0, value.tag, value.simpleValue]);
    }
  }
  return out;
}
