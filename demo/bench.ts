// Steps per second of the demo's training three ways, on one backend per page load (`?backend=cpu|webgl|webgpu`):
// kindling (the demo's TrainingSession: metrics, charts, checkpoints each epoch), a hand-written optimizer.minimize
// loop, and model.fit. Same model (the demo's MLP), data, batch size and epochs. Also the longest main-thread task.
// `?ways=kindling,fit` runs only some of them; `?rounds=N` (default 3) measures each way N times, the ways taking
// turns, and reports the median: on a small shared machine one measurement can be off by half.
import * as tf from '@tensorflow/tfjs';
import { type BackendName, describeBackend, manualSeed, selectBackend } from 'kindling';
import { loadDigits, NUM_CLASSES, NUM_PIXELS, splitDigits, take } from './data';
import { buildModel, lossFn } from './model';
import { DEFAULT_CONFIG, type RunConfig, type SessionEvent } from './protocol';
import { TrainingSession } from './session';

interface Measurement {
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  /** Durations of the main-thread tasks longer than 50 ms. */
  longTasks: number[];
}

interface Row {
  name: string;
  /** The median round's figures. */
  steps: number;
  seconds: number;
  stepsPerSecond: number;
  /** Steps per second of every round, in order. */
  rounds: number[];
  /** The longest main-thread task over all rounds, and how many tasks took longer than 50 ms in all. */
  longestTaskMs: number;
  longTasks: number;
}

/** A way of training, warmed up: `once()` trains `epochs` epochs; `steps()` says how many steps it took. */
interface Way {
  name: string;
  /** Untimed work before each `once()`. */
  prepare?(): Promise<void>;
  once(): Promise<void>;
  steps(): number;
  dispose(): void;
}

const params = new URLSearchParams(location.search);
const epochs = Number(params.get('epochs') ?? 3);
const rounds = Number(params.get('rounds') ?? 3);
const out = document.querySelector('#out')!;

/** Runs `way.once()` while a PerformanceObserver records long tasks (> 50 ms) on this thread. */
async function measure(way: Way, backend: string): Promise<Measurement> {
  await way.prepare?.();
  const longTasks: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(entry.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  const t0 = performance.now();
  await way.once();
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 50)); // let the observer deliver
  observer.disconnect();
  const steps = way.steps();
  out.textContent += `${way.name}: ${(steps / seconds).toFixed(1)} steps/s on ${tf.getBackend()}\n`;
  if (tf.getBackend() !== backend) {
    // tfjs has one global backend: a way that switches it would measure every later way on the wrong one.
    throw new Error(`bench: '${way.name}' ran on the ${tf.getBackend()} backend, but this page measures ${backend}.`);
  }
  return { steps, seconds, stepsPerSecond: steps / seconds, longTasks };
}

function summarize(name: string, measurements: Measurement[]): Row {
  const sorted = [...measurements].sort((a, b) => a.stepsPerSecond - b.stepsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const longTasks = measurements.flatMap((m) => m.longTasks);
  return {
    name,
    steps: median.steps,
    seconds: median.seconds,
    stepsPerSecond: median.stepsPerSecond,
    rounds: measurements.map((m) => m.stepsPerSecond),
    longestTaskMs: longTasks.length ? Math.max(...longTasks) : 0,
    longTasks: longTasks.length,
  };
}

async function data() {
  const digits = await loadDigits();
  const { pixels, labels } = take(digits, splitDigits(digits).train);
  return { pixels, labels, n: labels.length };
}

async function viaKindling(backend: BackendName): Promise<Way> {
  let steps = 0;
  const session = new TrainingSession(document.querySelector<HTMLElement>('#charts')!, false, (event: SessionEvent) => {
    if (event.type === 'iteration') steps = event.iteration;
    if (event.type === 'error') throw new Error(event.message);
  });
  const config: RunConfig = { ...DEFAULT_CONFIG, epochs, checkpointEvery: 1_000_000, dbName: 'kindling-bench' };
  await session.reset(config.dbName);
  await session.start(config, backend, null); // warm-up: compiles kernels, fills caches
  return {
    name: 'kindling (metrics, charts, checkpoint each epoch)',
    prepare: () => session.reset(config.dbName), // a fresh run each round
    once: () => session.start(config, backend, null),
    steps: () => steps,
    dispose: () => void session.reset(config.dbName),
  };
}

async function viaLoop(): Promise<Way> {
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
      let loss: tf.Scalar | null = null;
      for (let start = 0; start < n; start += batch) {
        const idx = tf.tensor1d(Int32Array.from(order.subarray(start, Math.min(n, start + batch))), 'int32');
        loss?.dispose();
        loss = optimizer.minimize(() => {
          const xb = tf.gather(x, idx);
          const yb = tf.gather(y, idx);
          return lossFn(model.apply(xb, { training: true }) as tf.Tensor, yb);
        }, true)!;
        idx.dispose();
        steps++;
      }
      // Nothing is read back during the epoch; one read at its end waits for the device, so the time is fair.
      await loss?.data();
      loss?.dispose();
    }
  };
  await run(1);
  return {
    name: 'hand-written optimizer.minimize loop',
    once: async () => {
      steps = 0;
      await run(epochs);
    },
    steps: () => steps,
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
    },
  };
}

async function viaFit(): Promise<Way> {
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
  return {
    name: 'model.fit',
    once: async () => {
      await model.fit(x, y, { batchSize: DEFAULT_CONFIG.batchSize, epochs, shuffle: true, verbose: 0 });
    },
    steps: () => stepsPerEpoch * epochs,
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
    },
  };
}

async function runBench() {
  const prefer = (params.get('backend') ?? 'webgpu') as BackendName;
  const selection = await selectBackend({ prefer });
  document.querySelector('#backend-badge')!.textContent = describeBackend(selection);
  const makers = { kindling: viaKindling, loop: viaLoop, fit: viaFit };
  const chosen = (params.get('ways') ?? 'kindling,loop,fit').split(',') as Array<keyof typeof makers>;
  const ways: Way[] = [];
  for (const name of chosen) ways.push(await makers[name](selection.backend));
  const measurements = ways.map(() => [] as Measurement[]);
  for (let round = 0; round < rounds; round++) {
    for (const [i, way] of ways.entries()) {
      measurements[i]!.push(await measure(way, selection.backend));
    }
  }
  for (const way of ways) way.dispose();
  const rows = ways.map((way, i) => summarize(way.name, measurements[i]!));
  return { backend: selection, epochs, rounds, rows, userAgent: navigator.userAgent };
}

(window as unknown as { benchResult: Promise<unknown> }).benchResult = runBench();
