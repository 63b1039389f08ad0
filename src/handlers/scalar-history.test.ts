import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { MemorySaver } from '../storage';
import { createSupervisedTrainer } from '../supervised';
import { Checkpoint } from './checkpoint';
import { ScalarHistory } from './scalar-history';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The loss of iteration i in these tests: a float32 value that is not a round number. */
const lossAt = (i: number) => Math.fround(1 / (i + 0.3));

/**
 * A trainer-like engine: its output at iteration i is a tf.Scalar holding lossAt(i), owned by the engine and
 * disposed when the next step starts and at the end of the run, as createSupervisedTrainer does.
 */
function trainer() {
  let output: tf.Scalar | null = null;
  const engine = new Engine<number, tf.Scalar>((e) => {
    output?.dispose();
    output = tf.scalar(lossAt(e.state.iteration));
    return output;
  });
  engine.on(Events.COMPLETED.or(Events.TERMINATE), () => {
    output?.dispose();
    output = null;
  });
  return engine;
}

/** A history recording into arrays; `calls` has the length of each delivered chunk. */
function recorder(options: { chunk?: number; maxReadsInFlight?: number } = {}) {
  const iterations: number[] = [];
  const values: number[] = [];
  const calls: number[] = [];
  const history = new ScalarHistory({
    ...options,
    onValues: (its, vals) => {
      iterations.push(...its);
      values.push(...vals);
      calls.push(its.length);
    },
  });
  return { history, iterations, values, calls };
}

