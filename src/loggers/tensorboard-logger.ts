import { checkInteger, checkNumber, checkOneOf, checkOptions, checkString } from '../internal';
import { concatBytes, type LogFile, type LogStorage } from '../storage/log-file';
import { hasNodeFileSystem, openLogFile } from '../storage/open-log-file';
import { BaseLogger, wallTimeNow } from './base-logger';
import { encodeEvent, FILE_VERSION, frameRecord, makeHistogram } from './tfevents';

/** Options of {@link TensorboardLogger}; `flushSecs` and `maxQueue` are TensorBoard's writer settings. */
export interface TensorboardLoggerOptions {
  /** The run's directory: on disk in Node, in the Origin Private File System (or IndexedDB) in the page. */
  logDir: string;
  /** Write buffered events to storage at least this often, in seconds (default 120). */
  flushSecs?: number;
  /** Write when this many events are buffered (default 10). */
  maxQueue?: number;
  /** Appended to the file name, e.g. `'.v1'` (default none). */
  filenameSuffix?: string;
  /** Where the file goes (default `'auto'`: Node's file system, else OPFS, else IndexedDB; `'memory'` for tests). */
  storage?: LogStorage;
}

const WHERE = 'TensorboardLogger';
let fileCounter = 0;

/** The host name for the file name: the machine's in Node, the page's host in a browser. */
function hostName(): string {
  if (hasNodeFileSystem()) {
    const os = (
      globalThis as unknown as { process: { getBuiltinModule(id: 'node:os'): { hostname(): string } } }
    ).process.getBuiltinModule('node:os');
    return os.hostname();
  }
  const host = (globalThis as { location?: { hostname?: string } }).location?.hostname;
  return host || 'localhost';
}

/** What tells this file apart from others made in the same second on the same host. */
function uniqueSuffix(): string {
  fileCounter += 1;
  const proc = (globalThis as { process?: { pid?: number } }).process;
  if (hasNodeFileSystem() && typeof proc?.pid === 'number') return `${proc.pid}.${fileCounter}`;
  const random = new Uint32Array(1);
  globalThis.crypto?.getRandomValues(random);
  return `${random[0]!.toString(16).padStart(8, '0')}.${fileCounter}`;
}

/**
 * Writes TensorBoard event files, in pure TypeScript: PyTorch Ignite's `TensorboardLogger`. Point TensorBoard at the
 * log directory (`tensorboard --logdir runs`) to see the scalars and histograms.
 *
 * The file `events.out.tfevents.<seconds>.<host>.<id>` holds TFRecords (length, masked CRC32C of the length, data,
 * masked CRC32C of the data) of `Event` protocol buffers: first the file version, then one event per logging call,
 * with a `Summary` of scalars (`simple_value`) or histograms (`HistogramProto`, TensorFlow's default buckets). Events
 * are buffered and written once `maxQueue` wait or `flushSecs` have passed since the last write (checked at each
 * event; there is no timer), and on `flush()` / `close()`.
 *
 * In Node the file goes in `logDir` on disk. In the page it goes in the Origin Private File System (IndexedDB where
 * there is none); {@link toBlob} / {@link createObjectURL} give it back for download, to drop into a TensorBoard log
 * directory as it is.
 *
 * @example
 * const logger = new TensorboardLogger({ logDir: 'runs/digits' });
 * logger.attachOutputHandler(trainer, {
 *   eventName: Events.ITERATION_COMPLETED({ every: 10 }), tag: 'training', outputTransform: (loss) => ({ loss }),
 * });
 * logger.attach(trainer, new WeightsHistHandler(model), Events.EPOCH_COMPLETED);
 * await trainer.run(loader, { maxEpochs: 5 });
 * await logger.close();
 * // in a page: link.href = await logger.createObjectURL(); link.download = logger.fileName;
 */
export class TensorboardLogger extends BaseLogger {
  /** The run's directory. */
  readonly logDir: string;
  /** The event file's name, e.g. `events.out.tfevents.1700000000.myhost.4242.1`. */
  readonly fileName: string;
  readonly #flushMs: number;
  readonly #maxQueue: number;
  readonly #file: Promise<LogFile>;
  #buffer: Uint8Array[] = [];
  #lastFlush = Date.now();
  /** Storage writes, one after another. */
  #io: Promise<void> = Promise.resolve();
  #ioError: { error: unknown } | null = null;

