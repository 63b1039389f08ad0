// npm run bench:metrics — Node, tfjs CPU backend.
//
// 1. Per-update cost of every metric on one 1024 × 10 batch: microseconds per update() (the CPU backend runs the ops
//    inside update), and the compute() that follows 200 updates. The cases come from every file in
//    bench/metric-cases/ (each exports `cases: MetricBenchCase[]`): add a family by adding a file there.
// 2. RocAuc over 1,000,000 scores fed in batches of 1024, against a hand-written sort-based ROC AUC over the same
//    scores already on the host: the values must agree, and the ratio of the times is printed.
import { readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { RocAuc } from '../src/metrics';
import type { BenchBatch, MetricBenchCase } from './metric-cases/types';

const N = 1024;
const C = 10;
const UPDATES = Number(process.env.BENCH_UPDATES ?? 200);
const REPEATS = 3;
const ROC_N = Number(process.env.BENCH_ROC_N ?? 1_000_000);
const ROC_BATCH = 1024;

await tf.setBackend('cpu');
await tf.ready();

/** A seeded uniform generator (mulberry32), so every run times the same data. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeBatch(): BenchBatch {
  const random = uniform(1);
  const scores = tf.tensor2d(Float32Array.from({ length: N * C }, random), [N, C]);
  const labels = tf.tensor1d(
    Int32Array.from({ length: N }, () => Math.floor(random() * C)),
    'int32',
  );
  const multilabel = tf.tensor2d(
    Float32Array.from({ length: N * C }, () => (random() < 0.3 ? 1 : 0)),
    [N, C],
  );
  const binaryLabels = tf.tensor1d(
    Int32Array.from({ length: N }, () => (random() < 0.4 ? 1 : 0)),
    'int32',
  );
  return {
    n: N,
    c: C,
    scores,
    labels,
    oneHot: tf.oneHot(labels, C).toFloat() as tf.Tensor2D,
    multilabel,
    multilabelPred: tf.cast(tf.greater(scores, 0.5), 'int32') as tf.Tensor2D,
    binaryScores: tf.tensor1d(Float32Array.from({ length: N }, random)),
    binaryLabels,
    predictedLabels: tf.argMax(scores, -1) as tf.Tensor1D,
    targets: tf.add(scores, tf.randomNormal([N, C], 0, 0.1, 'float32', 2)) as tf.Tensor2D,
  };
}

async function loadCases(): Promise<MetricBenchCase[]> {
  const dir = new URL('./metric-cases/', import.meta.url);
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && f !== 'types.ts')
    .sort();
  const all: MetricBenchCase[] = [];
  for (const file of files)
    all.push(...((await import(new URL(file, dir).href)) as { cases: MetricBenchCase[] }).cases);
  return all;
}

/** The floor an accuracy-like update costs: argMax, equal, cast, sum, and one add to a kept accumulator. */
const handWritten: MetricBenchCase = {
  name: '(hand-written accuracy step: 5 ops)',
  make: () => {
    let sum: tf.Tensor | null = null;
    return {
      reset: () => {
        sum?.dispose();
        sum = null;
      },
      update: ([p, y]: [tf.Tensor, tf.Tensor]) => {
        const next = tf.tidy(() => {
          const correct = tf.sum(tf.cast(tf.equal(tf.argMax(p, -1), y), 'float32'));
          return sum === null ? correct : tf.add(sum, correct);
        });
        sum?.dispose();
        sum = next;
      },
      compute: async () => (await (sum as tf.Tensor).data())[0],
    } as never;
  },
  input: (b) => [b.scores, b.labels],
};

async function timeCase(batch: BenchBatch, c: MetricBenchCase): Promise<{ updateUs: number; computeMs: number }> {
  tf.engine().startScope();
  try {
    const input = c.input(batch);
    const metric = c.make();
    let best = { updateUs: Infinity, computeMs: Infinity };
    for (let r = 0; r < REPEATS + 1; r++) {
      metric.reset();
      const t0 = performance.now();
      for (let i = 0; i < UPDATES; i++) metric.update(input);
      const t1 = performance.now();
      await metric.compute();
      const t2 = performance.now();
      if (r === 0) continue; // warm-up
      best = {
        updateUs: Math.min(best.updateUs, ((t1 - t0) * 1000) / UPDATES),
        computeMs: Math.min(best.computeMs, t2 - t1),
      };
    }
    metric.reset();
    return best;
  } finally {
    tf.engine().endScope();
  }
}

/** The baseline: sort indices by score (descending), walk the distinct scores, trapezoids between them. */
function handWrittenRocAuc(scores: Float32Array, labels: Int32Array): number {
  const order = Uint32Array.from({ length: scores.length }, (_, i) => i);
  order.sort((a, b) => scores[b]! - scores[a]!);
  let positives = 0;
  for (const label of labels) positives += label;
  const negatives = labels.length - positives;
  let tp = 0;
  let fp = 0;
  let previousTp = 0;
  let previousFp = 0;
  let area = 0;
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    if (labels[i] === 1) tp += 1;
    else fp += 1;
    const next = order[k + 1];
    if (next === undefined || scores[next] !== scores[i]) {
      area += (fp - previousFp) * (tp + previousTp);
      previousTp = tp;
      previousFp = fp;
    }
  }
  return area / (2 * positives * negatives);
}

