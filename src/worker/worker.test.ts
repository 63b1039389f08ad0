// kindling/worker over a real MessageChannel (structured clone, Comlink on both ends) in one Node process: the
// Worker's side is a TrainingServer exposed on one port, the page's side trainInWorker on the other. Real Workers,
// WebGPU and reloads are tested in Chromium (e2e/headline.spec.ts).

import * as tf from '@tensorflow/tfjs';
import * as Comlink from 'comlink';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChartRecorder } from '../browser/chart-recorder';
import { createGenerator, DataLoader, manualSeed, TensorDataset } from '../data';
import { defineEvents, type Engine, Events, type Stateful } from '../engine';
import { setupResumableTraining } from '../handlers';
import { Accuracy } from '../metrics';
import { MemorySaver } from '../storage';
import { createSupervisedEvaluator, createSupervisedTrainer } from '../supervised';
import { TrainingServer, type TrainingSetup, trainHere, trainInWorker } from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
  // Both ends share this one Node thread: the Comlink ports' messages get their turn because EventLoopYielder yields
  // with setImmediate in Node (see src/internal/yield.ts), as a browser runs each message as a task of its own.
});

const ports: MessagePort[] = [];
afterAll(() => {
  for (const port of ports) port.close();
});

const savers = new Map<string, MemorySaver>();
const Custom = defineEvents({ NOTE: 'note' });

interface Options {
  store: string;
  epochs: number;
  fail?: boolean;
  /** Terminate the run (in the Worker) at this iteration, as a closed tab would stop it. */
  stopAt?: number;
}

/** The recipe under test: a small classifier, an evaluator, checkpoints of everything with the page's shared state. */
async function recipe(
  options: Options,
  shared: Record<string, Stateful>,
): Promise<TrainingSetup<{ double: (n: number) => number; weights: () => Promise<number[]> }>> {
  manualSeed(3);
  const generator = createGenerator(9, 1);
  const xs = new Float32Array(48 * 4).map(() => generator.next() * 2 - 1);
  const labels = Int32Array.from({ length: 48 }, (_, r) => (xs[r * 4]! + xs[r * 4 + 1]! > 0 ? 1 : 0));
  const x = tf.tensor2d(xs, [48, 4]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 2).toFloat());
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 6, activation: 'relu', name: 'h' }),
      tf.layers.dense({ units: 2, name: 'o' }),
    ],
  });
  const optimizer = tf.train.adam(0.05);
  const lossFn = (p: tf.Tensor, t: tf.Tensor) => tf.losses.softmaxCrossEntropy(t, p) as tf.Scalar;
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, { deterministic: true });
  trainer.registerEvents([Custom.NOTE]);
  const data = new TensorDataset(x, y);
  const accuracy = new Accuracy();
  const evaluator = createSupervisedEvaluator(model, { metrics: { accuracy } });
  trainer.on(Events.EPOCH_COMPLETED, async () => {
    await evaluator.run(new DataLoader(data, { batchSize: 48 }));
  });
  trainer.on(Events.ITERATION_STARTED, (e) => {
    e.state.lr = 0.05 / e.state.iteration;
    if (options.fail && e.state.iteration === 4) throw new Error('recipe failure at iteration 4');
  });
  if (options.stopAt) trainer.on(Events.ITERATION_COMPLETED({ once: options.stopAt }), (e) => e.terminate());
  trainer.on(Events.ITERATION_COMPLETED({ every: 5 }), async (e) => {
    await e.fireEvent(Custom.NOTE);
  });
  let saver = savers.get(options.store);
  if (!saver) {
    saver = new MemorySaver();
    savers.set(options.store, saver);
  }
  const training = await setupResumableTraining(trainer, {
    saver,
    toSave: { model, optimizer, ...shared },
    saveEveryIters: 3,
  });
  const loader = new DataLoader(data, { batchSize: 8, shuffle: true });
  return {
    trainer,
    engines: { evaluator },
    report: training.report,
    run: () => training.run(loader, { maxEpochs: options.epochs }),
    actions: {
      double: (n: number) => n * 2,
      weights: async () => Array.from(await model.getWeights()[0]!.data()),
    },
    dispose: () => {
      tf.dispose([x, y]);
      model.dispose();
      optimizer.dispose();
      accuracy.reset();
    },
  };
}

