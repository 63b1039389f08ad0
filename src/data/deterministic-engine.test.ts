import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { DataLoader } from './data-loader';
import { DeterministicEngine } from './deterministic-engine';
import { getRandomState, keepRandomState, manualSeed } from './random';
import { TensorDataset } from './tensor-dataset';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

interface RunSpec {
  /** Fresh data for each run (resumed runs get new objects, as after a page reload). */
  makeData: () => Iterable<unknown> | AsyncIterable<unknown>;
  options: { maxEpochs?: number; maxIters?: number; epochLength?: number };
}

/** Each iteration's record: the batch and a Math.random draw made by the process function (think dropout). */
type Step = [iteration: number, batch: unknown, draw: number];

function makeEngine(steps: Step[]) {
  const engine = new DeterministicEngine((e, batch: unknown) => {
    steps.push([e.state.iteration, batch, Math.random()]);
  });
  // A handler between batches that draws too: its draws must also continue identically.
  engine.on(Events.GET_BATCH_STARTED, () => {
    Math.random();
  });
  return engine;
}

/** Runs once, saving a JSON copy of the state dict at STARTED and after every iteration. */
async function original(spec: RunSpec) {
  const steps: Step[] = [];
  const saved: Record<string, unknown>[] = [];
  const engine = makeEngine(steps);
  const save = (e: DeterministicEngine<unknown, void>) => saved.push(JSON.parse(JSON.stringify(e.stateDict())));
  engine.on(Events.STARTED, save);
  engine.on(Events.ITERATION_COMPLETED, save);
  manualSeed(2024);
  await engine.run(spec.makeData() as Iterable<unknown>, spec.options);
  return { steps, saved };
}

async function resumed(spec: RunSpec, stateDict: Record<string, unknown>) {
  manualSeed(999); // whatever the new page's state: the state dict decides
  Math.random();
  const steps: Step[] = [];
  const engine = makeEngine(steps);
  engine.loadStateDict(stateDict);
  await engine.run(spec.makeData() as Iterable<unknown>, spec.options);
  return steps;
}

async function expectResumesIdentically(spec: RunSpec, total: number, firstResumable = 0) {
  const { steps, saved } = await original(spec);
  expect(steps).toHaveLength(total);
  expect(saved).toHaveLength(total + 1);
  // resume from every iteration: start, mid-epoch, epoch boundaries, the last one
  for (let i = firstResumable; i < total; i++) {
    expect(saved[i].iteration).toBe(i);
    expect(await resumed(spec, saved[i]), `resumed at iteration ${i}`).toEqual(steps.slice(i));
  }
  return steps;
}

