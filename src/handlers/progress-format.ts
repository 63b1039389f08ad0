// Formatting of progress displays, shared by the terminal and DOM sinks of ProgressBar.
import { failType } from '../internal';

/** What a progress display shows at one redraw. */
export interface ProgressInfo {
  /** `'Epoch [2/5]'`, `'Iteration'` or the user's `desc`. */
  desc: string;
  /** Events done in the current bar (iterations of this epoch for an iteration bar). */
  n: number;
  /** Events in a full bar, or null when unknown. */
  total: number | null;
  /** Seconds since the bar's first event. */
  elapsed: number;
  /** Events per second since the bar's first event, or null before there is a measure. */
  rate: number | null;
  /** Estimated seconds left, or null when unknown. */
  eta: number | null;
  /** `[name, formatted value]` pairs: chosen metrics and transformed output. */
  postfix: Array<[string, string]>;
}

/** Where a {@link ProgressBar} draws: a terminal stream, a DOM element, or anything else. */
export interface ProgressSink {
  /** Redraws the bar. */
  update(info: ProgressInfo): void;
  /** Ends the bar (closing event); `persist` asks to leave the final state visible. */
  close(info: ProgressInfo, persist: boolean): void;
  /** Shows a message without breaking the bar (optional). */
  message?(text: string): void;
}

/** Like Python's `'{:.3g}'` (as tqdm prints postfix numbers), unless the plain form is shorter. */
export function formatNumber(value: number): string {
  const plain = String(value);
  if (Number.isInteger(value) || !Number.isFinite(value)) return plain;
  const short = value
    .toPrecision(3)
    .replace(/(\.\d*?)0+(?=e|$)/, '$1')
    .replace(/\.(?=e|$)/, '');
  return short.length < plain.length ? short : plain;
}

/** `mm:ss`, or `h:mm:ss` from one hour. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${mm}:${ss}` : `${mm}:${ss}`;
}

const PARTIAL_BLOCKS = ' ▏▎▍▌▋▊▉';

/**
 * Renders a progress line like tqdm's: `desc: [n/total] pct%|bar|, name=value [elapsed<eta, rate]`.
 *
 * @example
 * formatProgressLine({ desc: 'Epoch [1/2]', n: 5, total: 10, elapsed: 2, rate: 2, eta: 2.5, postfix: [['loss', '0.5']] }, 10);
 * // 'Epoch [1/2]: [5/10]  50%|█████     |, loss=0.5 [00:02<00:02, 2.00it/s]'
 */
export function formatProgressLine(info: ProgressInfo, barWidth = 20): string {
  checkInfo('formatProgressLine', info);
  const { desc, n, total, elapsed, rate, eta, postfix } = info;
  const extras = postfix.map(([name, value]) => `, ${name}=${value}`).join('');
  const rateText = formatRate(rate);
  if (total === null) {
    return `${desc}: [${n}/?]${extras} [${formatDuration(elapsed)}, ${rateText}]`;
  }
  const fraction = total > 0 ? Math.min(n / total, 1) : 1;
  const percent = String(Math.floor(fraction * 100)).padStart(3, ' ');
  const eighths = Math.floor(fraction * barWidth * 8);
  const full = Math.floor(eighths / 8);
  let bar = '█'.repeat(full);
  if (full < barWidth) bar += PARTIAL_BLOCKS[eighths % 8] + ' '.repeat(barWidth - full - 1);
  const remaining = eta === null ? '?' : formatDuration(eta);
  return `${desc}: [${n}/${total}] ${percent}%|${bar}|${extras} [${formatDuration(elapsed)}<${remaining}, ${rateText}]`;
}

/**
 * Renders the bar's text without the bar itself, for displays that draw the bar (a `<progress>` element).
 *
 * @example
 * formatProgressText({ desc: 'Epoch [1/2]', n: 5, total: 10, elapsed: 2, rate: 2, eta: 2.5, postfix: [] });
 * // 'Epoch [1/2]: [5/10] 50% [00:02<00:02, 2.00it/s]'
 */
export function formatProgressText(info: ProgressInfo): string {
  checkInfo('formatProgressText', info);
  const { desc, n, total, elapsed, rate, eta, postfix } = info;
  const extras = postfix.map(([name, value]) => `, ${name}=${value}`).join('');
  const percent = total === null ? '' : ` ${total > 0 ? Math.floor(Math.min(n / total, 1) * 100) : 100}%`;
  const timing =
    total === null ? formatDuration(elapsed) : `${formatDuration(elapsed)}<${eta === null ? '?' : formatDuration(eta)}`;
  return `${desc}: [${n}/${total ?? '?'}]${percent}${extras} [${timing}, ${formatRate(rate)}]`;
}

/** Throws unless `info` has the parts every display reads (a sink given something else would print garbage). */
function checkInfo(where: string, info: unknown): void {
  const i = info as Partial<ProgressInfo> | null;
  if (
    i === null ||
    typeof i !== 'object' ||
    typeof i.desc !== 'string' ||
    typeof i.n !== 'number' ||
    !(i.total === null || typeof i.total === 'number') ||
    typeof i.elapsed !== 'number' ||
    !Array.isArray(i.postfix)
  ) {
    failType(
      where,
      'argument info',
      'a ProgressInfo { desc, n, total, elapsed, rate, eta, postfix }',
      info,
      'Pass what ProgressBar hands its sink.',
    );
  }
}

function formatRate(rate: number | null): string {
  if (rate === null) return '?it/s';
  return rate >= 1 || rate === 0 ? `${rate.toFixed(2)}it/s` : `${(1 / rate).toFixed(2)}s/it`;
}
