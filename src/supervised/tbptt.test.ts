import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Events } from '../engine';
import { createSupervisedTbpttTrainer, type RecurrentModelFn, TbpttEvents } from './tbptt';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const HIDDEN = 3;
const mse = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar;

/** A tiny Elman RNN as a function model, with its own variables (initial values fixed so twins start equal). */
function rnn(): { model: RecurrentModelFn; variables: tf.Variable[] } {
  const wx = tf.variable(tf.tensor2d([[0.5, -0.3, 0.2]]));
  const wh = tf.variable(
    tf.tensor2d([
      [0.1, 0.2, -0.1],
      [0.0, -0.2, 0.3],
      [0.2, 0.1, 0.1],
    ]),
  );
  const v = tf.variable(tf.tensor2d([[0.4], [-0.5], [0.3]]));
  const model: RecurrentModelFn = (xChunk, hidden) => {
    const [batch, steps] = xChunk.shape;
    let h = (hidden as tf.Tensor2D | null) ?? tf.zeros([batch, HIDDEN]);
    const outputs: tf.Tensor[] = [];
    for (const xt of tf.unstack(xChunk, 1)) {
      h = tf.tanh(tf.add(tf.matMul(xt as tf.Tensor2D, wx), tf.matMul(h, wh))) as tf.Tensor2D;
      outputs.push(tf.matMul(h, v));
    }
    expect(outputs.length).toBe(steps);
    return [tf.stack(outputs, 1), h];
  };
  return { model, variables: [wx, wh, v] };
}

/** Sequences [batch 2, time 7, 1]: y is x delayed by one step. */
function sequenceBatch(offset: number): [tf.Tensor3D, tf.Tensor3D] {
  const xs = [0, 1].map((b) => Array.from({ length: 7 }, (_, t) => [Math.sin(offset + b + t)]));
  const ys = xs.map((row) => [[0], ...row.slice(0, -1)]);
  return [tf.tensor3d(xs), tf.tensor3d(ys)];
}

