import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataLoader, TensorDataset } from '../data';
import { Events } from '../engine';
import { globalStepFromEngine } from '../handlers';
import { Accuracy, Loss } from '../metrics';
import { createSupervisedEvaluator, createSupervisedTrainer } from '../supervised';
import { GradsHistHandler } from './grads-hist-handler';
import { GradsScalarHandler } from './grads-scalar-handler';
import { TensorboardLogger } from './tensorboard-logger';
import { defaultBucketLimits, encodeEvent, frameRecord, makeHistogram, maskedCrc32c } from './tfevents';
import { crc32c, type DecodedEvent, decodeEvents, masked, readRecords, scalarsOf } from './tfevents-decoder.test-util';
import { WeightsHistHandler } from './weights-hist-handler';
import { WeightsScalarHandler } from './weights-scalar-handler';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kindling-tb-'));
  dirs.push(dir);
  return dir;
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The one event file under `dir`, decoded. */
function readRun(dir: string): { name: string; events: DecodedEvent[] } {
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  return { name: files[0]!, events: decodeEvents(new Uint8Array(readFileSync(join(dir, files[0]!)))) };
}

describe('TFRecord framing and Event encoding', () => {
  it('masks CRC32C as TFRecord does, matching an independent CRC32C', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32c(check)).toBe(0xe3069283); // the CRC-32C check value
    expect(maskedCrc32c(check)).toBe(masked(0xe3069283));
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7919) % 251);
    for (const length of [0, 1, 8, 13, 1000])
      expect(maskedCrc32c(bytes.subarray(0, length))).toBe(masked(crc32c(bytes.subarray(0, length))));
  });

  it('frames records the decoder reads back, and the decoder catches a flipped byte', () => {
    const event = encodeEvent({
      wallTime: 1700000000.25,
      step: 2 ** 40 + 3,
      summary: [{ tag: 'a/b', simpleValue: 0.1 }],
    });
    const framed = frameRecord(event);
    expect(framed.length).toBe(event.length + 16);
    const [decoded] = decodeEvents(framed);
    expect(decoded).toEqual({
      wallTime: 1700000000.25,
      step: 2 ** 40 + 3,
      summary: { value: [{ tag: 'a/b', simpleValue: Math.fround(0.1) }] },
    });
    for (const index of [0, 9, 14, framed.length - 1]) {
      const broken = framed.slice();
      broken[index]! ^= 0x10;
      expect(() => readRecords(broken)).toThrow(/bad (length|data) CRC/);
    }
  });

  it("builds histograms over TensorFlow's default buckets, merging runs of empty ones", () => {
    const limits = defaultBucketLimits();
    expect(limits.length).toBe(1551);
    expect(limits[775]).toBe(0);
    expect(limits[776]).toBe(1e-12);
    expect(limits[774]).toBe(-1e-12);
    expect(limits[0]).toBe(-Number.MAX_VALUE);
    expect(limits[1549]! / limits[1548]!).toBeCloseTo(1.1, 12);
    expect(limits.at(-1)).toBe(Number.MAX_VALUE);
    const values = [0.5, 0.5, -2, 3, 0, Number.NaN];
    const h = makeHistogram(values);
    expect({ min: h.min, max: h.max, num: h.num, sum: h.sum, sumSquares: h.sumSquares }).toEqual({
      min: -2,
      max: 3,
      num: 5,
      sum: 2,
      sumSquares: 13.5,
    });
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(5);
    // each value lies in its bucket (limit[i-1], limit[i]] ... the bucket whose limit is the first above it
    const bucketOf = (v: number) => h.bucketLimit.findIndex((limit) => limit > v);
    expect(h.bucket[bucketOf(0.5)]).toBe(2);
    expect(h.bucket[bucketOf(-2)]).toBe(1);
    expect(h.bucket[bucketOf(0)]).toBe(1);
    // empty runs collapse: buckets alternate full / empty
    for (let i = 1; i < h.bucket.length; i++) expect(h.bucket[i] === 0 && h.bucket[i - 1] === 0).toBe(false);
    expect(makeHistogram([])).toMatchObject({ num: 0, bucketLimit: [Number.MAX_VALUE], bucket: [0] });
  });
});

