// Checkpoint({ async: true }): the snapshot is taken at the event and written while training goes on. Its files hold
// exactly what a foreground Checkpoint writes at the same iterations (bit for bit, a mid-epoch metric included); the
// loop is not held by a slow write, an event during a write waits for it, the run's end waits for the write, a failed
// write fails the run, and no snapshot tensor is left behind.
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Engine, Events, type Logger, setLogger } from '../../engine';
import { Average } from '../../metrics';
import { CheckpointError, MemorySaver, type SaveMetadata, type Saver } from '../../storage';
import { Checkpoint, CheckpointEvents } from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let warnings: string[];
let previousLogger: Logger;
beforeEach(() => {
  warnings = [];
  previousLogger = setLogger({
    debug() {},
    info() {},
    warn: (m) => warnings.push(m),
    error: (m) => warnings.push(m),
  });
});
afterEach(() => {
  setLogger(previousLogger);
});

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A MemorySaver whose saves wait for `release()` (or fail with `fail()`) and that records when they start and end. */
class GatedSaver implements Saver {
  readonly inner = new MemorySaver();
  readonly log: string[] = [];
  #gates: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  /** When false, saves go through without waiting. */
  isGated = true;
  /** The iteration the trainer had reached when each save started and ended. */
  progress: () => number = () => 0;

  async save(data: unknown, filename: string, metadata?: SaveMetadata) {
    this.log.push(`start ${filename} @${this.progress()}`);
    if (this.isGated) {
      await new Promise<void>((resolve, reject) => {
        this.#gates.push({ resolve, reject });
      });
    }
    await this.inner.save(data, filename, metadata);
    this.log.push(`saved ${filename} @${this.progress()}`);
  }
  get waiting(): number {
    return this.#gates.length;
  }
  release() {
    this.#gates.shift()?.resolve();
  }
  fail(error: unknown) {
    this.#gates.shift()?.reject(error);
  }
  load(filename: string) {
    return this.inner.load(filename);
  }
  remove(filename: string) {
    return this.inner.remove(filename);
  }
  list() {
    return this.inner.list();
  }
}

