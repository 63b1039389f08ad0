// Checkpoint.loadObjects is all or nothing: every entry is checked before any object changes, and a rejected entry
// leaves every object of toLoad as it was.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeterministicEngine, manualSeed } from '../../data';
import { Engine, type Stateful } from '../../engine';
import { Accuracy } from '../../metrics';
import { CheckpointError, MemorySaver } from '../../storage';
import { EarlyStopping } from '../early-stopping';
import { Checkpoint } from '.';
import { modelStateDict } from './tf-state';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A Stateful counter whose loadStateDict checks its value before changing anything. */
class Counter implements Stateful {
  value = 0;
  stateDict() {
    return { value: this.value };
  }
  loadStateDict(sd: { value: unknown }) {
    if (typeof sd?.value !== 'number')
      throw new TypeError(`Counter.loadStateDict: value should be a number, got ${String(sd?.value)}.`);
    this.value = sd.value;
  }
}

const buildModel = (seed: number) =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        units: 3,
        inputShape: [4],
        name: 'hidden',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({ units: 2, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });

/**
 * Objects of a run: model and Adam trained `steps` steps (Adam only if `withSlots`: optimizer slots match by variable
 * name, and variables made later in this process have other names), a trainer, a counter, a metric, EarlyStopping.
 */
async function makeRun(seed: number, steps: number, withSlots = true) {
  manualSeed(seed);
  const model = buildModel(seed);
  const optimizer = tf.train.adam(0.05);
  const x = tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8], [2, 4]);
  const y = tf.tensor2d([1, 0, 0, 1], [2, 2]);
  for (let i = 0; i < (withSlots ? steps : 0); i++) {
    optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar);
  }
  const trainer = new DeterministicEngine((_e, batch: number) => batch);
  await trainer.run([1, 2, 3], { maxEpochs: steps });
  const counter = new Counter();
  counter.value = steps;
  const accuracy = new Accuracy();
  accuracy.reset();
  for (let i = 0; i < steps; i++) accuracy.update([tf.tensor2d([[0.9, 0.1]]), tf.tensor1d([i % 2], 'int32')]);
  const earlyStopping = new EarlyStopping({ patience: 3, scoreFunction: () => 1, trainer });
  tf.dispose([x, y]);
  return { model, optimizer, trainer, counter, accuracy, earlyStopping };
}

type Run = Awaited<ReturnType<typeof makeRun>>;

/** Everything observable about a run's objects, as plain data (weights and slots as bits). */
async function observe(run: Run) {
  const bits = async (tensors: tf.Tensor[]) =>
    Promise.all(tensors.map(async (t) => Array.from(new Uint32Array((await t.data()).slice().buffer))));
  const slots = await run.optimizer.getWeights();
  const observed = {
    weights: await bits(run.model.weights.map((w) => w.read())),
    slots: await bits(slots.map((w) => w.tensor)),
    trainer: { iteration: run.trainer.state.iteration, epoch: run.trainer.state.epoch, seed: run.trainer.state.seed },
    counter: run.counter.value,
    accuracy: await run.accuracy.stateDict(),
    earlyStopping: run.earlyStopping.stateDict(),
  };
  tf.dispose(slots.map((w) => w.tensor));
  return observed;
}

async function saved(run: Run): Promise<Record<string, any>> {
  const saver = new MemorySaver();
  const { model, optimizer, trainer, counter, accuracy, earlyStopping } = run;
  const checkpoint = new Checkpoint({ model, optimizer, counter, accuracy, earlyStopping, trainer }, saver);
  await checkpoint.handle(trainer);
  return (await saver.latest())!.data as Record<string, any>;
}

const toLoadOf = ({ model, optimizer, trainer, counter, accuracy, earlyStopping }: Run) =>
  // The trainer last: a loader going key by key would have changed all the others before reaching it.
  ({ model, optimizer, counter, accuracy, earlyStopping, trainer });

