import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { MemorySaver } from '../storage';
import { createSupervisedEvaluator } from '../supervised';
import { Checkpoint } from './checkpoint';
import { EMAHandler } from './ema-handler';
import { EpochOutputStore } from './epoch-output-store';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const f = Math.fround;

/** Dense 3 → 2 then batch norm: trainable kernel, bias, gamma, beta; non-trainable moving mean and variance. */
function makeModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [3], units: 2, name: 'dense' }),
      tf.layers.batchNormalization({ name: 'bn' }),
    ],
  });
}

/** Weights for step t: values with long float32 expansions, so that every rounding shows. */
function weightsAt(model: tf.LayersModel, t: number): Float32Array[] {
  return model.weights.map((w, j) => {
    const size = w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number;
    return Float32Array.from({ length: size }, (_, i) => Math.sin(1.7 * t + 0.31 * i + j) / 3 + (j === 5 ? 1 : 0));
  });
}

function setWeights(model: tf.LayersModel, values: Float32Array[]): void {
  const tensors = values.map((v, j) => tf.tensor(v, model.weights[j]!.shape as number[]));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

/** The update by hand in float32, as tfjs computes it: round(round(ema·(1−m)) + round(w·m)). */
function emaByHand(ema: Float32Array, w: Float32Array, momentum: number): Float32Array {
  const keep = f(1 - momentum);
  const take = f(momentum);
  return ema.map((e, i) => f(f(e * keep) + f(w[i]! * take)));
}

describe('EMAHandler', () => {
  it('matches the update computed by hand in float32, with the momentum warm-up', async () => {
    const model = makeModel();
    setWeights(model, weightsAt(model, 0));
    const ema = new EMAHandler(model, { momentum: 0.25, momentumWarmup: 0.9, warmupIters: 3 });
    const engine = new Engine((_e, t: number) => setWeights(model, weightsAt(model, t)));
    const momenta: number[] = [];
    ema.attach(engine);
    expect(engine.state.emaMomentum).toBe(0.9);
    engine.on(Events.ITERATION_COMPLETED, (e) => momenta.push(e.state.emaMomentum));
    await engine.run([1, 2, 3, 4, 5], { maxEpochs: 1 });

    // warm-up 0.9 → 0.25 over 3 updates, then constant
    expect(momenta).toEqual([0.9, 0.575, 0.25, 0.25, 0.25]);
    expect(ema.step).toBe(5);
    let expected = weightsAt(model, 0);
    for (let t = 1; t <= 5; t++) {
      const w = weightsAt(model, t);
      expected = expected.map((e, j) => (j >= 4 ? w[j]! : emaByHand(e, w[j]!, momenta[t - 1]!)));
    }
    const actual = await Promise.all(ema.emaModel.weights.map((w) => w.read().data()));
    expect(ema.emaModel.weights.map((w) => w.originalName)).toEqual([
      'dense/kernel',
      'dense/bias',
      'bn/gamma',
      'bn/beta',
      'bn/moving_mean',
      'bn/moving_variance',
    ]);
    // trainable weights averaged bit for bit; the batch-norm statistics copied ('copy', the default)
    for (const [j, values] of actual.entries()) expect(values).toEqual(expected[j]);
    // the online model is untouched
    expect(await model.weights[0]!.read().data()).toEqual(weightsAt(model, 5)[0]);
    model.dispose();
    ema.dispose();
  });

  it("averages the batch-norm statistics too with handleBuffers: 'update', and starts from the model's weights", async () => {
    const model = makeModel();
    setWeights(model, weightsAt(model, 0));
    const ema = new EMAHandler(model, { momentum: 0.3, handleBuffers: 'update' });
    // a copy built from the config, starting with the model's own weights
    for (const [j, w] of ema.emaModel.weights.entries()) {
      expect(await w.read().data()).toEqual(weightsAt(model, 0)[j]);
      expect(w.read()).not.toBe(model.weights[j]!.read());
    }
    setWeights(model, weightsAt(model, 1));
    expect(ema.update()).toBe(0.3);
    const expected = weightsAt(model, 0).map((e, j) => emaByHand(e, weightsAt(model, 1)[j]!, 0.3));
    for (const [j, w] of ema.emaModel.weights.entries()) expect(await w.read().data()).toEqual(expected[j]);
    model.dispose();
    ema.dispose();
  });

  it('gives an evaluator the averaged model, and resumes exactly from a checkpoint', async () => {
    const model = makeModel();
    setWeights(model, weightsAt(model, 0));
    const ema = new EMAHandler(model, { momentum: 0.5, momentumWarmup: 0.1, warmupIters: 4 });
    const trainer = new Engine((_e, t: number) => setWeights(model, weightsAt(model, t)));
    ema.attach(trainer, 'ema', Events.ITERATION_COMPLETED({ every: 2 }));
    const saver = new MemorySaver();
    trainer.on(Events.COMPLETED, new Checkpoint({ trainer, ema }, saver));
    const before = tf.memory().numTensors;
    await trainer.run([1, 2, 3, 4, 5, 6], { maxEpochs: 1 });
    expect(tf.memory().numTensors).toBe(before); // no leak
    expect(ema.step).toBe(3);
    expect(trainer.state.ema).toBeCloseTo(0.1 + (0.4 * 2) / 3, 15);

    // the evaluator runs the EMA model
    const x = tf.tensor2d([
      [1, 2, 3],
      [-1, 0.5, 2],
    ]);
    const evaluator = createSupervisedEvaluator(ema.emaModel);
    const store = new EpochOutputStore({ outputTransform: ([yPred]: tf.Tensor[]) => yPred });
    store.attach(evaluator);
    await evaluator.run([[x, x]]);
    const expected = ema.emaModel.predict(x) as tf.Tensor;
    expect(await (store.data[0] as tf.Tensor).data()).toEqual(await expected.data());
    const online = model.predict(x) as tf.Tensor;
    expect(await (store.data[0] as tf.Tensor).data()).not.toEqual(await online.data());
    tf.dispose([x, expected, online]);
    store.dispose();

    // a fresh handler loaded from the checkpoint continues the warm-up and the average exactly
    const saved = (await saver.load((await saver.list())[0]!)) as Record<string, any>;
    expect(saved.ema.step).toBe(3);
    const resumed = new EMAHandler(model, { momentum: 0.5, momentumWarmup: 0.1, warmupIters: 4 });
    await Checkpoint.loadObjects({ toLoad: { ema: resumed }, checkpoint: saved });
    expect(resumed.step).toBe(3);
    setWeights(model, weightsAt(model, 7));
    expect(ema.update()).toBe(0.5);
    expect(resumed.update()).toBe(0.5);
    for (const [j, w] of ema.emaModel.weights.entries()) {
      expect(await resumed.emaModel.weights[j]!.read().data()).toEqual(await w.read().data());
    }
    model.dispose();
    ema.dispose();
    resumed.dispose();
  });

  it('stateDict() takes the step and weights at the call, even if updates come before it resolves', async () => {
    const model = makeModel();
    const ema = new EMAHandler(model);
    ema.update();
    const expected = structuredClone(await ema.stateDict());
    const pending = ema.stateDict();
    setWeights(
      model,
      model.weights.map((w) => new Float32Array(w.shape.reduce((a, b) => (a as number) * (b as number), 1) as number)),
    );
    ema.update();
    ema.update();
    expect(await pending).toEqual(expected);
    expect(ema.step).toBe(3);
    model.dispose();
    ema.dispose();
  });

  it('refuses a state dict that does not fit, changing nothing', async () => {
    const model = makeModel();
    const ema = new EMAHandler(model);
    const sd = await ema.stateDict();
    expect(sd.step).toBe(0);
    const wrong = { step: 2, weights: sd.weights.filter((w) => w.name !== 'bn/beta') };
    await expect(ema.loadStateDict(wrong)).rejects.toThrow(
      "EMAHandler.loadStateDict: cannot load 'weights': weights/bn/beta: missing from the checkpoint.",
    );
    await expect(ema.loadStateDict({ ...sd, step: -1 })).rejects.toThrow(
      "EMAHandler.loadStateDict: state dict entry 'step' should be a non-negative integer, got -1.",
    );
    expect(ema.step).toBe(0);
    model.dispose();
    ema.dispose();
  });

  it('checks its arguments', () => {
    const model = makeModel();
    expect(() => new EMAHandler({} as never)).toThrow('EMAHandler: argument model should be a tf.LayersModel, got {}.');
    expect(() => new EMAHandler(model, { momentum: 1 })).toThrow(
      'EMAHandler: option momentum should be a finite number in (0, 1), got 1.',
    );
    expect(() => new EMAHandler(model, { warmupIters: 10 })).toThrow(
      'EMAHandler: options momentumWarmup and warmupIters go together, got only warmupIters.',
    );
    expect(() => new EMAHandler(model, { handleBuffers: 'ema_train' } as never)).toThrow(
      "EMAHandler: option handleBuffers should be one of 'copy' or 'update', got 'ema_train'.",
    );
    expect(() => new EMAHandler(tf.sequential())).toThrow("EMAHandler: model 'sequential_");
    model.dispose();
  });
});
