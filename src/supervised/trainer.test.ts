import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { DeterministicEngine } from '../data';
import { Engine, Events } from '../engine';
import { createSupervisedTrainer } from './trainer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const crossEntropy = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;

/** Two models with the same architecture and the same initial weights. */
function twinModels(): [tf.LayersModel, tf.LayersModel] {
  const make = () =>
    tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 5, activation: 'relu' }), tf.layers.dense({ units: 3 })],
    });
  const a = make();
  const b = make();
  b.setWeights(a.getWeights());
  return [a, b];
}

function makeBatch(seed: number, n = 6): [tf.Tensor2D, tf.Tensor2D] {
  const x = tf.randomUniform([n, 4], -1, 1, 'float32', seed) as tf.Tensor2D;
  const labels = tf.tensor1d(
    Array.from({ length: n }, (_, i) => (i + seed) % 3),
    'int32',
  );
  const y = tf.oneHot(labels, 3).toFloat() as tf.Tensor2D;
  labels.dispose();
  return [x, y];
}

async function weightsOf(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));
}

const disposeAll = (batches: tf.Tensor[][]) => tf.dispose(batches.flat());

describe('createSupervisedTrainer: the update', () => {
  it('changes the weights exactly as hand-written minimize steps do (Adam, 3 steps)', async () => {
    const [model, twin] = twinModels();
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3)];
    const trainer = createSupervisedTrainer(model, tf.train.adam(0.05), crossEntropy);
    const losses: number[] = [];
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      losses.push((await engine.state.output!.data())[0]);
    });
    await trainer.run(batches, { maxEpochs: 1 });

    const optimizer = tf.train.adam(0.05);
    const expectedLosses: number[] = [];
    for (const [x, y] of batches) {
      const variables = twin.trainableWeights.map((w) => w.read() as tf.Variable);
      const cost = optimizer.minimize(
        () => crossEntropy(twin.apply(x, { training: true }) as tf.Tensor, y),
        true,
        variables,
      );
      expectedLosses.push((await cost!.data())[0]);
      cost!.dispose();
    }
    expect(losses).toEqual(expectedLosses);
    expect(await weightsOf(model)).toEqual(await weightsOf(twin));
    disposeAll(batches);
  });

  it('trains a function model: w - lr * grad of the mean squared error, computed by hand', async () => {
    // y = x . w, loss = mean((x.w - y)^2), grad = 2/n * X^T (Xw - y)
    const X = [
      [1, 2],
      [3, -1],
      [0.5, 4],
    ];
    const Y = [1, 0, 2];
    const w0 = [0.25, -0.5];
    const lr = 0.1;
    const w = tf.variable(tf.tensor2d(w0, [2, 1]));
    const model = (x: tf.Tensor) => tf.matMul(x as tf.Tensor2D, w);
    const mse = (yPred: tf.Tensor, y: tf.Tensor) => tf.mean(tf.square(tf.sub(yPred, y))) as tf.Scalar;
    const x = tf.tensor2d(X);
    const y = tf.tensor2d(Y, [3, 1]);
    const trainer = createSupervisedTrainer(model, tf.train.sgd(lr), mse);
    let loss = Number.NaN;
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      loss = (await engine.state.output!.data())[0];
    });
    await trainer.run([{ x, y }]);

    const residual = X.map((row, i) => row[0] * w0[0] + row[1] * w0[1] - Y[i]);
    const expectedLoss = residual.reduce((s, r) => s + r * r, 0) / 3;
    const grad = [0, 1].map((j) => (2 / 3) * X.reduce((s, row, i) => s + row[j] * residual[i], 0));
    const expected = w0.map((v, j) => v - lr * grad[j]);
    expect(loss).toBeCloseTo(expectedLoss, 6);
    const got = Array.from(await w.data());
    expect(got[0]).toBeCloseTo(expected[0], 6);
    expect(got[1]).toBeCloseTo(expected[1], 6);
    tf.dispose([w, x, y]);
  });

  it('uses prepareBatch and modelFn', async () => {
    const [model, twin] = twinModels();
    const [x, y] = makeBatch(4);
    const labels = tf.argMax(y, 1);
    const calls: string[] = [];
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.5), crossEntropy, {
      // a batch of { input, label } with integer labels: prepareBatch one-hot encodes them
      prepareBatch: (batch: { input: tf.Tensor; label: tf.Tensor }) => {
        calls.push('prepareBatch');
        return [batch.input, tf.oneHot(batch.label as tf.Tensor1D, 3).toFloat()];
      },
      modelFn: (m: tf.LayersModel, input: tf.Tensor) => {
        calls.push('modelFn');
        return m.apply(input, { training: true });
      },
    });
    const before = tf.memory().numTensors;
    await trainer.run([{ input: x, label: labels }]);
    expect(tf.memory().numTensors).toBe(before);
    expect(calls).toEqual(['prepareBatch', 'modelFn']);
    const optimizer = tf.train.sgd(0.5);
    optimizer.minimize(() => crossEntropy(twin.apply(x, { training: true }) as tf.Tensor, y));
    expect(await weightsOf(model)).toEqual(await weightsOf(twin));
    tf.dispose([x, y, labels]);
  });

  it('gradient accumulation over G=2 applies the mean gradient of the two batches once', async () => {
    const [model, twin] = twinModels();
    const initial = await weightsOf(model);
    const batches = [makeBatch(5), makeBatch(6)];
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.5), crossEntropy, { gradientAccumulationSteps: 2 });
    const afterFirst: Float32Array[][] = [];
    trainer.on(Events.ITERATION_COMPLETED({ once: 1 }), async () => {
      afterFirst.push(await weightsOf(model));
    });
    await trainer.run(batches);
    expect(afterFirst[0]).toEqual(initial);

    const variables = twin.trainableWeights.map((w) => w.read() as tf.Variable);
    const grads = batches.map(
      ([x, y]) =>
        tf.variableGrads(() => crossEntropy(twin.apply(x, { training: true }) as tf.Tensor, y), variables).grads,
    );
    const mean = Object.fromEntries(
      Object.keys(grads[0]).map((name) => [name, tf.div(tf.add(grads[0][name], grads[1][name]), 2)]),
    );
    tf.train.sgd(0.5).applyGradients(mean);
    const got = await weightsOf(model);
    const want = await weightsOf(twin);
    for (let i = 0; i < want.length; i++) {
      for (let j = 0; j < want[i].length; j++) expect(Math.abs(got[i][j] - want[i][j])).toBeLessThan(1e-6);
    }
    expect(got).not.toEqual(initial);
    tf.dispose([...grads.flatMap((g) => Object.values(g)), ...Object.values(mean)]);
    disposeAll(batches);
  });

  it('drops a partial accumulation at the end of the run without leaking', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3)];
    const trainer = createSupervisedTrainer(model, tf.train.adam(0.01), crossEntropy, { gradientAccumulationSteps: 2 });
    await trainer.run(batches); // warm-up: Adam creates its slots on the first update
    const before = tf.memory().numTensors;
    await trainer.run(batches, { maxEpochs: 3 }); // 9 iterations: 4 updates and one gradient left over
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(batches);
  });
});

