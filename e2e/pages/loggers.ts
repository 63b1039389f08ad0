// Test API of e2e/loggers.spec.ts: each function runs one scenario in this page and returns plain results.
// `window.loggers` holds them; `window.ready` is true once the module has loaded.
import * as tf from '@tensorflow/tfjs';
import {
  BasicTimeProfiler,
  CSVLogger,
  createSupervisedTrainer,
  Engine,
  Events,
  HandlersTimeProfiler,
  type LogStorage,
  TensorboardLogger,
  WeightsHistHandler,
} from 'kindling';

/** Trains a tiny model 6 steps on the CPU backend, logging loss, learning rate and weight histograms. */
async function trainWithLogger(logger: TensorboardLogger): Promise<number[]> {
  await tf.setBackend('cpu');
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1, name: 'dense' })] });
  const optimizer = tf.train.sgd(0.1);
  const trainer = createSupervisedTrainer(
    model,
    optimizer,
    (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar,
  );
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]);
  const y = tf.tensor2d([1, 0, 1], [3, 1]);
  const losses: tf.Scalar[] = [];
  trainer.on(Events.ITERATION_COMPLETED, (e) => {
    losses.push(tf.clone(e.state.output!));
  });
  logger.attachOutputHandler(trainer, {
    eventName: Events.ITERATION_COMPLETED,
    tag: 'training',
    outputTransform: (loss) => ({ loss }),
  });
  logger.attachOptParamsHandler(trainer, { eventName: Events.ITERATION_STARTED, optimizer });
  logger.attach(trainer, new WeightsHistHandler(model), Events.EPOCH_COMPLETED);
  await trainer.run(
    Array.from({ length: 3 }, () => [x, y]),
    { maxEpochs: 2 },
  );
  const values = await Promise.all(losses.map(async (loss) => (await loss.data())[0]!));
  tf.dispose([...losses, x, y]);
  model.dispose();
  return values;
}

/** The bytes of a file in OPFS, read directly (not through kindling). */
async function readOpfs(path: string): Promise<number[]> {
  let folder = await navigator.storage.getDirectory();
  const parts = path.split('/');
  for (const part of parts.slice(0, -1)) folder = await folder.getDirectoryHandle(part);
  const file = await (await folder.getFileHandle(parts.at(-1)!)).getFile();
  return Array.from(new Uint8Array(await file.arrayBuffer()));
}

const loggers = {
  /** Logs a run to `storage`, closes, returns the losses, where the file went, its bytes (via toBlob) and via OPFS. */
  async tensorboard(storage: LogStorage) {
    const logger = new TensorboardLogger({ logDir: 'runs/e2e', storage });
    const losses = await trainWithLogger(logger);
    await logger.close();
    const location = await logger.location();
    const bytes = Array.from(new Uint8Array(await (await logger.toBlob()).arrayBuffer()));
    const direct = location.startsWith('opfs:') ? await readOpfs(location.slice(5)) : null;
    return { losses, fileName: logger.fileName, location, bytes, direct };
  },

  /** Logs a run to OPFS and offers the file on the page's download link (clicked by the spec). */
  async offerDownload() {
    const logger = new TensorboardLogger({ logDir: 'runs/download' });
    const losses = await trainWithLogger(logger);
    await logger.close();
    const link = document.getElementById('download') as HTMLAnchorElement;
    link.href = await logger.createObjectURL();
    link.download = logger.fileName;
    return { losses, fileName: logger.fileName };
  },

  /** The same in a module Worker, where OPFS is written through a sync access handle. */
  async inWorker() {
    const worker = new Worker(new URL('./loggers-worker.ts', import.meta.url), { type: 'module' });
    const result = await new Promise<any>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => reject(new Error(event.message));
    });
    worker.terminate();
    return result;
  },

  /** A CSV table in memory, downloaded as a Blob. */
  async csv() {
    const csv = new CSVLogger();
    const engine = new Engine((_e, b: number) => b * 2);
    csv.attachOutputHandler(engine, {
      eventName: Events.ITERATION_COMPLETED,
      tag: 'train',
      outputTransform: (o) => ({ double: o }),
    });
    await engine.run([1, 2, 3], { maxEpochs: 1 });
    await csv.close();
    return { text: await (await csv.toBlob()).text(), type: (await csv.toBlob()).type };
  },

  /** Runs an engine under both profilers; returns the User Timing measures the page recorded. */
  async profile() {
    performance.clearMeasures();
    const engine = new Engine((_e, b: number) => {
      const end = performance.now() + 2;
      while (performance.now() < end);
      return b;
    });
    engine.on(Events.ITERATION_COMPLETED, function logLoss() {});
    engine.on(Events.EPOCH_COMPLETED, async function evaluate() {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const handlers = new HandlersTimeProfiler();
    handlers.attach(engine);
    const basic = new BasicTimeProfiler();
    basic.attach(engine);
    await engine.run([1, 2, 3], { maxEpochs: 2 });
    const measures = performance.getEntriesByType('measure').map((m) => ({ name: m.name, duration: m.duration }));
    return {
      measures,
      table: HandlersTimeProfiler.formatResults(handlers.getResults()),
      processing: basic.getResults().processingStats.total,
    };
  },
};

(window as any).loggers = loggers;
(window as any).ready = true;
