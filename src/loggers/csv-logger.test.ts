import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { CSVLogger } from './csv-logger';
import { WeightsHistHandler } from './weights-hist-handler';

const dirs: string[] = [];
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The table without the wall_time column (it holds the time of writing). */
const withoutTime = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .map((line) =>
      line
        .split(',')
        .filter((_cell, i) => i !== 1)
        .join(','),
    );

describe('CSVLogger', () => {
  it('writes one row per logged step to a file, the header from the first row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-csv-'));
    dirs.push(dir);
    const path = join(dir, 'logs', 'metrics.csv');
    const engine = new Engine((_e, b: number) => ({ loss: b / 4, acc: tf.scalar(b / 8) }));
    const csv = new CSVLogger({ path });
    csv.attachOutputHandler(engine, {
      eventName: Events.ITERATION_COMPLETED,
      tag: 'train',
      outputTransform: (output) => output,
    });
    engine.on(Events.ITERATION_COMPLETED, (e) => tf.dispose(e.state.output!.acc));
    csv.attach(
      engine,
      (e, logger) => logger.addScalar('epoch', e.state.epoch, e.state.iteration),
      Events.EPOCH_COMPLETED,
    );
    await engine.run([1, 2, 3], { maxEpochs: 1 });
    await csv.close();
    const text = readFileSync(path, 'utf8');
    expect(text).toBe(csv.toString());
    expect(withoutTime(text)).toEqual([
      'step,train/loss,train/acc,epoch',
      '1,0.25,0.125,',
      '2,0.5,0.25,',
      '3,0.75,0.375,1',
    ]);
    const wallTime = Number(text.split('\n')[1]!.split(',')[1]);
    expect(Math.abs(wallTime - Date.now() / 1000)).toBeLessThan(60);
    expect(csv.columns).toEqual(['step', 'wall_time', 'train/loss', 'train/acc', 'epoch']);
  });

  it('widens the header for a column that appears later, rewriting the file once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kindling-csv-'));
    dirs.push(dir);
    const path = join(dir, 'm.csv');
    const csv = new CSVLogger({ path, maxQueue: 1 });
    csv.addScalar('loss', 1, 1, 100);
    csv.addScalar('loss', 0.5, 2, 101); // closes step 1: header + row 1 written
    csv.addScalars({ loss: 0.25, 'val "acc", best': 0.9 }, 3, 102); // closes step 2
    csv.addScalar('loss', 0.125, 4, 103); // closes step 3, with a new column: the file is rewritten
    await csv.flush();
    expect(readFileSync(path, 'utf8')).toBe(
      ['step,wall_time,loss,"val ""acc"", best"', '1,100,1,', '2,101,0.5,', '3,102,0.25,0.9', ''].join('\n'),
    );
    await csv.close();
    expect(readFileSync(path, 'utf8').trimEnd().split('\n').at(-1)).toBe('4,103,0.125,');
  });

  it('keeps the table in memory without a path, for download, and stores no histograms', async () => {
    const csv = new CSVLogger();
    expect(csv.path).toBeNull();
    csv.addScalars({ a: 1, b: Number.NaN }, 0, 5);
    csv.addScalar('a', Number.POSITIVE_INFINITY, 7, 6);
    expect(csv.toString()).toBe('step,wall_time,a,b\n0,5,1,NaN\n7,6,Infinity,\n');
    const blob = await csv.toBlob();
    expect(blob.type).toBe('text/csv');
    expect(await blob.text()).toBe(csv.toString());
    expect(() => csv.addHistogram('w', [1, 2], 1)).toThrow(
      'CSVLogger.addHistogram: a CSVLogger stores scalars only; log histograms with a TensorboardLogger.',
    );
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [1], units: 1 })] });
    const engine = new Engine(() => 0);
    csv.attach(engine, new WeightsHistHandler(model), Events.COMPLETED);
    await engine.run([1], { maxEpochs: 1 });
    await expect(csv.close()).rejects.toThrow('CSVLogger.addHistogram: a CSVLogger stores scalars only');
    model.dispose();
  });
});
