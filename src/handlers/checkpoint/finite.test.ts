// Checkpoint's NaN guard with TerminateOnNan: a checkpoint every iteration, nSaved 1. TerminateOnNan reads the loss
// without blocking the step, so it stops the run one iteration after the NaN; the checkpoints of the NaN iterations
// must not replace the last finite one, with background saves too (the guard then reads its flags in the background,
// on the state of the checkpoint's own iteration).
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events, type Logger, setLogger } from '../../engine';
import { MemorySaver } from '../../storage';
import { createSupervisedTrainer } from '../../supervised';
import { TerminateOnNan } from '../terminate-on-nan';
import { Checkpoint, resumeOrStart } from '.';

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
const captureWarnings = () => {
  restoreLogger = setLogger({ debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} });
};

const model = (seed: number, useBias = true) =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        inputShape: [2],
        units: 1,
        useBias,
        name: 'linear',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
    ],
  });
const mse = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar;
const weightsOf = async (m: tf.LayersModel) => Promise.all(m.getWeights().map(async (w) => Array.from(await w.data())));

/** Batches `[x, y]`; the one at `nanAt` (1-based) holds a NaN input, so that iteration's loss and update are NaN. */
function batches(count: number, nanAt: number) {
  return Array.from({ length: count }, (_, k) => [
    tf.tensor2d([[k + 1 === nanAt ? Number.NaN : 0.5 + k, -0.25 * k]]),
    tf.tensor2d([[1 - 0.1 * k]]),
  ]);
}

describe('Checkpoint never saves a NaN state (with TerminateOnNan, every iteration, nSaved 1)', () => {
  it.each([
    ['TerminateOnNan added before the Checkpoint', true, false],
    ['the Checkpoint added before TerminateOnNan', false, false],
    ['background saves (async), TerminateOnNan first', true, true],
    ['background saves (async), the Checkpoint first', false, true],
  ])('%s: the one checkpoint kept is the last finite state, and it resumes', async (_, nanFirst, async) => {
    captureWarnings();
    const data = batches(6, 4);
    const net = model(1);
    const optimizer = tf.train.sgd(0.05);
    const trainer = createSupervisedTrainer(net, optimizer, mse);
    const saver = new MemorySaver();
    const checkpoint = new Checkpoint({ trainer, model: net, optimizer }, saver, {
      nSaved: 1,
      includeSelf: true,
      async,
    });
    const weightsAt: Record<number, number[][]> = {};
    trainer.on(Events.ITERATION_COMPLETED, async (e) => {
      weightsAt[e.state.iteration] = await weightsOf(net);
    });
    if (nanFirst) trainer.on(Events.ITERATION_COMPLETED, new TerminateOnNan());
    trainer.on(Events.ITERATION_COMPLETED, checkpoint);
    if (!nanFirst) trainer.on(Events.ITERATION_COMPLETED, new TerminateOnNan());
    const before = tf.memory().numTensors;
    await trainer.run(data, { maxEpochs: 2 });

    expect(trainer.state.iteration).toBe(5); // TerminateOnNan's documented lag: one iteration
    expect(weightsAt[4]!.flat().every(Number.isNaN)).toBe(true);
    expect(await saver.list()).toEqual(['checkpoint_3.ckpt']);
    expect(warnings.filter((w) => w.startsWith('Checkpoint:'))).toEqual(
      [4, 5].map(
        (i) =>
          `Checkpoint: no checkpoint saved at iteration ${i}: NaN or Inf in the engine's output (state.output) at iteration ${i}. The last finite checkpoint is kept: checkpoint_3.ckpt.`,
      ),
    );
    expect(tf.memory().numTensors).toBe(before); // the guard's checks leave nothing behind

    // The kept checkpoint is the state after iteration 3: finite, and training resumes from it.
    const again = model(2);
    const againOptimizer = tf.train.sgd(0.05);
    const resumed = createSupervisedTrainer(again, againOptimizer, mse);
    const info = await resumeOrStart({ saver, toLoad: { trainer: resumed, model: again, optimizer: againOptimizer } });
    expect(info).toMatchObject({ resumed: true, iteration: 3, name: 'checkpoint_3.ckpt' });
    expect(await weightsOf(again)).toEqual(weightsAt[3]);
    expect(weightsAt[3]!.flat().every(Number.isFinite)).toBe(true);
    tf.dispose(data.flat());
    for (const m of [net, again]) m.dispose();
  });

  it.each([
    ['foreground', false],
    ['background (async: the weights checked on the host once read back)', true],
  ])('also refuses a finite loss whose update made the weights NaN, naming the model (%s)', async (_, async) => {
    captureWarnings();
    // sqrt(|yPred - y|) has a NaN gradient where yPred === y: a loss of 0, weights NaN after the update.
    const rootLoss = (yPred: tf.Tensor, y: tf.Tensor) => tf.mean(tf.sqrt(tf.abs(tf.sub(yPred, y)))) as tf.Scalar;
    const net = model(3, false);
    const trainer = createSupervisedTrainer(net, tf.train.sgd(0.01), rootLoss);
    const saver = new MemorySaver();
    trainer.on(Events.ITERATION_COMPLETED, new Checkpoint({ model: net }, saver, { async }));
    const data = [
      [tf.tensor2d([[1, 2]]), tf.tensor2d([[5]])],
      [tf.tensor2d([[0, 0]]), tf.tensor2d([[0]])],
    ];
    const losses: number[] = [];
    trainer.on(Events.ITERATION_COMPLETED, async (e) => {
      losses.push((await (e.state.output as tf.Scalar).data())[0]!);
    });
    await trainer.run(data);
    expect(losses[1]).toBe(0);
    expect((await weightsOf(net)).flat().every(Number.isNaN)).toBe(true);
    expect(await saver.list()).toEqual(['model_1.ckpt']);
    expect(warnings).toEqual([
      "Checkpoint: no checkpoint saved at iteration 2: NaN or Inf in the weights of model 'model'. The last finite checkpoint is kept: model_1.ckpt.",
    ]);
    tf.dispose(data.flat());
    net.dispose();
  });

  it('refuses a NaN number output of a plain Engine; saves again once the output is finite', async () => {
    captureWarnings();
    const outputs = [1, Number.NaN, Number.POSITIVE_INFINITY, 4];
    const engine = new Engine((e) => outputs[e.state.iteration - 1]);
    const saver = new MemorySaver();
    const counter = { n: 0, stateDict: () => ({ n: counter.n }), loadStateDict: () => {} };
    engine.on(Events.ITERATION_COMPLETED, new Checkpoint({ counter }, saver, { nSaved: null }));
    await engine.run([0, 0, 0, 0]);
    expect(await saver.list()).toEqual(['counter_1.ckpt', 'counter_4.ckpt']);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^Checkpoint: no checkpoint saved at iteration 2: NaN or Inf in the engine's output/);
  });
});