describe('createSupervisedTrainer: gradient accumulation across runs', () => {
  it("a failed run leaves no partial sum: no tensor kept, and the next run's first update has no stale gradients", async () => {
    const [model, twin] = twinModels();
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3), makeBatch(4)];
    let calls = 0;
    const failingAtCall3 = (yPred: tf.Tensor, y: tf.Tensor) => {
      calls += 1;
      if (calls === 3) throw new Error('lossFn failed');
      return crossEntropy(yPred, y);
    };
    const options = { gradientAccumulationSteps: 4 };
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.5), failingAtCall3, options);
    const freshTrainer = createSupervisedTrainer(twin, tf.train.sgd(0.5), crossEntropy, options);
    const before = tf.memory().numTensors;
    await expect(trainer.run(batches)).rejects.toThrow('lossFn failed');
    expect(tf.memory().numTensors).toBe(before); // the sums of iterations 1 and 2 are gone with the run

    // The next run (a new one: the failed run had reached maxEpochs 1) updates at iteration 4 with the mean gradient
    // of its own 4 batches only, as a fresh trainer on a twin of the model does.
    await trainer.run(batches);
    await freshTrainer.run(batches);
    expect(await weightsOf(model)).toEqual(await weightsOf(twin));
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(batches);
  });

  it('a new run after terminate() mid-window starts from an empty sum; an interrupted run goes on with its own', async () => {
    const [model, twin] = twinModels();
    const [reference] = twinModels();
    reference.setWeights(model.getWeights());
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3), makeBatch(4)];
    const options = { gradientAccumulationSteps: 2 };
    // Interrupted after iteration 3 (mid-window) and resumed: the same weights as straight through.
    const interrupted = createSupervisedTrainer(model, tf.train.sgd(0.5), crossEntropy, options);
    interrupted.on(Events.ITERATION_COMPLETED({ once: 3 }), (e) => e.interrupt());
    await interrupted.run(batches);
    await interrupted.run(batches);
    expect(interrupted.state.iteration).toBe(4);
    await createSupervisedTrainer(reference, tf.train.sgd(0.5), crossEntropy, options).run(batches);
    expect(await weightsOf(model)).toEqual(await weightsOf(reference));

    // Terminated after iteration 1 (mid-window), then a new run: its first update holds its own 2 batches only.
    const terminated = createSupervisedTrainer(twin, tf.train.sgd(0.5), crossEntropy, options);
    const stop = terminated.on(Events.ITERATION_COMPLETED({ once: 1 }), (e) => e.terminate());
    await terminated.run(batches.slice(2));
    stop.remove();
    const [fresh] = twinModels();
    fresh.setWeights(twin.getWeights());
    terminated.state.maxEpochs = null; // start over
    await terminated.run(batches.slice(0, 2));
    await createSupervisedTrainer(fresh, tf.train.sgd(0.5), crossEntropy, options).run(batches.slice(0, 2));
    expect(await weightsOf(twin)).toEqual(await weightsOf(fresh));
    disposeAll(batches);
  });
});

