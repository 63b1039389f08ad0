import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, TensorDataset } from '../data';
import { Engine, Events } from '../engine';
import { createSupervisedEvaluator } from '../supervised';
import { EpochOutputStore } from './epoch-output-store';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const owned: tf.Tensor[] = [];
afterAll(() => tf.dispose(owned));

/** A linear model with fixed weights and 6 rows of data in batches of 2. */
function setup() {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1, useBias: false })] });
  const kernel = tf.tensor2d([[1], [10]]);
  model.setWeights([kernel]);
  kernel.dispose();
  const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [6, 2]);
  const y = tf.tensor2d([0, 1, 2, 3, 4, 5], [6, 1]);
  owned.push(x, y);
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 2 });
  return { model, loader };
}

describe('EpochOutputStore', () => {
  it("keeps every output of the evaluator's epoch after the evaluator disposed its own, and frees them", async () => {
    const { model, loader } = setup();
    const evaluator = createSupervisedEvaluator(model);
    const store = new EpochOutputStore({ outputTransform: ([yPred, y]: tf.Tensor[]) => ({ yPred, y }) });
    store.attach(evaluator, 'outputs');
    const before = tf.memory().numTensors;
    await evaluator.run(loader);
    expect(evaluator.state.output).toBeNull(); // the evaluator disposed its outputs...
    const outputs = evaluator.state.outputs as { yPred: tf.Tensor; y: tf.Tensor }[];
    expect(outputs).toBe(store.data);
    expect(outputs).toHaveLength(3);
    // ...the store's clones live on: yPred = x · [1, 10]
    expect(await Promise.all(outputs.map((o) => o.yPred.data()))).toEqual([
      new Float32Array([21, 43]),
      new Float32Array([65, 87]),
      new Float32Array([109, 131]),
    ]);
    expect(Array.from(await outputs[2]!.y.data())).toEqual([4, 5]);
    expect(tf.memory().numTensors).toBe(before + 6);
    // a second epoch starts empty and disposes what the first kept
    await evaluator.run(loader);
    expect(store.data).toHaveLength(3);
    expect(outputs[0]!.yPred.isDisposed).toBe(true);
    expect(tf.memory().numTensors).toBe(before + 6);
    store.reset();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('stateDict() takes the outputs kept at the call: a reset or new outputs before it resolves change nothing', async () => {
    const store = new EpochOutputStore();
    const engine = new Engine((_e, i: number) => ({ logits: tf.tensor1d([i, -i]) }));
    store.attach(engine);
    engine.on(Events.ITERATION_COMPLETED, (e) => tf.dispose(e.state.output!.logits));
    const before = tf.memory().numTensors;
    await engine.run([1, 2], { maxEpochs: 1 });
    const pending = store.stateDict();
    store.reset();
    store.update({ state: { output: { logits: tf.tensor1d([9, 9]) } } } as never);
    const sd = await pending;
    expect(sd.data.map((d) => Array.from((d as { logits: { data: Float32Array } }).logits.data))).toEqual([
      [1, -1],
      [2, -2],
    ]);
    store.reset();
    expect(tf.memory().numTensors).toBe(before + 1); // the [9, 9] this test made itself
  });

  it('round-trips its state dict, through structuredClone, all-or-nothing', async () => {
    const engine = new Engine((_e, i: number) => ({ loss: i / 2, logits: tf.tensor1d([i, -i]), label: `b${i}` }));
    const store = new EpochOutputStore();
    store.attach(engine);
    engine.on(Events.ITERATION_COMPLETED, (e) => tf.dispose(e.state.output!.logits)); // the engine's own output
    const before = tf.memory().numTensors;
    await engine.run([1, 2], { maxEpochs: 1 });
    const sd = structuredClone(await store.stateDict());
    expect(sd.data[0]).toEqual({
      loss: 0.5,
      label: 'b1',
      logits: { kind: 'tfjs-tensor', shape: [2], dtype: 'float32', data: new Float32Array([1, -1]) },
    });
    const restored = new EpochOutputStore();
    restored.loadStateDict(sd);
    const second = restored.data[1] as { logits: tf.Tensor; loss: number };
    expect(second.loss).toBe(1);
    expect(Array.from(await second.logits.data())).toEqual([2, -2]);

    // a bad entry anywhere changes nothing
    const bad = structuredClone(sd);
    (bad.data[1] as any).logits.data = new Float32Array(3);
    expect(() => restored.loadStateDict(bad)).toThrow(
      'EpochOutputStore.loadStateDict: data[1].logits is not a valid stored tensor: it holds 3 values but its shape [2] needs 2.',
    );
    expect(() => restored.loadStateDict({ data: [new Map()] })).toThrow(
      'EpochOutputStore.loadStateDict: data[0] should be plain data, got an instance of Map.',
    );
    expect(() => restored.loadStateDict({ data: [], extra: 1 } as never)).toThrow(
      "EpochOutputStore.loadStateDict: unknown state dict entry 'extra'.",
    );
    expect(restored.data).toHaveLength(2);
    expect(second.logits.isDisposed).toBe(false);
    restored.dispose();
    store.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks its arguments and what it is asked to save', async () => {
    expect(() => new EpochOutputStore({ outputTransform: 3 } as never)).toThrow(
      'EpochOutputStore: option outputTransform should be a function (output) => value, got 3.',
    );
    const store = new EpochOutputStore();
    expect(() => store.store(new Engine(() => 0))).toThrow(
      'EpochOutputStore.store: no state attribute to store into; pass a name to attach(engine, name).',
    );
    const engine = new Engine(() => new Map());
    store.attach(engine);
    await engine.run([1], { maxEpochs: 1 });
    await expect(store.stateDict()).rejects.toThrow(
      'EpochOutputStore.stateDict: data[0] is an instance of Map, which a state dict cannot hold; keep numbers, strings, tensors, arrays or plain objects (use outputTransform).',
    );
  });
});
