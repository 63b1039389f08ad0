// The reference page's examples (Ignite's "Concepts" page, kept in ../shared/spec/reference-concepts.txt), ported one
// by one in kindling's names: each test runs the page's code and checks what the page says it does or prints.
// Differences a port needs: handlers always receive the engine first (`(engine, ...args)`); a loss is a tensor, read
// with `await readLoss(engine)` or `await loss.data()` where the page calls `.item()`; `using` is the page's `with`.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Accuracy,
  Checkpoint,
  CosineAnnealingScheduler,
  createSupervisedEvaluator,
  createSupervisedTrainer,
  DataLoader,
  DeterministicEngine,
  Engine,
  Events,
  keepRandomState,
  manualSeed,
  readLoss,
  TensorDataset,
} from './index';
import { DiskSaver } from './node';

const dirs: string[] = [];
const tensors: tf.Tensor[] = [];
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(async () => {
  tf.dispose(tensors);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** Python's `str()` of a list of numbers. */
const pyList = (values: readonly number[]) => `[${values.join(', ')}]`;
const mse = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, yPred) as tf.Scalar;
const crossEntropy = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;

/** A small regression problem: y = x · [1, -2, 0.5] + 0.3, as batches `[x, y]` of 8 rows. */
function regression(rows = 16) {
  const x = tf.tensor2d(
    range(0, rows * 3).map((i) => Math.sin(i * 0.7)),
    [rows, 3],
  );
  const y = tf.tidy(() => x.matMul(tf.tensor2d([[1], [-2], [0.5]])).add(0.3));
  tensors.push(x, y);
  return new DataLoader(new TensorDataset(x, y), { batchSize: 8 });
}

/** A small 3-class problem (one-hot labels from a fixed linear rule), split into train / validation / test loaders. */
function classification() {
  const make = (rows: number, offset: number) => {
    const values = range(0, rows * 4).map((i) => Math.sin((i + offset) * 1.37) * 2);
    const labels = range(0, rows).map((r) => {
      const row = values.slice(r * 4, r * 4 + 4);
      const scores = [row[0]! + row[1]!, row[2]! - row[0]!, row[3]! - row[1]!];
      return scores.indexOf(Math.max(...scores));
    });
    const x = tf.tensor2d(values, [rows, 4]);
    const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), 3).toFloat());
    tensors.push(x, y);
    return { x, y, labels, loader: new DataLoader(new TensorDataset(x, y), { batchSize: 16 }) };
  };
  return { train: make(32, 0), validation: make(16, 1000), test: make(16, 2000) };
}

const classifier = () =>
  tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [4], units: 8, activation: 'tanh', kernelInitializer: 'glorotUniform' }),
      tf.layers.dense({ units: 3, kernelInitializer: 'glorotUniform' }),
    ],
  });

/** Layers named, as checkpoints hold weights by name. */
const linear = () => tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 1, name: 'linear' })] });

describe('Concepts: Engine', () => {
  it('a model trainer is an engine looping over the data with update_model; epochLength lets data be an iterator', async () => {
    manualSeed(1);
    const model = linear();
    const optimizer = tf.train.sgd(0.1);
    const data = regression();
    // def update_model(trainer, batch): ... loss.backward(); optimizer.step(); return loss.item()
    const updateModel = async (_trainer: Engine<any, any>, batch: tf.Tensor[]) => {
      const [x, y] = batch as [tf.Tensor, tf.Tensor];
      const loss = optimizer.minimize(() => mse(model.apply(x, { training: true }) as tf.Tensor, y), true)!;
      const value = (await loss.data())[0]!;
      loss.dispose();
      return value;
    };
    const trainer = new Engine(updateModel);
    const losses: number[] = [];
    trainer.on(Events.ITERATION_COMPLETED, (engine) => {
      losses.push(engine.state.output as number);
    });
    await trainer.run(data, { maxEpochs: 100 });
    expect(trainer.state.epoch).toBe(100);
    expect(trainer.state.iteration).toBe(200); // epoch length defaults to len(data): 2 batches
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 100);
    optimizer.dispose();
    model.dispose();

    // trainer.run(data, max_epochs=100, epoch_length=200): the input data can be an iterator.
    const seen: number[] = [];
    const counter = new Engine((_e, batch: number) => seen.push(batch));
    const iterator = (function* () {
      for (let i = 0; ; i++) yield i;
    })();
    await counter.run(iterator, { maxEpochs: 100, epochLength: 200 });
    expect(counter.state.iteration).toBe(20_000);
    expect(seen).toEqual(range(0, 20_000)); // one stream across epochs: never restarted

    // The page's loop: the data iterator is renewed only when it runs out, not at each epoch.
    const batches: string[] = [];
    await new Engine((_e, batch: string) => batches.push(batch)).run(['a', 'b', 'c'], { maxEpochs: 2, epochLength: 5 });
    expect(batches.join('')).toBe('abcab' + 'cabca');
  });
});

