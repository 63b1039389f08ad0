// How Checkpoint names its files: Ignite's filename patterns and placeholders, score formatting, and the global step
// read from another engine.
import { Engine, type EventLike, eventName } from '../../engine';
import { failType } from '../../internal';

/** Maps `(engine, eventName)` to the global step written in file names (Ignite's `global_step_transform`). */
export type GlobalStepTransform = (engine: Engine<any, any>, eventName: string | null) => number;

export const PLACEHOLDERS = ['filename_prefix', 'name', 'global_step', 'score_name', 'score', 'ext'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];

/** Splits a filename pattern into literal text and placeholders; throws a RangeError for unknown or broken ones. */
export function parsePattern(pattern: string): (string | { key: Placeholder })[] {
  const parts: (string | { key: Placeholder })[] = [];
  let text = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if ((char === '{' || char === '}') && pattern[i + 1] === char) {
      text += char;
      i++;
    } else if (char === '{') {
      const close = pattern.indexOf('}', i);
      const key = close < 0 ? '' : pattern.slice(i + 1, close);
      if (!(PLACEHOLDERS as readonly string[]).includes(key)) {
        throw new RangeError(
          `Checkpoint: option filenamePattern has an unknown placeholder ${close < 0 ? 'or an unclosed {' : `{${key}}`} in '${pattern}'; use ${PLACEHOLDERS.map((p) => `{${p}}`).join(', ')} (and {{ or }} for a literal brace).`,
        );
      }
      if (text !== '') parts.push(text);
      text = '';
      parts.push({ key: key as Placeholder });
      i = close;
    } else if (char === '}') {
      throw new RangeError(
        `Checkpoint: option filenamePattern has a lone '}' in '${pattern}'; write }} for a literal brace.`,
      );
    } else {
      text += char;
    }
  }
  if (text !== '') parts.push(text);
  return parts;
}

/** Formats a priority as Ignite does: integers as they are, other numbers with 4 decimals (ties to even, like Python). */
export function formatScore(value: number): string {
  if (typeof value !== 'number') failType('formatScore', 'argument value', 'a number', value);
  if (Number.isInteger(value)) return String(value);
  if (value === Number.POSITIVE_INFINITY) return 'inf';
  if (value === Number.NEGATIVE_INFINITY) return '-inf';
  if (Number.isNaN(value)) return 'nan';
  // A double lies exactly halfway between two 4-decimal numbers only if it is an odd multiple of 1/32.
  const thirtySeconds = value * 32;
  if (Number.isInteger(thirtySeconds) && thirtySeconds % 2 !== 0 && Math.abs(value) < 2 ** 40) {
    let units = Math.floor(Math.abs(thirtySeconds) * 312.5);
    if (units % 2 !== 0) units += 1;
    const digits = String(units).padStart(5, '0');
    return `${value < 0 ? '-' : ''}${digits.slice(0, -4)}.${digits.slice(-4)}`;
  }
  return value.toFixed(4);
}

/** Checks a filename pattern against what the Checkpoint can fill in: a score, a score name, a global step. */
export function checkFilenamePattern(
  pattern: string,
  checkpoint: { scoreFunction: unknown; scoreName: unknown; globalStepTransform: unknown },
): string {
  const used = new Set(parsePattern(pattern).flatMap((part) => (typeof part === 'string' ? [] : [part.key])));
  const hasScore = checkpoint.scoreFunction !== null;
  if (used.has('score') && !hasScore) {
    throw new RangeError(
      `Checkpoint: option filenamePattern uses {score} but there is no score; pass scoreFunction or scoreName.`,
    );
  }
  if (used.has('score_name') && checkpoint.scoreName === null) {
    throw new RangeError(
      `Checkpoint: option filenamePattern uses {score_name} but scoreName is not set; pass scoreName.`,
    );
  }
  if (used.has('global_step') && hasScore && checkpoint.globalStepTransform === null) {
    throw new RangeError(
      'Checkpoint: option filenamePattern uses {global_step} but checkpoints ranked by score have no global step; pass globalStepTransform, e.g. globalStepFromEngine(trainer).',
    );
  }
  return pattern;
}

/**
 * A `globalStepTransform` that reads another engine's progress: its epoch for epoch events (STARTED, EPOCH_*,
 * COMPLETED) and its iteration for iteration events (ITERATION_*, GET_BATCH_*). The event is the one that triggered the
 * save, unless `event` is given. Typical use: name the evaluator's best-model checkpoints after the trainer's epoch.
 *
 * @param engine the engine whose counter to read (usually the trainer).
 * @param event read the counter of this event instead of the triggering one, e.g. `Events.ITERATION_COMPLETED`.
 * @example
 * evaluator.on(Events.COMPLETED, new Checkpoint({ model }, saver, {
 *   scoreName: 'accuracy', globalStepTransform: globalStepFromEngine(trainer),
 * }));
 */
export function globalStepFromEngine(engine: Engine<any, any>, event?: EventLike): GlobalStepTransform {
  if (!(engine instanceof Engine)) failType('globalStepFromEngine', 'argument engine', 'an Engine', engine);
  const fixed = event === undefined ? null : eventName(event);
  return (_engine, triggering) => {
    const name = fixed ?? triggering;
    if (name === null) {
      throw new RangeError(
        'globalStepFromEngine: no event to read a counter for; pass one as the second argument (e.g. Events.EPOCH_COMPLETED reads state.epoch).',
      );
    }
    try {
      return engine.getEventAttribValue(name);
    } catch (cause) {
      throw new RangeError(
        `globalStepFromEngine: cannot tell which counter of the engine goes with event '${name}'; pass an event as the second argument (e.g. Events.EPOCH_COMPLETED reads state.epoch), map one with registerEvents(events, { eventToAttr }), or write the transform yourself: () => engine.state.myCounter.`,
        { cause },
      );
    }
  };
}