describe('createSupervisedTrainer: saving state with gradient accumulation', () => {
  it('refuses a state dict inside an accumulation window and allows one at its boundary', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3), makeBatch(4)];
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.1), crossEntropy, { gradientAccumulationSteps: 2 });
    const saved: Array<number | string> = [];
    trainer.on(Events.ITERATION_COMPLETED, (engine) => {
      try {
        saved.push((engine.stateDict() as { iteration: number }).iteration);
      } catch (error) {
        saved.push((error as Error).message.includes('inside a gradient accumulation window') ? 'refused' : 'other');
      }
    });
    await trainer.run(batches);
    expect(saved).toEqual(['refused', 2, 'refused', 4]);
    disposeAll(batches);
  });
});

describe('createSupervisedTrainer: the output lifetime', () => {
  it('is a scalar readable in ITERATION_COMPLETED, disposed when the next step starts and after the run', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1), makeBatch(2)];
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.1), crossEntropy);
    const outputs: tf.Tensor[] = [];
    const log: string[] = [];
    trainer.on(Events.ITERATION_STARTED, (engine) => {
      // the previous output is still alive until the process function runs
      if (outputs.length > 0)
        log.push(`started ${engine.state.iteration}: previous disposed=${outputs.at(-1)!.isDisposed}`);
    });
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      const output = engine.state.output!;
      log.push(
        `completed ${engine.state.iteration}: rank=${output.rank} finite=${Number.isFinite((await output.data())[0])}`,
      );
      if (outputs.length > 0) log.push(`previous disposed=${outputs.at(-1)!.isDisposed}`);
      outputs.push(output);
    });
    let atCompleted = '';
    trainer.on(Events.COMPLETED, (engine) => {
      atCompleted = `output alive=${engine.state.output !== null && !engine.state.output.isDisposed}`;
    });
    const state = await trainer.run(batches);
    expect(log).toEqual([
      'completed 1: rank=0 finite=true',
      'started 2: previous disposed=false',
      'completed 2: rank=0 finite=true',
      'previous disposed=true',
    ]);
    expect(atCompleted).toBe('output alive=true');
    expect(state.output).toBeNull();
    expect(outputs.every((t) => t.isDisposed)).toBe(true);
    disposeAll(batches);
  });

  it('leaks nothing over a multi-epoch run, and never disposes the batch tensors', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3)];
    const trainer = createSupervisedTrainer(model, tf.train.adam(0.01), crossEntropy);
    await trainer.run(batches);
    const before = tf.memory().numTensors;
    await trainer.run(batches, { maxEpochs: 4 });
    expect(tf.memory().numTensors).toBe(before);
    expect(batches.flat().some((t) => t.isDisposed)).toBe(false);
    disposeAll(batches);
  });

  it('hands out clones of batch tensors that outputTransform returns, and disposes the rest', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1), makeBatch(2)];
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.1), crossEntropy, {
      outputTransform: (_x, y, yPred, loss) => ({ loss, yPred, y }),
    });
    await trainer.run(batches);
    const before = tf.memory().numTensors;
    const seen: boolean[] = [];
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      const { y, yPred } = engine.state.output!;
      const batchY = (engine.state.batch as tf.Tensor[])[1];
      seen.push(y !== batchY);
      expect(Array.from(await y.data())).toEqual(Array.from(await batchY.data()));
      expect(yPred.shape).toEqual([6, 3]);
    });
    await trainer.run(batches, { maxEpochs: 3 });
    expect(seen).toEqual([true, true, true, true]); // epochs 2 and 3: the run goes on from the first one
    expect(tf.memory().numTensors).toBe(before);
    expect(batches.flat().some((t) => t.isDisposed)).toBe(false);
    disposeAll(batches);
  });

  it('is disposed at TERMINATE when COMPLETED is skipped, and kept for COMPLETED handlers otherwise', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1), makeBatch(2), makeBatch(3)];
    for (const skipCompleted of [false, true]) {
      const trainer = createSupervisedTrainer(model, tf.train.sgd(0.1), crossEntropy);
      const seen: string[] = [];
      trainer.on(Events.ITERATION_COMPLETED({ once: 2 }), (engine) => engine.terminate(skipCompleted));
      trainer.on(Events.TERMINATE, (engine) => seen.push(`terminate: ${engine.state.output !== null}`));
      trainer.on(Events.COMPLETED, (engine) => seen.push(`completed: ${engine.state.output !== null}`));
      const before = tf.memory().numTensors;
      const state = await trainer.run(batches, { maxEpochs: 2 });
      expect(seen).toEqual(skipCompleted ? ['terminate: true'] : ['terminate: true', 'completed: true']);
      expect(state.output).toBeNull();
      expect(tf.memory().numTensors).toBe(before);
    }
    disposeAll(batches);
  });

  it('disposes what a failing step created: a lossFn returning a non-scalar', async () => {
    const [model] = twinModels();
    const batches = [makeBatch(1)];
    const bad = (yPred: tf.Tensor, y: tf.Tensor) => tf.sub(yPred, y) as unknown as tf.Scalar;
    const trainer = createSupervisedTrainer(model, tf.train.sgd(0.1), bad);
    const good = createSupervisedTrainer(model, tf.train.sgd(0.1), crossEntropy);
    const before = tf.memory().numTensors;
    await expect(trainer.run(batches)).rejects.toThrow(
      /lossFn\(yPred, y\) should return a scalar tensor, got a tensor of shape \[6,3\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    // training goes on normally afterwards
    await good.run(batches);
    expect(tf.memory().numTensors).toBe(before);
    disposeAll(batches);
  });
});