describe('Concepts: Events and Handlers', () => {
  it('fires STARTED, EPOCH_STARTED, ITERATION_STARTED/COMPLETED, EPOCH_COMPLETED, COMPLETED in the order the page lists', async () => {
    const trainer = new Engine((_e, batch: number) => batch);
    const fired: string[] = [];
    for (const event of [
      'STARTED',
      'EPOCH_STARTED',
      'ITERATION_STARTED',
      'ITERATION_COMPLETED',
      'EPOCH_COMPLETED',
      'COMPLETED',
    ] as const) {
      trainer.on(Events[event], () => fired.push(event));
    }
    await trainer.run([1, 2], { maxEpochs: 2 });
    const epoch = [
      'EPOCH_STARTED',
      ...['ITERATION_STARTED', 'ITERATION_COMPLETED'],
      ...['ITERATION_STARTED', 'ITERATION_COMPLETED'],
      'EPOCH_COMPLETED',
    ];
    expect(fired).toEqual(['STARTED', ...epoch, ...epoch, 'COMPLETED']);
  });

  it('attaches handlers with addEventHandler or on, with or without using the engine, and with arguments', async () => {
    const printed: string[] = [];
    const print = (line: string) => printed.push(line);
    const trainer = new Engine((_e, batch: number) => batch);
    trainer.addEventHandler(Events.STARTED, (_engine) => print('Start training'));
    // or (the page's decorator)
    trainer.on(Events.STARTED, function onTrainingStarted(_engine) {
      print('Another message of start training');
    });
    // or even simpler, use only what you need !
    trainer.on(Events.STARTED, () => print('Another message of start training'));
    // attach handler with args, kwargs
    const mydata = [1, 2, 3, 4];
    const onTrainingEnded = (_engine: Engine<any, any>, data: number[]) =>
      print(`Training is ended. mydata=${pyList(data)}`);
    trainer.addEventHandler(Events.COMPLETED, onTrainingEnded, mydata);
    await trainer.run([1, 2, 3], { maxEpochs: 2 });
    expect(printed).toEqual([
      'Start training',
      'Another message of start training',
      'Another message of start training',
      'Training is ended. mydata=[1, 2, 3, 4]',
    ]);
  });

  it('removable handlers reuse one configured evaluator for several loops', async () => {
    manualSeed(3);
    const { train, validation, test } = classification();
    const model = classifier();
    const optimizer = tf.train.adam(0.05);
    const trainer = createSupervisedTrainer(model, optimizer, crossEntropy);
    const evaluator = createSupervisedEvaluator(model, { metrics: { acc: new Accuracy() } });
    const printed: string[] = [];
    const accuracies: Record<string, number> = {};
    const logMetrics = (engine: Engine<any, any>, title: string) => {
      accuracies[title] = engine.state.metrics.acc;
      printed.push(`Epoch: ${trainer.state.epoch} - ${title} accuracy: ${engine.state.metrics.acc.toFixed(2)}`);
    };
    trainer.on(Events.EPOCH_COMPLETED, async (_trainer) => {
      {
        using _h = evaluator.addEventHandler(Events.COMPLETED, logMetrics, 'train');
        await evaluator.run(train.loader);
      }
      {
        using _h = evaluator.addEventHandler(Events.COMPLETED, logMetrics, 'validation');
        await evaluator.run(validation.loader);
      }
      {
        using _h = evaluator.addEventHandler(Events.COMPLETED, logMetrics, 'test');
        await evaluator.run(test.loader);
      }
    });
    await trainer.run(train.loader, { maxEpochs: 100 });

    // Each loop logged once under its own title: the handles removed their handler at the end of each block.
    expect(printed).toHaveLength(300);
    for (const [i, line] of printed.entries()) {
      const title = ['train', 'validation', 'test'][i % 3];
      expect(line).toMatch(new RegExp(`^Epoch: ${Math.floor(i / 3) + 1} - ${title} accuracy: \\d\\.\\d\\d$`));
    }
    expect(evaluator.hasEventHandler(logMetrics)).toBe(false);
    // The logged values are the accuracies of the trained model on each split.
    for (const [title, part] of Object.entries({ train, validation, test })) {
      const predicted = tf.tidy(() => (model.predict(part.x) as tf.Tensor).argMax(-1));
      const hits = Array.from(await predicted.data()).filter((p, i) => p === part.labels[i]).length;
      predicted.dispose();
      expect(accuracies[title]).toBe(hits / part.labels.length);
    }
    expect(accuracies.train).toBeGreaterThan(0.9); // it learned
    optimizer.dispose();
    model.dispose();
  });

  it('calls handlers every n-th event, once, or by a custom event filter', async () => {
    manualSeed(4);
    const model = linear();
    const optimizer = tf.train.sgd(0.05);
    const trainer = createSupervisedTrainer(model, optimizer, mse);
    const printed: string[] = [];
    const losses = new Map<number, number>();
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      losses.set(engine.state.iteration, await readLoss(engine));
    });
    trainer.on(Events.ITERATION_COMPLETED({ every: 50 }), async function logTrainingLossEvery50Iterations() {
      const { epoch, maxEpochs, iteration } = trainer.state;
      printed.push(`${epoch} / ${maxEpochs} : ${iteration} - loss: ${(await readLoss(trainer)).toFixed(2)}`);
    });
    const once: number[] = [];
    trainer.on(Events.EPOCH_STARTED({ once: 25 }), function doSomethingOnceOn25Epoch() {
      once.push(trainer.state.epoch);
    });
    const customEventFilter = (_engine: Engine, event: number) => [1, 2, 5, 10, 50, 100].includes(event);
    const special: number[] = [];
    trainer.on(Events.ITERATION_STARTED({ eventFilter: customEventFilter }), function callOnSpecialEvent(engine) {
      special.push(engine.state.iteration);
    });
    await trainer.run(regression(), { maxEpochs: 100 });

    expect(printed).toEqual(
      [50, 100, 150, 200].map((i) => `${i / 2} / 100 : ${i} - loss: ${losses.get(i)!.toFixed(2)}`),
    );
    expect(once).toEqual([25]);
    expect(special).toEqual([1, 2, 5, 10, 50, 100]);
    optimizer.dispose();
    model.dispose();
  });
});

