import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, TensorDataset } from '../data';
import { Events } from '../engine';
import {
  BasicTimeProfiler,
  EMAHandler,
  EpochOutputStore,
  FastaiLRFinder,
  HandlersTimeProfiler,
  TimeLimit,
} from '../handlers';
import { Accuracy } from '../metrics';
import { createSupervisedEvaluator, createSupervisedTrainer } from '../supervised';
import { CSVLogger } from './csv-logger';
import { GradsHistHandler } from './grads-hist-handler';
import { GradsScalarHandler } from './grads-scalar-handler';
import { TensorboardLogger } from './tensorboard-logger';
import { WeightsHistHandler } from './weights-hist-handler';
import { WeightsScalarHandler } from './weights-scalar-handler';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('memory: every new handler and logger together on a supervised run', () => {
  it('leaves tf.memory().numTensors as it was once the run ends and the loggers close', async () => {
    const x = tf.tensor2d(
      Array.from({ length: 48 }, (_, i) => Math.cos(i)),
      [16, 3],
    );
    const labels = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => i % 3),
      'int32',
    );
    const y = tf.oneHot(labels, 3).toFloat();
    labels.dispose();
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 4 });
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [3], units: 5, activation: 'relu' }), tf.layers.dense({ units: 3 })],
    });
    const optimizer = tf.train.adam(0.01);
    const lossFn = (yPred: tf.Tensor, target: tf.Tensor) => tf.losses.softmaxCrossEntropy(target, yPred) as tf.Scalar;
    const trainer = createSupervisedTrainer(model, optimizer, lossFn);
    // Adam's slots exist from the first step on: take it before counting
    await trainer.run(loader, { maxIters: 1 });
    trainer.state.maxIters = null; // the next runs start over, in epochs

    const before = tf.memory().numTensors;
    const finder = new FastaiLRFinder();
    const finding = await finder.attach(trainer, { model, optimizer }, { numIter: 8, endLr: 1 });
    await trainer.run(loader, { maxEpochs: 2 });
    await finding.detach();
    expect(tf.memory().numTensors).toBe(before);

    const ema = new EMAHandler(model, { momentum: 0.1 });
    const withEma = tf.memory().numTensors;
    ema.attach(trainer);
    const evaluator = createSupervisedEvaluator(ema.emaModel, { metrics: { accuracy: new Accuracy() } });
    const store = new EpochOutputStore();
    store.attach(evaluator);
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run(loader);
    });
    trainer.on(Events.ITERATION_COMPLETED, new TimeLimit({ limitSec: 3600 }));
    new BasicTimeProfiler().attach(trainer);
    new HandlersTimeProfiler().attach(trainer);
    const tb = new TensorboardLogger({ logDir: 'leak', storage: 'memory' });
    const csv = new CSVLogger();
    for (const logger of [tb, csv]) {
      logger.attachOutputHandler(trainer, {
        eventName: Events.ITERATION_COMPLETED,
        tag: 'train',
        outputTransform: (l) => ({ l }),
      });
      logger.attachOutputHandler(evaluator, { eventName: Events.COMPLETED, tag: 'val', metricNames: 'all' });
      logger.attachOptParamsHandler(trainer, { eventName: Events.ITERATION_STARTED, optimizer });
      logger.attach(trainer, new WeightsScalarHandler(model), Events.ITERATION_COMPLETED);
      logger.attach(trainer, new GradsScalarHandler(model), Events.ITERATION_COMPLETED);
    }
    tb.attach(trainer, new WeightsHistHandler(model), Events.ITERATION_COMPLETED);
    tb.attach(trainer, new GradsHistHandler(model), Events.ITERATION_COMPLETED);
    await trainer.run(loader, { maxEpochs: 3 });
    await Promise.all([tb.close(), csv.close()]);
    expect(store.data).toHaveLength(4);
    store.reset();
    expect(tf.memory().numTensors).toBe(withEma);
    ema.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(csv.toString().split('\n').length).toBeGreaterThan(12);
    tf.dispose([x, y]);
    model.dispose();
  });
});
