import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGenerator, DataLoader, manualSeed, TensorDataset } from '../data';
import { Events, type Stateful } from '../engine';
import { Accuracy, RunningAverage } from '../metrics';
import { MemorySaver, type SaveMetadata, type Saver } from '../storage';
import { createSupervisedTrainer, readLoss } from '../supervised';
import { setupResumableTraining } from './resumable';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const ROWS = 64;
const FEATURES = 6;
const CLASSES = 3;
const BATCH = 8; // 8 iterations per epoch

/** A saver that records the file names saved, over a MemorySaver. */
class RecordingSaver implements Saver {
  readonly inner = new MemorySaver();
  readonly saved: string[] = [];
  async save(data: unknown, filename: string, metadata?: SaveMetadata) {
    this.saved.push(filename);
    await this.inner.save(data, filename, metadata);
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
  latest() {
    return this.inner.latest();
  }
}

/** Counts iterations: a Stateful the run changes, to show it is saved after it has seen the iteration. */
class Counter implements Stateful {
  count = 0;
  stateDict() {
    return { count: this.count };
  }
  loadStateDict(sd: { count: number }) {
    this.count = sd.count;
  }
}

/**
 * A fresh set of everything a run holds: data, a model with dropout, Adam, a deterministic trainer with a shuffled
 * loader, a RunningAverage of the loss and an Accuracy on the trainer, and a recorder of every loss by iteration.
 */
function build() {
  manualSeed(11);
  const generator = createGenerator(5, 1);
  const xs = new Float32Array(ROWS * FEATURES).map(() => generator.next() * 2 - 1);
  const labels = Int32Array.from(
    { length: ROWS },
    (_, r) => (xs[r * FEATURES]! > 0 ? 1 : 0) + (xs[r * FEATURES + 1]! > 0.3 ? 1 : 0),
  );
  const x = tf.tensor2d(xs, [ROWS, FEATURES]);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat());
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [FEATURES], units: 8, activation: 'relu', name: 'hidden' }),
      tf.layers.dropout({ rate: 0.2, name: 'drop' }),
      tf.layers.dense({ units: CLASSES, name: 'out' }),
    ],
  });
  const optimizer = tf.train.adam(0.05);
  const lossFn = (yPred: tf.Tensor, yTrue: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred) as tf.Scalar;
  const trainer = createSupervisedTrainer(model, optimizer, lossFn, {
    deterministic: true,
    outputTransform: (_x, yTrue, yPred, loss) => ({ loss, yPred, y: yTrue }) as any,
  });
  const loader = new DataLoader(new TensorDataset(x, y), { batchSize: BATCH, shuffle: true });
  const running = new RunningAverage({ outputTransform: (o: { loss: tf.Scalar }) => o.loss });
  running.attach(trainer, 'runningLoss');
  const accuracy = new Accuracy({ outputTransform: (o: { yPred: tf.Tensor; y: tf.Tensor }) => [o.yPred, o.y] });
  accuracy.attach(trainer, 'accuracy');
  const losses: Record<number, number> = {};
  trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
    losses[engine.state.iteration] = await readLoss({
      state: { output: (engine.state.output as { loss: tf.Scalar }).loss },
    });
  });
  const dispose = () => {
    tf.dispose([x, y]);
    model.dispose();
    optimizer.dispose();
    running.reset();
    accuracy.reset();
  };
  return { trainer, model, optimizer, loader, running, accuracy, losses, dispose };
}

type Built = ReturnType<typeof build>;
const toSave = (b: Built) => ({ model: b.model, optimizer: b.optimizer, running: b.running, accuracy: b.accuracy });

