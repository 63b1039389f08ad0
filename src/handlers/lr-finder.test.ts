import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, getRandomState, manualSeed, TensorDataset } from '../data';
import { Engine, Events, setLogger, silentLogger } from '../engine';
import { createSupervisedTrainer } from '../supervised';
import { loadDigits, splitDigits } from '../supervised/digits.test-util';
import { modelStateDict, optimizerStateDict } from './checkpoint/tf-state';
import { FastaiLRFinder } from './lr-finder';

/** An optimizer's learning rate (a protected field in tfjs's typings). */
const rateOf = (optimizer: tf.Optimizer): number => (optimizer as unknown as { learningRate: number }).learningRate;

const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;
const owned: tf.Tensor[] = [];
let loader: DataLoader<any, any>;
let previousLogger: ReturnType<typeof setLogger>;

beforeAll(async () => {
  await tf.setBackend('cpu');
  previousLogger = setLogger(silentLogger);
  const { train } = splitDigits(loadDigits(), 2024, 0.2);
  const x = tf.tensor2d(train.pixels, [train.n, 64]);
  const labels = tf.tensor1d(train.labels, 'int32');
  const y = tf.oneHot(labels, 10).toFloat();
  labels.dispose();
  owned.push(x, y);
  loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true });
});

afterAll(() => {
  tf.dispose(owned);
  setLogger(previousLogger);
});

function mlp(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [64],
        units: 64,
        activation: 'relu',
        kernelInitializer: 'heNormal',
        name: 'hidden',
      }),
      tf.layers.dense({ units: 10, kernelInitializer: 'glorotUniform', name: 'out' }),
    ],
  });
}

/** Everything that must come back exactly: weights, optimizer slots, iterations, hidden accumulators, rate. */
async function snapshot(model: tf.LayersModel, optimizer: tf.Optimizer) {
  return {
    model: await modelStateDict(model),
    optimizer: await optimizerStateDict(optimizer),
    learningRate: rateOf(optimizer),
  };
}

/** The losses of `steps` training iterations, read after the run. */
async function trainLosses(trainer: Engine<any, tf.Scalar>, steps: number): Promise<number[]> {
  const losses: tf.Scalar[] = [];
  const handle = trainer.on(Events.ITERATION_COMPLETED, (e) => {
    losses.push(tf.clone(e.state.output!));
  });
  await trainer.run(loader, { maxIters: steps });
  handle.remove();
  const values = await Promise.all(losses.map(async (loss) => (await loss.data())[0]!));
  tf.dispose(losses);
  return values;
}

