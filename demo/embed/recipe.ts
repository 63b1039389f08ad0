// The embedding example's training, run on the page (trainHere) or in train.worker.ts (serveTraining): a small
// classifier of Fisher's iris data, an evaluator each epoch, and IndexedDB checkpoints of all of it (the page's charts
// included) every 5 iterations, from which a reloaded page resumes at the exact iteration.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  describeBackend,
  Events,
  IndexedDBSaver,
  manualSeed,
  type Stateful,
  selectBackend,
  setupResumableTraining,
  TensorDataset,
} from 'kindling';

export async function irisRecipe(
  { store, epochs }: { store: string; epochs: number },
  shared: Record<string, Stateful>,
) {
  const backend = describeBackend(await selectBackend()); // WebGPU, else WebGL, else CPU
  manualSeed(0);
  const data = await loadIris();
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }), tf.layers.dense({ units: 3 })],
  });
  const optimizer = tf.train.adam(0.05);
  const lossFn = (logits: tf.Tensor, labels: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(labels as tf.Tensor1D, 3), logits) as tf.Scalar;
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  const accuracy = new Accuracy();
  const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy } });
  trainer.on(Events.EPOCH_COMPLETED, () => evaluator.run(new DataLoader(data, { batchSize: 150 })));
  const saver = new IndexedDBSaver(store);
  const training = await setupResumableTraining(trainer, {
    saver,
    toSave: { model, optimizer, ...shared },
    saveEveryIters: 5,
  });
  return {
    trainer,
    engines: { evaluator },
    report: { ...training.report, backend },
    run: () => training.run(new DataLoader(data, { batchSize: 16, shuffle: true }), { maxEpochs: epochs }),
    actions: { numTensors: () => tf.memory().numTensors },
    dispose: async () => {
      training.remove();
      tf.dispose([...data.tensors]);
      model.dispose();
      optimizer.dispose();
      accuracy.reset(); // frees its on-device count
      await saver.close();
    },
  };
}

/** iris.csv (a header, then 4 features and the class per row), features standardised. */
async function loadIris(): Promise<TensorDataset> {
  const rows = (await (await fetch('/data/iris.csv')).text())
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number));
  const x = tf.tidy(() => {
    const raw = tf.tensor2d(rows.map((r) => r.slice(0, 4)));
    const { mean, variance } = tf.moments(raw, 0);
    return raw.sub(mean).div(variance.sqrt()) as tf.Tensor2D;
  });
  return new TensorDataset(
    x,
    tf.tensor1d(
      rows.map((r) => r[4]!),
      'int32',
    ),
  );
}