describe('Concepts: State', () => {
  /** The page's update(): trains one step and returns what `shape` builds of (loss.item(), y_pred, y). */
  function makeUpdate<O>(
    model: tf.LayersModel,
    optimizer: tf.Optimizer,
    shape: (loss: number, yPred: tf.Tensor, y: tf.Tensor) => O,
  ) {
    return async (_engine: Engine<any, any>, batch: tf.Tensor[]) => {
      const [x, y] = batch as [tf.Tensor, tf.Tensor];
      let yPred: tf.Tensor | null = null;
      const loss = optimizer.minimize(() => {
        yPred = tf.keep(model.apply(x, { training: true }) as tf.Tensor);
        return crossEntropy(yPred, y);
      }, true)!;
      const value = (await loss.data())[0]!;
      loss.dispose();
      return shape(value, yPred!, tf.clone(y));
    };
  }

  it.each([
    [
      'a list (loss, y_pred, y)',
      (loss: number, yPred: tf.Tensor, y: tf.Tensor) => [loss, yPred, y] as const,
      (o: readonly [number, tf.Tensor, tf.Tensor]) => [o[1], o[2]],
      (o: readonly [number, tf.Tensor, tf.Tensor]) => o[0],
    ],
    [
      'a dictionary { loss, y_pred, y }',
      (loss: number, yPred: tf.Tensor, y: tf.Tensor) => ({ loss, y_pred: yPred, y }),
      (o: { y_pred: tf.Tensor; y: tf.Tensor }) => [o.y_pred, o.y],
      (o: { loss: number }) => o.loss,
    ],
  ] as const)('state.output is %s; Accuracy picks [y_pred, y] with outputTransform', async (_, shape, pick, lossOf) => {
    manualSeed(5);
    const { train } = classification();
    const model = classifier();
    const optimizer = tf.train.adam(0.05);
    const trainer = new Engine(makeUpdate(model, optimizer, shape as (l: number, p: tf.Tensor, y: tf.Tensor) => any));
    const printed: string[] = [];
    trainer.on(Events.EPOCH_COMPLETED, function printLoss(engine) {
      const epoch = engine.state.epoch;
      const loss = (lossOf as (o: unknown) => number)(engine.state.output);
      printed.push(`Epoch ${epoch}: train_loss = ${loss}`);
    });
    const accuracy = new Accuracy({ outputTransform: pick as (o: unknown) => [tf.Tensor, tf.Tensor] });
    accuracy.attach(trainer, 'acc');
    // Counted by hand from the same outputs, to check the metric; then the step's tensors are freed.
    let hits = 0;
    let seen = 0;
    trainer.on(Events.EPOCH_STARTED, () => {
      hits = 0;
      seen = 0;
    });
    trainer.on(Events.ITERATION_COMPLETED, async (engine) => {
      const [yPred, y] = (pick as (o: unknown) => tf.Tensor[])(engine.state.output);
      const predicted = await yPred!.argMax(-1).data();
      const labels = await y!.argMax(-1).data();
      hits += predicted.filter((p, i) => p === labels[i]).length;
      seen += labels.length;
      tf.dispose([yPred!, y!]);
    });
    trainer.on(Events.EPOCH_COMPLETED, (engine) => {
      expect(engine.state.metrics.acc).toBe(hits / seen);
    });
    // A good practice: State also stores user data created in update or handler functions.
    trainer.on(Events.STARTED, function userHandlerFunction(engine) {
      engine.state.newAttribute = 12345;
    });
    await trainer.run(train.loader, { maxEpochs: 10 });
    expect(printed).toHaveLength(10);
    for (const [i, line] of printed.entries())
      expect(line).toMatch(new RegExp(`^Epoch ${i + 1}: train_loss = \\d+\\.\\d+`));
    expect(trainer.state.metrics.acc).toBe(hits / seen);
    expect(trainer.state.newAttribute).toBe(12345);
    optimizer.dispose();
    model.dispose();
  });
});

