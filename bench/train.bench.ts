/**
 * Training throughput on the digits data: the same MLP, data, optimizer and batch size three ways, in one process.
 *
 *   (a) createSupervisedTrainer with Loss, Accuracy and RunningAverage attached and a ProgressBar (null stream)
 *   (b) a hand-written `optimizer.minimize` loop that reads nothing back
 *   (c) `model.fit`
 *
 * Each mode warms up first, then the modes run in interleaved rounds; the median of the rounds is reported, as steps
 * per wall-clock second and per CPU-second of this process (steadier on a shared machine).
 * Targets: (a)/(b) >= 0.97 (the engine, metrics and progress bar cost almost nothing), (a)/(c) >= 1.2.
 *
 * Run: `npm run bench:train` (options: `--epochs N`, `--rounds N`, `--batch N`, `--hidden N`, `--backend cpu`).
 */
import * as tf from '@tensorflow/tfjs';
import { ProgressBar } from '../src/browser';
import { Events } from '../src/engine';
import { Accuracy, Loss, RunningAverage } from '../src/metrics';
import { createSupervisedTrainer } from '../src/supervised';
import { loadDigits } from '../src/supervised/digits.test-util';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i].replace(/^--/, ''), process.argv[i + 1]);
const EPOCHS = Number(args.get('epochs') ?? 2);
const ROUNDS = Number(args.get('rounds') ?? 9);
const BATCH = Number(args.get('batch') ?? 64);
const HIDDEN = Number(args.get('hidden') ?? 128);
const BACKEND = args.get('backend') ?? 'cpu';

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;
const nullStream = { write: (_chunk: string) => true, columns: 120 };

interface Mode {
  name: string;
  /** Runs `epochs` epochs over the batches; resolves when the device work is done. */
  run(epochs: number): Promise<void>;
}

