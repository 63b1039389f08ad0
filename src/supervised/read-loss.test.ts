import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Events } from '../engine';
import { createSupervisedEvaluator } from './evaluator';
import { readLoss } from './read-loss';
import { createSupervisedTrainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar;

function setup() {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
  const x = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const y = tf.tensor2d([[1], [2]]);
  return {
    model,
    batches: [[x, y]] as [tf.Tensor, tf.Tensor][],
    dispose: () => tf.dispose([x, y, ...model.weights.map((w) => w.read())]),
  };
}

describe('readLoss', () => {
  it('reads the loss of each step as a number, the value of state.output, and leaks nothing', async () => {
    const { model, batches, dispose } = setup();
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.01), lossFn);
    const before = tf.memory().numTensors;
    const read: number[] = [];
    const direct: number[] = [];
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      read.push(await readLoss(engine));
      direct.push((await engine.state.output!.data())[0]!);
    });
    let atEpochEnd = Number.NaN;
    trainer.on(Events.EPOCH_COMPLETED, async (engine) => {
      atEpochEnd = await readLoss(engine);
    });
    await trainer.run(batches, { maxEpochs: 3 });
    expect(read).toHaveLength(3);
    expect(read).toEqual(direct);
    expect(read[2]).toBeLessThan(read[0]!);
    expect(atEpochEnd).toBe(read[2]);
    expect(tf.memory().numTensors).toBe(before);
    dispose();
  });

  it('says when there is no loss to read: before the first step and after the run', async () => {
    const { model, batches, dispose } = setup();
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.01), lossFn);
    await expect(readLoss(trainer)).rejects.toThrow(
      /^readLoss: engine\.state\.output is null, so there is no loss to read\. .*call readLoss in an ITERATION_COMPLETED or EPOCH_COMPLETED handler/,
    );
    let atStart: unknown = null;
    trainer.on(Events.EPOCH_STARTED, (engine) => {
      atStart = readLoss(engine).catch((error: Error) => error.message);
    });
    await trainer.run(batches);
    expect(await atStart).toMatch(/^readLoss: engine\.state\.output is null/);
    await expect(readLoss(trainer)).rejects.toThrow(/^readLoss: engine\.state\.output is null/);
    dispose();
  });

  it('refuses an output that is not the loss, and a disposed one, saying what to do', async () => {
    const { model, batches, dispose } = setup();
    const evaluator = createSupervisedEvaluator(model);
    let message = '';
    evaluator.on(Events.ITERATION_COMPLETED, async (engine) => {
      message = await readLoss(engine as never).then(String, (error: Error) => `${error.name}: ${error.message}`);
    });
    await evaluator.run(batches);
    expect(message).toMatch(
      /^TypeError: readLoss: engine\.state\.output should be the loss as a tf\.Scalar, got \[.*\]\. With an outputTransform, read your own output/,
    );
    const gone = tf.scalar(1);
    gone.dispose();
    await expect(readLoss({ state: { output: gone } })).rejects.toThrow(
      'readLoss: engine.state.output is already disposed: the loss lives until the next step starts.',
    );
    await expect(readLoss({ state: { output: tf.zeros([2]) } })).rejects.toThrow(
      /^readLoss: engine\.state\.output should be the loss as a tf\.Scalar, got a float32 tensor of shape \[2\]/,
    );
    dispose();
  });
});
