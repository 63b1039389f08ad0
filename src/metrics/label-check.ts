import * as tf from '@tensorflow/tfjs';
import type { ClassificationBatch } from './inputs';

/** What a checked tensor may hold: integers in [0, bound). Internal to the metrics. */
export interface LabelRule {
  /** Exclusive upper bound: 2 for 0/1 values, C for class indices. */
  readonly bound: number;
  /** The rule in words for the message, e.g. `'class indices, integers in [0, 3)'` or `'0 or 1 (binary targets)'`. */
  readonly expected: string;
  /** The remedy appended to the message. */
  readonly fix: string;
}

/** 0/1 values: binary and multilabel targets, one-hot rows. */
export function zeroOneRule(what: string, fix: string): LabelRule {
  return { bound: 2, expected: `0 or 1 (${what})`, fix };
}

/** Class indices for `numClasses` classes. */
export function classIndexRule(numClasses: number, fix: string): LabelRule {
  return { bound: numClasses, expected: `class indices, integers in [0, ${numClasses})`, fix };
}

/**
 * The rule for the targets `y` of a classification batch (see `classificationBatch`): class indices in [0, C) for
 * multiclass index targets, 0/1 for one-hot, binary and multilabel targets.
 */
export function targetRule(batch: ClassificationBatch, yPred: tf.Tensor, y: tf.Tensor, extraFix = ''): LabelRule {
  if (batch.kind === 'binary') {
    return zeroOneRule('binary targets', 'Binary targets are 0/1 labels; threshold or round them in outputTransform.');
  }
  if (batch.kind === 'multilabel') {
    return zeroOneRule('multilabel targets', 'Multilabel targets are 0/1 per label.');
  }
  const isOneHot = y.rank === yPred.rank && y.shape[y.rank - 1] === batch.numClasses;
  if (isOneHot) return zeroOneRule('one-hot targets', 'One-hot targets hold a single 1 per row and 0 elsewhere.');
  return classIndexRule(
    batch.numClasses,
    `yPred has ${batch.numClasses} scores per sample (its last axis), so every label must be below ${batch.numClasses}: fix the labels or the model's number of outputs${extraFix}.`,
  );
}

/** Host values of one (subject, rule) check, folded from the device stats. */
interface Entry {
  subject: string;
  rule: LabelRule;
  /** On-device [non-finite count, min, -max, non-integer count, min(0, non-integers), -max(0, non-integers)], or null. */
  device: tf.Tensor | null;
  nonFinite: number;
  min: number;
  max: number;
  nonInteger: number;
  nonIntegerMin: number;
  nonIntegerMax: number;
}

/** Which of the six stats add up (counts) rather than take the minimum (min, -max). */
const IS_COUNT = [true, false, false, true, false, false];

/**
 * Checks labels on the device without reading them back in `update` (internal, not exported from kindling).
 *
 * Each `add` folds one batch into six numbers kept on the device, with reductions only (no comparison against the
 * bounds, which the CPU backend broadcasts slowly): the smallest and largest value, and for float values how many are
 * non-finite or non-integer and the extremes of the non-integers. int32 labels cost two reductions; bool labels none.
 * `verify()` reads them back with one `await data()` (at `compute()` or `stateDict()`) and compares them with the
 * rule: it throws a RangeError that names the metric, a bad value and the expected range. So a training step never
 * waits for the check; the error comes when results are read back.
 *
 * @example
 * const labels = new LabelCheck('Accuracy');
 * tf.tidy(() => labels.add('y', y, classIndexRule(3, 'fix the labels')));   // in update
 * await labels.verify();                                                     // in compute
 */
export class LabelCheck {
  readonly #owner: string;
  /** Keyed by subject and rule: one subject may be checked against two rules (index and one-hot targets). */
  readonly #entries = new Map<string, Entry>();
  #reads: Promise<unknown> = Promise.resolve();

