import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events, type Logger, setLogger } from '../../engine';
import { CheckpointError, MemorySaver, type SaveMetadata, type Saver } from '../../storage';
import { DiskSaver } from '../../storage/disk-saver';
import { Checkpoint, CheckpointEvents, formatScore, globalStepFromEngine, resumeOrStart, type Stateful } from '.';

const dirs: string[] = [];
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const makeDiskSaver = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kindling-ckpt-'));
  dirs.push(dir);
  return new DiskSaver(dir);
};

/** A saver that records calls, over a MemorySaver. */
class RecordingSaver implements Saver {
  readonly inner = new MemorySaver();
  readonly calls: string[] = [];
  readonly metadata: (SaveMetadata | undefined)[] = [];
  async save(data: unknown, filename: string, metadata?: SaveMetadata) {
    this.calls.push(`save ${filename}`);
    this.metadata.push(metadata);
    await this.inner.save(data, filename, metadata);
  }
  load(filename: string) {
    return this.inner.load(filename);
  }
  async remove(filename: string) {
    this.calls.push(`remove ${filename}`);
    await this.inner.remove(filename);
  }
  list() {
    return this.inner.list();
  }
  latest() {
    return this.inner.latest();
  }
}

/** A Stateful counter. */
class Counter implements Stateful {
  value = 0;
  stateDict() {
    return { value: this.value };
  }
  loadStateDict(sd: { value: number }) {
    this.value = sd.value;
  }
}

const newTrainer = (counter?: Counter) =>
  new Engine(() => {
    if (counter) counter.value += 1;
    return null;
  });

/** Runs `handler` on EPOCH_COMPLETED of a 5-iteration-per-epoch run, with the given scores per epoch. */
async function runEpochs(checkpoint: Checkpoint, epochs: number, engine = newTrainer()) {
  engine.on(Events.EPOCH_COMPLETED, checkpoint);
  await engine.run([1, 2, 3, 4, 5], { maxEpochs: epochs });
  return engine;
}

const scores = (values: number[]) => {
  let i = 0;
  return () => values[i++]!;
};

const sorted = async (saver: Saver) => (await saver.list()).sort();

describe.each([
  ['MemorySaver', async () => new MemorySaver() as Saver, false],
  ['DiskSaver', makeDiskSaver as () => Promise<Saver>, false],
  ['MemorySaver, written in the background', async () => new MemorySaver() as Saver, true],
  ['DiskSaver, written in the background', makeDiskSaver as () => Promise<Saver>, true],
])('Checkpoint naming and rotation with %s', (_, makeSaver, isAsync) => {
  it('names by the single key and the iteration, keeps nSaved newest', async () => {
    const saver = await makeSaver();
    const counter = new Counter();
    const checkpoint = new Checkpoint({ model: counter }, saver, { nSaved: 2, async: isAsync });
    await runEpochs(checkpoint, 3, newTrainer(counter));
    expect(await sorted(saver)).toEqual(['model_10.ckpt', 'model_15.ckpt']);
    expect(checkpoint.lastCheckpoint).toBe('model_15.ckpt');
    // One key: the data is that object's state itself (as in Ignite).
    expect(await saver.load('model_15.ckpt')).toEqual({ value: 15 });
  });

  it("names 'checkpoint' for several keys, with a prefix, keeping 1 by default", async () => {
    const saver = await makeSaver();
    const a = new Counter();
    const checkpoint = new Checkpoint({ a, b: new Counter() }, saver, { filenamePrefix: 'run', async: isAsync });
    await runEpochs(checkpoint, 2, newTrainer(a));
    expect(await saver.list()).toEqual(['run_checkpoint_10.ckpt']);
    expect(await saver.load('run_checkpoint_10.ckpt')).toEqual({ a: { value: 10 }, b: { value: 0 } });
  });

  it('ranks by score and keeps the best, removing the lowest after the new one is saved', async () => {
    const saver = await makeSaver();
    const checkpoint = new Checkpoint({ model: new Counter() }, saver, {
      async: isAsync,
      nSaved: 2,
      scoreFunction: scores([0.5, 0.25, 0.75, 0.1]),
    });
    await runEpochs(checkpoint, 4);
    expect(await sorted(saver)).toEqual(['model_0.5000.ckpt', 'model_0.7500.ckpt']);
    expect(checkpoint.lastCheckpoint).toBe('model_0.7500.ckpt');
    expect(checkpoint.stateDict()).toEqual({
      saved: [
        [0.5, 'model_0.5000.ckpt'],
        [0.75, 'model_0.7500.ckpt'],
      ],
    });
  });

  it('writes score names, global steps and integer scores as Ignite does', async () => {
    const saver = await makeSaver();
    const trainer = newTrainer();
    trainer.state.epoch = 7;
    const checkpoint = new Checkpoint({ model: new Counter() }, saver, {
      async: isAsync,
      filenamePrefix: 'best',
      scoreFunction: scores([0.93125, 3]),
      scoreName: 'acc',
      globalStepTransform: globalStepFromEngine(trainer),
      nSaved: null,
    });
    const evaluator = newTrainer();
    evaluator.on(Events.COMPLETED, checkpoint);
    await evaluator.run([1], { maxEpochs: 1 });
    trainer.state.epoch = 8;
    await evaluator.run([1], { maxEpochs: 1 });
    expect(await sorted(saver)).toEqual(['best_model_7_acc=0.9313.ckpt', 'best_model_8_acc=3.ckpt']);
  });
});

