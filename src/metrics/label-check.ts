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

/** The largest finite float32: "no bad finite value" in the device stats. */
const FLOAT32_MAX = 3.4028234663852886e38;

interface Subject {
  /** On-device [bad count, smallest bad finite value, -(largest bad finite value)], or null. */
  device: tf.Tensor | null;
  count: number;
  min: number;
  max: number;
  /** The rules this subject was checked against since the last reset (usually one). */
  rules: Map<string, LabelRule>;
}

/**
 * Checks labels on the device without reading them back in `update` (internal, not exported from kindling).
 *
 * Each `add` folds one batch into three numbers per subject kept on the device: how many values broke the rule, and
 * the smallest and largest finite ones among them. `verify()` reads them back with one `await data()` (at
 * `compute()` or `stateDict()`) and throws a RangeError that names the metric, a bad value and the expected range.
 * So a training step never waits for the check; the error comes when results are read back.
 *
 * @example
 * const labels = new LabelCheck('Accuracy');
 * tf.tidy(() => labels.add('y', y, classIndexRule(3, 'fix the labels')));   // in update
 * await labels.verify();                                                     // in compute
 */
export class LabelCheck {
  readonly #owner: string;
  readonly #subjects = new Map<string, Subject>();
  #generation = 0;
  #reads: Promise<unknown> = Promise.resolve();

  /** @param owner the metric's name, used in error messages. */
  constructor(owner: string) {
    this.#owner = owner;
  }

  /**
   * Folds this batch's check of `values` (any shape and dtype) against `rule` into the subject's device stats.
   * No readback. Call inside `tf.tidy`; `values` is not kept.
   */
  add(subject: string, values: tf.Tensor, rule: LabelRule): void {
    let entry = this.#subjects.get(subject);
    if (entry === undefined) {
      entry = { device: null, count: 0, min: FLOAT32_MAX, max: -FLOAT32_MAX, rules: new Map() };
      this.#subjects.set(subject, entry);
    }
    entry.rules.set(rule.expected, rule);
    if (values.size === 0) return;
    const previous = entry.device;
    const next = tf.tidy(() => {
      const x = values.dtype === 'float32' ? tf.reshape(values, [-1]) : tf.cast(tf.reshape(values, [-1]), 'float32');
      // For 0/1 values x·(1 − x) is 0 only at 0 and 1; class indices equal their rounded value clamped to
      // [0, bound − 1]. Non-finite values are tested apart (GPU shaders may compare NaN like a number).
      const finite = tf.isFinite(x);
      const isWrong =
        rule.bound === 2
          ? tf.notEqual(tf.mul(x, tf.sub(1, x)), 0)
          : tf.notEqual(x, tf.minimum(tf.maximum(tf.round(x), 0), rule.bound - 1));
      const badFinite = tf.logicalAnd(isWrong, finite);
      // A finite float32 sentinel instead of ±Infinity: every backend stores it as it is. The fills have x's shape:
      // tf.where would broadcast a scalar with a tile, which WebGPU runs on the CPU with a synchronous read.
      const stats = tf.stack([
        tf.sum(tf.cast(tf.logicalOr(badFinite, tf.logicalNot(finite)), 'float32')),
        tf.min(tf.where(badFinite, x, tf.fill(x.shape, FLOAT32_MAX))),
        tf.neg(tf.max(tf.where(badFinite, x, tf.fill(x.shape, -FLOAT32_MAX)))),
      ]);
      if (previous === null) return stats;
      const isCount = tf.tensor1d([1, 0, 0], 'bool');
      return tf.where(isCount, tf.add(previous, stats), tf.minimum(previous, stats));
    });
    entry.device = tf.keep(next);
    previous?.dispose();
  }

  /** Reads the device stats back (one `await data()` for all subjects) into the host counts. */
  async #read(): Promise<void> {
    const pending = [...this.#subjects.values()].filter((entry) => entry.device !== null);
    if (pending.length > 0) {
      const tensors = pending.map((entry) => entry.device as tf.Tensor);
      for (const entry of pending) entry.device = null;
      const generation = this.#generation;
      const previous = this.#reads;
      this.#reads = (async () => {
        const flat = tensors.length === 1 ? tensors[0]! : tf.concat(tensors);
        try {
          const data = await flat.data();
          await previous.catch(() => undefined);
          if (generation !== this.#generation) return;
          pending.forEach((entry, i) => {
            entry.count += data[3 * i]!;
            entry.min = Math.min(entry.min, data[3 * i + 1]!);
            entry.max = Math.max(entry.max, -data[3 * i + 2]!);
          });
        } finally {
          if (flat !== tensors[0]) flat.dispose();
          for (const tensor of tensors) tensor.dispose();
        }
      })();
    }
    await this.#reads;
  }

  /**
   * Reads the checks back and throws a RangeError naming the metric, the subject, a bad value and the expected
   * range if any value broke its rule since the last reset.
   */
  async verify(): Promise<void> {
    await this.#read();
    for (const [subject, entry] of this.#subjects) {
      if (entry.count === 0) continue;
      const rules = [...entry.rules.values()];
      const count = entry.count;
      let got: string;
      if (entry.min >= FLOAT32_MAX) got = 'NaN or ±Infinity';
      else if (entry.min === entry.max) got = showFloat32(entry.min);
      else got = `values from ${showFloat32(entry.min)} to ${showFloat32(entry.max)}`;
      throw new RangeError(
        labelErrorMessage(
          this.#owner,
          subject,
          rules.map((rule) => rule.expected).join(' or '),
          got,
          count,
          rules[0]!.fix,
        ),
      );
    }
  }

  /** Disposes the device stats and forgets every subject; a read in flight is discarded. */
  reset(): void {
    this.#generation += 1;
    for (const entry of this.#subjects.values()) entry.device?.dispose();
    this.#subjects.clear();
  }
}

/**
 * The message of a label check that failed: names the metric, what was checked, a bad value and the expected range,
 * and says that the check is read at compute() time.
 */
export function labelErrorMessage(
  owner: string,
  subject: string,
  expected: string,
  got: string,
  count: number,
  fix: string,
): string {
  return (
    `${owner}: ${subject} should hold ${expected}, got ${got} (${count} bad value${count === 1 ? '' : 's'} since the ` +
    'last reset; labels are checked on the device and read when compute() reads results back, so no step waits ' +
    `for the check). ${fix}`
  );
}

/** A float32 value read back from a tensor as a short decimal (0.2, not 0.20000000298023224). */
export function showFloat32(value: number): string {
  return Number.isFinite(value) && Math.fround(value) === value ? String(Number(value.toPrecision(7))) : String(value);
}