describe('setupResumableTraining', () => {
  it('resumed from a fresh set of objects at every checkpoint, the losses and metrics equal an uninterrupted run', async () => {
    const straight = build();
    const straightSaver = new MemorySaver();
    const setup = await setupResumableTraining(straight.trainer, {
      saver: straightSaver,
      toSave: toSave(straight),
      saveEveryIters: 3,
    });
    expect(setup.report).toMatchObject({ resumed: false, iteration: 0, epoch: 0, finished: false, name: null });
    const epochMetrics: Record<number, unknown> = {};
    straight.trainer.on(Events.EPOCH_COMPLETED, (e) => {
      epochMetrics[e.state.epoch] = { ...e.state.metrics };
    });
    await setup.run(straight.loader, { maxEpochs: 3 });
    straight.dispose();
    expect(Object.keys(straight.losses)).toHaveLength(24);

    // Stop at iterations around checkpoints (3, 6, 8 = an epoch end, 9, ...), then resume from fresh objects.
    for (const stopAt of [4, 8, 10, 17, 22]) {
      const saver = new MemorySaver();
      const first = build();
      const a = await setupResumableTraining(first.trainer, { saver, toSave: toSave(first), saveEveryIters: 3 });
      first.trainer.on(Events.ITERATION_COMPLETED({ once: stopAt }), (e) => e.terminate());
      await a.run(first.loader, { maxEpochs: 3 });
      first.dispose();

      const second = build();
      const b = await setupResumableTraining(second.trainer, { saver, toSave: toSave(second), saveEveryIters: 3 });
      // The newest save at or before stopAt: a multiple of 3, or an epoch end (8, 16) reached before stopAt (a stop at
      // an epoch's last iteration skips that epoch's EPOCH_COMPLETED, and with it the epoch-end save).
      const epochEnd = stopAt % 8 === 0 ? stopAt - 8 : Math.floor(stopAt / 8) * 8;
      const expected = Math.max(stopAt - (stopAt % 3), epochEnd);
      expect(b.report).toMatchObject({
        resumed: true,
        iteration: expected,
        epoch: Math.floor(expected / 8),
        finished: false,
      });
      expect(b.report.name).toBe(`checkpoint_${expected}.ckpt`);
      expect(b.report.summary).toBe(
        `resumed from checkpoint_${expected}.ckpt at iteration ${expected} (epoch ${Math.floor(expected / 8)} of 3 done)`,
      );
      const resumedMetrics: Record<number, unknown> = {};
      second.trainer.on(Events.EPOCH_COMPLETED, (e) => {
        resumedMetrics[e.state.epoch] = { ...e.state.metrics };
      });
      const { trained } = await b.run(second.loader, { maxEpochs: 3 });
      second.dispose();
      expect(trained).toBe(true);
      for (let i = expected + 1; i <= 24; i++)
        expect(second.losses[i], `loss ${i} after stopping at ${stopAt}`).toBe(straight.losses[i]);
      for (const [epoch, metrics] of Object.entries(resumedMetrics))
        expect(metrics).toEqual(epochMetrics[Number(epoch)]);
    }
  });

  it('saves every N iterations and at each epoch end, once per iteration, keeping nSaved', async () => {
    const b = build();
    const saver = new RecordingSaver();
    const training = await setupResumableTraining(b.trainer, {
      saver,
      toSave: toSave(b),
      saveEveryIters: 4,
      nSaved: 3,
    });
    await training.run(b.loader, { maxEpochs: 2 });
    b.dispose();
    // 8 iterations per epoch: 4, then 8 once (at EPOCH_COMPLETED, not also at ITERATION_COMPLETED), 12, 16.
    expect(saver.saved).toEqual(['checkpoint_4.ckpt', 'checkpoint_8.ckpt', 'checkpoint_12.ckpt', 'checkpoint_16.ckpt']);
    expect((await saver.list()).sort()).toEqual(['checkpoint_12.ckpt', 'checkpoint_16.ckpt', 'checkpoint_8.ckpt']);
  });

  it('checkpoints after the handlers added before run(), so their state has seen the iteration', async () => {
    const b = build();
    const saver = new MemorySaver();
    const counter = new Counter();
    const training = await setupResumableTraining(b.trainer, {
      saver,
      toSave: { ...toSave(b), counter },
      saveEveryIters: 5,
    });
    b.trainer.on(Events.ITERATION_COMPLETED, () => {
      counter.count += 1; // added after the setup: the checkpoint still runs after it
    });
    await training.run(b.loader, { maxIters: 5 });
    b.dispose();
    const saved = (await saver.load('checkpoint_5.ckpt')) as { counter: { count: number } };
    expect(saved.counter.count).toBe(5);
  });

  it('a finished run is reported finished and not trained again; more epochs train on', async () => {
    const saver = new MemorySaver();
    const first = build();
    await (await setupResumableTraining(first.trainer, { saver, toSave: toSave(first) })).run(first.loader, {
      maxEpochs: 2,
    });
    const trainedWeights = await first.model.getWeights()[0]!.data();
    first.dispose();

    const again = build();
    const training = await setupResumableTraining(again.trainer, { saver, toSave: toSave(again) });
    expect(training.report).toMatchObject({
      resumed: true,
      iteration: 16,
      epoch: 2,
      finished: true,
      name: 'checkpoint_16.ckpt',
    });
    expect(training.report.summary).toContain('the run had finished; ask for more epochs to train on');
    const same = await training.run(again.loader, { maxEpochs: 2 });
    expect(same.trained).toBe(false);
    expect(Object.keys(again.losses)).toHaveLength(0);
    expect(await again.model.getWeights()[0]!.data()).toEqual(trainedWeights);
    expect((await training.run(again.loader)).trained).toBe(false); // no limits: the loaded run's own
    const more = await training.run(again.loader, { maxEpochs: 3 });
    expect(more.trained).toBe(true);
    expect(Object.keys(again.losses).map(Number)).toEqual([17, 18, 19, 20, 21, 22, 23, 24]);
    expect(more.state.epoch).toBe(3);
    again.dispose();
  });

  it('from loads a named checkpoint instead of the newest', async () => {
    const saver = new MemorySaver();
    const first = build();
    await (
      await setupResumableTraining(first.trainer, { saver, toSave: toSave(first), saveEveryIters: 4, nSaved: 5 })
    ).run(first.loader, { maxEpochs: 2 });
    first.dispose();
    const again = build();
    const training = await setupResumableTraining(again.trainer, {
      saver,
      toSave: toSave(again),
      nSaved: 5, // the run's own: a Checkpoint rejects a saved list longer than its nSaved
      from: 'checkpoint_12.ckpt',
    });
    expect(training.report).toMatchObject({
      resumed: true,
      iteration: 12,
      name: 'checkpoint_12.ckpt',
      finished: false,
    });
    again.dispose();
  });

  it('leaves no tensors behind: numTensors is the same after a second run', async () => {
    const once = async () => {
      const b = build();
      const training = await setupResumableTraining(b.trainer, {
        saver: new MemorySaver(),
        toSave: toSave(b),
        saveEveryIters: 3,
      });
      await training.run(b.loader, { maxEpochs: 2 });
      training.remove();
      b.dispose();
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('remove() takes the checkpoint handlers off; run() afterwards says so', async () => {
    const b = build();
    const saver = new RecordingSaver();
    const training = await setupResumableTraining(b.trainer, { saver, toSave: toSave(b), saveEveryIters: 2 });
    training.remove();
    await b.trainer.run(b.loader, { maxIters: 4 });
    expect(saver.saved).toEqual([]);
    await expect(training.run(b.loader, { maxEpochs: 1 })).rejects.toThrow(
      'ResumableTraining.run: this training was removed (remove() took its checkpoints off); set it up again.',
    );
    b.dispose();
  });

  it('rejects bad options, naming them and the fix', async () => {
    const b = build();
    const saver = new MemorySaver();
    const base = { saver, toSave: toSave(b) };
    await expect(setupResumableTraining(b.trainer, { ...base, saveEvery: 5 } as never)).rejects.toThrow(
      "setupResumableTraining: unknown option 'saveEvery'.",
    );
    await expect(setupResumableTraining(b.trainer, { ...base, saveEveryIters: 0 })).rejects.toThrow(
      'setupResumableTraining: option saveEveryIters should be a positive integer or null, got 0.',
    );
    await expect(
      setupResumableTraining(b.trainer, { ...base, checkpointOptions: { scoreName: 'accuracy' } as never }),
    ).rejects.toThrow(
      'setupResumableTraining: option checkpointOptions.scoreName is decided by setupResumableTraining',
    );
    await expect(
      setupResumableTraining(b.trainer, { ...base, checkpointOptions: { nSaved: 3 } as never }),
    ).rejects.toThrow('pass nSaved to setupResumableTraining itself');
    await expect(
      setupResumableTraining(b.trainer, { ...base, checkpointOptions: { nSved: 3 } as never }),
    ).rejects.toThrow("Checkpoint: unknown option 'nSved'. Did you mean 'nSaved'?");
    await expect(setupResumableTraining(b.trainer, { saver, toSave: { trainer: b.model } })).rejects.toThrow(
      "setupResumableTraining: option toSave may not use the key 'trainer' (the trainer goes there); rename it.",
    );
    await expect(setupResumableTraining({} as never, base)).rejects.toThrow(
      'setupResumableTraining: argument trainer should be an Engine (e.g. from createSupervisedTrainer), got',
    );
    b.dispose();
  });
});
