import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Engine, Events } from '../engine';
import { Accuracy } from '../metrics';
import { createSupervisedEvaluator } from './evaluator';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** x = [[a, b]], labels: the argmax of the first column pair; the model is fixed so predictions are known by hand. */
function fixedModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [2], units: 2, useBias: false, kernelInitializer: 'identity' })],
  });
  return model;
}

// predictions = x (identity kernel): argmax is the larger of the two columns
const X1 = [
  [1, 0],
  [0, 1],
  [2, 1],
];
const Y1 = [0, 0, 0]; // correct, wrong, correct
const X2 = [
  [0, 3],
  [5, 1],
];
const Y2 = [1, 1]; // correct, wrong

function batches(): [tf.Tensor, tf.Tensor][] {
  return [
    [tf.tensor2d(X1), tf.oneHot(tf.tensor1d(Y1, 'int32'), 2)],
    [tf.tensor2d(X2), tf.oneHot(tf.tensor1d(Y2, 'int32'), 2)],
  ];
}

/** A minimal EpochWise accuracy: counts on the device, reads back once per epoch. */
class CountingAccuracy {
  correct: tf.Scalar | null = null;
  total = 0;
  attach(engine: Engine<any, any>, name: string): void {
    engine.on(Events.EPOCH_STARTED, () => {
      this.correct?.dispose();
      this.correct = tf.scalar(0, 'int32');
      this.total = 0;
    });
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      const [yPred, y] = e.state.output!;
      const next = tf.tidy(() =>
        tf.add(this.correct!, tf.sum(tf.cast(tf.equal(tf.argMax(yPred, 1), tf.argMax(y, 1)), 'int32'))),
      );
      this.correct!.dispose();
      this.correct = next as tf.Scalar;
      this.total += y.shape[0];
    });
    engine.on(Events.EPOCH_COMPLETED, async (e) => {
      e.state.metrics[name] = (await this.correct!.data())[0] / this.total;
      this.correct!.dispose();
      this.correct = null;
    });
  }
}

describe('createSupervisedEvaluator', () => {
  it('gives [yPred, y] per batch, y a separate handle on the batch data, and computes attached metrics', async () => {
    const model = fixedModel();
    const data = batches();
    const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new CountingAccuracy() } });
    const seen: number[][][] = [];
    evaluator.on(Events.ITERATION_COMPLETED, async (engine) => {
      const [yPred, y] = engine.state.output!;
      const batchY = (engine.state.batch as tf.Tensor[])[1];
      expect(y).not.toBe(batchY);
      expect(await y.array()).toEqual(await batchY.array());
      seen.push((await yPred.array()) as number[][]);
    });
    const state = await evaluator.run(data);
    expect(seen).toEqual([X1, X2]);
    expect(state.metrics.accuracy).toBe(3 / 5);
    expect(state.output).toBeNull();
    expect(data.flat().some((t) => t.isDisposed)).toBe(false);
    tf.dispose(data.flat());
  });

  it('works with the Accuracy metric and leaks nothing', async () => {
    const model = fixedModel();
    const data = batches();
    const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new Accuracy() } });
    await evaluator.run(data);
    const before = tf.memory().numTensors;
    const state = await evaluator.run(data, { maxEpochs: 3 });
    expect(state.metrics.accuracy).toBe(3 / 5);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(data.flat());
  });

  it('runs in inference mode: dropout is off', async () => {
    const model = tf.sequential({
      layers: [tf.layers.dropout({ inputShape: [3], rate: 0.9 })],
    });
    const x = tf.ones([4, 3]);
    const y = tf.zeros([4, 3]);
    const evaluator = createSupervisedEvaluator(model);
    let prediction: number[][] = [];
    evaluator.on(Events.ITERATION_COMPLETED, async (engine) => {
      prediction = (await engine.state.output![0].array()) as number[][];
    });
    await evaluator.run([[x, y]]);
    expect(prediction).toEqual([
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
      [1, 1, 1],
    ]);
    tf.dispose([x, y]);
  });

  it('takes a function model, prepareBatch and outputTransform', async () => {
    const w = tf.tensor2d([2, -1], [2, 1]);
    const model = (x: tf.Tensor) => tf.matMul(x as tf.Tensor2D, w);
    const evaluator = createSupervisedEvaluator(model, {
      prepareBatch: (batch: { features: tf.Tensor; target: tf.Tensor }) => [batch.features, batch.target],
      outputTransform: (x, y, yPred) => ({ x, y, error: tf.sub(yPred, y) }),
    });
    const errors: number[][] = [];
    evaluator.on(Events.ITERATION_COMPLETED, async (engine) => {
      errors.push(Array.from(await engine.state.output!.error.data()));
    });
    const features = tf.tensor2d([
      [1, 1],
      [3, 2],
    ]);
    const target = tf.tensor2d([1, 5], [2, 1]);
    const before = tf.memory().numTensors;
    await evaluator.run([{ features, target }], { maxEpochs: 3 });
    expect(errors).toEqual([
      [0, -1],
      [0, -1],
      [0, -1],
    ]);
    expect(tf.memory().numTensors).toBe(before);
    expect(features.isDisposed || target.isDisposed).toBe(false);
    tf.dispose([w, features, target]);
  });

  it('leaks nothing over a multi-epoch run with a metric attached', async () => {
    const model = fixedModel();
    const data = batches();
    const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy: new CountingAccuracy() } });
    const before = tf.memory().numTensors;
    const state = await evaluator.run(data, { maxEpochs: 4 });
    expect(state.metrics.accuracy).toBe(3 / 5);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(data.flat());
  });

  it('rejects a bad model, bad metrics and bad options with TypeErrors naming them', () => {
    const model = fixedModel();
    expect(() => createSupervisedEvaluator('model' as any)).toThrow(/argument model should be a tf\.LayersModel/);
    expect(() => createSupervisedEvaluator(model, { metrics: { acc: 3 as any } })).toThrow(
      /metrics\.acc should be a Metric \(with an attach method\), got 3/,
    );
    expect(() => createSupervisedEvaluator(model, { outputTransform: {} as any })).toThrow(
      /argument outputTransform should be a function/,
    );
    expect(() => createSupervisedEvaluator(model, null as any)).toThrow(TypeError);
    expect(() => createSupervisedEvaluator(model, { metric: { acc: 3 } } as never)).toThrow(
      new TypeError(
        "createSupervisedEvaluator: unknown option 'metric'. Did you mean 'metrics'? Known options: metrics, prepareBatch, modelFn, outputTransform.",
      ),
    );
  });
});
