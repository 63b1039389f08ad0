import * as tf from '@tensorflow/tfjs';
import { type Engine, type EventLike, Events, eventName, FilteredEvent } from '../engine';
import {
  checkBoolean,
  checkEngine,
  checkFunction,
  checkInteger,
  checkNumber,
  checkOptions,
  checkString,
  failType,
  isPlainObject,
} from '../internal';
import { Attachable, addHandlers } from './attachable';
import { formatNumber, formatProgressLine, type ProgressInfo, type ProgressSink } from './progress-format';

/** The part of a Node `Writable` (e.g. `process.stderr`) the terminal sink uses. */
export interface WritableLike {
  write(chunk: string): unknown;
  /** Terminal width; lines are cut to fit when known. */
  columns?: number;
}

/**
 * Options of the {@link ProgressBar} handler. Give one of `sink` and `stream`. (The package's `ProgressBar`, in
 * `src/browser/`, adds the page's `element`/`container` and picks a default display.)
 */
export interface ProgressBarOptions {
  /** Where the bar is drawn: a terminal stream's sink, the page's sink, or your own. */
  sink?: ProgressSink;
  /** Shorthand for `sink: new StreamProgressSink(stream, barWidth)`: one updating line (`\r`) on a terminal. */
  stream?: WritableLike;
  /** Replaces the default description (`'Epoch'`/`'Iteration'`). */
  desc?: string;
  /** Keep the finished bar visible after its closing event (default false: the terminal line is cleared). */
  persist?: boolean;
  /** Minimum milliseconds between redraws (default 100); the last event of a bar is always drawn. */
  minInterval?: number;
  /** Width of the text bar in characters (default 20). */
  barWidth?: number;
  /** Clock in milliseconds (default `performance.now`); inject a fake one in tests. */
  now?: () => number;
}

/** Options of {@link ProgressBar.attach}. */
export interface ProgressBarAttachOptions {
  /** Entries of `engine.state.metrics` to show, or `'all'`. */
  metricNames?: string[] | 'all';
  /** Picks what to show from `engine.state.output`: a number, a scalar tensor, or `{ name: value }`. */
  outputTransform?: (output: any) => unknown;
  /** `engine.state` attributes to show, e.g. `['alpha']`. */
  stateAttributes?: string[];
  /** The event that advances the bar (default `ITERATION_COMPLETED`; filtered events allowed). */
  event?: EventLike;
  /** The event that closes the bar (default `EPOCH_COMPLETED`); must come after `event` and not be filtered. */
  closingEvent?: EventLike;
}

/** The option names of {@link ProgressBarOptions}, and those the package's ProgressBar adds. */
const OPTION_NAMES = [
  'sink',
  'stream',
  'element',
  'textElement',
  'container',
  'desc',
  'persist',
  'minInterval',
  'barWidth',
  'now',
] as const;

const isStringArray = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'string');

const EVENTS_ORDER = [
  Events.STARTED.name,
  Events.EPOCH_STARTED.name,
  Events.ITERATION_STARTED.name,
  Events.ITERATION_COMPLETED.name,
  Events.EPOCH_COMPLETED.name,
  Events.COMPLETED.name,
];
const ITERATION_EVENTS = [Events.ITERATION_STARTED.name, Events.ITERATION_COMPLETED.name];
const EPOCH_EVENTS = [Events.EPOCH_STARTED.name, Events.EPOCH_COMPLETED.name];

interface OpenBar {
  startedAt: number;
  firstN: number;
  lastDrawAt: number;
  info: ProgressInfo | null;
}

/**
 * Shows training progress on a {@link ProgressSink}: a terminal line ({@link StreamProgressSink}), the page's
 * `<progress>` element (`DomProgressSink`, in `src/browser/`) or your own display. It shows the epoch, the iteration
 * out of the epoch length, the rate, the ETA, and chosen metrics or output values. Redraws are throttled (`minInterval`, 100 ms by default) and only read back
 * a scalar tensor output when it is time to redraw.
 *
 * @example
 * new ProgressBar({ stream: process.stderr }).attach(trainer, { outputTransform: (loss) => ({ loss }), metricNames: ['accuracy'] });
 * // Epoch [2/5]: [64/128]  50%|██████████          , loss=0.123, accuracy=0.91 [00:06<00:06, 9.87it/s]
 */