describe('Checkpoint', () => {
  it('formats scores like Python: 4 decimals, ties to even, integers as integers', () => {
    expect(formatScore(3)).toBe('3');
    expect(formatScore(-2)).toBe('-2');
    expect(formatScore(0.123456)).toBe('0.1235');
    expect(formatScore(0.03125)).toBe('0.0312'); // Python: f"{0.03125:.4f}" == '0.0312'
    expect(formatScore(0.09375)).toBe('0.0938');
    expect(formatScore(-0.03125)).toBe('-0.0312');
    expect(formatScore(1.00005)).toBe('1.0001'); // Python agrees: 1.00005 lies just above the tie in binary
    expect(formatScore(Number.NEGATIVE_INFINITY)).toBe('-inf');
  });

  it('reads state.metrics[scoreName] when only scoreName is given', async () => {
    const saver = new MemorySaver();
    const engine = newTrainer();
    const accuracies = [0.6, 0.9, 0.7];
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      e.state.metrics.accuracy = accuracies[e.state.epoch - 1];
    });
    await runEpochs(new Checkpoint({ model: new Counter() }, saver, { scoreName: 'accuracy' }), 3, engine);
    expect(await saver.list()).toEqual(['model_accuracy=0.9000.ckpt']);
  });

  it('keeps the first of equal scores, or the last with greaterOrEqual', async () => {
    for (const greaterOrEqual of [false, true]) {
      const saver = new MemorySaver();
      const engine = newTrainer();
      const checkpoint = new Checkpoint({ model: new Counter() }, saver, {
        scoreFunction: () => 1,
        globalStepTransform: (e) => e.state.epoch,
        greaterOrEqual,
      });
      await runEpochs(checkpoint, 3, engine);
      expect(await saver.list()).toEqual([greaterOrEqual ? 'model_3_1.ckpt' : 'model_1_1.ckpt']);
    }
  });

  it('overwrites a file name already in use instead of removing it', async () => {
    const saver = new RecordingSaver();
    const counter = new Counter();
    const checkpoint = new Checkpoint({ model: counter }, saver, { filenamePattern: 'latest.{ext}' });
    await runEpochs(checkpoint, 3, newTrainer(counter));
    expect(saver.calls).toEqual(['save latest.ckpt', 'save latest.ckpt', 'save latest.ckpt']);
    expect(await saver.load('latest.ckpt')).toEqual({ value: 15 });
  });

  it('saves the new checkpoint before removing the one it replaces, and passes Ignite metadata', async () => {
    const saver = new RecordingSaver();
    await runEpochs(new Checkpoint({ model: new Counter() }, saver, { filenamePrefix: 'p' }), 2);
    expect(saver.calls).toEqual(['save p_model_5.ckpt', 'save p_model_10.ckpt', 'remove p_model_5.ckpt']);
    expect(saver.metadata[1]).toEqual({ basename: 'p_model', scoreName: null, priority: 10 });
  });

  it('renders custom patterns with Ignite placeholders and rejects bad ones', async () => {
    const saver = new MemorySaver();
    const checkpoint = new Checkpoint({ a: new Counter(), b: new Counter() }, saver, {
      filenamePattern: '{global_step}-{name}-{score_name}{{{score}}}.{ext}',
      scoreName: 'acc',
      scoreFunction: () => 0.75,
      globalStepTransform: () => 30000,
    });
    await runEpochs(checkpoint, 1);
    expect(await saver.list()).toEqual(['30000-checkpoint-acc{0.7500}.ckpt']);
    const make =
      (filenamePattern: string, extra = {}) =>
      () =>
        new Checkpoint({ m: new Counter() }, saver, { filenamePattern, ...extra });
    expect(make('{step}.{ext}')).toThrow(/unknown placeholder \{step\}.*\{global_step\}/);
    expect(make('{name}_{score}.{ext}')).toThrow(/uses \{score\} but there is no score/);
    expect(make('{name}_{global_step}.{ext}', { scoreFunction: () => 1 })).toThrow(/pass globalStepTransform/);
    expect(make('{name}}')).toThrow(/lone '}'/);
    expect(Checkpoint.setupFilenamePattern()).toBe('{filename_prefix}_{name}_{global_step}_{score_name}={score}.{ext}');
    expect(Checkpoint.setupFilenamePattern({ withPrefix: false, withScoreName: false })).toBe(
      '{name}_{global_step}_{score}.{ext}',
    );
    expect(() => Checkpoint.setupFilenamePattern({ withScore: false })).toThrow(/withScoreName needs withScore/);
  });

  it('includes its own state with includeSelf, and rotation continues after loading it', async () => {
    const saver = new MemorySaver();
    const counter = new Counter();
    const checkpoint = new Checkpoint({ model: counter }, saver, { nSaved: 2, includeSelf: true });
    await runEpochs(checkpoint, 2, newTrainer(counter));
    const data = (await saver.load('model_10.ckpt')) as Record<string, unknown>;
    expect(data).toEqual({
      model: { value: 10 },
      checkpointer: {
        saved: [
          [5, 'model_5.ckpt'],
          [10, 'model_10.ckpt'],
        ],
      },
    });
    // After a "reload": a fresh Checkpoint learns what was saved, so the next save rotates out model_5.
    const fresh = new Checkpoint({ model: counter }, saver, { nSaved: 2, includeSelf: true });
    await Checkpoint.loadObjects({ toLoad: { model: counter, checkpointer: fresh }, checkpoint: data });
    expect(fresh.lastCheckpoint).toBe('model_10.ckpt');
    const trainer = newTrainer(counter);
    trainer.loadStateDict({ iteration: 10, epochLength: 5, maxEpochs: 3 });
    await runEpochs(fresh, 3, trainer);
    expect(await sorted(saver)).toEqual(['model_10.ckpt', 'model_15.ckpt']);
    expect(() => new Checkpoint({ checkpointer: counter }, saver, { includeSelf: true })).toThrow(/key 'checkpointer'/);
  });

  it('fires SAVED_CHECKPOINT on the engine after each save, registering it on first use', async () => {
    const saver = new MemorySaver();
    const engine = newTrainer();
    const seen: string[] = [];
    const checkpoint = new Checkpoint({ model: new Counter() }, saver, { scoreFunction: scores([1, 0, 2]) });
    engine.on(Events.STARTED, () => {
      engine.registerEvents([CheckpointEvents.SAVED_CHECKPOINT]);
      engine.on(CheckpointEvents.SAVED_CHECKPOINT, () => seen.push(checkpoint.lastCheckpoint!));
    });
    await runEpochs(checkpoint, 3, engine);
    expect(seen).toEqual(['model_1.ckpt', 'model_2.ckpt']); // the 0 score was not saved
    expect(engine.state.savedCheckpoint).toBe(2);

    const other = newTrainer();
    expect(other.hasRegisteredEvents(CheckpointEvents.SAVED_CHECKPOINT)).toBe(false);
    await runEpochs(new Checkpoint({ model: new Counter() }, saver), 1, other);
    expect(other.hasRegisteredEvents(CheckpointEvents.SAVED_CHECKPOINT)).toBe(true);
  });

  it('reset() forgets kept checkpoints; loadStateDict() checks its input; async stateDicts are awaited', async () => {
    const saver = new RecordingSaver();
    const asyncState = {
      stateDict: async () => ({ value: 1, data: new Int32Array([1, 2]) }),
      loadStateDict: async () => {},
    };
    const checkpoint = new Checkpoint({ model: asyncState }, saver);
    await runEpochs(checkpoint, 1);
    expect(await saver.load('model_5.ckpt')).toEqual({ value: 1, data: new Int32Array([1, 2]) });
    checkpoint.reset();
    expect(checkpoint.lastCheckpoint).toBeNull();
    await runEpochs(checkpoint, 1);
    expect(saver.calls).toEqual(['save model_5.ckpt', 'save model_5.ckpt']); // nothing left to rotate out
    expect(() => checkpoint.loadStateDict({ saved: [['5', 'x']] } as never)).toThrow(
      "Checkpoint.loadStateDict: state dict entry 'saved' at 0: its priority should be a number other than NaN, got '5'.",
    );
  });

  it('lets handlers filter SAVED_CHECKPOINT by its count', async () => {
    const engine = newTrainer();
    const seen: number[] = [];
    engine.registerEvents([CheckpointEvents.SAVED_CHECKPOINT], {
      eventToAttr: { saved_checkpoint: 'savedCheckpoint' },
    });
    engine.on(CheckpointEvents.SAVED_CHECKPOINT({ every: 2 }), (e) => seen.push(e.state.iteration));
    await runEpochs(new Checkpoint({ model: new Counter() }, new MemorySaver(), { nSaved: null }), 4, engine);
    expect(seen).toEqual([10, 20]);
  });

  it('checks its arguments', () => {
    const saver = new MemorySaver();
    const model = new Counter();
    expect(() => new Checkpoint({ model }, saver, { nSaved: 0 })).toThrow(
      new RangeError('Checkpoint: argument nSaved should be a positive integer or null, got 0.'),
    );
    expect(() => new Checkpoint({ model }, saver, { nSaved: 1.5 })).toThrow(RangeError);
    expect(() => new Checkpoint({}, saver)).toThrow(/toSave is empty/);
    expect(() => new Checkpoint({ model: { weights: [] } as unknown as Counter }, saver)).toThrow(
      /toSave\.model should have a stateDict\(\) method or be a tf\.LayersModel or tf\.Optimizer, got {"weights":\[\]}/,
    );
    expect(() => new Checkpoint({ model }, {} as Saver)).toThrow(/argument saver should be a Saver/);
    expect(() => new Checkpoint({ model }, saver, { scoreFunction: 3 as unknown as () => number })).toThrow(TypeError);
    expect(() => new Checkpoint({ optimizer: tf.train.adamax(0.01) }, saver)).toThrow(
      /toSave\.optimizer is a tfjs Adamax optimizer, whose state tfjs cannot read or restore.*\(sgd, momentum, adagrad, adadelta, rmsprop, adam\)/,
    );
  });

  it('rejects a score that is not a number, and skips NaN with a warning', async () => {
    const warnings: string[] = [];
    const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
    const previous = setLogger(logger);
    try {
      const saver = new MemorySaver();
      await runEpochs(new Checkpoint({ model: new Counter() }, saver, { scoreFunction: () => Number.NaN }), 1);
      expect(await saver.list()).toEqual([]);
      expect(warnings).toEqual(['Checkpoint: the score is NaN at iteration 5; no checkpoint saved.']);
      const bad = new Checkpoint({ model: new Counter() }, saver, { scoreFunction: () => '1' as unknown as number });
      await expect(runEpochs(bad, 1)).rejects.toThrow(/scoreFunction should return a number, got '1'/);
    } finally {
      setLogger(previous);
    }
  });

  it('globalStepFromEngine reads the epoch or iteration that goes with the event', () => {
    const trainer = newTrainer();
    trainer.state.epoch = 3;
    trainer.state.iteration = 42;
    const other = newTrainer();
    expect(globalStepFromEngine(trainer)(other, 'completed')).toBe(3);
    expect(globalStepFromEngine(trainer)(other, 'iteration_completed')).toBe(42);
    expect(globalStepFromEngine(trainer, Events.ITERATION_COMPLETED)(other, 'completed')).toBe(42);
    expect(() => globalStepFromEngine(trainer)(other, 'custom')).toThrow(/event 'custom'/);
  });
});

