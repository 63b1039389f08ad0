import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events, type Logger, setLogger } from '../engine';
import { TerminateOnNan } from './terminate-on-nan';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let restoreLogger: Logger | null = null;
const warnings: string[] = [];
afterEach(() => {
  if (restoreLogger) setLogger(restoreLogger);
  restoreLogger = null;
  warnings.length = 0;
});
function captureWarnings(): void {
  restoreLogger = setLogger({ debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} });
}

/**
 * A trainer whose output at iteration i is `make(values[i - 1])`; tensor outputs are disposed by a handler that runs
 * after TerminateOnNan. Returns the trainer and the iterations the process function ran.
 */
function trainerOf(values: number[], make: (v: number) => unknown, handler = new TerminateOnNan()) {
  const processed: number[] = [];
  const trainer = new Engine((engine) => {
    processed.push(engine.state.iteration);
    return make(values[engine.state.iteration - 1]);
  });
  trainer.on(Events.ITERATION_COMPLETED, handler);
  trainer.on(Events.ITERATION_COMPLETED, (engine) => tf.dispose(engine.state.output as tf.TensorContainer));
  return { trainer, processed };
}

describe('TerminateOnNan', () => {
  it('stops in the same iteration when a number output is NaN or Inf', async () => {
    captureWarnings();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const { trainer } = trainerOf([1, 2, bad, 4, 5, 6], (v) => v);
      const state = await trainer.run([0, 0, 0], { maxEpochs: 2 });
      expect(state.iteration).toBe(3);
      expect(state.epoch).toBe(1);
    }
    expect(warnings[0]).toMatch(/TerminateOnNan: Output 'NaN' of iteration 3 contains NaN or Inf. Stop training/);
  });

  it('stops one iteration later when a tensor output is NaN (documented lag: one call)', async () => {
    captureWarnings();
    const before = tf.memory().numTensors;
    const { trainer, processed } = trainerOf([1, 2, Number.NaN, 4, 5, 6, 7, 8], (v) => tf.scalar(v));
    const state = await trainer.run([0, 0, 0, 0], { maxEpochs: 2 });
    expect(processed).toEqual([1, 2, 3, 4]);
    expect(state.iteration).toBe(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/of iteration 3 contains NaN or Inf/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a NaN in the last iteration of an epoch stops the run at EPOCH_COMPLETED', async () => {
    const before = tf.memory().numTensors;
    const { trainer, processed } = trainerOf([1, 2, Number.NaN, 4, 5, 6], (v) => tf.tensor1d([0, v]));
    const epochs: number[] = [];
    trainer.on(Events.EPOCH_COMPLETED, (engine) => epochs.push(engine.state.epoch));
    captureWarnings();
    const state = await trainer.run([0, 0, 0], { maxEpochs: 2 });
    expect(processed).toEqual([1, 2, 3]);
    expect(state.epoch).toBe(1);
    expect(epochs).toEqual([1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('finds Inf inside arrays and objects of tensors and numbers; ignores int tensors', async () => {
    captureWarnings();
    const make = (v: number) => ({ loss: tf.scalar(1), parts: [tf.tensor1d([1, v]), 3], count: tf.scalar(7, 'int32') });
    const before = tf.memory().numTensors;
    const { trainer, processed } = trainerOf([1, Number.NEGATIVE_INFINITY, 1, 1, 1], make);
    await trainer.run([0, 0, 0, 0, 0], { maxEpochs: 1 });
    expect(processed).toEqual([1, 2, 3]);
    expect(warnings[0]).toBe(
      "TerminateOnNan: Output '{ loss: Tensor(float32, []), parts: [Tensor(float32, [2]), 3], count: Tensor(int32, []) }' " +
        'of iteration 2 contains NaN or Inf. Stop training',
    );
    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks what outputTransform picks, and runs to the end without NaN or leaks', async () => {
    const before = tf.memory().numTensors;
    const handler = new TerminateOnNan({ outputTransform: (out: { loss: tf.Scalar }) => out.loss });
    const make = (v: number) => ({ loss: tf.scalar(v), ignored: tf.scalar(Number.NaN) });
    const { trainer } = trainerOf([1, 2, 3, 4, 5, 6], make, handler);
    const state = await trainer.run([0, 0, 0], { maxEpochs: 2 });
    expect(state.iteration).toBe(6);
    expect(state.epoch).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('attach() adds the handler with an event filter; the lag is one period', async () => {
    captureWarnings();
    const processed: number[] = [];
    const trainer = new Engine((engine) => {
      processed.push(engine.state.iteration);
      return tf.scalar(engine.state.iteration === 5 || engine.state.iteration === 12 ? Number.NaN : 1);
    });
    new TerminateOnNan().attach(trainer, Events.ITERATION_COMPLETED({ every: 3 }));
    trainer.on(Events.ITERATION_COMPLETED, (engine) => tf.dispose(engine.state.output as tf.Tensor));
    const before = tf.memory().numTensors;
    const state = await trainer.run(new Array(20).fill(0), { maxEpochs: 1 });
    // Checks see iterations 3, 6, 9, 12, ...: the NaN of 5 goes unseen, that of 12 stops the run at the next check.
    expect(state.iteration).toBe(15);
    expect(processed).toHaveLength(15);
    expect(warnings[0]).toMatch(/of iteration 12 contains/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a non-function outputTransform', () => {
    expect(() => new TerminateOnNan({ outputTransform: 1 as any })).toThrow(/outputTransform should be a function/);
  });
});