  /** @param options - `{ logDir, flushSecs?, maxQueue?, filenameSuffix?, storage? }`, see {@link TensorboardLoggerOptions}. */
  constructor(options: TensorboardLoggerOptions) {
    super(WHERE);
    const {
      logDir,
      flushSecs = 120,
      maxQueue = 10,
      filenameSuffix = '',
      storage = 'auto',
    } = checkOptions(WHERE, options ?? {}, ['logDir', 'flushSecs', 'maxQueue', 'filenameSuffix', 'storage']);
    this.logDir = checkString(WHERE, 'option logDir', logDir, {
      fix: "Pass the run's directory, e.g. { logDir: 'runs/exp1' }.",
    });
    this.#flushMs = checkNumber(WHERE, 'option flushSecs', flushSecs, { min: 0 }) * 1000;
    this.#maxQueue = checkInteger(WHERE, 'option maxQueue', maxQueue, { min: 1 });
    const suffix = checkString(WHERE, 'option filenameSuffix', filenameSuffix, { allowEmpty: true });
    const where = checkOneOf(WHERE, 'option storage', storage, [
      'auto',
      'node',
      'opfs',
      'indexeddb',
      'memory',
    ] as const);
    const seconds = Math.floor(Date.now() / 1000);
    this.fileName = `events.out.tfevents.${seconds}.${hostName()}.${uniqueSuffix()}${suffix}`;
    this.#file = openLogFile(this.logDir, this.fileName, where, WHERE);
    this.#file.catch(() => {}); // reported by the first write, flush() or close()
    this.#buffer.push(frameRecord(encodeEvent({ wallTime: wallTimeNow(), step: 0, fileVersion: FILE_VERSION })));
  }

  /** Where the file is: a path in Node, `opfs:<logDir>/<fileName>` or `indexeddb:...` in the page. */
  async location(): Promise<string> {
    return (await this.#file).location;
  }

  /**
   * The whole event file so far (after a flush), for download.
   *
   * @example
   * const blob = await logger.toBlob(); // application/octet-stream
   */
  async toBlob(): Promise<Blob> {
    if (!this.isClosed) await this.flush();
    await this.#io;
    const bytes = await (await this.#file).read();
    return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' });
  }

  /**
   * An object URL of {@link toBlob} for a download link (`<a download={logger.fileName}>`); revoke it with
   * `URL.revokeObjectURL` when done.
   */
  async createObjectURL(): Promise<string> {
    return URL.createObjectURL(await this.toBlob());
  }

  protected override _writeScalars(scalars: readonly [string, number][], step: number, wallTime: number): void {
    const summary = scalars.map(([tag, simpleValue]) => ({ tag, simpleValue }));
    this.#push(encodeEvent({ wallTime, step, summary }));
  }

  protected override _writeHistogram(tag: string, values: ArrayLike<number>, step: number, wallTime: number): void {
    this.#push(encodeEvent({ wallTime, step, summary: [{ tag, histogram: makeHistogram(values) }] }));
  }

  protected override async _flush(): Promise<void> {
    this.#writeBuffer();
    await this.#io;
    const failure = this.#ioError;
    this.#ioError = null;
    if (failure !== null) throw failure.error;
  }

  protected override async _close(): Promise<void> {
    await this.#io.catch(() => {});
    await (await this.#file).close();
  }

  #push(event: Uint8Array): void {
    this.#buffer.push(frameRecord(event));
    if (this.#buffer.length >= this.#maxQueue || Date.now() - this.#lastFlush >= this.#flushMs) this.#writeBuffer();
  }

  /** Hands the buffered records to storage (in order, after earlier writes). */
  #writeBuffer(): void {
    this.#lastFlush = Date.now();
    if (this.#buffer.length === 0) return;
    const bytes = concatBytes(this.#buffer);
    this.#buffer = [];
    this.#io = this.#io.then(async () => {
      try {
        await (await this.#file).append(bytes);
      } catch (error) {
        this.#ioError ??= { error };
      }
    });
  }
}