  /** @param owner the metric's name, used in error messages. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /**
   * Folds this batch's stats of `values` (any shape and dtype), to be checked against `rule`, into the device stats.
   * No readback. Call inside `tf.tidy`; `values` is not kept.
   */
  add(subject: string, values: tf.Tensor, rule: LabelRule): void {
    const key = `${subject}\u0000${rule.expected}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { subject, rule, device: null, ...EMPTY };
      this.#entries.set(key, entry);
    }
    // Booleans are always 0 or 1, valid for every rule.
    if (values.size === 0 || values.dtype === 'bool') return;
    const previous = entry.device;
    const next = tf.tidy(() => {
      const x = tf.reshape(values, [-1]);
      const zero = tf.scalar(0);
      let stats: tf.Tensor;
      if (x.dtype === 'int32') {
        stats = tf.stack([
          zero,
          tf.cast(tf.min(x), 'float32'),
          tf.cast(tf.neg(tf.max(x)), 'float32'),
          zero,
          zero,
          zero,
        ]);
      } else {
        const xf = tf.cast(x, 'float32');
        // NaN and ±Infinity are counted with isFinite: GPU shaders may compare NaN like a number.
        const nonFinite = tf.sub(xf.size, tf.sum(tf.cast(tf.isFinite(xf), 'float32')));
        // round(NaN) is NaN, which equals nothing: NaN counts as a non-integer too; its product below is NaN, so the
        // extremes of the non-integers are only used when nothing is non-finite.
        const isNonInteger = tf.cast(tf.notEqual(xf, tf.round(xf)), 'float32');
        const nonIntegers = tf.mul(xf, isNonInteger);
        stats = tf.stack([
          nonFinite,
          tf.min(xf),
          tf.neg(tf.max(xf)),
          tf.sum(isNonInteger),
          tf.min(nonIntegers),
          tf.neg(tf.max(nonIntegers)),
        ]);
      }
      if (previous === null) return stats;
      return tf.where(tf.tensor1d(IS_COUNT, 'bool'), tf.add(previous, stats), tf.minimum(previous, stats));
    });
    entry.device = tf.keep(next);
    previous?.dispose();
  }

  /** Reads the device stats back (one `await data()` for all entries) into the host values. */
  async #read(): Promise<void> {
    this.#reads = this.#foldPending(this.#reads);
    await this.#reads;
  }

  /**
   * Moves the device stats into one read that folds them into the host stats of the entries they came from (after a
   * reset those are no longer this check's: nothing visible changes) once the reads before it have, then calls
   * `onFolded` synchronously. Returns that read, or `previous` when there is nothing to read and nobody to call.
   */
  #foldPending(previous: Promise<unknown>, onFolded?: () => void): Promise<unknown> {
    const pending = [...this.#entries.values()].filter((entry) => entry.device !== null);
    if (pending.length === 0 && onFolded === undefined) return previous;
    const tensors = pending.map((entry) => entry.device as tf.Tensor);
    for (const entry of pending) entry.device = null;
    return (async () => {
      const flat = tensors.length === 0 ? null : tensors.length === 1 ? tensors[0]! : tf.concat(tensors);
      try {
        const data = flat === null ? [] : await flat.data();
        await previous.catch(() => undefined);
        pending.forEach((entry, i) => {
          foldStats(entry, data, 6 * i);
        });
        onFolded?.();
      } finally {
        if (flat !== null && flat !== tensors[0]) flat.dispose();
        for (const tensor of tensors) tensor.dispose();
      }
    })();
  }

  /**
   * Reads the checks back and throws a RangeError naming the metric, the subject, a bad value and the expected
   * range if any value broke its rule since the last reset.
   */
  async verify(): Promise<void> {
    await this.#read();
    this.#throwIfBad([...this.#entries.values()]);
  }

  /**
   * Like {@link verify}, for the labels added up to this call (a metric's `stateDict()` uses it): the stats are
   * checked the moment the read started now has folded them in, before any later read, for the entries of the call
   * even if a reset comes meanwhile. Labels added and resets after the call do not change the outcome.
   */
  capture(): Promise<void> {
    const entries = [...this.#entries.values()];
    let outcome: RangeError | null = null;
    const check = () => {
      try {
        this.#throwIfBad(entries);
      } catch (error) {
        outcome = error as RangeError;
      }
    };
    const folded = this.#foldPending(this.#reads, check);
    this.#reads = folded;
    return folded.then(() => {
      if (outcome !== null) throw outcome;
    });
  }

  /** Throws the RangeError of the first entry whose stats broke its rule. */
  #throwIfBad(entries: readonly Entry[]): void {
    for (const { subject, rule, ...stats } of entries) {
      const got = badValues(stats, rule.bound);
      if (got !== null) throw new RangeError(labelErrorMessage(this.#owner, subject, rule.expected, got, rule.fix));
    }
  }

  /** Disposes the device stats and forgets every entry; a read in flight is discarded. */
  reset(): void {
    for (const entry of this.#entries.values()) entry.device?.dispose();
    this.#entries.clear();
  }
}

/** Folds six device stats (`data[offset ..]`) into `stats`: counts add up, extremes take the minimum or maximum. */
function foldStats(stats: typeof EMPTY, data: ArrayLike<number>, offset: number): void {
  const d = (k: number) => data[offset + k]!;
  stats.nonFinite += d(0);
  stats.min = Math.min(stats.min, d(1));
  stats.max = Math.max(stats.max, -d(2));
  stats.nonInteger += d(3);
  stats.nonIntegerMin = Math.min(stats.nonIntegerMin, d(4));
  stats.nonIntegerMax = Math.max(stats.nonIntegerMax, -d(5));
}

const EMPTY = {
  nonFinite: 0,
  min: Number.POSITIVE_INFINITY,
  max: Number.NEGATIVE_INFINITY,
  nonInteger: 0,
  nonIntegerMin: 0,
  nonIntegerMax: 0,
};

/** The bad values the stats show against integers in [0, bound), in words, or null when there are none. */
function badValues(stats: typeof EMPTY, bound: number): string | null {
  if (stats.nonFinite > 0) return 'NaN or ±Infinity';
  const both = (low: number | null, high: number | null) =>
    [low, high]
      .filter((v): v is number => v !== null)
      .map(showFloat32)
      .join(' and ');
  const low = stats.min < 0 ? stats.min : null;
  const high = stats.max > bound - 1 ? stats.max : null;
  if (low !== null || high !== null) return both(low, high);
  if (stats.nonInteger > 0) {
    return both(
      stats.nonIntegerMin < 0 ? stats.nonIntegerMin : null,
      stats.nonIntegerMax > 0 ? stats.nonIntegerMax : null,
    );
  }
  return null;
}

/**
 * The message of a label check that failed: names the metric, what was checked, a bad value and the expected range,
 * and says that the check is read at compute() time.
 */
export function labelErrorMessage(owner: string, subject: string, expected: string, got: string, fix: string): string {
  return (
    `${owner}: ${subject} should hold ${expected}, got ${got} since the last reset (labels are checked on the device ` +
    `and read when compute() reads results back, so no step waits for the check). ${fix}`
  );
}

/** A float32 value read back from a tensor as a short decimal (0.2, not 0.20000000298023224). */
export function showFloat32(value: number): string {
  return Number.isFinite(value) && Math.fround(value) === value ? String(Number(value.toPrecision(7))) : String(value);
}