describe('createSupervisedTrainer: arguments', () => {
  const [model] = twinModels();
  const sgd = tf.train.sgd(0.1);

  it('rejects a missing optimizer, a lossFn that is not a function, a bad model, bad options', () => {
    expect(() => createSupervisedTrainer(model, undefined as any, crossEntropy)).toThrow(TypeError);
    expect(() => createSupervisedTrainer(model, undefined as any, crossEntropy)).toThrow(
      /argument optimizer should be a tf\.Optimizer.*got undefined/,
    );
    expect(() => createSupervisedTrainer(model, sgd, 'mse' as any)).toThrow(TypeError);
    expect(() => createSupervisedTrainer(model, sgd, 'mse' as any)).toThrow(
      /argument lossFn should be a function.*got 'mse'/,
    );
    expect(() => createSupervisedTrainer(42 as any, sgd, crossEntropy)).toThrow(
      /argument model should be a tf\.LayersModel/,
    );
    expect(() => createSupervisedTrainer(model, sgd, crossEntropy, { gradientAccumulationSteps: 0 })).toThrow(
      RangeError,
    );
    expect(() => createSupervisedTrainer(model, sgd, crossEntropy, { gradientAccumulationSteps: 1.5 })).toThrow(
      /gradientAccumulationSteps should be a positive integer, got 1\.5/,
    );
    expect(() => createSupervisedTrainer(model, sgd, crossEntropy, { prepareBatch: 3 as any })).toThrow(
      /argument prepareBatch should be a function/,
    );
    expect(() => createSupervisedTrainer(model, sgd, crossEntropy, { deterministic: 'yes' as any })).toThrow(TypeError);
  });

  it('rejects unknown options: a typo names the option meant, an Ignite-only one says what to do instead', () => {
    expect(() =>
      createSupervisedTrainer(model, sgd, crossEntropy, { gradient_accumulation_steps: 4 } as never),
    ).toThrow(
      new TypeError(
        "createSupervisedTrainer: unknown option 'gradient_accumulation_steps'. Did you mean 'gradientAccumulationSteps'? " +
          'Known options: prepareBatch, modelFn, outputTransform, gradientAccumulationSteps, deterministic.',
      ),
    );
    expect(() => createSupervisedTrainer(model, sgd, crossEntropy, { device: 'cuda' } as never)).toThrow(
      /^createSupervisedTrainer: unknown option 'device'\. kindling runs on the current tfjs backend: choose it with selectBackend\(\)/,
    );
    expect(() => createSupervisedTrainer(model, sgd, crossEntropy, 'adam' as never)).toThrow(
      /^createSupervisedTrainer: argument options should be an object with some of the keys prepareBatch, .*got 'adam'\.$/,
    );
  });

  it('explains a batch that is neither [x, y] nor { x, y }', async () => {
    const x = tf.zeros([2, 4]);
    const trainer = createSupervisedTrainer(model, sgd, crossEntropy);
    await expect(trainer.run([x])).rejects.toThrow(
      /\[x, y\] or \{ x, y \}, got a tensor of shape \[2,4\].*prepareBatch/,
    );
    x.dispose();
  });

  it('types state.output from outputTransform', () => {
    const plain = createSupervisedTrainer(model, sgd, crossEntropy);
    expectTypeOf(plain.state.output).toEqualTypeOf<tf.Scalar | null>();
    const custom = createSupervisedTrainer(model, sgd, crossEntropy, {
      outputTransform: (_x, _y, yPred: tf.Tensor, loss) => ({ loss, yPred }),
    });
    expectTypeOf(custom.state.output).toEqualTypeOf<{ loss: tf.Scalar; yPred: tf.Tensor } | null>();
  });

  it('returns an Engine, or a DeterministicEngine with deterministic: true', () => {
    expect(createSupervisedTrainer(model, sgd, crossEntropy)).toBeInstanceOf(Engine);
    expect(createSupervisedTrainer(model, sgd, crossEntropy)).not.toBeInstanceOf(DeterministicEngine);
    expect(createSupervisedTrainer(model, sgd, crossEntropy, { deterministic: true })).toBeInstanceOf(
      DeterministicEngine,
    );
  });
});