describe('FastaiLRFinder on the digits MLP', () => {
  it('suggests a rate where the loss falls fastest, and restores model and Adam exactly', async () => {
    manualSeed(11);
    const model = mlp();
    const optimizer = tf.train.adam(1e-3);
    const trainer = createSupervisedTrainer(model, optimizer, lossFn);
    // some training first, so that Adam's slots, iteration count and hidden accumulators are not trivial
    await trainLosses(trainer, 20);
    const before = await snapshot(model, optimizer);
    const randomBefore = getRandomState();
    const tensorsBefore = tf.memory().numTensors;

    const finder = new FastaiLRFinder();
    {
      await using run = await finder.attach(trainer, { model, optimizer }, { startLr: 1e-5, endLr: 10, numIter: 100 });
      expect(run.trainer).toBe(trainer);
      await trainer.run(loader, { maxIters: 50 }); // the test extends the run to its 100 iterations
      expect(trainer.state.iteration).toBeLessThanOrEqual(120); // it continued the earlier run at iteration 20
    }
    const { lr, loss } = finder.getResults();
    expect(lr.length).toBe(loss.length);
    expect(lr[0]).toBeCloseTo(1e-5, 15);
    // It stops at 100 iterations, or at the first smoothed loss above 5× the best (which of the two depends on the
    // batches: the loader draws each pass's order from Math.random).
    expect(lr.length).toBeLessThanOrEqual(100);
    const firstAbove = loss.findIndex((value, i) => value > 5 * Math.min(...loss.slice(0, i + 1)));
    expect(firstAbove === -1 ? lr.length === 100 : firstAbove === lr.length - 1).toBe(true);
    for (let i = 1; i < lr.length; i++) expect(lr[i]! / lr[i - 1]!).toBeCloseTo(1e6 ** (1 / 99), 10);

    // the suggestion: the steepest descent of the loss curve, before its minimum
    const suggestion = finder.lrSuggestion();
    const index = lr.indexOf(suggestion);
    const minIndex = loss.indexOf(Math.min(...loss));
    expect(index).toBeGreaterThan(0);
    expect(index).toBeLessThan(minIndex);
    const slope = (i: number) => 0.5 * (loss[i + 1]! - loss[i - 1]!);
    for (let i = 1; i < minIndex; i++) expect(slope(index)).toBeLessThanOrEqual(slope(i));
    expect(slope(index)).toBeLessThan(0);
    // and a sensible rate for Adam on this MLP
    expect(suggestion).toBeGreaterThan(1e-4);
    expect(suggestion).toBeLessThan(0.5);

    // everything restored bit for bit, nothing leaked
    const after = await snapshot(model, optimizer);
    expect(after).toEqual(before);
    expect(after.optimizer.slots.length).toBe(8); // m and v of four weights
    expect(after.optimizer.extra.accBeta1).toBe(before.optimizer.extra.accBeta1);
    expect(getRandomState()).toEqual(randomBefore);
    expect(trainer.state.iteration).toBe(20);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    expect(finder.applySuggestion(optimizer)).toBe(suggestion);
    expect(rateOf(optimizer)).toBe(suggestion);
    model.dispose();
    optimizer.dispose();
  }, 60_000);

  it('leaves training exactly as if it had not run (plain SGD, fresh trainer, linear steps)', async () => {
    const run = async (withFinder: boolean) => {
      manualSeed(5);
      const model = mlp();
      const optimizer = tf.train.sgd(0.05);
      const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
      if (withFinder) {
        const finder = new FastaiLRFinder();
        const handle = await finder.attach(
          trainer,
          { model, optimizer },
          { endLr: 2, numIter: 30, stepMode: 'linear' },
        );
        await trainer.run(loader, { maxEpochs: 1 });
        await handle.detach();
        expect(finder.getResults().lr.slice(0, 3)).toEqual([0.05, 0.05 + 1.95 / 29, 0.05 + (2 * 1.95) / 29]);
        expect(trainer.state.iteration).toBe(0);
      }
      const losses = await trainLosses(trainer, 10);
      const weights = await modelStateDict(model);
      model.dispose();
      optimizer.dispose();
      return { losses, weights };
    };
    const without = await run(false);
    const withIt = await run(true);
    expect(withIt.losses).toEqual(without.losses);
    expect(withIt.weights).toEqual(without.weights);
  }, 60_000);

  it('follows a known curve: suggests its steepest point, stops when it diverges, reads losses one step behind', async () => {
    // loss(lr): a tanh step falling fastest at lr = 1e-3, then a parabola rising from lr = 0.1
    const lossAt = (lr: number) => {
      const u = Math.log10(lr);
      return u < -1 ? 1.5 - Math.tanh(2 * (u + 3)) : 1.5 - Math.tanh(4) + 5 * (u + 1) ** 2;
    };
    const optimizer = tf.train.sgd(0.1);
    const engine = new Engine(() => lossAt(rateOf(optimizer)));
    let stoppedAt = 0;
    engine.on(Events.TERMINATE, (e) => {
      stoppedAt = e.state.iteration;
    });
    const finder = new FastaiLRFinder();
    const handle = await finder.attach(engine, { optimizer }, { startLr: 1e-5, endLr: 10, numIter: 61, smoothF: 0 });
    await engine.run(null, { epochLength: 61 });
    await handle.detach();
    const { lr, loss } = finder.getResults();
    // 10^-5 … 10^1 in steps of 10^0.1; it stopped at the first loss above 5 × the best, 10^-0.3
    expect(lr).toHaveLength(48);
    for (const [k, rate] of lr.entries()) expect(Math.log10(rate)).toBeCloseTo(-5 + 0.1 * k, 12);
    expect(loss).toEqual(lr.map(lossAt));
    expect(loss.at(-1)! > 5 * Math.min(...loss)).toBe(true);
    expect(loss.at(-2)! > 5 * Math.min(...loss)).toBe(false);
    // the stopping loss was read during the next iteration, which therefore ran too; then the state was restored
    expect(stoppedAt).toBe(49);
    expect(engine.state.iteration).toBe(0);
    expect(finder.lrSuggestion()).toBeCloseTo(1e-3, 12);
    expect(rateOf(optimizer)).toBe(0.1);
  });

  it('checks its arguments, and cannot suggest before running', async () => {
    const finder = new FastaiLRFinder();
    expect(() => finder.lrSuggestion()).toThrow(
      'FastaiLRFinder.lrSuggestion: the finder has not run yet; attach it and run the trainer first.',
    );
    const model = mlp();
    const optimizer = tf.train.adam(1e-3);
    const trainer = createSupervisedTrainer(model, optimizer, lossFn);
    await expect(finder.attach(trainer, { model } as never)).rejects.toThrow(
      "FastaiLRFinder.attach: toSave.optimizer should be a tf.Optimizer, got undefined. Pass the trainer's optimizer as { optimizer }.",
    );
    await expect(finder.attach(trainer, { model, optimizer }, { startLr: 1, endLr: 0.1 })).rejects.toThrow(
      'FastaiLRFinder.attach: startLr should be less than endLr, got startLr 1 and endLr 0.1.',
    );
    await expect(finder.attach(trainer, { model, optimizer }, { smoothF: 1 })).rejects.toThrow(
      'FastaiLRFinder.attach: option smoothF should be a finite number in [0, 1), got 1.',
    );
    await expect(finder.attach(trainer, { model, optimizer }, { stepMode: 'cos' } as never)).rejects.toThrow(
      "FastaiLRFinder.attach: option stepMode should be one of 'exp' or 'linear', got 'cos'.",
    );
    await expect(finder.attach(trainer, { model, optimizer, other: 3 } as never)).rejects.toThrow(
      'FastaiLRFinder.attach: toSave.other should be a tf.LayersModel, a tf.Optimizer or an object with stateDict()/loadStateDict(), got 3.',
    );
    const handle = await finder.attach(trainer, { model, optimizer });
    await expect(finder.attach(trainer, { model, optimizer })).rejects.toThrow(
      'FastaiLRFinder.attach: this finder is attached already; detach it (await handle.detach()) first.',
    );
    await handle.detach();
    // a loss that is not a number or a one-element tensor
    const engine = new Engine(() => [1, 2]);
    const attached = await finder.attach(engine, { optimizer });
    await expect(engine.run([0, 0], { maxEpochs: 1 })).rejects.toThrow(
      'FastaiLRFinder: the loss (outputTransform of the output) should be a number or a one-element tensor, got [1,2]. Pick it with the option outputTransform, e.g. (output) => output.loss.',
    );
    await attached.detach();
    model.dispose();
    optimizer.dispose();
  });
});