const buildModel = () =>
  tf.sequential({
    layers: [
      tf.layers.dense({
        units: 5,
        inputShape: [4],
        activation: 'tanh',
        name: 'hidden',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.dense({ units: 2, name: 'head', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });

/** A trainer of `model` with Adam whose output is the loss (a scalar tensor, disposed at the next step). */
function makeTrainer(model: tf.LayersModel, optimizer: tf.Optimizer) {
  const x = tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1.0, 0.3, 0.2], [3, 4]);
  const y = tf.tensor2d([1, 0, 0, 1, 1, 0], [3, 2]);
  let previous: tf.Scalar | null = null; // the engine clears state.output before each step: dispose it here
  const trainer = new Engine<number, tf.Scalar>(async () => {
    await tick(); // a step takes time: background work gets its turns
    previous?.dispose();
    const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    previous = tf.tidy(
      () =>
        optimizer.minimize(
          () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar,
          true,
          variables,
        ) as tf.Scalar,
    );
    return previous;
  });
  /** One step outside the engine: creates Adam's slots before tensors are counted. */
  const warmUp = () =>
    tf.tidy(() => {
      const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
      optimizer.minimize(
        () => tf.losses.meanSquaredError(y, model.apply(x) as tf.Tensor) as tf.Scalar,
        false,
        variables,
      );
    });
  /** Frees the data and the last output. */
  const dispose = () => {
    tf.dispose([x, y]);
    previous?.dispose();
  };
  return { trainer, warmUp, dispose, disposeOutput: () => previous?.dispose() };
}

/** The checkpoint's data with the optimizer slots' variable names made independent of how many models exist. */
const normalized = (data: unknown) =>
  JSON.parse(
    JSON.stringify(data, (key, value) =>
      key === 'name' ? String(value).replace(/_\d+\//, '/') : value instanceof Float32Array ? Array.from(value) : value,
    ),
  );

/** Trains 2 epochs of 6 with a checkpoint every 4 iterations (mid-epoch) and an epoch-wise mean loss. */
async function trainWithCheckpoints(options: { async: boolean }, saver: Saver) {
  const model = buildModel();
  const optimizer = tf.train.adam(0.05);
  const { trainer, dispose } = makeTrainer(model, optimizer);
  const meanLoss = new Average();
  meanLoss.attach(trainer, 'meanLoss');
  const checkpoint = new Checkpoint({ trainer, model, optimizer, meanLoss }, saver, { nSaved: null, ...options });
  trainer.on(Events.ITERATION_COMPLETED({ every: 4 }), checkpoint);
  const state = await trainer.run([1, 2, 3, 4, 5, 6], { maxEpochs: 2 });
  dispose();
  optimizer.dispose();
  model.dispose();
  return { state, checkpoint };
}

describe('Checkpoint({ async: true })', () => {
  it('writes exactly the files a foreground Checkpoint writes, while training goes on', async () => {
    const reference = new MemorySaver();
    await trainWithCheckpoints({ async: false }, reference);

    const saver = new GatedSaver();
    let iteration = 0;
    saver.progress = () => iteration;
    const releasing = (async () => {
      // Let each save wait until training has gone two iterations past it.
      for (;;) {
        await tick();
        if (saver.waiting > 0 && iteration >= Number(saver.log.at(-1)!.match(/_(\d+)\./)![1]) + 2) saver.release();
        if (iteration >= 12 && saver.waiting > 0) saver.release();
        if (saver.log.filter((l) => l.startsWith('saved')).length === 3) return;
      }
    })();
    const model = buildModel();
    const optimizer = tf.train.adam(0.05);
    const { trainer, dispose } = makeTrainer(model, optimizer);
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      iteration = e.state.iteration;
    });
    const meanLoss = new Average();
    meanLoss.attach(trainer, 'meanLoss');
    const checkpoint = new Checkpoint({ trainer, model, optimizer, meanLoss }, saver, { nSaved: null, async: true });
    trainer.on(Events.ITERATION_COMPLETED({ every: 4 }), checkpoint);
    await trainer.run([1, 2, 3, 4, 5, 6], { maxEpochs: 2 });
    await releasing;
    dispose();
    optimizer.dispose();
    model.dispose();

    expect(await saver.list()).toEqual(['checkpoint_4.ckpt', 'checkpoint_8.ckpt', 'checkpoint_12.ckpt']);
    // Training went on during each write: the save of iteration 4 ended at iteration 6 or later.
    expect(saver.log.slice(0, 2)).toEqual(['start checkpoint_4.ckpt @4', 'saved checkpoint_4.ckpt @6']);
    for (const name of await reference.list()) {
      expect(normalized(await saver.load(name))).toEqual(normalized(await reference.load(name)));
    }
    // The mean loss of the epoch so far was saved mid-epoch (iteration 8 is the 2nd of epoch 2), not a later value.
    const at8 = (await saver.load('checkpoint_8.ckpt')) as { meanLoss: { numExamples: number } };
    expect(at8.meanLoss.numExamples).toBe(2);
  });

  it('fires SAVED_CHECKPOINT when the save is durable, and the run resolves only after it', async () => {
    const saver = new GatedSaver();
    const trainer = new Engine(async () => {
      await tick();
    });
    let iteration = 0;
    saver.progress = () => iteration;
    const events: string[] = [];
    const counter = { value: 0, stateDict: () => ({ value: counter.value }), loadStateDict() {} };
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      iteration = e.state.iteration;
      counter.value = e.state.iteration * 10;
    });
    const checkpoint = new Checkpoint({ counter }, saver, { async: true, nSaved: null });
    checkpoint.attach(trainer, Events.ITERATION_COMPLETED({ once: 2 }));
    trainer.on(CheckpointEvents.SAVED_CHECKPOINT, (e) => {
      events.push(`saved ${checkpoint.lastCheckpoint} (count ${e.state.savedCheckpoint})`);
    });
    trainer.on(Events.COMPLETED, () => {
      events.push('completed');
    });
    let isResolved = false;
    const run = trainer.run([1, 2, 3, 4, 5]).then(() => {
      isResolved = true;
    });
    while (iteration < 5) await tick();
    for (let i = 0; i < 5; i++) await tick();
    expect(isResolved).toBe(false); // waiting for the save of iteration 2
    expect(events).toEqual([]);
    saver.release();
    await run;
    expect(events).toEqual(['saved counter_2.ckpt (count 1)', 'completed']);
    expect(await saver.load('counter_2.ckpt')).toEqual({ value: 20 });
  });

  it('a checkpoint event during a write waits for it (no two saves in flight, none skipped)', async () => {
    const saver = new GatedSaver();
    let iteration = 0;
    saver.progress = () => iteration;
    const trainer = new Engine(async () => {
      await tick();
    });
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      iteration = e.state.iteration;
    });
    const counter = { stateDict: () => ({ at: iteration }), loadStateDict() {} };
    trainer.on(
      Events.ITERATION_COMPLETED({ every: 2 }),
      new Checkpoint({ counter }, saver, { async: true, nSaved: null }),
    );
    const run = trainer.run([1, 2, 3, 4, 5, 6, 7, 8]);
    while (saver.waiting === 0) await tick();
    for (let i = 0; i < 20; i++) await tick();
    expect(iteration).toBe(4); // the event of iteration 4 waits for the save of iteration 2
    expect(saver.waiting).toBe(1);
    saver.isGated = false;
    saver.release();
    await run;
    expect(saver.log).toEqual([
      'start counter_2.ckpt @2',
      'saved counter_2.ckpt @4',
      'start counter_4.ckpt @4',
      'saved counter_4.ckpt @4',
      'start counter_6.ckpt @6',
      'saved counter_6.ckpt @6',
      'start counter_8.ckpt @8',
      'saved counter_8.ckpt @8',
    ]);
    expect(await saver.load('counter_4.ckpt')).toEqual({ at: 4 });
  });

  it('a failed background save fails the run; the previous checkpoint stays and no tensor is left', async () => {
    const model = buildModel();
    const optimizer = tf.train.adam(0.05);
    const { trainer, warmUp, dispose, disposeOutput } = makeTrainer(model, optimizer);
    warmUp();
    const before = tf.memory().numTensors;
    const saver = new GatedSaver();
    trainer.on(
      Events.ITERATION_COMPLETED({ every: 2 }),
      new Checkpoint({ model, optimizer }, saver, { async: true, nSaved: 1 }),
    );
    const run = trainer.run([1, 2, 3, 4, 5, 6, 7, 8]);
    while (saver.waiting === 0) await tick();
    saver.release(); // iteration 2 saved
    while (saver.waiting === 0) await tick();
    const failure = new CheckpointError('disk full', { code: 'QUOTA_EXCEEDED' });
    saver.fail(failure); // iteration 4 fails
    await expect(run).rejects.toBe(failure);
    expect(trainer.state.iteration).toBeLessThan(8);
    expect(await saver.list()).toEqual(['checkpoint_2.ckpt']);
    disposeOutput();
    expect(tf.memory().numTensors).toBe(before);
    dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('a failed background save reaches EXCEPTION_RAISED handlers', async () => {
    const saver = new GatedSaver();
    saver.isGated = false;
    const failing: Saver = {
      save: async () => {
        await tick();
        throw new CheckpointError('nope');
      },
      load: (f) => saver.load(f),
      remove: (f) => saver.remove(f),
      list: () => saver.list(),
    };
    const trainer = new Engine(async () => {
      await tick();
    });
    const errors: unknown[] = [];
    trainer.on(Events.EXCEPTION_RAISED, (_e, error: unknown) => {
      errors.push(error);
    });
    trainer.on(
      Events.ITERATION_COMPLETED({ once: 1 }),
      new Checkpoint({ c: { stateDict: () => ({}), loadStateDict() {} } }, failing, { async: true }),
    );
    await trainer.run([1, 2, 3]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('nope');
  });

  it('leaves no tensor behind: over a run, after terminate() mid-save, and after a failing stateDict()', async () => {
    const model = buildModel();
    const optimizer = tf.train.adam(0.05);
    const { trainer, warmUp, dispose, disposeOutput } = makeTrainer(model, optimizer);
    warmUp();
    const before = tf.memory().numTensors;

    const saver = new MemorySaver();
    const checkpoint = new Checkpoint({ model, optimizer, trainer }, saver, { async: true, nSaved: 2 });
    const handle = trainer.on(Events.ITERATION_COMPLETED({ every: 2 }), checkpoint);
    await trainer.run([1, 2, 3, 4, 5, 6, 7], { maxEpochs: 2 });
    disposeOutput();
    expect(tf.memory().numTensors).toBe(before);
    expect(await saver.list()).toEqual(['checkpoint_12.ckpt', 'checkpoint_14.ckpt']);

    checkpoint.reset(); // a new run: the files stay, rotation starts over
    const stop = trainer.on(Events.ITERATION_COMPLETED({ once: 4 }), (e) => e.terminate());
    await trainer.run([1, 2, 3, 4, 5, 6, 7], { maxEpochs: 2 });
    expect(trainer.state.iteration).toBe(4);
    disposeOutput();
    expect(tf.memory().numTensors).toBe(before);
    expect(await saver.list()).toEqual([
      'checkpoint_12.ckpt',
      'checkpoint_14.ckpt',
      'checkpoint_2.ckpt',
      'checkpoint_4.ckpt',
    ]);
    stop.remove();
    handle.remove();

    const broken = {
      stateDict: () => Promise.reject(new Error('no state')),
      loadStateDict() {},
    };
    const failing = new Checkpoint({ model, optimizer, broken }, saver, { async: true });
    // The terminated run goes on from iteration 4.
    trainer.on(Events.ITERATION_COMPLETED({ once: 6 }), failing);
    await expect(trainer.run([1, 2, 3, 4, 5, 6, 7], { maxEpochs: 2 })).rejects.toThrow('no state');
    disposeOutput();
    expect(tf.memory().numTensors).toBe(before);
    dispose();
    optimizer.dispose();
    model.dispose();
  });

  it('saves in the foreground outside a run, and checks its option', async () => {
    const saver = new MemorySaver();
    const trainer = new Engine(() => null);
    trainer.state.iteration = 7;
    const checkpoint = new Checkpoint({ c: { stateDict: () => ({ a: 1 }), loadStateDict() {} } }, saver, {
      async: true,
    });
    await checkpoint.handle(trainer);
    expect(await saver.list()).toEqual(['c_7.ckpt']);
    expect(checkpoint.async).toBe(true);
    expect(() => new Checkpoint({ c: new Average() }, saver, { async: 'yes' as any })).toThrow(
      "Checkpoint: option async should be a boolean, got 'yes'.",
    );
  });
});
