// The smallest useful kindling app: load data, build a model, attach metrics, run. Uses only the public API.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  describeBackend,
  EventLoopYielder,
  Events,
  manualSeed,
  selectBackend,
  TensorDataset,
} from 'kindling';

const out = document.querySelector<HTMLPreElement>('#out')!;
const print = (line: string) => {
  out.textContent += `${line}\n`;
};

/** iris.csv: a header line, then 4 features and the class index per row. */
async function loadIris(): Promise<{ x: tf.Tensor2D; y: tf.Tensor1D }> {
  const text = await (await fetch('/data/iris.csv')).text();
  const rows = text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map(Number));
  const x = tf.tensor2d(rows.map((r) => r.slice(0, 4)));
  const y = tf.tensor1d(
    rows.map((r) => r[4]!),
    'int32',
  );
  return { x, y };
}

async function train(): Promise<{ accuracy: number }> {
  const selection = await selectBackend();
  document.querySelector('#backend')!.textContent = describeBackend(selection);
  manualSeed(0);
  const { x, y } = await loadIris();
  // Standardised features; tidy frees the moments and the intermediate difference.
  const xn = tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    return x.sub(mean).div(variance.sqrt()) as tf.Tensor2D;
  });
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [4], units: 16, activation: 'relu' }), tf.layers.dense({ units: 3 })],
  });
  const lossFn = (logits: tf.Tensor, labels: tf.Tensor) =>
    tf.losses.softmaxCrossEntropy(tf.oneHot(labels as tf.Tensor1D, 3), logits) as tf.Scalar;
  const data = new TensorDataset(xn, y);
  const optimizer = tf.train.adam(0.05); // disposed below with the model: Adam keeps two slot tensors per weight
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  const accuracyMetric = new Accuracy();
  const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: accuracyMetric } });
  trainer.on(Events.ITERATION_COMPLETED, new EventLoopYielder());
  trainer.on(Events.EPOCH_COMPLETED, async (engine) => {
    await evaluator.run(new DataLoader(data, { batchSize: 150 }));
    const accuracy = evaluator.state.metrics.accuracy as number;
    print(`epoch ${engine.state.epoch}: accuracy ${accuracy.toFixed(3)}`);
  });
  try {
    await trainer.run(new DataLoader(data, { batchSize: 16, shuffle: true }), { maxEpochs: 10 });
    return { accuracy: evaluator.state.metrics.accuracy as number };
  } finally {
    tf.dispose([x, y, xn]);
    model.dispose();
    optimizer.dispose();
    accuracyMetric.reset(); // frees its on-device count
  }
}

const button = document.querySelector<HTMLButtonElement>('#train')!;
button.onclick = async () => {
  button.disabled = true;
  out.textContent = '';
  try {
    const result = await train();
    print(`done: accuracy ${result.accuracy.toFixed(3)}`);
    // numTensors: the same after every click (nothing leaks, the optimizer's slots included).
    (window as unknown as { embedResult: unknown }).embedResult = { ...result, numTensors: tf.memory().numTensors };
  } catch (error) {
    print(`failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    button.disabled = false;
  }
};