describe('TensorboardLogger in Node', () => {
  it('writes a genuine event file: file version first, then scalars and histograms', async () => {
    const dir = tempDir();
    const logger = new TensorboardLogger({ logDir: join(dir, 'run') });
    expect(logger.fileName).toMatch(
      new RegExp(`^events\\.out\\.tfevents\\.\\d{10}\\.${hostname()}\\.${process.pid}\\.\\d+$`),
    );
    logger.addScalar('train/loss', 0.75, 1);
    logger.addScalars({ 'val/acc': 0.5, 'val/loss': 1 / 3 }, 2, 1700000000.5);
    logger.addHistogram('weights/w', new Float32Array([1, 2, 2, 3]), 3);
    await logger.close();
    expect(await logger.location()).toBe(join(dir, 'run', logger.fileName));
    const { name, events } = readRun(join(dir, 'run'));
    expect(name).toBe(logger.fileName);
    expect(events[0]).toMatchObject({ fileVersion: 'brain.Event:2' });
    expect(Math.abs(events[0]!.wallTime - Date.now() / 1000)).toBeLessThan(60);
    expect(scalarsOf(events)).toEqual([
      [1, 'train/loss', 0.75],
      [2, 'val/acc', 0.5],
      [2, 'val/loss', Math.fround(1 / 3)],
    ]);
    expect(events[2]!.wallTime).toBe(1700000000.5);
    expect(events[2]!.summary!.value).toHaveLength(2); // one event for the step's scalars
    const histo = events[3]!.summary!.value[0]!;
    expect(events[3]!.step).toBe(3);
    expect(histo.tag).toBe('weights/w');
    expect(histo.histo).toMatchObject({ min: 1, max: 3, num: 4, sum: 8, sumSquares: 18 });
    expect(histo.histo!.bucket.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('buffers events until maxQueue, flushSecs or flush()', async () => {
    const dir = tempDir();
    const logger = new TensorboardLogger({ logDir: dir, maxQueue: 1000, flushSecs: 1000 });
    for (let step = 1; step <= 3; step++) logger.addScalar('x', step, step);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const path = join(dir, logger.fileName);
    expect(statSync(path).size).toBe(0);
    await logger.flush();
    expect(decodeEvents(new Uint8Array(readFileSync(path)))).toHaveLength(4);
    logger.addScalar('x', 4, 4);
    expect(decodeEvents(new Uint8Array(readFileSync(path)))).toHaveLength(4);
    await logger.close();
    expect(decodeEvents(new Uint8Array(readFileSync(path)))).toHaveLength(5);
    expect(() => logger.addScalar('x', 5, 5)).toThrow(
      'TensorboardLogger.addScalars: the logger is closed; make a new TensorboardLogger to log again.',
    );
    await logger.close(); // idempotent
  });

  it('logs a supervised run: output, metrics at the trainer step, learning rate, weights and gradients, no leak', async () => {
    const x = tf.tensor2d(
      Array.from({ length: 40 }, (_, i) => Math.sin(i)),
      [20, 2],
    );
    const labels = tf.tensor1d(
      Array.from({ length: 20 }, (_, i) => i % 2),
      'int32',
    );
    const y = tf.oneHot(labels, 2).toFloat();
    labels.dispose();
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 2, name: 'dense' })] });
    const optimizer = tf.train.sgd(0.5);
    const lossFn = (yPred: tf.Tensor, target: tf.Tensor) => tf.losses.softmaxCrossEntropy(target, yPred) as tf.Scalar;
    const trainer = createSupervisedTrainer(model, optimizer, lossFn);
    const evaluator = createSupervisedEvaluator(model, {
      metrics: { accuracy: new Accuracy(), loss: new Loss(lossFn) },
    });
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 5 });
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run(loader);
    });
    const losses: tf.Scalar[] = [];
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      losses.push(tf.clone(e.state.output!));
    });

    const dir = tempDir();
    const before = tf.memory().numTensors;
    const logger = new TensorboardLogger({ logDir: dir });
    logger.attachOutputHandler(trainer, {
      eventName: Events.ITERATION_COMPLETED,
      tag: 'training',
      outputTransform: (loss: tf.Scalar) => ({ loss }),
    });
    logger.attachOutputHandler(evaluator, {
      eventName: Events.COMPLETED,
      tag: 'validation',
      metricNames: 'all',
      globalStepTransform: globalStepFromEngine(trainer, Events.ITERATION_COMPLETED),
    });
    logger.attachOptParamsHandler(trainer, { eventName: Events.ITERATION_STARTED, optimizer });
    logger.attach(trainer, new WeightsScalarHandler(model), Events.COMPLETED);
    logger.attach(trainer, new GradsScalarHandler(model, { tag: 'g' }), Events.ITERATION_COMPLETED({ every: 4 }));
    logger.attach(trainer, new WeightsHistHandler(model, { whitelist: ['dense/kernel'] }), Events.EPOCH_COMPLETED);
    logger.attach(trainer, new GradsHistHandler(model), Events.ITERATION_COMPLETED({ once: 8 }));
    await trainer.run(loader, { maxEpochs: 2 });
    await logger.close();
    const lossValues = await Promise.all(losses.map(async (loss) => (await loss.data())[0]!));
    tf.dispose(losses);

    const { events } = readRun(dir);
    const scalars = scalarsOf(events);
    const series = (tag: string) => scalars.filter(([, t]) => t === tag).map(([step, , value]) => [step, value]);
    expect(series('training/loss')).toEqual(lossValues.map((value, i) => [i + 1, value]));
    expect(series('lr/group_0')).toEqual(Array.from({ length: 8 }, (_, i) => [i + 1, 0.5]));
    expect(series('validation/accuracy').map(([step]) => step)).toEqual([4, 8]);
    expect(series('validation/loss')).toHaveLength(2);
    expect(series('validation/accuracy')[1]![1]).toBe(Math.fround(evaluator.state.metrics.accuracy));
    const kernel = model.weights[0]!.read();
    const norm = tf.norm(kernel);
    expect(series('weights_norm/dense/kernel')).toEqual([[2, (await norm.data())[0]]]); // COMPLETED: the epoch
    norm.dispose();
    expect(series('g/grads_norm/dense/kernel').map(([step]) => step)).toEqual([4, 8]);
    expect(series('g/grads_norm/dense/bias').every(([, value]) => value! > 0)).toBe(true);
    const histograms = events.flatMap((e) =>
      (e.summary?.value ?? []).filter((v) => v.histo).map((v) => [e.step, v.tag, v.histo!.num]),
    );
    // in the order they were logged: epoch 1's weights, iteration 8's gradients, epoch 2's weights
    expect(histograms).toEqual([
      [1, 'weights/dense/kernel', 4],
      [8, 'grads/dense/kernel', 4],
      [8, 'grads/dense/bias', 2],
      [2, 'weights/dense/kernel', 4],
    ]);
    // nothing left on the device: the gradient watch ended with the logger
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('checks its options and what is logged', () => {
    expect(() => new TensorboardLogger({} as never)).toThrow(
      "TensorboardLogger: option logDir should be a non-empty string, got undefined. Pass the run's directory, e.g. { logDir: 'runs/exp1' }.",
    );
    expect(() => new TensorboardLogger({ logDir: 'x', flush_secs: 3 } as never)).toThrow(
      "TensorboardLogger: unknown option 'flush_secs'. Did you mean 'flushSecs'?",
    );
    const logger = new TensorboardLogger({ logDir: 'x', storage: 'memory' });
    expect(() => logger.addScalar('a', 1, 1.5)).toThrow(
      'TensorboardLogger.addScalars: argument step should be a safe integer, got 1.5.',
    );
    expect(() => logger.addScalar('a', '1' as never, 1)).toThrow(
      "TensorboardLogger.addScalars: the value of 'a' should be a number, got '1'.",
    );
  });
});
