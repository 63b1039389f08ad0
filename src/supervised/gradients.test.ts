import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Events } from '../engine';
import { watchGradients } from './gradients';
import { createSupervisedTrainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar;

function model(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 4, activation: 'tanh', name: 'hidden' }),
      tf.layers.dense({ units: 1, name: 'out' }),
    ],
  });
  const values = m.getWeights().map((w, j) =>
    tf.tensor(
      Float32Array.from({ length: w.size }, (_, i) => Math.sin(i + 3 * j) / 2),
      w.shape,
    ),
  );
  m.setWeights(values);
  tf.dispose(values);
  return m;
}

function batches(): [tf.Tensor, tf.Tensor][] {
  return [0, 1, 2, 3].map((k) => [
    tf.tensor2d(
      Array.from({ length: 6 }, (_, i) => Math.cos(i + k)),
      [2, 3],
    ),
    tf.tensor2d([k / 4, -k / 3], [2, 1]),
  ]);
}

describe('watchGradients', () => {
  it("publishes each step's gradients by weight name, equal to tf.variableGrads, without changing training", async () => {
    const data = batches();
    // the same training, unwatched
    const plain = model();
    const plainTrainer = createSupervisedTrainer(plain, tf.train.sgd(0.1), lossFn);
    await plainTrainer.run(data, { maxEpochs: 1 });

    const watchedModel = model();
    const trainer = createSupervisedTrainer(watchedModel, tf.train.sgd(0.1), lossFn);
    const watch = watchGradients(watchedModel);
    expect(watch.latest).toBeNull();
    const expected: tf.NamedTensorMap[] = [];
    const computing = trainer.on(Events.ITERATION_STARTED, (e) => {
      // what the step is about to compute, from the same weights and batch
      const [x, y] = e.state.batch as [tf.Tensor, tf.Tensor];
      const { grads, value } = tf.variableGrads(() =>
        lossFn(watchedModel.apply(x, { training: true }) as tf.Tensor, y),
      );
      value.dispose();
      expected.push(grads);
    });
    const seen: string[][] = [];
    const checking = trainer.on(Events.ITERATION_COMPLETED, async () => {
      const latest = watch.latest!;
      seen.push(Object.keys(latest));
      const want = expected.at(-1)!;
      const byOriginal = new Map(
        watchedModel.trainableWeights.map((w) => [w.originalName, (w.read() as tf.Variable).name]),
      );
      for (const [name, grad] of Object.entries(latest)) {
        expect(await grad.data()).toEqual(await want[byOriginal.get(name)!]!.data());
      }
    });
    const before = tf.memory().numTensors;
    await trainer.run(data, { maxEpochs: 1 });
    expect(seen).toEqual(Array(4).fill(['hidden/kernel', 'hidden/bias', 'out/kernel', 'out/bias']));
    expect(watch.latest).toBeNull(); // released at the end of the run
    for (const grads of expected) tf.dispose(Object.values(grads));
    expect(tf.memory().numTensors).toBe(before);
    // the weights are those of the unwatched run, bit for bit
    const a = await Promise.all(plain.getWeights().map((w) => w.data()));
    const b = await Promise.all(watchedModel.getWeights().map((w) => w.data()));
    expect(b).toEqual(a);

    // removing the last watch disposes what it held, and the trainer stops keeping gradients
    checking.remove();
    computing.remove();
    const second = watchGradients(watchedModel);
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      if (e.state.iteration === 2) {
        second.remove();
        watch.remove();
      }
    });
    const held = tf.memory().numTensors;
    await trainer.run(data, { maxEpochs: 1 });
    expect(second.latest).toBeNull();
    expect(tf.memory().numTensors).toBe(held);
    tf.dispose(data.flat());
    plain.dispose();
    watchedModel.dispose();
  });

  it('publishes each iteration with gradient accumulation too', async () => {
    const data = batches();
    const m = model();
    const trainer = createSupervisedTrainer(m, tf.train.adam(0.01), lossFn, { gradientAccumulationSteps: 2 });
    using watch = watchGradients(m);
    const norms: tf.Tensor[] = [];
    trainer.on(Events.ITERATION_COMPLETED, () => norms.push(tf.norm(watch.latest!['out/bias']!)));
    await trainer.run(data, { maxEpochs: 1 });
    expect(norms).toHaveLength(4);
    expect(new Set(await Promise.all(norms.map(async (n) => (await n.data())[0]))).size).toBe(4);
    tf.dispose([...norms, ...data.flat()]);
    m.dispose();
  });

  it('rejects what is not a model', () => {
    expect(() => watchGradients(3 as never)).toThrow(
      'watchGradients: argument model should be a tf.LayersModel or a function (x) => yPred, got 3.',
    );
  });
});
