/**
 * Data pipeline figures (Node, tfjs CPU backend). Run: `npm run bench:data`.
 *
 * 1. Resuming a DeterministicEngine at iteration 1,000,000 of a shuffled DataLoader over 10,000,000 indices:
 *    time to the first batch and how many items were loaded (one batch's worth is the target), against an
 *    estimate of the naive resume that loads and discards every skipped batch.
 * 2. Batches per second of a DataLoader over a TensorDataset against the same batches built by hand with tf.gather.
 */
import * as tf from '@tensorflow/tfjs';
import {
  createGenerator,
  DataLoader,
  DeterministicEngine,
  getRandomState,
  manualSeed,
  TensorDataset,
} from '../src/data';

const fmt = (x: number, digits = 1) => x.toLocaleString('en-US', { maximumFractionDigits: digits });

async function resumeBench() {
  const N = 10_000_000;
  const BATCH = 32;
  const RESUME_AT = 1_000_000;
  let loaded = 0;
  const source = {
    length: N,
    get: (i: number) => {
      loaded++;
      return i;
    },
  };
  const loader = new DataLoader(source, { batchSize: BATCH, shuffle: true });
  const passLength = loader.length;

  // the permutation alone
  let t = performance.now();
  createGenerator(1, 0).permutation(N);
  const permutationMs = performance.now() - t;

  manualSeed(0);
  let firstBatch: number[] | null = null;
  let firstBatchMs = 0;
  const engine = new DeterministicEngine<number[], void>((e, batch) => {
    if (firstBatch === null) {
      firstBatch = batch;
      firstBatchMs = performance.now() - t;
    }
    e.terminate();
  });
  engine.loadStateDict({
    iteration: RESUME_AT,
    epochLength: passLength,
    maxEpochs: Math.ceil((RESUME_AT + 10) / passLength),
    seed: 1234,
    rngStates: getRandomState(),
  });
  loaded = 0;
  t = performance.now();
  await engine.run(loader);
  const loadedItems = loaded;

  // the naive resume: load and discard every skipped batch. Time a sample on another pass (not cached) and
  // extrapolate; the lazily shuffled order is paid batch by batch either way.
  const SAMPLE = 20_000;
  const skipped = RESUME_AT % passLength;
  const it = loader.iterate({ seed: 1234, pass: 0 })[Symbol.iterator]();
  t = performance.now();
  for (let k = 0; k < SAMPLE; k++) it.next();
  const naiveMs = ((performance.now() - t) / SAMPLE) * skipped;
  it.return?.();

  console.log(`\n1) resume at iteration ${fmt(RESUME_AT)} of a shuffled DataLoader over ${fmt(N)} indices`);
  console.log(
    `   batchSize ${BATCH}: ${fmt(passLength)} batches per pass, so pass ${Math.floor(RESUME_AT / passLength)}, batch ${fmt(skipped)}`,
  );
  console.log(
    `   full permutation of ${fmt(N)} indices (Fisher-Yates, Int32Array), for reference: ${fmt(permutationMs)} ms`,
  );
  console.log(`   time to first batch (engine.run → process function): ${fmt(firstBatchMs)} ms`);
  console.log(
    `   items loaded to get there: ${fmt(loadedItems)} (one batch = ${BATCH}) ${loadedItems === BATCH ? 'OK' : 'UNEXPECTED'}`,
  );
  console.log(
    `   naive resume (load and discard ${fmt(skipped)} batches = ${fmt(skipped * BATCH)} items), extrapolated from ${fmt(SAMPLE)} batches: ${fmt(naiveMs / 1000, 2)} s`,
  );
  console.log(`   ratio naive / index arithmetic: ${fmt(naiveMs / firstBatchMs, 0)}x`);
}

async function gatherBench() {
  const N = 20_000;
  const FEATURES = 64;
  const BATCH = 128;
  const PASSES = 8;
  const x = tf.randomNormal([N, FEATURES]);
  const y = tf.randomUniform([N], 0, 10, 'int32');
  const ds = new TensorDataset(x, y);

  async function loaderPasses(shuffle: boolean) {
    const loader = new DataLoader(ds, { batchSize: BATCH, shuffle });
    loader.seed = 7;
    let batches = 0;
    const t = performance.now();
    for (let p = 0; p < PASSES; p++) {
      for (const [xb] of loader) {
        batches++;
        if (batches % 50 === 0) await xb.data(); // make sure the work is done
      }
    }
    return { batches, ms: performance.now() - t };
  }

  async function handPasses(shuffle: boolean) {
    let batches = 0;
    const t = performance.now();
    for (let p = 0; p < PASSES; p++) {
      const order = shuffle ? createGenerator(7, p).permutation(N) : Int32Array.from({ length: N }, (_, i) => i);
      for (let start = 0; start < N; start += BATCH) {
        const idx = tf.tensor1d(order.slice(start, Math.min(N, start + BATCH)), 'int32');
        const xb = tf.gather(x, idx);
        const yb = tf.gather(y, idx);
        batches++;
        if (batches % 50 === 0) await xb.data();
        tf.dispose([idx, xb, yb]);
      }
    }
    return { batches, ms: performance.now() - t };
  }

  // warm up
  await loaderPasses(true);
  await handPasses(true);
  const before = tf.memory().numTensors;
  console.log(
    `\n2) batches/s, TensorDataset [${N}, ${FEATURES}] + labels, batchSize ${BATCH}, ${PASSES} passes, CPU backend`,
  );
  for (const shuffle of [true, false]) {
    // alternate the two, three rounds each, and keep each one's best (the machine may be shared)
    let loaderRate = 0;
    let handRate = 0;
    for (let round = 0; round < 3; round++) {
      const a = await loaderPasses(shuffle);
      const b = await handPasses(shuffle);
      loaderRate = Math.max(loaderRate, (a.batches / a.ms) * 1000);
      handRate = Math.max(handRate, (b.batches / b.ms) * 1000);
    }
    console.log(
      `   ${shuffle ? 'shuffled ' : 'in order '}: DataLoader ${fmt(loaderRate, 0)} batches/s, by hand with tf.gather ${fmt(handRate, 0)} batches/s, ratio ${fmt(loaderRate / handRate, 2)}`,
    );
  }
  console.log(`   tensors left behind by the loader: ${tf.memory().numTensors - before}`);
  ds.dispose();
}

async function main() {
  await tf.setBackend('cpu');
  console.log(`kindling data bench: node ${process.version}, tfjs ${tf.version.tfjs}, backend ${tf.getBackend()}`);
  await resumeBench();
  await gatherBench();
}

await main();