describe('Concepts: Resuming the training', () => {
  it('Checkpoint of trainer, model, optimizer and lr_scheduler; loadObjects; run() again trains on to maxEpochs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kindling-concepts-'));
    dirs.push(dir);
    const dataLoader = regression();
    const setUp = () => {
      manualSeed(6);
      const model = linear();
      const optimizer = tf.train.adam(0.05);
      const trainer = createSupervisedTrainer(model, optimizer, mse);
      const lrScheduler = new CosineAnnealingScheduler(optimizer, { startValue: 0.05, endValue: 0.005, cycleSize: 30 });
      lrScheduler.attach(trainer);
      return { trainer, model, optimizer, lr_scheduler: lrScheduler };
    };
    const weightsOf = async (model: tf.LayersModel) => Promise.all(model.getWeights().map((w) => w.data()));

    // trainer.run(data_loader, max_epochs=100), with a crash after the checkpoint of epoch 40.
    const first = setUp();
    const toSave = first;
    const saver = new DiskSaver(join(dir, 'training'), { createDir: true });
    const handler = new Checkpoint(toSave, saver);
    first.trainer.addEventHandler(Events.EPOCH_COMPLETED, handler);
    first.trainer.on(Events.EPOCH_COMPLETED({ once: 40 }), () => {
      throw new Error('the machine went down');
    });
    await expect(first.trainer.run(dataLoader, { maxEpochs: 100 })).rejects.toThrow('the machine went down');
    await saver.close();
    // ls /tmp/training
    expect((await readdir(join(dir, 'training'))).filter((name) => name.endsWith('.ckpt'))).toEqual([
      'checkpoint_80.ckpt',
    ]);

    // We can then restore the training from the last checkpoint (new objects, as in a new program).
    const again = setUp();
    const toLoad = again;
    const checkpoint = (await new DiskSaver(join(dir, 'training'), { requireEmpty: false }).load(
      'checkpoint_80.ckpt',
    )) as Record<string, unknown>;
    await Checkpoint.loadObjects({ toLoad, checkpoint });
    expect(again.trainer.state.epoch).toBe(40);
    await again.trainer.run(dataLoader, { maxEpochs: 100 });
    expect(again.trainer.state.iteration).toBe(200);

    // Without data order randomness, the resumed training is the uninterrupted one, bit for bit.
    const straight = setUp();
    await straight.trainer.run(dataLoader, { maxEpochs: 100 });
    expect(await weightsOf(again.model)).toEqual(await weightsOf(straight.model));
    const rateOf = (optimizer: tf.Optimizer) => (optimizer as unknown as { learningRate: number }).learningRate;
    expect(rateOf(again.optimizer)).toBe(rateOf(straight.optimizer));
    for (const o of [first, again, straight]) {
      o.optimizer.dispose();
      o.model.dispose();
    }
  });
});