describe('createSupervisedTbpttTrainer', () => {
  it('updates once per chunk, carrying the hidden state without gradients across chunks', async () => {
    const { model, variables } = rnn();
    const twin = rnn();
    const data = [sequenceBatch(0), sequenceBatch(1)];
    const trainer = createSupervisedTbpttTrainer(model, tf.train.sgd(0.2), mse, { tbpttStep: 3 });
    const chunkLosses: number[] = [];
    const means: number[] = [];
    trainer.on(TbpttEvents.TIME_ITERATION_COMPLETED, async (engine) => {
      chunkLosses.push((await engine.state.output!.data())[0]);
    });
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      means.push((await engine.state.output!.data())[0]);
    });
    await trainer.run(data);

    // The same procedure by hand: chunks of 3, 3, 1; one SGD step each; the state kept out of the next tape.
    const optimizer = tf.train.sgd(0.2);
    const expected: number[] = [];
    for (const [x, y] of data) {
      const xs = tf.split(x, [3, 3, 1], 1);
      const ys = tf.split(y, [3, 3, 1], 1);
      let hidden: tf.Tensor | null = null;
      for (let t = 0; t < 3; t++) {
        let next: tf.Tensor | null = null;
        const cost = optimizer.minimize(
          () => {
            const [yPred, h] = twin.model(xs[t], hidden);
            next = tf.keep(h as tf.Tensor);
            return mse(yPred, ys[t]);
          },
          true,
          twin.variables,
        );
        expected.push((await cost!.data())[0]);
        tf.dispose([cost!, ...(hidden ? [hidden] : [])]);
        hidden = next;
      }
      tf.dispose([...xs, ...ys, ...(hidden ? [hidden] : [])]);
    }
    expect(chunkLosses).toEqual(expected);
    expect(means[0]).toBeCloseTo((expected[0] + expected[1] + expected[2]) / 3, 6);
    expect(means[1]).toBeCloseTo((expected[3] + expected[4] + expected[5]) / 3, 6);
    for (let i = 0; i < variables.length; i++) {
      expect(Array.from(await variables[i].data())).toEqual(Array.from(await twin.variables[i].data()));
    }
    tf.dispose([...variables, ...twin.variables, ...data.flat()]);
  });

  it('fires the time events around each chunk and counts them in state.timeIteration', async () => {
    const { model, variables } = rnn();
    const data = [sequenceBatch(0), sequenceBatch(1)];
    const trainer = createSupervisedTbpttTrainer(model, tf.train.sgd(0.1), mse, { tbpttStep: 2 });
    const log: string[] = [];
    trainer.on(TbpttEvents.TIME_ITERATION_STARTED, (engine) => log.push(`s${engine.state.timeIteration}`));
    trainer.on(TbpttEvents.TIME_ITERATION_COMPLETED, (engine) => log.push(`c${engine.state.timeIteration}`));
    trainer.on(TbpttEvents.TIME_ITERATION_COMPLETED({ every: 3 }), () => log.push('every3'));
    trainer.on(Events.ITERATION_COMPLETED, (engine) => log.push(`it${engine.state.iteration}`));
    await trainer.run(data);
    // time 7, chunks of 2: 2 + 2 + 2 + 1 = 4 chunks per batch
    expect(log).toEqual([
      ...['s1', 'c1', 's2', 'c2', 's3', 'c3', 'every3', 's4', 'c4', 'it1'],
      ...['s5', 'c5', 's6', 'c6', 'every3', 's7', 'c7', 's8', 'c8', 'it2'],
    ]);
    await trainer.run(data); // a new run counts from 0 again
    expect(log.at(-1)).toBe('it2');
    expect(trainer.state.timeIteration).toBe(8);
    tf.dispose([...variables, ...data.flat()]);
  });

  it('leaks nothing over a multi-epoch run and disposes its output at the end', async () => {
    const { model, variables } = rnn();
    const data = [sequenceBatch(0), sequenceBatch(1)];
    const trainer = createSupervisedTbpttTrainer(model, tf.train.adam(0.01), mse, { tbpttStep: 3 });
    await trainer.run(data); // warm-up: Adam's slots
    const before = tf.memory().numTensors;
    const outputs: tf.Tensor[] = [];
    trainer.on(Events.ITERATION_COMPLETED, (engine) => outputs.push(engine.state.output!));
    const state = await trainer.run(data, { maxEpochs: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(state.output).toBeNull();
    expect(outputs.every((t) => t.isDisposed)).toBe(true);
    expect(data.flat().some((t) => t.isDisposed)).toBe(false);
    tf.dispose([...variables, ...data.flat()]);
  });

  it('splits along another time axis with dim', async () => {
    const { model, variables } = rnn();
    // [time 4, batch 2, 1] -> the model sees [batch, time, 1] after prepareBatch transposes... here dim=0 and the
    // model function transposes itself
    const x = tf.randomUniform([4, 2, 1], -1, 1, 'float32', 3);
    const y = tf.zeros([4, 2, 1]);
    const timeMajor: RecurrentModelFn = (xChunk, hidden) => {
      const [yPred, h] = model(tf.transpose(xChunk, [1, 0, 2]), hidden);
      return [tf.transpose(yPred as tf.Tensor, [1, 0, 2]), h];
    };
    const trainer = createSupervisedTbpttTrainer(timeMajor, tf.train.sgd(0.1), mse, { tbpttStep: 3, dim: 0 });
    let chunks = 0;
    trainer.on(TbpttEvents.TIME_ITERATION_COMPLETED, () => {
      chunks += 1;
    });
    await trainer.run([[x, y]]);
    expect(chunks).toBe(2);
    tf.dispose([...variables, x, y]);
  });

  it('drives a LayersModel with a stateful RNN, resetting its states at each batch', async () => {
    const model = tf.sequential({
      layers: [tf.layers.simpleRNN({ batchInputShape: [2, null, 1], units: 1, stateful: true, returnSequences: true })],
    });
    const data = [sequenceBatch(0), sequenceBatch(1)];
    const initial = Array.from(await model.getWeights()[0].data());
    const trainer = createSupervisedTbpttTrainer(model, tf.train.sgd(0.1), mse, { tbpttStep: 3 });
    let chunks = 0;
    trainer.on(TbpttEvents.TIME_ITERATION_COMPLETED, () => {
      chunks += 1;
    });
    await trainer.run(data);
    expect(chunks).toBe(6);
    expect(Array.from(await model.getWeights()[0].data())).not.toEqual(initial);
    const before = tf.memory().numTensors;
    await trainer.run(data, { maxEpochs: 3 });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(data.flat());
  });

  it('explains bad arguments and mismatched sequences', async () => {
    const { model, variables } = rnn();
    const sgd = tf.train.sgd(0.1);
    expect(() => createSupervisedTbpttTrainer(model, sgd, mse, { tbpttStep: 0 })).toThrow(RangeError);
    expect(() => createSupervisedTbpttTrainer(model, sgd, mse, { tbpttStep: 0 })).toThrow(
      /tbpttStep should be a positive integer, got 0/,
    );
    expect(() => createSupervisedTbpttTrainer(model, sgd, mse, { tbpttStep: 2, dim: -1 })).toThrow(/dim should be/);
    expect(() => createSupervisedTbpttTrainer(model, sgd, mse, undefined as any)).toThrow(/tbpttStep/);
    expect(() => createSupervisedTbpttTrainer(model, sgd, mse, { tbtt_step: 2 } as never)).toThrow(
      new TypeError(
        "createSupervisedTbpttTrainer: unknown option 'tbtt_step'. Did you mean 'tbpttStep'? Known options: tbpttStep, dim, prepareBatch.",
      ),
    );
    expect(() => createSupervisedTbpttTrainer(model, null as any, mse, { tbpttStep: 2 })).toThrow(/optimizer/);
    expect(() => createSupervisedTbpttTrainer(model, sgd, null as any, { tbpttStep: 2 })).toThrow(/lossFn/);
    const x = tf.zeros([2, 5, 1]);
    const y = tf.zeros([2, 4, 1]);
    const trainer = createSupervisedTbpttTrainer(model, sgd, mse, { tbpttStep: 2 });
    const before = tf.memory().numTensors;
    await expect(trainer.run([[x, y]])).rejects.toThrow(
      /same length along the time axis dim=1, got x \[2,5,1\] and y \[2,4,1\]/,
    );
    const badModel = createSupervisedTbpttTrainer(() => tf.zeros([2, 2, 1]) as any, sgd, mse, { tbpttStep: 2 });
    await expect(badModel.run([[x, x]])).rejects.toThrow(/should return \[yPred, hidden\]/);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...variables, x, y]);
  });
});
