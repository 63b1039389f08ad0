import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, manualSeed, TensorDataset } from '../data';
import { Events } from '../engine';
import { CosineAnnealingScheduler, EarlyStopping } from '../handlers';
import { Accuracy, Loss } from '../metrics';
import { loadDigits, splitDigits } from './digits.test-util';
import { createSupervisedEvaluator } from './evaluator';
import { createSupervisedTrainer } from './trainer';

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;

const tensors: tf.Tensor[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterAll(() => {
  tf.dispose(tensors);
});

function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [64], units: 64, activation: 'relu', kernelInitializer: 'heNormal' }),
      tf.layers.dense({ units: 10, kernelInitializer: 'glorotUniform' }),
    ],
  });
}

interface Outcome {
  history: number[];
  loss: number;
  leaked: number;
}

/** Trains the MLP on the training split, evaluating the held-out split after each epoch. */
async function train(parts: ReturnType<typeof splitDigits>, seed: number): Promise<Outcome> {
  manualSeed(seed);
  const toTensors = (part: typeof parts.train) => {
    const x = tf.tensor2d(part.pixels, [part.n, 64]);
    const labels = tf.tensor1d(part.labels, 'int32');
    const y = tf.oneHot(labels, 10).toFloat();
    labels.dispose();
    return [x, y];
  };
  const [xTrain, yTrain] = toTensors(parts.train);
  const [xTest, yTest] = toTensors(parts.test);
  tensors.push(xTrain, yTrain, xTest, yTest);
  const trainLoader = new DataLoader(new TensorDataset(xTrain, yTrain), { batchSize: 32, shuffle: true });
  const testLoader = new DataLoader(new TensorDataset(xTest, yTest), { batchSize: 128 });

  const model = mlp();
  const optimizer = tf.train.adam(0.01);
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) } });
  const maxEpochs = 15;
  new CosineAnnealingScheduler(optimizer, {
    startValue: 0.01,
    endValue: 0.0005,
    cycleSize: maxEpochs * trainLoader.length,
  }).attach(trainer);
  const history: number[] = [];
  trainer.on(Events.EPOCH_COMPLETED, async () => {
    await evaluator.run(testLoader);
    history.push(evaluator.state.metrics.accuracy);
  });
  evaluator.on(
    Events.COMPLETED,
    new EarlyStopping({ patience: 4, scoreFunction: (e) => -e.state.metrics.loss, trainer }),
  );
  const before = tf.memory().numTensors;
  await trainer.run(trainLoader, { maxEpochs });
  // Adam's two slots per weight are created on the first update; nothing else may remain
  const leaked = tf.memory().numTensors - before - 2 * model.trainableWeights.length;
  model.dispose();
  return { history, loss: evaluator.state.metrics.loss, leaked };
}

describe('the digits end to end: trainer, evaluator, metrics, early stopping, a learning-rate schedule', () => {
  it('reaches at least 95% held-out accuracy, reproducibly, without leaking', async () => {
    const parts = splitDigits(loadDigits(), 2024, 0.2);
    expect(parts.test.n).toBe(359);
    const first = await train(parts, 7);
    expect(first.history.length).toBeGreaterThanOrEqual(3);
    expect(first.history.at(-1)).toBeGreaterThanOrEqual(0.95);
    expect(first.loss).toBeLessThan(0.2);
    expect(first.leaked).toBe(0);
    // a deterministic trainer with the same seed repeats the run exactly
    const second = await train(parts, 7);
    expect(second.history).toEqual(first.history);
  }, 30_000);
});