async function rocBench(): Promise<void> {
  const random = uniform(7);
  const labels = Int32Array.from({ length: ROC_N }, () => (random() < 0.3 ? 1 : 0));
  // informative scores, rounded to 1e-4 so that many are tied
  const scores = Float32Array.from(labels, (y) => Math.round((0.25 * y + 0.75 * random()) * 1e4) / 1e4);
  const batches: [tf.Tensor, tf.Tensor][] = [];
  for (let start = 0; start < ROC_N; start += ROC_BATCH) {
    const end = Math.min(ROC_N, start + ROC_BATCH);
    batches.push([tf.tensor1d(scores.subarray(start, end)), tf.tensor1d(labels.subarray(start, end), 'int32')]);
  }
  const metric = new RocAuc();
  let best = { update: Infinity, compute: Infinity, hand: Infinity };
  let values = { kindling: 0, hand: 0 };
  for (let r = 0; r < REPEATS + 1; r++) {
    metric.reset();
    const t0 = performance.now();
    for (const batch of batches) metric.update(batch);
    const t1 = performance.now();
    const kindling = await metric.compute();
    const t2 = performance.now();
    const hand = handWrittenRocAuc(scores, labels);
    const t3 = performance.now();
    values = { kindling, hand };
    if (r === 0) continue;
    best = {
      update: Math.min(best.update, t1 - t0),
      compute: Math.min(best.compute, t2 - t1),
      hand: Math.min(best.hand, t3 - t2),
    };
  }
  metric.reset();
  tf.dispose(batches.flat());
  const fmt = (ms: number) => `${ms.toFixed(1).padStart(8)} ms`;
  console.log(
    `\nRocAuc over ${ROC_N.toLocaleString('en')} scores (${batches.length} batches of ${ROC_BATCH}), best of ${REPEATS}`,
  );
  console.log(
    `  kindling RocAuc: ${batches.length} updates      ${fmt(best.update)}  (kept on the device, no readback)`,
  );
  console.log(
    `  kindling RocAuc: compute()          ${fmt(best.compute)}  (one readback, split by label, two sorts, one walk)`,
  );
  console.log(`  hand-written: index sort + walk     ${fmt(best.hand)}  (scores already on the host)`);
  console.log(`  values: kindling ${values.kindling.toFixed(12)}, hand-written ${values.hand.toFixed(12)}`);
  if (Math.abs(values.kindling - values.hand) > 1e-12) throw new Error('RocAuc and the hand-written AUC disagree');
  console.log(`  ratio compute() / hand-written        ${(best.compute / best.hand).toFixed(2)}x`);
  console.log(`  ratio (updates + compute()) / hand-written ${((best.update + best.compute) / best.hand).toFixed(2)}x`);
}

const batch = makeBatch();
const cases = [handWritten, ...(await loadCases())];
console.log(`kindling bench:metrics — tfjs ${tf.version.tfjs} ${tf.getBackend()} backend, batch ${N} × ${C}`);
console.log(`${UPDATES} updates then one compute(), best of ${REPEATS} (after a warm-up)\n`);
console.log(`${'metric'.padEnd(40)} ${'µs / update'.padStart(12)} ${'compute (ms)'.padStart(13)}`);
for (const c of cases) {
  const { updateUs, computeMs } = await timeCase(batch, c);
  console.log(`${c.name.padEnd(40)} ${updateUs.toFixed(1).padStart(12)} ${computeMs.toFixed(2).padStart(13)}`);
}
tf.dispose(Object.values(batch).filter((v): v is tf.Tensor => v instanceof tf.Tensor));
await rocBench();