export class ProgressBar extends Attachable {
  protected override get handlerName(): string {
    return 'ProgressBar';
  }

  readonly #sink: ProgressSink;
  readonly #desc: string | null;
  readonly #persist: boolean;
  readonly #minInterval: number;
  readonly #now: () => number;
  #bar: OpenBar | null = null;

  /** @param options - where and how to draw, see {@link ProgressBarOptions}. */
  constructor(options: ProgressBarOptions = {}) {
    super();
    const where = 'ProgressBar';
    const given = checkOptions(where, options, OPTION_NAMES);
    const { desc, persist = false, minInterval = 100, barWidth = 20, now = () => performance.now() } = given;
    this.#desc = desc === undefined ? null : checkString(where, 'option desc', desc, { allowEmpty: true });
    this.#minInterval = checkNumber(where, 'option minInterval', minInterval, {
      min: 0,
      expected: 'a non-negative number of milliseconds',
    });
    const width = checkInteger(where, 'option barWidth', barWidth, { min: 1 });
    this.#now = checkFunction(where, 'option now', now, '() => milliseconds');
    this.#sink = chooseSink(options, width);
    this.#persist = checkBoolean(where, 'option persist', persist);
  }

  /**
   * Shows the bar for `engine`'s runs: it advances on `event` and closes on `closingEvent`.
   *
   * @param engine - the engine to follow.
   * @param options - what to show and when, see {@link ProgressBarAttachOptions}.
   * @returns this bar; `bar.remove()` takes its handlers off again.
   */
  attach(engine: Engine<any, any>, options: ProgressBarAttachOptions = {}): this {
    checkEngine('ProgressBar.attach', 'argument engine', engine);
    const {
      metricNames = [],
      outputTransform,
      stateAttributes = [],
      event = Events.ITERATION_COMPLETED,
      closingEvent = Events.EPOCH_COMPLETED,
    } = options;
    const where = 'ProgressBar.attach';
    checkOptions(where, options, ['metricNames', 'outputTransform', 'stateAttributes', 'event', 'closingEvent']);
    if (metricNames !== 'all' && !isStringArray(metricNames)) {
      failType(where, 'option metricNames', "an array of metric names or 'all'", metricNames);
    }
    if (outputTransform !== undefined)
      checkFunction(where, 'option outputTransform', outputTransform, '(output) => value');
    if (!isStringArray(stateAttributes))
      failType(where, 'option stateAttributes', 'an array of strings', stateAttributes);
    const name = eventName(event);
    const closingName = eventName(closingEvent);
    if (![...ITERATION_EVENTS, ...EPOCH_EVENTS].includes(name)) {
      throw new RangeError(
        `ProgressBar.attach: logging event ${name} is not supported; use an ITERATION_* or EPOCH_* event of Events.`,
      );
    }
    if (closingEvent instanceof FilteredEvent) {
      throw new TypeError(
        'ProgressBar.attach: closing event should not be a filtered event; pass e.g. Events.EPOCH_COMPLETED.',
      );
    }
    if (!(EVENTS_ORDER.indexOf(name) < EVENTS_ORDER.indexOf(closingName))) {
      throw new RangeError(
        `ProgressBar.attach: logging event ${name} should be called before closing event ${closingName}; ` +
          `e.g. event: Events.EPOCH_COMPLETED goes with closingEvent: Events.COMPLETED.`,
      );
    }
    const selection: Selection = { metricNames, outputTransform, stateAttributes };
    this.track(
      engine,
      ...addHandlers(engine, where, [
        ['option event', event, (e: Engine<any, any>) => this.#advance(e, name, closingName, selection)],
        ['option closingEvent', closingEvent, () => this.#close()],
      ]),
    );
    return this;
  }

  /**
   * Writes a message without breaking the bar (on the terminal: above the line).
   *
   * @example
   * trainer.on(Events.EPOCH_COMPLETED, (e) => bar.logMessage(`epoch ${e.state.epoch} done`));
   */
  logMessage(message: string): void {
    if (this.#sink.message) this.#sink.message(String(message));
  }

  /** Counts the event; returns a promise only when it redraws, so skipped events cost the loop no await. */
  #advance(
    engine: Engine<any, any>,
    name: string,
    closingName: string,
    selection: Selection,
  ): Promise<void> | undefined {
    const state = engine.state;
    const total = countOf(name, engine);
    const step = ITERATION_EVENTS.includes(name) ? state.iteration : state.epoch;
    const n = total !== null ? ((step - 1) % total) + 1 : step;
    const now = this.#now();
    if (this.#bar === null) this.#bar = { startedAt: now, firstN: n, lastDrawAt: Number.NEGATIVE_INFINITY, info: null };
    const bar = this.#bar;
    const isLast = total !== null && n >= total;
    if (!isLast && now - bar.lastDrawAt < this.#minInterval) return;
    bar.lastDrawAt = now;
    const elapsed = (now - bar.startedAt) / 1000;
    const rate = elapsed > 0 && n > bar.firstN ? (n - bar.firstN) / elapsed : null;
    const eta = rate !== null && total !== null ? Math.max(total - n, 0) / rate : null;
    const desc = this.#describe(engine, closingName);
    return renderPostfix(engine, selection).then((postfix) => {
      if (this.#bar !== bar) return; // closed while reading values
      bar.info = { desc, n, total, elapsed, rate, eta, postfix };
      this.#sink.update(bar.info);
    });
  }

  #close(): void {
    const bar = this.#bar;
    this.#bar = null;
    if (bar?.info) {
      const info = bar.info.total !== null ? { ...bar.info, n: bar.info.total, eta: 0 } : bar.info;
      this.#sink.close(info, this.#persist);
    }
  }

  #describe(engine: Engine<any, any>, closingName: string): string {
    const state = engine.state;
    let desc = this.#desc ?? (state.maxEpochs === 1 ? 'Iteration' : 'Epoch');
    const closingTotal = countOf(closingName, engine);
    if (closingTotal !== null && closingTotal > 1) {
      const closingStep = EPOCH_EVENTS.includes(closingName) ? state.epoch : state.iteration;
      desc += ` [${closingStep}/${closingTotal}]`;
    }
    return desc;
  }
}

interface Selection {
  metricNames: string[] | 'all';
  outputTransform: ((output: any) => unknown) | undefined;
  stateAttributes: string[];
}

/** Events in a full bar for an event name: the epoch length for iteration events, maxEpochs for epoch events. */
function countOf(name: string, engine: Engine<any, any>): number | null {
  const state = engine.state;
  if (ITERATION_EVENTS.includes(name)) return state.epochLength ?? null;
  if (EPOCH_EVENTS.includes(name)) {
    if (state.maxEpochs !== null) return state.maxEpochs;
    if (state.maxIters !== null && state.epochLength) return Math.ceil(state.maxIters / state.epochLength);
    return null;
  }
  return 1;
}

/** Collects `[name, text]` for the selected metrics, state attributes and output; reads scalar tensors. */
async function renderPostfix(engine: Engine<any, any>, selection: Selection): Promise<Array<[string, string]>> {
  const entries: Array<[string, unknown]> = [];
  const metrics = engine.state.metrics ?? {};
  const names = selection.metricNames === 'all' ? Object.keys(metrics) : selection.metricNames;
  for (const name of names) if (name in metrics) entries.push([name, metrics[name]]);
  if (selection.outputTransform) {
    const output = selection.outputTransform(engine.state.output);
    if (isPlainObject(output)) entries.push(...Object.entries(output));
    else entries.push(['output', output]);
  }
  for (const name of selection.stateAttributes) entries.push([name, engine.state[name]]);
  const rendered: Array<[string, string]> = [];
  for (const [name, value] of entries) {
    if (typeof value === 'number') rendered.push([name, formatNumber(value)]);
    else if (typeof value === 'string') rendered.push([name, value]);
    else if (Array.isArray(value) && value.every((v) => typeof v === 'number')) {
      value.forEach((v, i) => {
        rendered.push([`${name}_${i}`, formatNumber(v)]);
      });
    } else if (value instanceof tf.Tensor && value.size === 1 && !value.isDisposed) {
      const data = await value.data();
      rendered.push([name, formatNumber(Number(data[0]))]);
    }
  }
  return rendered;
}

/**
 * Draws the bar as one line on a terminal stream, rewritten in place with `\r`.
 *
 * @example
 * new ProgressBar({ sink: new StreamProgressSink(process.stdout) });
 */
export class StreamProgressSink implements ProgressSink {
  readonly #stream: WritableLike;
  readonly #barWidth: number;
  #lastLength = 0;
  #lastLine = '';

  /**
   * @param stream - where to write, e.g. `process.stderr`.
   * @param barWidth - width of the bar in characters (default 20).
   */
  constructor(stream: WritableLike, barWidth = 20) {
    if (stream === null || typeof stream !== 'object' || typeof stream.write !== 'function') {
      failType(
        'StreamProgressSink',
        'argument stream',
        'an object with a write(text) method, e.g. process.stderr',
        stream,
      );
    }
    this.#stream = stream;
    this.#barWidth = barWidth;
  }

  /** Redraws the line in place (`\r`), cut to the stream's `columns` when it has them. */
  update(info: ProgressInfo): void {
    this.#draw(formatProgressLine(info, this.#barWidth));
  }

  /** Ends the bar: with `persist`, draws the final line and a newline; otherwise blanks the line. */
  close(info: ProgressInfo, persist: boolean): void {
    if (persist) {
      this.#draw(formatProgressLine(info, this.#barWidth));
      this.#stream.write('\n');
    } else if (this.#lastLength > 0) {
      this.#stream.write(`\r${' '.repeat(this.#lastLength)}\r`);
    }
    this.#lastLength = 0;
    this.#lastLine = '';
  }

  /** Writes `text` on its own line, then redraws the bar below it. */
  message(text: string): void {
    const line = this.#lastLine;
    if (this.#lastLength > 0) this.#stream.write(`\r${' '.repeat(this.#lastLength)}\r`);
    this.#stream.write(`${text}\n`);
    this.#lastLength = 0;
    if (line) this.#draw(line);
  }

  #draw(line: string): void {
    const columns = this.#stream.columns;
    const fitted = columns && columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
    const padding = ' '.repeat(Math.max(this.#lastLength - fitted.length, 0));
    this.#stream.write(`\r${fitted}${padding}`);
    this.#lastLength = fitted.length;
    this.#lastLine = fitted;
  }
}

function chooseSink(options: ProgressBarOptions, barWidth: number): ProgressSink {
  const { stream, sink } = options;
  if (sink !== undefined && stream !== undefined) {
    throw new TypeError('ProgressBar: give at most one of the options stream and sink.');
  }
  if (sink !== undefined) {
    if (
      sink === null ||
      typeof sink !== 'object' ||
      typeof sink.update !== 'function' ||
      typeof sink.close !== 'function'
    ) {
      failType('ProgressBar', 'option sink', 'an object with update(info) and close(info, persist) methods', sink);
    }
    return sink;
  }
  if (stream !== undefined) return new StreamProgressSink(stream, barWidth);
  throw new TypeError(
    "ProgressBar: no place to draw; pass option sink (a ProgressSink) or stream (e.g. process.stderr), or use kindling's ProgressBar, which also draws in the page.",
  );
}
