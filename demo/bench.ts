// Steps per second of the demo's training three ways, on one backend per page load (`?backend=cpu|webgl|webgpu`):
// kindling (the demo's TrainingSession: metrics, charts, checkpoints each epoch), a hand-written optimizer.minimize
// loop, and model.fit. Same model (the demo's MLP), data, batch size and epochs. Also the longest main-thread task.
import * as tf from '@tensorflow/tfjs';
import { type BackendName, describeBackend, manualSeed, selectBackend } from 'kindling';
import { TrainingCharts } from './charts';
import { loadDigits, NUM_CLASSES, NUM_PIXELS, splitDigits, take } from './data';
import { buildModel, lossFn } from './model';
import { DEFAULT_CONFIG, type RunConfig, type SessionEvent } from './protocol';
import { TrainingSession } from './session';

interface Row {
  name: string;
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  longestTaskMs: number;
  longTasks: number;
}

const params = new URLSearchParams(location.search);
const epochs = Number(params.get('epochs') ?? 3);
const out = document.querySelector('#out')!;

/** Runs `fn` while a PerformanceObserver records long tasks (> 50 ms) on this thread. */
async function measure(name: string, steps: () => number, fn: () => Promise<void>): Promise<Row> {
  const durations: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) durations.push(entry.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  observer.disconnect();
  const n = steps();
  const row = {
    name,
    steps: n,
    seconds,
    stepsPerSecond: n / seconds,
    longestTaskMs: durations.length ? Math.max(...durations) : 0,
    longTasks: durations.length,
  };
  out.textContent += `${JSON.stringify(row)}\n`;
  return row;
}

async function data() {
  const digits = await loadDigits();
  const { pixels, labels } = take(digits, splitDigits(digits).train);
  return { pixels, labels, n: labels.length };
}

async function viaKindling(): Promise<Row> {
  const charts = new TrainingCharts(document.querySelector('#loss-chart')!, document.querySelector('#val-chart')!);
  let steps = 0;
  const session = new TrainingSession((event: SessionEvent) => {
    if (event.type === 'iteration') steps = event.iteration;
    if (event.type === 'chart') charts.draw(event.frame);
    if (event.type === 'error') throw new Error(event.message);
  });
  const config: RunConfig = { ...DEFAULT_CONFIG, epochs, checkpointEvery: 1_000_000, dbName: 'kindling-bench' };
  await session.ensureBackend(null);
  await session.reset(config.dbName);
  await session.start(config, null, null); // warm-up: compiles kernels, fills caches
  await session.reset(config.dbName);
  return measure(
    'kindling (metrics, charts, checkpoint each epoch)',
    () => steps,
    () => session.start(config, null, null),
  );
}

async function viaLoop(): Promise<Row> {
  const { pixels, labels, n } = await data();
  manualSeed(0);
  const model = buildModel('mlp');
  const optimizer = tf.train.adam(DEFAULT_CONFIG.learningRate);
  const x = tf.tensor2d(pixels, [n, NUM_PIXELS]);
  const y = tf.tensor1d(labels, 'int32');
  const batch = DEFAULT_CONFIG.batchSize;
  let steps = 0;
  const run = async (epochCount: number) => {
    for (let e = 0; e < epochCount; e++) {
      const order = tf.util.createShuffledIndices(n);
      for (let start = 0; start < n; start += batch) {
        const idx = tf.tensor1d(Int32Array.from(order.subarray(start, Math.min(n, start + batch))), 'int32');
        const loss = optimizer.minimize(() => {
          const xb = tf.gather(x, idx);
          const yb = tf.gather(y, idx);
          return lossFn(model.apply(xb, { training: true }) as tf.Tensor, yb);
        }, true)!;
        await loss.data(); // read the loss each step, as the demo does for its chart
        tf.dispose([loss, idx]);
        steps++;
      }
    }
  };
  await run(1);
  steps = 0;
  const row = await measure(
    'hand-written optimizer.minimize loop',
    () => steps,
    () => run(epochs),
  );
  tf.dispose([x, y]);
  model.dispose();
  optimizer.dispose();
  return row;
}

async function viaFit(): Promise<Row> {
  const { pixels, labels, n } = await data();
  manualSeed(0);
  const model = buildModel('mlp');
  model.compile({
    optimizer: tf.train.adam(DEFAULT_CONFIG.learningRate),
    loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred),
  });
  const x = tf.tensor2d(pixels, [n, NUM_PIXELS]);
  const y = tf.oneHot(tf.tensor1d(labels, 'int32'), NUM_CLASSES);
  const stepsPerEpoch = Math.ceil(n / DEFAULT_CONFIG.batchSize);
  await model.fit(x, y, { batchSize: DEFAULT_CONFIG.batchSize, epochs: 1, verbose: 0 });
  const row = await measure(
    'model.fit',
    () => stepsPerEpoch * epochs,
    async () => {
      await model.fit(x, y, { batchSize: DEFAULT_CONFIG.batchSize, epochs, shuffle: true, verbose: 0 });
    },
  );
  tf.dispose([x, y]);
  model.dispose();
  return row;
}

async function runBench() {
  const prefer = (params.get('backend') ?? 'webgpu') as BackendName;
  const selection = await selectBackend({ prefer });
  document.querySelector('#backend-badge')!.textContent = describeBackend(selection);
  const rows = [await viaKindling(), await viaLoop(), await viaFit()];
  return { backend: selection, epochs, rows, userAgent: navigator.userAgent };
}

(window as unknown as { benchResult: Promise<unknown> }).benchResult = runBench();