async function main(): Promise<void> {
  await tf.setBackend(BACKEND);
  await tf.ready();
  const digits = loadDigits();
  const nBatches = Math.floor(digits.n / BATCH);
  const n = nBatches * BATCH; // whole batches only, so every mode does the same steps
  const xAll = tf.tensor2d(digits.pixels.subarray(0, n * 64), [n, 64]);
  const labels = tf.tensor1d(digits.labels.subarray(0, n), 'int32');
  const yAll = tf.oneHot(labels, 10).toFloat() as tf.Tensor2D;
  labels.dispose();
  const batches: [tf.Tensor, tf.Tensor][] = Array.from({ length: nBatches }, (_, b) => [
    xAll.slice([b * BATCH, 0], [BATCH, 64]),
    yAll.slice([b * BATCH, 0], [BATCH, 10]),
  ]);

  const template = makeModel();
  const fresh = () => {
    const model = makeModel();
    model.setWeights(template.getWeights());
    return model;
  };
  const sync = async (model: tf.LayersModel) => {
    await model.getWeights()[0].data();
  };

  // (a) the trainer with metrics and a progress bar
  const modelA = fresh();
  const trainer = createSupervisedTrainer(modelA, tf.train.adam(1e-3), lossFn, {
    outputTransform: (_x, y, yPred, loss) => ({ loss, yPred, y }),
  });
  const toPair = (o: { yPred: tf.Tensor; y: tf.Tensor }): [tf.Tensor, tf.Tensor] => [o.yPred, o.y];
  new Loss(lossFn, { outputTransform: toPair }).attach(trainer, 'loss');
  new Accuracy({ outputTransform: toPair }).attach(trainer, 'accuracy');
  new RunningAverage({ outputTransform: (o: { loss: tf.Scalar }) => o.loss }).attach(trainer, 'runningLoss');
  new ProgressBar({ stream: nullStream }).attach(trainer, { metricNames: ['runningLoss'] });
  let trainerSteps = 0;
  trainer.on(Events.ITERATION_COMPLETED, () => {
    trainerSteps += 1;
  });

  // (a0) the trainer alone, for reference: what the engine and the trainer cost without metrics
  const modelA0 = fresh();
  const bareTrainer = createSupervisedTrainer(modelA0, tf.train.adam(1e-3), lossFn);

  // (b) the hand-written loop
  const modelB = fresh();
  const optimizerB = tf.train.adam(1e-3);
  const variablesB = modelB.trainableWeights.map((w) => w.read() as tf.Variable);

  // (c) model.fit
  const modelC = fresh();
  modelC.compile({ optimizer: tf.train.adam(1e-3), loss: lossFn });

  const modes: Mode[] = [
    {
      name: '(a) createSupervisedTrainer + Loss + Accuracy + RunningAverage + ProgressBar',
      async run(epochs) {
        await trainer.run(batches, { maxEpochs: epochs });
        await sync(modelA);
      },
    },
    {
      name: '(a0) createSupervisedTrainer alone',
      async run(epochs) {
        await bareTrainer.run(batches, { maxEpochs: epochs });
        await sync(modelA0);
      },
    },
    {
      name: '(b) hand-written optimizer.minimize loop',
      async run(epochs) {
        for (let e = 0; e < epochs; e++) {
          for (const [x, y] of batches) {
            optimizerB.minimize(() => lossFn(modelB.apply(x, { training: true }) as tf.Tensor, y), false, variablesB);
          }
        }
        await sync(modelB);
      },
    },
    {
      name: '(c) model.fit',
      async run(epochs) {
        await modelC.fit(xAll, yAll, { batchSize: BATCH, epochs, shuffle: false, verbose: 0 });
        await sync(modelC);
      },
    },
  ];

  console.log(
    `digits MLP 64-${HIDDEN}-10, Adam, batch ${BATCH}, ${nBatches} steps/epoch, ${EPOCHS} epochs x ${ROUNDS} rounds, ` +
      `backend ${tf.getBackend()}`,
  );
  for (const mode of modes) await mode.run(1); // warm-up: kernels, Adam's slots
  const before = tf.memory().numTensors;
  // Wall-clock steps/s, and steps per CPU-second (user + system time of this process): the CPU backend runs on the
  // main thread, so CPU time is what a step costs even when other processes share the cores and stretch wall time.
  const wall = new Map<string, number[]>(modes.map((m) => [m.name, []]));
  const cpu = new Map<string, number[]>(modes.map((m) => [m.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of modes) {
      const start = performance.now();
      const startCpu = process.cpuUsage();
      await mode.run(EPOCHS);
      const used = process.cpuUsage(startCpu);
      const seconds = (performance.now() - start) / 1000;
      wall.get(mode.name)!.push((EPOCHS * nBatches) / seconds);
      cpu.get(mode.name)!.push((EPOCHS * nBatches) / ((used.user + used.system) / 1e6));
    }
  }
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  const rows = modes.map((m) => ({ name: m.name, wall: median(wall.get(m.name)!), cpu: median(cpu.get(m.name)!) }));
  console.log(`${'mode'.padEnd(80)} ${'steps/s'.padStart(9)} ${'steps/cpu-s'.padStart(12)}`);
  for (const row of rows) {
    console.log(`${row.name.padEnd(80)} ${row.wall.toFixed(1).padStart(9)} ${row.cpu.toFixed(1).padStart(12)}`);
  }
  const [a, a0, b, c] = rows;
  const ratio = (x: number, y: number) => (x / y).toFixed(3);
  console.log(`(a)/(b)  = ${ratio(a.wall, b.wall)} wall, ${ratio(a.cpu, b.cpu)} cpu  (target >= 0.97)`);
  console.log(`(a0)/(b) = ${ratio(a0.wall, b.wall)} wall, ${ratio(a0.cpu, b.cpu)} cpu  (the engine and trainer alone)`);
  console.log(`(a)/(c)  = ${ratio(a.wall, c.wall)} wall, ${ratio(a.cpu, c.cpu)} cpu  (target >= 1.2)`);
  console.log(
    `trainer steps: ${trainerSteps}; tensors after the timed rounds: ${tf.memory().numTensors - before} more than before`,
  );
  tf.dispose([xAll, yAll, ...batches.flat()]);
}

function makeModel(): tf.LayersModel {
  return tf.sequential({
    layers: [tf.layers.dense({ inputShape: [64], units: HIDDEN, activation: 'relu' }), tf.layers.dense({ units: 10 })],
  });
}

await main();