describe('Checkpoint.loadObjects', () => {
  it('loads each key, or the whole checkpoint into a single object, or from { saver, filename }', async () => {
    const a = new Counter();
    const b = new Counter();
    expect(
      await Checkpoint.loadObjects({ toLoad: { a, b }, checkpoint: { a: { value: 1 }, b: { value: 2 } } }),
    ).toEqual({
      loaded: ['a', 'b'],
      skipped: [],
    });
    expect([a.value, b.value]).toEqual([1, 2]);
    await Checkpoint.loadObjects({ toLoad: { a }, checkpoint: { value: 5 } });
    expect(a.value).toBe(5);
    const saver = new MemorySaver();
    await saver.save({ value: 9 }, 'a_1.ckpt');
    await Checkpoint.loadObjects({ toLoad: { a }, checkpoint: { saver, filename: 'a_1.ckpt' } });
    expect(a.value).toBe(9);
  });

  it('names a missing key (strict) before loading anything, or loads the rest (strict: false)', async () => {
    const a = new Counter();
    const b = new Counter();
    const checkpoint = { a: { value: 1 }, c: { value: 3 } };
    const error = await Checkpoint.loadObjects({ toLoad: { a, b }, checkpoint }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('MISMATCH');
    expect((error as Error).message).toBe(
      "Checkpoint.loadObjects: object 'b' from toLoad is not found in the checkpoint (its keys: a, c). Use the keys the checkpoint was saved with, or pass strict: false to load the others.",
    );
    expect(a.value).toBe(0);
    const report = await Checkpoint.loadObjects({ toLoad: { a, b }, checkpoint, strict: false });
    expect(report).toEqual({
      loaded: ['a'],
      skipped: [{ path: 'b', reason: 'not found in the checkpoint (its keys: a, c)' }],
    });
    expect(a.value).toBe(1);
  });

  it('rejects objects that cannot load, and wraps a loadStateDict failure with its cause', async () => {
    await expect(
      Checkpoint.loadObjects({ toLoad: { a: { stateDict: () => 1 } as unknown as Counter }, checkpoint: { a: 1 } }),
    ).rejects.toThrow(/toLoad\.a cannot be loaded: it should have a loadStateDict\(stateDict\) method/);
    const failing = new Engine(() => null);
    const error = await Checkpoint.loadObjects({
      toLoad: { failing },
      checkpoint: { failing: { iteration: 1 } },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(
      /toLoad\.failing\.loadStateDict\(\) rejected the checkpoint's 'failing' entry: .*epochLength/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('rejects __proto__, constructor and prototype keys anywhere, loading nothing', async () => {
    const a = new Counter();
    for (const text of [
      '{"a": {"value": 1, "__proto__": {"polluted": true}}}',
      '{"a": {"value": 1}, "b": [{"constructor": {"prototype": {"polluted": true}}}]}',
      '{"__proto__": {"polluted": true}}',
    ]) {
      const error = await Checkpoint.loadObjects({ toLoad: { a }, checkpoint: JSON.parse(text) }).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).code).toBe('UNSAFE_KEY');
    }
    expect(a.value).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

// ------------------------------------------------------------------------------------------------ tfjs objects

const buildModel = (seed: number, units = 3, headUnits = 2) =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        units,
        inputShape: [4],
        activation: 'tanh',
        name: 'hidden',
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: headUnits,
        name: 'head',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });

const xs = () => tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1.0, 0.3, 0.2], [3, 4]);
const ys = () => tf.tensor2d([1, 0, 0, 1, 1, 0], [3, 2]);

function step(model: tf.LayersModel, optimizer: tf.Optimizer) {
  tf.tidy(() => {
    const x = xs();
    const y = ys();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    optimizer.minimize(() => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar, false, variables);
  });
}

const bits = async (tensors: tf.Tensor[]) =>
  Promise.all(tensors.map(async (t) => Array.from(new Uint32Array((await t.data()).slice().buffer))));

const slotTensors = async (optimizer: tf.Optimizer) => {
  const weights = await optimizer.getWeights();
  weights[0]!.tensor.dispose(); // the iteration scalar getWeights() makes
  return weights.slice(1).map((w) => w.tensor);
};

describe('Checkpoint with a tf.LayersModel and a tf.Optimizer', () => {
  it.each([
    ['MemorySaver', async () => new MemorySaver() as Saver],
    ['DiskSaver', makeDiskSaver as () => Promise<Saver>],
  ])('resumes model + Adam bit-exactly (%s)', async (_, makeSaver) => {
    const saver = await makeSaver();
    const model = buildModel(1);
    const optimizer = tf.train.adam(0.05);
    for (let i = 0; i < 3; i++) step(model, optimizer);
    const trainer = newTrainer();
    trainer.state.iteration = 3;
    await new Checkpoint({ model, optimizer }, saver).handle(trainer);
    expect(await saver.list()).toEqual(['checkpoint_3.ckpt']);

    const twin = buildModel(99); // same layer names, other initial weights
    const twinOptimizer = tf.train.adam(0.05);
    const report = await Checkpoint.loadObjects({
      toLoad: { model: twin, optimizer: twinOptimizer },
      checkpoint: { saver, filename: 'checkpoint_3.ckpt' },
    });
    expect(report).toEqual({ loaded: ['model', 'optimizer'], skipped: [] });
    expect(twinOptimizer.iterations).toBe(3);
    expect(await bits(twin.weights.map((w) => w.read()))).toEqual(await bits(model.weights.map((w) => w.read())));

    for (let i = 0; i < 4; i++) {
      step(model, optimizer);
      step(twin, twinOptimizer);
    }
    expect(await bits(twin.weights.map((w) => w.read()))).toEqual(await bits(model.weights.map((w) => w.read())));
    expect(await bits(await slotTensors(twinOptimizer))).toEqual(await bits(await slotTensors(optimizer)));
    for (const o of [optimizer, twinOptimizer]) o.dispose();
    for (const m of [model, twin]) m.dispose();
  });

  it('saves weights by variable name with shape and dtype, as typed arrays', async () => {
    const saver = new MemorySaver();
    const model = buildModel(2);
    await new Checkpoint({ model }, saver).handle(newTrainer());
    const data = (await saver.load('model_0.ckpt')) as {
      kind: string;
      weights: { name: string; shape: number[]; dtype: string; data: unknown }[];
    };
    expect(data.kind).toBe('tfjs-layers-model');
    expect(data.weights.map((w) => [w.name, w.shape, w.dtype])).toEqual([
      ['hidden/kernel', [4, 3], 'float32'],
      ['hidden/bias', [3], 'float32'],
      ['head/kernel', [3, 2], 'float32'],
      ['head/bias', [2], 'float32'],
    ]);
    expect(data.weights[0]!.data).toBeInstanceOf(Float32Array);
    expect(Array.from(data.weights[0]!.data as Float32Array)).toEqual(
      Array.from(await model.weights[0]!.read().data()),
    );
    model.dispose();
  });

  it('names the variable and both shapes on a mismatch; strict: false loads what matches', async () => {
    const model = buildModel(3);
    const saver = new MemorySaver();
    await new Checkpoint({ model }, saver).handle(newTrainer());
    const checkpoint = (await saver.load('model_0.ckpt')) as Record<string, unknown>;
    const other = buildModel(4, 3, 5); // same hidden layer, wider head
    const before = await bits(other.weights.map((w) => w.read()));
    const error = await Checkpoint.loadObjects({ toLoad: { model: other }, checkpoint }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe('MISMATCH');
    expect((error as Error).message).toMatch(
      /cannot load 'model': model\/head\/kernel: shape \[3,2\] in the checkpoint, \[3,5\] in the model; model\/head\/bias: shape \[2\] in the checkpoint, \[5\] in the model\. .*strict: false/,
    );
    expect(await bits(other.weights.map((w) => w.read()))).toEqual(before); // nothing loaded

    const { loaded, skipped } = await Checkpoint.loadObjects({ toLoad: { model: other }, checkpoint, strict: false });
    expect(loaded).toEqual(['model']);
    expect(skipped.map((s) => s.path)).toEqual(['model/head/kernel', 'model/head/bias']);
    const after = await bits(other.weights.map((w) => w.read()));
    const original = await bits(model.weights.map((w) => w.read()));
    expect(after.slice(0, 2)).toEqual(original.slice(0, 2));
    expect(after.slice(2)).toEqual(before.slice(2));

    const wrongDtype = structuredClone(checkpoint) as { weights: { dtype: string; data: unknown }[] };
    wrongDtype.weights[1]!.dtype = 'int32';
    wrongDtype.weights[1]!.data = new Int32Array(3);
    await expect(Checkpoint.loadObjects({ toLoad: { model }, checkpoint: wrongDtype })).rejects.toThrow(
      /model\/hidden\/bias: dtype int32 in the checkpoint, float32 in the model/,
    );
    await expect(Checkpoint.loadObjects({ toLoad: { model }, checkpoint: { value: 1 } })).rejects.toThrow(
      /not the state of a tf\.LayersModel/,
    );
    model.dispose();
    other.dispose();
  });

  it('refuses optimizer state of another class', async () => {
    const model = buildModel(5);
    const adam = tf.train.adam(0.1);
    step(model, adam);
    const saver = new MemorySaver();
    await new Checkpoint({ optimizer: adam }, saver).handle(newTrainer());
    const sgd = tf.train.sgd(0.1);
    await expect(
      Checkpoint.loadObjects({ toLoad: { optimizer: sgd }, checkpoint: { saver, filename: 'optimizer_0.ckpt' } }),
    ).rejects.toThrow(/cannot load 'optimizer': optimizer: the checkpoint holds Adam state, the optimizer is SGD/);
    adam.dispose();
    sgd.dispose();
    model.dispose();
  });

  it('leaks no tensors over a multi-epoch run with checkpoints, nor over repeated loads', async () => {
    const model = buildModel(6);
    const optimizer = tf.train.adam(0.01);
    step(model, optimizer); // create the optimizer's slots before counting
    const saver = new MemorySaver();
    const trainer = new Engine(() => step(model, optimizer));
    const checkpoint = new Checkpoint({ model, optimizer, trainer }, saver, { nSaved: 2 });
    trainer.on(Events.ITERATION_COMPLETED({ every: 2 }), checkpoint);
    const before = tf.memory().numTensors;
    await trainer.run([1, 2, 3], { maxEpochs: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(await saver.list()).toEqual(['checkpoint_6.ckpt', 'checkpoint_8.ckpt']);
    for (let i = 0; i < 3; i++) {
      await Checkpoint.loadObjects({
        toLoad: { model, optimizer, trainer },
        checkpoint: { saver, filename: 'checkpoint_6.ckpt' },
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.state.iteration).toBe(6);
    optimizer.dispose();
    model.dispose();
  });
});

describe('resumeOrStart', () => {
  it('starts fresh without checkpoints, then resumes engine, model and optimizer from the newest', async () => {
    const saver = new MemorySaver();
    const model = buildModel(7);
    const optimizer = tf.train.adam(0.01);
    const trainer = new Engine(() => step(model, optimizer));
    expect(await resumeOrStart({ saver, toLoad: { trainer, model, optimizer } })).toEqual({
      resumed: false,
      iteration: 0,
      epoch: 0,
      finished: false,
      name: null,
      filename: null,
      report: null,
    });
    trainer.on(
      Events.ITERATION_COMPLETED({ every: 4 }),
      new Checkpoint({ trainer, model, optimizer }, saver, { nSaved: 2 }),
    );
    await trainer.run([1, 2, 3], { maxEpochs: 3 });
    const weights = await bits(model.weights.map((w) => w.read()));

    const model2 = buildModel(70);
    const optimizer2 = tf.train.adam(0.01);
    const trainer2 = new Engine(() => step(model2, optimizer2));
    const info = await resumeOrStart({ saver, toLoad: { trainer: trainer2, model: model2, optimizer: optimizer2 } });
    expect(info).toEqual({
      resumed: true,
      iteration: 8,
      epoch: 2,
      finished: false,
      name: 'checkpoint_8.ckpt',
      filename: 'checkpoint_8.ckpt',
      report: { loaded: ['trainer', 'model', 'optimizer'], skipped: [] },
    });
    expect(optimizer2.iterations).toBe(8);
    await trainer2.run([1, 2, 3], { maxEpochs: 3 });
    expect(trainer2.state.iteration).toBe(9);
    // The resumed run did the 9th step from the same state: same weights as the original run.
    expect(await bits(model2.weights.map((w) => w.read()))).toEqual(weights);
    for (const o of [optimizer, optimizer2]) o.dispose();
    for (const m of [model, model2]) m.dispose();
  });

  it('reports a finished run, and the documented guard neither retrains it nor rotates its checkpoints away', async () => {
    const saver = new RecordingSaver();
    const setUp = (seed: number, into: Saver = saver) => {
      const model = buildModel(seed);
      const optimizer = tf.train.adam(0.01);
      const trainer = new Engine(() => step(model, optimizer));
      const checkpoint = new Checkpoint({ trainer, model, optimizer }, into, { nSaved: 2, includeSelf: true });
      trainer.on(Events.EPOCH_COMPLETED, checkpoint);
      return { model, optimizer, trainer, checkpoint, toLoad: { trainer, model, optimizer, checkpointer: checkpoint } };
    };
    const data = [1, 2, 3];
    const first = setUp(7);
    await first.trainer.run(data, { maxEpochs: 3 });
    const trained = await bits(first.model.weights.map((w) => w.read()));
    const files = await sorted(saver);
    expect(files).toEqual(['checkpoint_6.ckpt', 'checkpoint_9.ckpt']);

    // The README recipe, run again with the same maxEpochs: nothing to train.
    const again = setUp(70);
    const info = await resumeOrStart({ saver, toLoad: again.toLoad });
    expect(info).toMatchObject({ resumed: true, iteration: 9, epoch: 3, finished: true, name: 'checkpoint_9.ckpt' });
    const maxEpochs = 3;
    saver.calls.length = 0;
    if (info.epoch < maxEpochs) await again.trainer.run(data, { maxEpochs });
    expect(saver.calls).toEqual([]);
    expect(await bits(again.model.weights.map((w) => w.read()))).toEqual(trained);
    const good = await saver.load('checkpoint_9.ckpt');
    // What the guard prevents: run() on a finished run starts over from epoch 1 (the reference's rule) on top of the
    // trained weights, and its epoch-3 checkpoint overwrites the good one.
    const unguarded = setUp(71);
    await resumeOrStart({ saver, toLoad: unguarded.toLoad });
    const epochsSeen: number[] = [];
    unguarded.trainer.on(Events.EPOCH_STARTED, (e) => epochsSeen.push(e.state.epoch));
    await unguarded.trainer.run(data, { maxEpochs });
    expect(epochsSeen).toEqual([1, 2, 3]);
    expect(saver.calls).toContain('save checkpoint_9.ckpt');

    // A larger maxEpochs trains on from where the finished run stopped.
    const kept = new MemorySaver();
    await kept.save(good, 'checkpoint_9.ckpt');
    const more = setUp(72, kept);
    const onward = await resumeOrStart({ saver: kept, toLoad: more.toLoad });
    expect(onward).toMatchObject({ finished: true, epoch: 3 });
    const seen: number[] = [];
    more.trainer.on(Events.EPOCH_STARTED, (e) => seen.push(e.state.epoch));
    if (onward.epoch < 5) await more.trainer.run(data, { maxEpochs: 5 });
    expect(seen).toEqual([4, 5]);
    expect(more.trainer.state.iteration).toBe(15);
    for (const o of [first, again, unguarded, more]) {
      o.optimizer.dispose();
      o.model.dispose();
    }
  });

  it('needs a saver with latest()', async () => {
    const saver = { save: async () => {}, load: async () => ({}), remove: async () => {}, list: async () => [] };
    await expect(resumeOrStart({ saver, toLoad: { a: new Counter() } })).rejects.toThrow(/latest\(\) method/);
  });
});
