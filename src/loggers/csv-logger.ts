import { checkInteger, checkOneOf, checkOptions, checkString } from '../internal';
import type { LogFile, LogStorage } from '../storage/log-file';
import { openLogFile } from '../storage/open-log-file';
import { BaseLogger } from './base-logger';

/** Options of {@link CSVLogger}. */
export interface CSVLoggerOptions {
  /**
   * Also write the table to this file: a path on disk in Node, a path in the Origin Private File System (or IndexedDB)
   * in the page. Default: none, the table stays in memory (read it with `toString()` / `toBlob()`).
   */
  path?: string | null;
  /** Where `path` is (default `'auto'`: Node's file system, else OPFS, else IndexedDB). */
  storage?: LogStorage;
  /** Write finished rows to the file once this many wait (default 10); `flush()` and `close()` write them all. */
  maxQueue?: number;
}

interface Row {
  step: number;
  wallTime: number;
  values: Map<string, number>;
}

const WHERE = 'CSVLogger';
const encoder = new TextEncoder();

/** A CSV cell: quoted when it holds a comma, a quote or a line break. */
const cell = (text: string): string => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/**
 * Logs scalars as a CSV table with one row per logged step: the columns are `step`, `wall_time` (seconds since the
 * epoch, of the step's first value) and one per tag, in the order tags first appear; the header is written from the
 * first row. Values logged at the same step (consecutively) share a row; a value at another step starts a new row.
 * A tag that first appears after the header was written widens the table: the header gains the column and, where
 * the table is in a file, the file is rewritten once with the new header (earlier rows get an empty cell).
 * Histograms are not stored (use {@link TensorboardLogger}).
 *
 * Works in Node and in the page: the table is kept in memory ({@link toString}, {@link toBlob} for a download), and
 * with `path` also written to a file.
 *
 * @example
 * const csv = new CSVLogger({ path: 'runs/digits/metrics.csv' }); // in Node; in the page, new CSVLogger()
 * csv.attachOutputHandler(trainer, { eventName: Events.EPOCH_COMPLETED, tag: 'training', metricNames: 'all' });
 * await trainer.run(loader, { maxEpochs: 5 });
 * await csv.close();
 */
export class CSVLogger extends BaseLogger {
  /** The file path, or null when the table lives in memory only. */
  readonly path: string | null;
  readonly #maxQueue: number;
  readonly #file: Promise<LogFile> | null;
  readonly #columns: string[] = [];
  readonly #rows: Row[] = [];
  #open: Row | null = null;
  /** How many rows, and how many tag columns in the header, the file holds. */
  #rowsWritten = 0;
  #columnsWritten = -1;
  #io: Promise<void> = Promise.resolve();
  #ioError: { error: unknown } | null = null;

  /** @param options - `{ path?, storage?, maxQueue? }`, see {@link CSVLoggerOptions}. */
  constructor(options: CSVLoggerOptions = {}) {
    super(WHERE);
    const {
      path = null,
      storage = 'auto',
      maxQueue = 10,
    } = checkOptions(WHERE, options, ['path', 'storage', 'maxQueue']);
    this.path = path === null ? null : checkString(WHERE, 'option path', path);
    const where = checkOneOf(WHERE, 'option storage', storage, [
      'auto',
      'node',
      'opfs',
      'indexeddb',
      'memory',
    ] as const);
    this.#maxQueue = checkInteger(WHERE, 'option maxQueue', maxQueue, { min: 1 });
    if (this.path === null) {
      this.#file = null;
    } else {
      const slash = this.path.lastIndexOf('/');
      this.#file = openLogFile(this.path.slice(0, Math.max(slash, 0)), this.path.slice(slash + 1), where, WHERE);
      this.#file.catch(() => {}); // reported by flush() or close()
    }
  }

  /** The columns so far: `step`, `wall_time`, then the tags. */
  get columns(): readonly string[] {
    return ['step', 'wall_time', ...this.#columns];
  }

  /** The whole table so far, the row being filled included. */
  override toString(): string {
    const rows = this.#open === null ? this.#rows : [...this.#rows, this.#open];
    return this.#render(rows, true);
  }

  /** The table as a `text/csv` Blob, for download. */
  async toBlob(): Promise<Blob> {
    return new Blob([this.toString()], { type: 'text/csv' });
  }

  /** An object URL of {@link toBlob} for a download link; revoke it with `URL.revokeObjectURL` when done. */
  async createObjectURL(): Promise<string> {
    return URL.createObjectURL(await this.toBlob());
  }

  protected override _writeScalars(scalars: readonly [string, number][], step: number, wallTime: number): void {
    if (this.#open !== null && this.#open.step !== step) this.#finishRow();
    this.#open ??= { step, wallTime, values: new Map() };
    for (const [tag, value] of scalars) {
      if (!this.#columns.includes(tag)) this.#columns.push(tag);
      this.#open.values.set(tag, value);
    }
  }

  protected override async _flush(): Promise<void> {
    this.#writeRows();
    await this.#io;
    const failure = this.#ioError;
    this.#ioError = null;
    if (failure !== null) throw failure.error;
  }

  protected override async _close(): Promise<void> {
    if (this.#open !== null) this.#finishRow();
    this.#writeRows();
    await this.#io;
    if (this.#file !== null) await (await this.#file).close();
    const failure = this.#ioError;
    this.#ioError = null;
    if (failure !== null) throw failure.error;
  }

  #finishRow(): void {
    this.#rows.push(this.#open!);
    this.#open = null;
    if (this.#rows.length - this.#rowsWritten >= this.#maxQueue) this.#writeRows();
  }

  /** Writes the finished rows the file lacks: appended, or the whole file again when the header must change. */
  #writeRows(): void {
    const file = this.#file;
    if (file === null || this.#rowsWritten === this.#rows.length) return;
    const isNewHeader = this.#columnsWritten !== this.#columns.length;
    const text = isNewHeader
      ? this.#render(this.#rows, true)
      : this.#render(this.#rows.slice(this.#rowsWritten), false);
    const isRewrite = isNewHeader && this.#columnsWritten >= 0;
    this.#rowsWritten = this.#rows.length;
    this.#columnsWritten = this.#columns.length;
    const bytes = encoder.encode(text);
    this.#io = this.#io.then(async () => {
      try {
        const target = await file;
        await (isRewrite ? target.replace(bytes) : target.append(bytes));
      } catch (error) {
        this.#ioError ??= { error };
      }
    });
  }

  #render(rows: readonly Row[], withHeader: boolean): string {
    const lines = withHeader ? [this.columns.map(cell).join(',')] : [];
    for (const row of rows) {
      const cells = [String(row.step), String(row.wallTime)];
      for (const tag of this.#columns) {
        const value = row.values.get(tag);
        cells.push(value === undefined ? '' : String(value));
      }
      lines.push(cells.join(','));
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}