describe('Checkpoint.loadObjects is all or nothing', () => {
  it('a rejected trainer entry leaves model, optimizer and every other object untouched', async () => {
    const source = await saved(await makeRun(1, 3));
    const target = await makeRun(50, 2, false);
    const before = await observe(target);
    for (const trainer of [
      { ...source.trainer, epochLength: undefined }, // a missing key
      { ...source.trainer, iteration: -1 }, // a bad value
      { ...source.trainer, rngStates: { version: 1 } }, // a bad DeterministicEngine entry
    ]) {
      const error = await Checkpoint.loadObjects({
        toLoad: toLoadOf(target),
        checkpoint: { ...source, trainer },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toMatch(
        /^Checkpoint\.loadObjects: toLoad\.trainer\.loadStateDict\(\) rejected the checkpoint's 'trainer' entry: .* Nothing was loaded\.$/,
      );
      expect(await observe(target)).toEqual(before);
    }
    // The same checkpoint with a good trainer entry loads everything.
    const report = await Checkpoint.loadObjects({ toLoad: toLoadOf(target), checkpoint: source });
    expect(report).toEqual({
      loaded: ['model', 'optimizer', 'counter', 'accuracy', 'earlyStopping', 'trainer'],
      skipped: [],
    });
    const after = await observe(target);
    expect(after).not.toEqual(before);
    const check = await makeRun(1, 3);
    expect(after).toEqual({ ...(await observe(check)), earlyStopping: after.earlyStopping });
  });

  it('a rejected metric entry is found before anything changes', async () => {
    const source = await saved(await makeRun(1, 3));
    const target = await makeRun(50, 2, false);
    const before = await observe(target);
    const accuracy = { ...source.accuracy, numExamples: -1 };
    await expect(
      Checkpoint.loadObjects({ toLoad: toLoadOf(target), checkpoint: { ...source, accuracy } }),
    ).rejects.toThrow(/'accuracy' entry: .*numExamples.* Nothing was loaded\.$/);
    expect(await observe(target)).toEqual(before);
  });

  it('a Stateful object loaded before a rejected one is put back from the copy of its state', async () => {
    const a = new Counter();
    const b = new Counter();
    a.value = 1;
    b.value = 2;
    const earlyStopping = new EarlyStopping({ patience: 2, scoreFunction: () => 1, trainer: new Engine(() => 0) });
    const model = buildModel(3);
    const weights = await Promise.all(model.getWeights().map((w) => w.data()));
    const checkpoint = {
      a: { value: 10 },
      earlyStopping: { counter: 1, bestScore: 0.5 },
      model: await modelStateDict(buildModel(4)), // the same weight names: it would load
      b: { value: 'twenty' },
    };
    const error = await Checkpoint.loadObjects({
      toLoad: { a, earlyStopping, model, b },
      checkpoint,
      strict: false,
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /'b' entry: Counter\.loadStateDict: value should be a number, got twenty\. Nothing was loaded\.$/,
    );
    expect([a.value, b.value]).toEqual([1, 2]);
    expect(earlyStopping.stateDict()).toMatchObject({ counter: 0, bestScore: null });
    expect(await Promise.all(model.getWeights().map((w) => w.data()))).toEqual(weights);
  });

  it('says which objects stay loaded when their state could not be copied (their stateDict() fails)', async () => {
    const opaque = (name: string, fails = false) => ({
      value: 0,
      stateDict(): never {
        throw new Error(`${name} keeps no state to save`);
      },
      loadStateDict(sd: { value: number }) {
        if (fails) throw new Error(`${name} rejects ${JSON.stringify(sd)}`);
        this.value = sd.value;
      },
    });
    const counter = new Counter();
    const first = opaque('first');
    const second = opaque('second', true);
    const error = await Checkpoint.loadObjects({
      toLoad: { first, counter, second },
      checkpoint: { first: { value: 1 }, counter: { value: 2 }, second: { value: 3 } },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /'second' entry: second rejects \{"value":3\} The objects loaded before it were put back as they were, except 'first': no state to put back could be taken \(stateDict\(\) failed\), so it stays loaded\.$/,
    );
    expect(counter.value).toBe(0); // put back
    expect(first.value).toBe(1); // said so
    // A single such object is loaded after the others, so a rejection of another one leaves it untouched.
    const lone = opaque('lone');
    await expect(
      Checkpoint.loadObjects({
        toLoad: { lone, counter },
        checkpoint: { lone: { value: 1 }, counter: { value: 'x' } },
      }),
    ).rejects.toThrow(/Nothing was loaded\.$/);
    expect(lone.value).toBe(0);
  });
});