describe('Concepts: Dataflow synchronization', () => {
  const randomTrainDataLoader = (size: number) => new DataLoader(range(0, size), { batchSize: 4, shuffle: true });

  it('DeterministicEngine: the resumed run sees exactly the original batches', async () => {
    const printed: string[] = [];
    const print = (line: string) => printed.push(line);
    const printTrainData = (engine: Engine<any, any>, batch: number[]) => {
      const i = engine.state.iteration;
      const e = engine.state.epoch;
      print(`train ${e} ${i} ${pyList(batch)}`);
    };
    const trainer = new DeterministicEngine(printTrainData);
    print('Original Run');
    manualSeed(56);
    await trainer.run(randomTrainDataLoader(40), { maxEpochs: 2, epochLength: 5 });
    print('Resumed Run');
    // Resume from 2nd epoch
    trainer.loadStateDict({ epoch: 1, epochLength: 5, maxEpochs: 2, rngStates: null });
    manualSeed(56);
    await trainer.run(randomTrainDataLoader(40));

    // The page's output, line for line in shape: 10 original batches (one shuffled pass over 0..39), then the 5 of
    // the second epoch again. (manualSeed(56) draws other numbers than torch.manual_seed(56), so the batches differ.)
    expect(printed).toHaveLength(1 + 10 + 1 + 5);
    const original = printed.slice(1, 11);
    const resumed = printed.slice(12);
    expect(printed[0]).toBe('Original Run');
    expect(printed[11]).toBe('Resumed Run');
    original.forEach((line, k) => {
      expect(line).toMatch(new RegExp(`^train ${k < 5 ? 1 : 2} ${k + 1} \\[\\d+, \\d+, \\d+, \\d+\\]$`));
    });
    const items = original.flatMap((line) => JSON.parse(line.slice(line.indexOf('['))) as number[]);
    expect([...items].sort((a, b) => a - b)).toEqual(range(0, 40));
    expect(items).not.toEqual(range(0, 40)); // shuffled
    // We can see that the data samples are exactly the same between original and resumed runs.
    expect(resumed).toEqual(original.slice(5));
  });

  it('a handler reseeding the RNG disturbs the dataflow; keepRandomState keeps it intact', async () => {
    function* randomTrainDataGenerator() {
      for (;;) yield [Math.floor(Math.random() * 100)];
    }
    const run = async (userHandler: ((engine: Engine<any, any>) => void) | null) => {
      const printed: string[] = [];
      const trainer = new DeterministicEngine((engine, batch: number[]) => {
        printed.push(`train ${engine.state.epoch} ${engine.state.iteration} ${pyList(batch)}`);
      });
      if (userHandler !== null) trainer.on(Events.ITERATION_COMPLETED({ every: 3 }), userHandler);
      manualSeed(0);
      await trainer.run(randomTrainDataGenerator(), { maxEpochs: 3, epochLength: 5 });
      return printed;
    };
    const values = (lines: string[]) => lines.map((line) => line.slice(line.indexOf('[')));
    // handler synchronizes the random state
    const userHandler = (_engine: Engine<any, any>) => {
      manualSeed(12);
      Math.random();
    };
    const disturbed = await run(userHandler);
    expect(disturbed).toHaveLength(15);
    expect(disturbed[14]).toMatch(/^train 3 15 \[\d+\]$/);
    // From iteration 4 on, the batches repeat every 3 iterations (the page's arrows: 4, 7, 10, 13 are equal).
    const tail = values(disturbed).slice(3);
    expect(tail.slice(3)).toEqual(tail.slice(0, -3));
    expect(new Set(tail).size).toBeLessThanOrEqual(3);

    const undisturbed = await run(null);
    expect(await run(keepRandomState(userHandler))).toEqual(undisturbed);
    const kept = values(undisturbed).slice(3);
    expect(kept.slice(3)).not.toEqual(kept.slice(0, -3));
  });
});