describe('DeterministicEngine resumes identically', () => {
  it('over a plain array (no shuffling)', async () => {
    const steps = await expectResumesIdentically({ makeData: () => range(5), options: { maxEpochs: 3 } }, 15);
    expect(steps.map((s) => s[1])).toEqual([...range(5), ...range(5), ...range(5)]);
  });

  it('over a shuffled DataLoader with a partial last batch', async () => {
    const spec: RunSpec = {
      makeData: () => new DataLoader(range(11), { batchSize: 3, shuffle: true }),
      options: { maxEpochs: 3 },
    };
    const steps = await expectResumesIdentically(spec, 12);
    const epochs = [0, 4, 8].map((k) => steps.slice(k, k + 4).flatMap((s) => s[1] as number[]));
    for (const e of epochs) expect([...e].sort((a, b) => a - b)).toEqual(range(11));
    expect(epochs[0]).not.toEqual(epochs[1]);
  });

  it('over a shuffled DataLoader with epochLength shorter than a pass (data streams across epochs)', async () => {
    const spec: RunSpec = {
      makeData: () => new DataLoader(range(12), { batchSize: 2, shuffle: true }),
      options: { maxEpochs: 4, epochLength: 4 },
    };
    await expectResumesIdentically(spec, 16);
  });

  it('in maxIters mode', async () => {
    const spec: RunSpec = {
      makeData: () => new DataLoader(range(7), { batchSize: 2, shuffle: true, dropLast: true }),
      options: { maxIters: 10 },
    };
    await expectResumesIdentically(spec, 10);
  });

  it('over an async DataLoader whose get draws from Math.random (augmentation)', async () => {
    const spec: RunSpec = {
      makeData: () =>
        new DataLoader(
          {
            length: 9,
            get: async (i: number) => {
              await Promise.resolve();
              return i + Math.random();
            },
          },
          { batchSize: 4, shuffle: true },
        ),
      options: { maxEpochs: 3 },
    };
    await expectResumesIdentically(spec, 9);
  });

  it('over an infinite generator drawing from Math.random', async () => {
    const spec: RunSpec = {
      makeData: () =>
        (function* () {
          for (let n = 0; ; n++) yield [n, Math.random()];
        })(),
      options: { maxEpochs: 3, epochLength: 4 },
    };
    const steps = await expectResumesIdentically(spec, 12);
    expect(steps.map((s) => (s[1] as number[])[0])).toEqual(range(12));
  });

  it('over a finite iterable without a length (epochLength learned at the first pass end)', async () => {
    const spec: RunSpec = {
      makeData: () => ({
        *[Symbol.iterator]() {
          for (let n = 0; n < 4; n++) yield n + Math.random();
        },
      }),
      options: { maxEpochs: 3 },
    };
    // Before the first pass ends the epoch length is unknown and Engine.loadStateDict refuses progress without it.
    await expectResumesIdentically(spec, 12, 5);
  });

  it('over an async generator', async () => {
    const spec: RunSpec = {
      makeData: () =>
        (async function* () {
          for (let n = 0; ; n++) {
            await Promise.resolve();
            yield [n, Math.random()];
          }
        })(),
      options: { maxEpochs: 2, epochLength: 3 },
    };
    await expectResumesIdentically(spec, 6);
  });

  it('after terminate() mid-epoch, run() again continues the same batches and draws', async () => {
    const spec: RunSpec = {
      makeData: () => new DataLoader(range(10), { batchSize: 3, shuffle: true }),
      options: { maxEpochs: 3 },
    };
    const { steps } = await original(spec);
    manualSeed(2024);
    const steps2: Step[] = [];
    const engine = makeEngine(steps2);
    engine.on(Events.ITERATION_COMPLETED({ once: 6 }), (e) => e.terminate());
    const loader = spec.makeData() as DataLoader<number>;
    await engine.run(loader, spec.options);
    expect(steps2).toHaveLength(6);
    await engine.run(loader, spec.options);
    // Engine semantics: the terminated epoch 2 is not resumed, epoch 3 runs its 4 iterations (7..10). The data and
    // the draws continue where the first run stopped.
    expect(steps2).toEqual(steps.slice(0, 10));
  });

  it('skips the batches before the resume point without loading them', async () => {
    let calls = 0;
    const makeData = () =>
      new DataLoader(
        {
          length: 1000,
          get: (i: number) => {
            calls++;
            return i;
          },
        },
        { batchSize: 10, shuffle: true },
      );
    const engine = new DeterministicEngine(() => {});
    engine.loadStateDict({ iteration: 57, epochLength: 100, maxEpochs: 1, seed: 1, rngStates: getRandomState() });
    engine.on(Events.ITERATION_COMPLETED({ once: 58 }), (e) => e.terminate());
    await engine.run(makeData());
    expect(calls).toBe(10);
  });
});

describe('DeterministicEngine seeds', () => {
  it('draws state.seed at STARTED from the seeded Math.random, keeps a loaded one', async () => {
    const run = async () => {
      manualSeed(8);
      const engine = new DeterministicEngine(() => {});
      await engine.run(range(2));
      return engine.state.seed;
    };
    const a = await run();
    expect(typeof a).toBe('number');
    expect(await run()).toBe(a);
    const engine = new DeterministicEngine(() => {});
    engine.loadStateDict({ iteration: 0, epochLength: 2, maxEpochs: 1, seed: 4321, rngStates: getRandomState() });
    await engine.run(range(2));
    expect(engine.state.seed).toBe(4321);
  });

  it('manualSeed twice gives identical runs; another seed a different one', async () => {
    const run = async (seed: number) => {
      manualSeed(seed);
      const draws: number[][] = [];
      const engine = new DeterministicEngine((_e, b: number[]) => draws.push([...b, Math.random()]));
      await engine.run(new DataLoader(range(10), { batchSize: 3, shuffle: true }), { maxEpochs: 2 });
      return draws;
    };
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
  });

  it('keepRandomState keeps a reseeding handler from changing the run', async () => {
    const run = async (withHandler: boolean) => {
      manualSeed(77);
      const draws: number[] = [];
      const engine = new DeterministicEngine(() => draws.push(Math.random()));
      if (withHandler) {
        engine.on(
          Events.ITERATION_COMPLETED({ every: 2 }),
          keepRandomState(() => {
            manualSeed(0);
            Math.random();
          }),
        );
      }
      await engine.run(range(4), { maxEpochs: 2 });
      return draws;
    };
    const plain = await run(false);
    expect(await run(true)).toEqual(plain);
  });
});

