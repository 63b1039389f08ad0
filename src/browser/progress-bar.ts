// The package's ProgressBar: the handler of handlers/progress-bar.ts, plus the page's displays (`element`,
// `container`) and a default display for where it runs. handlers/ never touches the DOM; this entry supplies the sink.
import {
  ProgressBar as ProgressBarHandler,
  type ProgressBarOptions as ProgressBarHandlerOptions,
  type WritableLike,
} from '../handlers/progress-bar';
import { DomProgressSink } from './progress-dom';

/** Options of {@link ProgressBar}. Give at most one of `stream`, `element`/`container`, `sink`. */
export interface ProgressBarOptions extends ProgressBarHandlerOptions {
  /** An existing `<progress>` element to update (browser). */
  element?: HTMLProgressElement;
  /** With `element`: where the text (counts, rate, ETA, metrics) goes; default a `<span>` added after it. */
  textElement?: HTMLElement;
  /** A parent element to append a `<progress>` and a text `<span>` to (browser; default `document.body`). */
  container?: HTMLElement;
}

/**
 * Shows training progress: in Node one updating terminal line (on `process.stderr` by default), in the browser a
 * `<progress>` element with a text line. It shows the epoch, the iteration out of the epoch length, the rate, the ETA,
 * and chosen metrics or output values. Redraws are throttled (`minInterval`, 100 ms by default) and only read back
 * a scalar tensor output when it is time to redraw. Draw anywhere else with `sink`.
 *
 * @example
 * new ProgressBar().attach(trainer, { outputTransform: (loss) => ({ loss }), metricNames: ['accuracy'] });
 * // Epoch [2/5]: [64/128]  50%|██████████          , loss=0.123, accuracy=0.91 [00:06<00:06, 9.87it/s]
 * new ProgressBar({ container: document.querySelector('#status') }).attach(trainer);
 */
export class ProgressBar extends ProgressBarHandler {
  /** @param options - where and how to draw, see {@link ProgressBarOptions}. */
  constructor(options: ProgressBarOptions = {}) {
    super(withDisplay(options));
  }
}

/**
 * The handler's options for `options`: the page's elements become a {@link DomProgressSink}; with no display given,
 * `process.stderr` where there is one (Node), else `document.body`.
 */
function withDisplay(options: ProgressBarOptions): ProgressBarHandlerOptions {
  if (options === null || typeof options !== 'object') return options; // the handler says what is wrong
  const { element, textElement, container, ...rest } = options;
  const given = [rest.stream, element ?? container, rest.sink].filter((x) => x !== undefined).length;
  if (given > 1 || (element !== undefined && container !== undefined)) {
    throw new TypeError('ProgressBar: give at most one of the options stream, element, container and sink.');
  }
  if (element !== undefined) return { ...rest, sink: new DomProgressSink({ element, textElement }) };
  if (container !== undefined) return { ...rest, sink: new DomProgressSink({ container }) };
  if (given === 1) return rest;
  const stderr = (globalThis as { process?: { stderr?: WritableLike } }).process?.stderr;
  if (stderr && typeof stderr.write === 'function') return { ...rest, stream: stderr };
  if (typeof document !== 'undefined' && document.body) {
    return { ...rest, sink: new DomProgressSink({ container: document.body }) };
  }
  return rest; // the handler says there is no place to draw
}