/** A "Worker" on a MessageChannel: the server exposed on one port, the other port standing in for the Worker object. */
function channel(): Worker {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  Comlink.expose(new TrainingServer(recipe), port2 as never);
  return Object.assign(port1, { terminate: () => port1.close() }) as unknown as Worker;
}

/** The page's record of the trainer: loss per iteration (from the mirror's output), epochs and evaluator accuracy. */
function watch(trainer: Engine<any, any>, evaluator: Engine<any, any>) {
  const seen = {
    losses: {} as Record<number, number>,
    epochs: [] as Array<{ epoch: number; accuracy: number }>,
    every2: [] as number[],
  };
  trainer.on(Events.ITERATION_COMPLETED, (e) => {
    const output = e.state.output;
    seen.losses[e.state.iteration] = typeof output === 'number' ? output : Number.NaN;
  });
  trainer.on(Events.ITERATION_COMPLETED({ every: 2 }), (e) => {
    seen.every2.push(e.state.iteration);
  });
  trainer.on(Events.EPOCH_COMPLETED, (e) => {
    seen.epochs.push({ epoch: e.state.epoch, accuracy: evaluator.state.metrics.accuracy });
  });
  return seen;
}

describe('kindling/worker', () => {
  it("a Worker's trainer, seen through mirrors, gives the page the same numbers as training on the page", async () => {
    // On the page's thread: real engines, outputs read as numbers by the page's own handler.
    const here = await trainHere(recipe, { store: 'here', epochs: 2 });
    const pageLosses: Record<number, number> = {};
    here.trainer.on(Events.ITERATION_COMPLETED, async (e) => {
      pageLosses[e.state.iteration] = (await (e.state.output as tf.Scalar).data())[0]!;
    });
    const hereEpochs: number[] = [];
    here.trainer.on(Events.EPOCH_COMPLETED, () => hereEpochs.push(here.engines.evaluator!.state.metrics.accuracy));
    expect(await here.run()).toEqual({ end: 'completed', iteration: 12, epoch: 2 });
    await here.close();

    const training = await trainInWorker(channel(), { store: 'worker', epochs: 2 } satisfies Options);
    expect(training.where).toBe('worker');
    expect(training.report).toMatchObject({ resumed: false, iteration: 0 });
    const seen = watch(training.trainer, training.engines.evaluator!);
    const lrs: number[] = [];
    training.trainer.on(Events.ITERATION_COMPLETED, (e) => lrs.push(e.state.lr));
    expect(await training.run()).toEqual({ end: 'completed', iteration: 12, epoch: 2 });
    expect(seen.losses).toEqual(pageLosses);
    expect(seen.every2).toEqual([2, 4, 6, 8, 10, 12]);
    expect(seen.epochs.map((e) => e.accuracy)).toEqual(hereEpochs);
    expect(lrs).toEqual(Array.from({ length: 12 }, (_, i) => 0.05 / (i + 1)));
    expect(training.trainer.state).toMatchObject({ iteration: 12, epoch: 2, epochLength: 6, maxEpochs: 2 });
    expect(await training.actions.double(21)).toBe(42);
    await training.close();
  });

  it('pause, resume and stop act on the Worker; a paused run resumes at the same iteration', async () => {
    // 600 iterations: the page's pause reaches the Worker (a few iterations past what the page has seen) mid-run.
    const training = await trainInWorker(channel(), { store: 'pause', epochs: 100 } satisfies Options);
    const seen = watch(training.trainer, training.engines.evaluator!);
    training.trainer.on(Events.ITERATION_COMPLETED({ once: 5 }), () => {
      void training.pause();
    });
    const paused = await training.run();
    expect(paused.end).toBe('interrupted');
    expect(paused.iteration).toBeGreaterThanOrEqual(5);
    expect(paused.iteration).toBeLessThan(600);
    expect(training.isRunning).toBe(false);
    expect(Math.max(...Object.keys(seen.losses).map(Number))).toBe(paused.iteration); // every event reached the page
    const stopAt = paused.iteration + 10;
    training.trainer.on(Events.ITERATION_COMPLETED({ once: stopAt }), () => {
      void training.stop();
    });
    const stopped = await training.resume();
    expect(stopped.end).toBe('terminated');
    expect(stopped.iteration).toBeGreaterThanOrEqual(stopAt);
    expect(stopped.iteration).toBeLessThan(600);
    expect(Object.keys(seen.losses).map(Number)).toEqual(Array.from({ length: stopped.iteration }, (_, i) => i + 1));
    await training.close();
  });

  it("the recipe checkpoints the page's shared state; a new Worker resumes it with the history at the checkpoint", async () => {
    const makeCharts = () =>
      new ChartRecorder(
        'LiveCharts',
        { loss: { smoothing: 0.5, outputTransform: (o) => o }, metrics: null, learningRate: null },
        () => {},
        () => () => {},
      );
    const straight = await trainInWorker(channel(), { store: 'straight', epochs: 3 } satisfies Options, {
      shared: { charts: makeCharts() },
    });
    const straightCharts = makeCharts();
    straightCharts.attach(straight.trainer);
    await straight.run();
    await straightCharts.settle();
    await straight.close();

    const charts = makeCharts();
    const first = await trainInWorker(channel(), { store: 'resume', epochs: 3, stopAt: 11 } satisfies Options, {
      shared: { charts },
    });
    charts.attach(first.trainer);
    expect((await first.run()).end).toBe('terminated');
    await first.close();

    const again = makeCharts();
    const second = await trainInWorker(channel(), { store: 'resume', epochs: 3 } satisfies Options, {
      shared: { charts: again },
    });
    expect(second.report).toMatchObject({ resumed: true, iteration: 9, name: 'checkpoint_9.ckpt' });
    // Loaded from the checkpoint before any event: the history up to iteration 9, no more, no less.
    expect(again.feed.series.loss!.x).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    again.attach(second.trainer);
    await second.run();
    await again.settle();
    expect(again.feed.series).toEqual(straightCharts.feed.series);
    expect(again.average).toBe(straightCharts.average);
    await second.close();
  });

  it('says what went wrong: the run, custom events, EXCEPTION_RAISED, run() on a mirror, unknown actions', async () => {
    const failing = await trainInWorker(channel(), { store: 'fail', epochs: 1, fail: true } satisfies Options);
    await expect(failing.run()).rejects.toThrow('recipe failure at iteration 4');
    await failing.close();

    const training = await trainInWorker(channel(), { store: 'errors', epochs: 1 } satisfies Options);
    expect(() => training.trainer.on(Events.EXCEPTION_RAISED, () => {})).toThrow(
      'EngineMirror.on: EXCEPTION_RAISED is not forwarded from the Worker',
    );
    await expect(training.trainer.run([1])).rejects.toThrow(
      'EngineMirror.run: the trainer runs in the Worker; call training.run() (from trainInWorker) to run it there.',
    );
    expect(() => training.trainer.loadStateDict({})).toThrow(
      "EngineMirror.loadStateDict: the trainer's state lives in the Worker",
    );
    await expect((training.actions as any).nope).toBeUndefined();
    const Other = defineEvents({ ELSEWHERE: 'elsewhere' });
    training.trainer.registerEvents([Other.ELSEWHERE]);
    training.trainer.on(Other.ELSEWHERE, () => {});
    await expect(training.run()).rejects.toThrow("EngineMirror.on: the trainer in the Worker has no event 'elsewhere'");
    await training.close();

    const custom = await trainInWorker(channel(), { store: 'custom', epochs: 1 } satisfies Options);
    custom.trainer.registerEvents([Custom.NOTE]);
    const notes: number[] = [];
    custom.trainer.on(Custom.NOTE, (e) => notes.push(e.state.iteration));
    await custom.run();
    expect(notes).toEqual([5]);
    await custom.close();
  });

  it('leaves no tensors behind once closed', async () => {
    const once = async () => {
      const training = await trainInWorker(channel(), { store: `leak-${Math.random()}`, epochs: 1 } satisfies Options);
      watch(training.trainer, training.engines.evaluator!);
      await training.run();
      await training.close();
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
  });
});