describe('DeterministicEngine state dict', () => {
  it('adds seed and rngStates as plain data', async () => {
    const engine = new DeterministicEngine(() => {});
    await engine.run(range(3));
    const sd = engine.stateDict();
    expect(Object.keys(sd).sort()).toEqual(['epochLength', 'iteration', 'maxEpochs', 'rngStates', 'seed']);
    expect(JSON.parse(JSON.stringify(sd))).toEqual(sd);
    expect(structuredClone(sd)).toEqual(sd);
  });

  it('requires rngStates (null allowed), takes an optional seed, and validates both', () => {
    const engine = new DeterministicEngine(() => {});
    const base = { iteration: 0, epochLength: 2, maxEpochs: 1 };
    expect(() => engine.loadStateDict({ ...base, seed: 1 })).toThrow(/'rngStates' is absent.*rngStates: null/);
    expect(() => engine.loadStateDict({ ...base, seed: 1.5, rngStates: getRandomState() })).toThrow(TypeError);
    expect(() => engine.loadStateDict({ ...base, seed: 1, rngStates: { version: 1 } })).toThrow(
      /rngStates should be a snapshot from getRandomState\(\) or null/,
    );
    engine.loadStateDict({ ...base, rngStates: getRandomState() });
    expect(engine.state.seed).toBeNull();
    engine.loadStateDict({ ...base, seed: null, rngStates: null });
    expect(engine.state.seed).toBeNull();
  });

  it('without a loaded seed, STARTED draws it from the seeded Math.random; stateDict() saves it', async () => {
    const batchesOf = async (load: Record<string, unknown> | null) => {
      const engine = new DeterministicEngine((_e, batch: number[]) => seen.push(batch));
      const seen: number[][] = [];
      if (load !== null) engine.loadStateDict(load);
      manualSeed(56);
      await engine.run(new DataLoader(range(12), { batchSize: 3, shuffle: true }), { maxEpochs: 2 });
      return { seen, seed: engine.state.seed, sd: engine.stateDict() };
    };
    const original = await batchesOf(null);
    const resumed = await batchesOf({ epoch: 1, epochLength: 4, maxEpochs: 2, rngStates: null });
    expect(resumed.seed).toBe(original.seed);
    expect(resumed.seen).toEqual(original.seen.slice(4));
    expect(resumed.sd.seed).toBe(original.seed);
    // A loaded seed wins over the drawn one.
    const other = await batchesOf({ iteration: 4, epochLength: 4, maxEpochs: 2, seed: 1, rngStates: null });
    expect(other.seed).toBe(1);
    expect(other.seen).not.toEqual(original.seen.slice(4));
  });

  it("a state saved after the last iteration of an epoch resumes with that epoch's EPOCH_COMPLETED", async () => {
    // The event sequence of a run, and of runs resumed from a state saved at each ITERATION_COMPLETED (and at each
    // EPOCH_COMPLETED): each resumed run replays exactly the rest of the original sequence.
    const record = (engine: DeterministicEngine<number[], void>, log: string[]) => {
      engine.on(Events.EPOCH_COMPLETED, (e) => log.push(`epoch ${e.state.epoch} completed`));
      engine.on(Events.COMPLETED, (e) => log.push(`completed ${e.state.iteration}`));
    };
    const run = async (limits: { maxEpochs?: number; maxIters?: number }, epochLength?: number) => {
      const log: string[] = [];
      const saved: { at: number; sd: Record<string, unknown> }[] = [];
      const engine = new DeterministicEngine((e, batch: number[]) => {
        log.push(`${e.state.iteration}: ${batch.join(',')} ${Math.random().toFixed(6)}`);
      });
      record(engine, log);
      engine.on(Events.ITERATION_COMPLETED.or(Events.EPOCH_COMPLETED), (e) => {
        saved.push({ at: log.length, sd: JSON.parse(JSON.stringify(e.stateDict())) });
      });
      manualSeed(3);
      await engine.run(new DataLoader(range(12), { batchSize: 3, shuffle: true }), { ...limits, epochLength });
      return { log, saved };
    };
    for (const [limits, epochLength] of [
      [{ maxEpochs: 3 }, undefined],
      [{ maxEpochs: 3 }, 2],
      [{ maxIters: 8 }, 4],
    ] as const) {
      const original = await run(limits, epochLength);
      const atEpochEnd = original.saved.filter(({ sd }) => sd.epochCompleted === false);
      expect(atEpochEnd.length).toBeGreaterThan(1);
      // (The last state is that of a finished run: run() starts such a run over, as in the reference.)
      for (const { at, sd } of original.saved.slice(0, -1)) {
        const log: string[] = [];
        const engine = new DeterministicEngine((e, batch: number[]) => {
          log.push(`${e.state.iteration}: ${batch.join(',')} ${Math.random().toFixed(6)}`);
        });
        record(engine, log);
        engine.loadStateDict(sd);
        manualSeed(99); // the loaded seed and RNG state decide, not this
        await engine.run(new DataLoader(range(12), { batchSize: 3, shuffle: true }), limits);
        expect(log, `resumed from ${JSON.stringify({ ...sd, rngStates: undefined })}`).toEqual(original.log.slice(at));
      }
    }
  });

  it('rejects epochCompleted: false away from an epoch end', () => {
    const engine = new DeterministicEngine(() => {});
    const base = { epochLength: 4, maxEpochs: 3, rngStates: null };
    expect(() => engine.loadStateDict({ ...base, iteration: 6, epochCompleted: false })).toThrow(
      /^DeterministicEngine\.loadStateDict: state dict entry epochCompleted should be true, or false only at the end of an epoch .* Here iteration is 6 and epochLength 4\.$/,
    );
    expect(() => engine.loadStateDict({ ...base, iteration: 8, epochCompleted: 'no' })).toThrow(TypeError);
    engine.loadStateDict({ ...base, iteration: 8, epochCompleted: false });
    expect(engine.state.epoch).toBe(1); // epoch 2 is not completed yet
    engine.loadStateDict({ ...base, iteration: 8, epochCompleted: true });
    expect(engine.state.epoch).toBe(2);
  });

  it('rejects run(null): it needs the data to fast-forward', async () => {
    const engine = new DeterministicEngine(() => {});
    await expect(engine.run(null, { epochLength: 3 })).rejects.toThrow(
      /^DeterministicEngine\.run: argument data null is not supported: .*fast-forward/,
    );
    await expect(engine.run()).rejects.toThrow(/argument data undefined is not supported/);
    expect(engine.state.iteration).toBe(0);
    await expect(engine.run(range(3))).resolves.toBe(engine.state);
  });
});