describe('ScalarHistory', () => {
  it('delivers the same values as a reference run reading each loss synchronously, in order', async () => {
    const reference = trainer();
    const expected: Array<[number, number]> = [];
    reference.on(Events.ITERATION_COMPLETED, async (e) => {
      expected.push([e.state.iteration, (await e.state.output!.data())[0]!]);
    });
    await reference.run([0, 0, 0, 0, 0, 0, 0], { maxEpochs: 3 });

    const engine = trainer();
    const { history, iterations, values } = recorder({ chunk: 4 });
    history.attach(engine);
    await engine.run([0, 0, 0, 0, 0, 0, 0], { maxEpochs: 3 });
    await history.flush();
    expect(iterations.map((it, i) => [it, values[i]])).toEqual(expected);
    expect(expected.map(([, v]) => v)).toEqual(Array.from({ length: 21 }, (_, k) => lossAt(k + 1)));
  });

  it('with createSupervisedTrainer: the losses equal a reference run reading each loss, and nothing leaks', async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [6, 2]);
    const y = tf.tensor2d([1, 0, 2, 1, 3, 2], [6, 1]);
    const batches = [0, 2, 4].map((start) => [x.slice(start, 2), y.slice(start, 2)]);
    const trainRun = async (observe: (trainer: Engine<any, tf.Scalar>) => void) => {
      const model = tf.sequential({
        layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'ones', biasInitializer: 'zeros' })],
      });
      const optimizer = tf.train.sgd(0.01);
      const trainer = createSupervisedTrainer(model, optimizer, (yPred, yTrue) =>
        tf.losses.meanSquaredError(yTrue, yPred),
      );
      observe(trainer);
      await trainer.run(batches, { maxEpochs: 4 });
      model.dispose();
      optimizer.dispose();
    };
    const expected: number[] = [];
    await trainRun((trainer) =>
      trainer.on(Events.ITERATION_COMPLETED, async (e) => {
        expected.push((await e.state.output!.data())[0]!);
      }),
    );
    const before = tf.memory().numTensors;
    const { history, iterations, values } = recorder({ chunk: 5 });
    await trainRun((trainer) => history.attach(trainer));
    await history.flush();
    expect(tf.memory().numTensors).toBe(before);
    expect(iterations).toEqual(Array.from({ length: 12 }, (_, k) => k + 1));
    expect(values).toEqual(expected);
    expect(new Set(values).size).toBe(12); // the losses change: a stale or repeated value would show
    tf.dispose([x, y, ...batches.flat()]);
  });

  it('reads every `chunk` values and at the end of each epoch, not at each step', async () => {
    const engine = trainer();
    const { history, calls } = recorder({ chunk: 3 });
    history.attach(engine);
    const pendingAtIteration: number[] = [];
    engine.on(Events.ITERATION_COMPLETED, () => {
      pendingAtIteration.push(history.pendingCount);
    });
    await engine.run([0, 0, 0, 0, 0, 0, 0, 0], { maxEpochs: 2 });
    await history.flush();
    // 8 iterations per epoch: reads after 3, 6, then the epoch's last 2 at EPOCH_COMPLETED.
    expect(calls).toEqual([3, 3, 2, 3, 3, 2]);
    expect(pendingAtIteration).toEqual([1, 2, 0, 1, 2, 0, 1, 2, 1, 2, 0, 1, 2, 0, 1, 2]);
  });

  it('applies backpressure: with more than maxReadsInFlight reads in flight, the step waits for the oldest', async () => {
    const deliveredAt = async (maxReadsInFlight: number) => {
      const engine = trainer();
      const at: number[] = [];
      const history = new ScalarHistory({
        chunk: 1,
        maxReadsInFlight,
        onValues: (iterations) => {
          for (const _ of iterations) at.push(engine.state.iteration);
        },
      }).attach(engine);
      await engine.run(new Array(10).fill(0), { maxEpochs: 1 });
      await history.flush();
      return at;
    };
    // Bounded: the value of iteration i is delivered before iteration i + 2 completes.
    const bounded = await deliveredAt(1);
    expect(bounded).toHaveLength(10);
    bounded.forEach((iteration, i) => {
      expect(iteration).toBeLessThanOrEqual(i + 2);
    });
    // Unbounded: the synchronous loop never waits, so every value arrives after the last step.
    expect(await deliveredAt(Number.POSITIVE_INFINITY)).toEqual(new Array(10).fill(10));
    expect(() => new ScalarHistory({ onValues: () => {}, maxReadsInFlight: 0 })).toThrow(/maxReadsInFlight/);
  });

  it('does not block a step on the read: values arrive only after the handler returned', async () => {
    const engine = trainer();
    const { history, values } = recorder({ chunk: 1, maxReadsInFlight: Number.POSITIVE_INFINITY });
    history.attach(engine);
    const seenDuringRun: number[] = [];
    engine.on(Events.ITERATION_COMPLETED, () => {
      seenDuringRun.push(values.length);
    });
    await engine.run([0, 0, 0], { maxEpochs: 1 });
    await history.flush();
    expect(values).toEqual([lossAt(1), lossAt(2), lossAt(3)]);
    expect(seenDuringRun[0]).toBe(0); // the first read had not delivered when the next handler ran
  });

  it('flush() makes the history complete up to the current iteration, e.g. inside a stateDict', async () => {
    const engine = trainer();
    const { history, iterations } = recorder({ chunk: 100 });
    history.attach(engine);
    const seenAtCheckpoint: number[][] = [];
    engine.on(Events.ITERATION_COMPLETED({ every: 5 }), async () => {
      await history.flush();
      seenAtCheckpoint.push([...iterations]);
    });
    await engine.run([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], { maxEpochs: 1 });
    expect(seenAtCheckpoint).toEqual([
      [1, 2, 3, 4, 5],
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    ]);
  });

  it('its state dict holds what was not delivered at the call; saved after what it feeds, a load completes that', async () => {
    /** What onValues feeds, Stateful: the delivered values. */
    const makeFed = () => {
      const fed = {
        iterations: [] as number[],
        values: [] as number[],
        stateDict: () => ({ iterations: [...fed.iterations], values: [...fed.values] }),
        loadStateDict(sd: { iterations: number[]; values: number[] }) {
          fed.iterations = [...sd.iterations];
          fed.values = [...sd.values];
        },
      };
      const history = new ScalarHistory({
        chunk: 4,
        onValues: (its, vals) => {
          fed.iterations.push(...its);
          fed.values.push(...vals);
        },
      });
      return { fed, history };
    };
    const engine = trainer();
    const { fed, history } = makeFed();
    history.attach(engine);
    const saver = new MemorySaver();
    // Background saves: the loop goes on while the states resolve, deliveries land meanwhile.
    engine.on(
      Events.ITERATION_COMPLETED({ every: 3 }),
      new Checkpoint({ fed, history }, saver, { async: true, nSaved: null }),
    );
    await engine.run(Array.from({ length: 14 }, () => 0));
    expect(fed.iterations).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    const names = await saver.list();
    expect(names).toEqual(['checkpoint_3.ckpt', 'checkpoint_6.ckpt', 'checkpoint_9.ckpt', 'checkpoint_12.ckpt']);
    let undelivered = 0;
    for (const name of names) {
      const k = Number(name.match(/_(\d+)\./)![1]);
      const saved = (await saver.load(name)) as { history: { iterations: number[] } };
      undelivered += saved.history.iterations.length;
      const resumed = makeFed();
      await Checkpoint.loadObjects({
        toLoad: { fed: resumed.fed, history: resumed.history },
        checkpoint: { saver, filename: name },
      });
      const upTo = Array.from({ length: k }, (_, i) => i + 1);
      expect(resumed.fed.iterations).toEqual(upTo);
      expect(resumed.fed.values).toEqual(upTo.map(lossAt));
    }
    expect(undelivered).toBeGreaterThan(0); // the history part mattered
  });

  it('stateDict() takes the undelivered values at the call; loadStateDict checks its input and drops what is pending', async () => {
    const { history, iterations } = recorder({ chunk: 2 });
    const engine = trainer();
    history.attach(engine);
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), () => {
      engine.interrupt();
    });
    await engine.run([0, 0, 0, 0, 0]);
    await history.flush();
    expect(iterations).toEqual([1, 2, 3]);
    const before = tf.memory().numTensors;
    // Record 4 and 5 by hand: a read of both starts (chunk 2), then 6 stays pending.
    for (const i of [4, 5, 6]) history.handle({ state: { iteration: i, output: tf.scalar(lossAt(i)) } } as never);
    const pending = history.stateDict();
    await history.flush(); // delivers 4, 5, 6 after the call
    expect(iterations).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await pending).toEqual({ iterations: [4, 5, 6], values: [4, 5, 6].map(lossAt) });
    expect(await history.stateDict()).toEqual({ iterations: [], values: [] });

    history.handle({ state: { iteration: 7, output: tf.scalar(lossAt(7)) } } as never);
    history.loadStateDict({ iterations: [10, 11], values: [0.5, Number.NaN] });
    expect(iterations.slice(-2)).toEqual([10, 11]);
    await history.flush();
    expect(iterations).toEqual([1, 2, 3, 4, 5, 6, 10, 11]); // 7 was dropped by the load
    expect(() => history.loadStateDict({ iterations: [1], values: [] })).toThrow(
      "ScalarHistory.loadStateDict: state dict entry 'values' should be 1 numbers, one per iteration, got 0.",
    );
    expect(() => history.loadStateDict({ iterations: [-1], values: [1] })).toThrow(
      "ScalarHistory.loadStateDict: state dict entry 'iterations' should be an array of non-negative integers, got [-1].",
    );
    expect(() => history.loadStateDict({ iterations: [], values: [], extra: 1 } as never)).toThrow(
      /unknown state dict entry 'extra'/,
    );
    expect(tf.memory().numTensors - before).toBe(4); // the four scalars this test made; none of the history's own
  });

  it('records numbers and mixes them with tensors in order; outputTransform picks the value', async () => {
    const got: number[] = [];
    const history = new ScalarHistory({
      onValues: (_its, vals) => got.push(...vals),
      outputTransform: (output: { loss: tf.Scalar | number }) => output.loss,
      chunk: 4,
    });
    const owned: tf.Tensor[] = [];
    const engine = new Engine<number, { loss: tf.Scalar | number }>((e) => {
      tf.dispose(owned.splice(0));
      const i = e.state.iteration;
      if (i % 2 === 0) return { loss: i * 10 };
      const loss = tf.scalar(i, 'int32'); // cast to float32 by the history
      owned.push(loss);
      return { loss };
    });
    history.attach(engine);
    await engine.run([0, 0, 0, 0, 0, 0], { maxEpochs: 1 });
    tf.dispose(owned);
    await history.flush();
    expect(got).toEqual([1, 20, 3, 40, 5, 60]);
  });

  it('leaks no tensor after a run, after interrupt and resume, and after terminate', async () => {
    const before = tf.memory().numTensors;
    const run = async (control: (engine: Engine<number, tf.Scalar>) => void, resume = false) => {
      const engine = trainer();
      const { history, iterations } = recorder({ chunk: 4 });
      history.attach(engine);
      control(engine);
      await engine.run([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], { maxEpochs: 2 });
      await history.flush();
      const atStop = [...iterations];
      if (resume) {
        await engine.run([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], { maxEpochs: 2 });
        await history.flush();
      }
      return { atStop, all: iterations };
    };
    const plain = await run(() => {});
    expect(plain.all).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(tf.memory().numTensors).toBe(before);

    const interrupted = await run((engine) => {
      engine.on(Events.ITERATION_COMPLETED({ once: 7 }), (e) => e.interrupt());
    }, true);
    expect(interrupted.atStop).toEqual([1, 2, 3, 4, 5, 6, 7]); // read at INTERRUPT: complete while paused
    expect(interrupted.all).toEqual(Array.from({ length: 20 }, (_, k) => k + 1));
    expect(tf.memory().numTensors).toBe(before);

    const terminated = await run((engine) => {
      engine.on(Events.ITERATION_COMPLETED({ once: 13 }), (e) => e.terminate(true));
    });
    expect(terminated.all).toEqual(Array.from({ length: 13 }, (_, k) => k + 1));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('detach removes its handlers and reads what is pending', async () => {
    const engine = trainer();
    const { history, iterations } = recorder({ chunk: 10 });
    history.attach(engine);
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => history.detach(e));
    await engine.run([0, 0, 0, 0, 0], { maxEpochs: 1 });
    await history.flush();
    expect(iterations).toEqual([1, 2, 3]);
    expect(engine.hasEventHandler(history)).toBe(false);
  });

  it('raises an error thrown by onValues at the next recording call or in flush()', async () => {
    const engine = trainer();
    const history = new ScalarHistory({
      onValues: () => {
        throw new Error('chart is gone');
      },
      chunk: 1,
    }).attach(engine);
    // Let the first read deliver (and fail) before iteration 3 records.
    engine.on(Events.ITERATION_COMPLETED({ once: 2 }), () => new Promise((resolve) => setTimeout(resolve, 20)));
    await expect(engine.run([0, 0, 0, 0, 0, 0], { maxEpochs: 1 })).rejects.toThrow('chart is gone');
    await expect(history.flush()).resolves.toBeUndefined();
  });

  it('rejects bad options and values with messages that say the fix', async () => {
    expect(() => new ScalarHistory({ onValues: 3 as never })).toThrow(
      'ScalarHistory: option onValues should be a function (iterations, values) => void, got 3.',
    );
    expect(() => new ScalarHistory({ onValues: () => {}, chunk: 0 })).toThrow(
      'ScalarHistory: option chunk should be a positive integer, got 0.',
    );
    const history = new ScalarHistory({ onValues: () => {} });
    const vector = tf.tensor1d([1, 2]);
    const engine = new Engine(() => vector);
    history.attach(engine);
    await expect(engine.run([0], { maxEpochs: 1 })).rejects.toThrow(
      'ScalarHistory: the value of iteration 1 should be a tf.Scalar or a number, got a float32 tensor of shape [2]. Pick one with option outputTransform, e.g. (output) => output.loss.',
    );
    vector.dispose();
    expect(() => history.attach(engine)).toThrow('already attached');
  });
});
