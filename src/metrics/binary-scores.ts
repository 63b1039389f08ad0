// The base of the binary epoch metrics (RocAuc, RocCurve, AveragePrecision, PrecisionRecallCurve) and the
// sort-based curve they share, computed on the host after one readback. Internal, not exported from kindling.
import type * as tf from '@tensorflow/tfjs';
import type { Engine } from '../engine';
import { checkStateDict } from '../internal';
import { OutputStore, type OutputsState } from './epoch-outputs';
import { type PredictionPair, toPair } from './inputs';
import { labelErrorMessage, showFloat32 } from './label-check';
import { Metric, NotComputableError } from './metric';
import { markLoaded, planLoad } from './metric-state';

/** The state dict of the binary epoch metrics: every stored score and label (null before the first update). */
export interface BinaryScoresStateDict {
  outputs: OutputsState | null;
}

/** The scores split by label, each sorted ascending. */
export interface Split {
  positives: Float32Array;
  negatives: Float32Array;
}

/** Checks finite scores and 0/1 labels (naming the metric), then splits the scores by label and sorts them. */
export function splitByLabel(owner: string, scores: Float32Array, labels: Float32Array): Split {
  let numPositives = 0;
  let badLabels = 0;
  let badExample = Number.NaN;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label === 1) numPositives += 1;
    else if (label !== 0) {
      if (badLabels === 0) badExample = label;
      badLabels += 1;
    }
  }
  if (badLabels > 0) {
    throw new RangeError(
      labelErrorMessage(
        owner,
        'y',
        '0 or 1 (binary targets)',
        `${showFloat32(badExample)} (${badLabels} bad label${badLabels === 1 ? '' : 's'})`,
        'Binary targets are 0/1 labels (1: the positive class).',
      ),
    );
  }
  const positives = new Float32Array(numPositives);
  const negatives = new Float32Array(labels.length - numPositives);
  let p = 0;
  let n = 0;
  for (let i = 0; i < scores.length; i++) {
    const score = scores[i]!;
    if (!Number.isFinite(score)) {
      throw new RangeError(
        `${owner}: yPred should hold finite scores, got ${showFloat32(score)} at sample ${i} since the last reset ` +
          '(checked when compute() reads results back). Look for a diverged model or a bad outputTransform.',
      );
    }
    if (labels[i] === 1) positives[p++] = score;
    else negatives[n++] = score;
  }
  positives.sort();
  negatives.sort();
  return { positives, negatives };
}

/**
 * Walks the distinct scores from the highest down, like scikit-learn's `_binary_clf_curve`: `visit(threshold, tp, fp)`
 * gets each distinct score with the numbers of positives and negatives scored at or above it. Tied scores form one
 * step. O(n) over the two sorted arrays.
 */
export function walkThresholds(split: Split, visit: (threshold: number, tp: number, fp: number) => void): void {
  const { positives: pos, negatives: neg } = split;
  let i = pos.length - 1;
  let j = neg.length - 1;
  let tp = 0;
  let fp = 0;
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? neg[j]! : j < 0 ? pos[i]! : Math.max(pos[i]!, neg[j]!);
    while (i >= 0 && pos[i] === v) {
      tp += 1;
      i -= 1;
    }
    while (j >= 0 && neg[j] === v) {
      fp += 1;
      j -= 1;
    }
    visit(v, tp, fp);
  }
}

/** The distinct thresholds (descending) with cumulative true and false positives at or above each. */
export function binaryCurve(split: Split): { thresholds: number[]; tps: number[]; fps: number[] } {
  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  walkThresholds(split, (threshold, tp, fp) => {
    thresholds.push(threshold);
    tps.push(tp);
    fps.push(fp);
  });
  return { thresholds, tps, fps };
}

/** Throws NotComputableError naming the metric unless both classes are present. */
export function needBothClasses(owner: string, split: Split, what: string): void {
  const p = split.positives.length;
  const n = split.negatives.length;
  if (p === 0 || n === 0) {
    throw new NotComputableError(
      `${owner}: only one class is present in y since the last reset (${p} positive and ${n} negative samples); ` +
        `${what} is not defined then. Evaluate on data that holds both classes.`,
    );
  }
}

/**
 * Base of the binary epoch metrics: keeps every score and label of the epoch (4 bytes each for both: on the device
 * until `compute()`/`stateDict()` reads them back once, then on the host) and computes once from all of them.
 * Inputs: `yPred` scores, probabilities or logits of shape (N) or (N, 1); `y` 0/1 labels of shape (N) or (N, 1).
 */
export abstract class BinaryScoresMetric<Out> extends Metric<PredictionPair, Out> {
  readonly #store: OutputStore;

  constructor(options: { outputTransform?: (output: any) => PredictionPair } = {}) {
    super(options);
    this.#store = new OutputStore(this.metricName);
  }

  /** From the sorted scores of each class (both classes checked by the subclass as it needs). */
  protected abstract computeFromSplit(split: Split): Out;

  /** Frees every stored score and label. */
  reset(): void {
    this.#store.reset();
  }

  /** Keeps this batch's scores and labels on the device (no readback); checks the shapes. */
  update(output: PredictionPair): void {
    const [yPred, y] = toPair(output, this.metricName);
    const n = yPred.shape[0];
    const isColumn = (t: tf.Tensor) => t.rank === 1 || (t.rank === 2 && t.shape[1] === 1);
    if (!isColumn(yPred) || !isColumn(y) || y.shape[0] !== n) {
      throw new RangeError(
        `${this.metricName}: expects binary input, yPred scores and y 0/1 labels of shape (N) or (N, 1), got yPred ` +
          `[${yPred.shape}] and y [${y.shape}]. For two-class probabilities (N, 2), pick the positive column in ` +
          'outputTransform: ([p, y]) => [p.slice([0, 1], [-1, 1]), y].',
      );
    }
    this.#store.append(yPred, y, [], []);
  }

  /**
   * Reads every stored score back once (one `await data()`), checks finite scores and 0/1 labels, and computes;
   * throws NotComputableError before any update.
   */
  async compute(): Promise<Out> {
    if (this.#store.rows === 0) {
      throw new NotComputableError(`${this.metricName} must have at least one example before it can be computed.`);
    }
    const outputs = await this.#store.read();
    return this.computeFromSplit(splitByLabel(this.metricName, outputs.yPred, outputs.y));
  }

  /** Writes the value under `name` only (a curve's fields are not spread into `engine.state.metrics`). */
  override async completed(engine: Engine<any, any>, name: string): Promise<void> {
    engine.state.metrics[name] = await this.compute();
  }

  /** Every stored score and label as plain data (reads pending ones back first, once). */
  override async stateDict(): Promise<BinaryScoresStateDict> {
    return { outputs: await this.#store.capture() };
  }

  /** Restores the stored scores and labels; checks all of it first (finite numbers, one score and label a row). */
  override loadStateDict(stateDict: BinaryScoresStateDict): void {
    this[planLoad](stateDict)();
  }

  /** Checks a state dict and returns the function that loads it (see `loadStateDict`). */
  [planLoad](stateDict: unknown): () => void {
    const where = `${this.metricName}.loadStateDict`;
    const sd = checkStateDict(where, stateDict, ['outputs']);
    const apply = this.#store.planRestore(where, 'outputs', sd.outputs, (row) => row.length === 0);
    return () => {
      apply();
      markLoaded(this);
    };
  }
}