describe('DeterministicEngine training is bit-exact after a resume', () => {
  const N = 40;
  const FEATURES = 4;

  function makeData() {
    // plain JS data, no randomness involved
    const xs = range(N).map((i) => range(FEATURES).map((j) => Math.sin(i * 1.3 + j * 0.7)));
    const ys = xs.map((row, i) => [row[0] * 2 - row[1] + 0.5 * row[3] + Math.cos(i)]);
    return new TensorDataset(tf.tensor2d(xs), tf.tensor2d(ys));
  }

  function makeModel() {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 8, activation: 'relu', inputShape: [FEATURES] }));
    model.add(tf.layers.dropout({ rate: 0.3 }));
    model.add(tf.layers.dense({ units: 1 }));
    return model;
  }

  interface Snapshot {
    engine: Record<string, unknown>;
    weights: tf.Tensor[];
    optimizer: { name: string; tensor: tf.Tensor }[];
  }

  function makeTrainer(model: tf.Sequential, optimizer: tf.Optimizer, losses: number[]) {
    const trainer = new DeterministicEngine((_e, [x, y]: tf.Tensor[]) =>
      optimizer.minimize(
        () => tf.losses.meanSquaredError(y, model.apply(x, { training: true }) as tf.Tensor),
        true,
        model.getWeights(true) as tf.Variable[],
      ),
    );
    trainer.on(Events.ITERATION_COMPLETED, async (e) => {
      const loss = e.state.output as tf.Scalar;
      losses.push((await loss.data())[0]);
      loss.dispose();
    });
    return trainer;
  }

  /**
   * Trains 3 epochs, snapshotting engine, model and optimizer at several iterations; then, for each snapshot,
   * builds everything anew, restores it, resumes, and returns both loss sequences.
   */
  async function trainAndResume(makeOptimizer: () => tf.Optimizer, restoreOptimizer = defaultRestore) {
    const ds = makeData();
    const saveAt = new Set([1, 3, 5, 6, 9, 10, 12, 14]);
    manualSeed(5);
    const model = makeModel();
    const optimizer = makeOptimizer();
    const losses: number[] = [];
    const snapshots = new Map<number, Snapshot>();
    const trainer = makeTrainer(model, optimizer, losses);
    trainer.on(Events.ITERATION_COMPLETED, async (e) => {
      if (!saveAt.has(e.state.iteration)) return;
      const weights = await optimizer.getWeights();
      snapshots.set(e.state.iteration, {
        engine: JSON.parse(JSON.stringify(e.stateDict())),
        weights: model.getWeights().map((w) => w.clone()),
        optimizer: weights.map(({ name, tensor }) => ({ name, tensor: tensor.clone() })),
      });
      tf.dispose(weights[0].tensor); // getWeights makes the iteration-count tensor anew
    });
    await trainer.run(new DataLoader(ds, { batchSize: 8, shuffle: true }), { maxEpochs: 3 });
    expect(losses).toHaveLength(15);
    expect(new Set(losses).size).toBe(15);
    model.dispose();
    optimizer.dispose();

    const results: Array<{ at: number; expected: number[]; actual: number[] }> = [];
    for (const [at, snap] of snapshots) {
      manualSeed(1000 + at); // a new page: other initial weights, another Math.random state
      const model2 = makeModel();
      model2.setWeights(snap.weights);
      const optimizer2 = makeOptimizer();
      await restoreOptimizer(optimizer2, snap.optimizer);
      const losses2: number[] = [];
      const trainer2 = makeTrainer(model2, optimizer2, losses2);
      trainer2.loadStateDict(snap.engine);
      await trainer2.run(new DataLoader(ds, { batchSize: 8, shuffle: true }), { maxEpochs: 3 });
      results.push({ at, expected: losses.slice(at), actual: losses2 });
      model2.dispose();
      optimizer2.dispose();
      tf.dispose([...snap.weights, ...snap.optimizer.map((w) => w.tensor)]);
    }
    ds.dispose();
    return results;
  }

  async function defaultRestore(optimizer: tf.Optimizer, weights: { name: string; tensor: tf.Tensor }[]) {
    await optimizer.setWeights(weights);
  }

  it('with a momentum optimizer: the same losses, bit for bit, from every snapshot', async () => {
    const results = await trainAndResume(() => tf.train.momentum(0.05, 0.9));
    expect(results).toHaveLength(8);
    for (const { at, expected, actual } of results) expect(actual, `resumed at iteration ${at}`).toEqual(expected);
  });

  it('with Adam: bit for bit too once its bias-correction powers are restored as training computed them', async () => {
    // tfjs AdamOptimizer.setWeights recomputes accBeta = pow(beta, t + 1), while training multiplies by beta
    // each step in float32; the two differ in the last bit for some t (e.g. 0.9^9), so the plain public
    // setWeights cannot resume Adam exactly. Recompute them the way training does.
    const restoreAdam = async (optimizer: tf.Optimizer, weights: { name: string; tensor: tf.Tensor }[]) => {
      await optimizer.setWeights(weights);
      const adam = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable; iterations: number };
      const [beta1, beta2] = [0.9, 0.999];
      tf.tidy(() => {
        let acc1 = tf.scalar(beta1);
        let acc2 = tf.scalar(beta2);
        for (let t = 0; t < adam.iterations; t++) {
          acc1 = tf.mul(acc1, beta1);
          acc2 = tf.mul(acc2, beta2);
        }
        adam.accBeta1.assign(acc1);
        adam.accBeta2.assign(acc2);
      });
    };
    const results = await trainAndResume(() => tf.train.adam(0.01, 0.9, 0.999), restoreAdam);
    for (const { at, expected, actual } of results) expect(actual, `resumed at iteration ${at}`).toEqual(expected);
  });

  it('leaks no tensors over a full run with a TensorDataset loader', async () => {
    const ds = makeData();
    manualSeed(6);
    const model = makeModel();
    const optimizer = tf.train.sgd(0.05);
    // build the model's variables before taking the baseline
    tf.tidy(() => model.predict(tf.zeros([1, FEATURES])));
    const before = tf.memory().numTensors;
    const losses: number[] = [];
    await makeTrainer(model, optimizer, losses).run(new DataLoader(ds, { batchSize: 8, shuffle: true }), {
      maxEpochs: 3,
    });
    expect(losses).toHaveLength(15);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    optimizer.dispose();
    ds.dispose();
  });
});

describe('plain Engine for contrast', () => {
  it('does not fast-forward: a mid-epoch resume restarts the data', async () => {
    const seen: number[] = [];
    const engine = new Engine((_e, b: number) => seen.push(b));
    engine.loadStateDict({ iteration: 2, epochLength: 4, maxEpochs: 1 });
    await engine.run(range(4));
    expect(seen).toEqual([0, 1]);
  });
});
