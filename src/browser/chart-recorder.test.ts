import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import type { ChartFrame } from './chart-feed';
import { ChartRecorder, type RecorderSpec } from './chart-recorder';
import { LiveCharts } from './live-charts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const LOSSES = [2, 1.5, 1.25, 1, 0.75, 0.5, 0.5, 0.25, 0.2, 0.1];

/** A trainer whose output is a scalar tensor (as the supervised trainer's), disposed at the next step. */
function trainer(): Engine<number, tf.Scalar> {
  let previous: tf.Scalar | null = null;
  const engine = new Engine<number, tf.Scalar>((e) => {
    previous?.dispose();
    previous = tf.scalar(LOSSES[(e.state.iteration - 1) % LOSSES.length]!);
    return previous;
  });
  engine.on(Events.COMPLETED, () => {
    previous?.dispose();
    previous = null;
  });
  engine.state.lr = 0;
  engine.on(Events.ITERATION_STARTED, (e) => {
    e.state.lr = 0.1 / e.state.iteration;
  });
  return engine;
}

const spec = (overrides: Partial<RecorderSpec> = {}): RecorderSpec => ({
  loss: { smoothing: 0.5, outputTransform: (o) => o },
  metrics: null,
  learningRate: null,
  ...overrides,
});

/** A recorder whose frames are collected; flushes never happen on their own (no scheduler tick). */
function recorder(s: RecorderSpec) {
  const frames: ChartFrame[] = [];
  const r = new ChartRecorder(
    'LiveCharts',
    s,
    (frame) => frames.push(frame),
    () => () => {},
  );
  return { r, frames };
}

describe('ChartRecorder (what LiveCharts records)', () => {
  it('records each loss and its running average, read back without a read per step', async () => {
    const { r } = recorder(spec());
    const engine = trainer();
    r.attach(engine);
    await engine.run([0, 1, 2, 3, 4], { maxEpochs: 1 });
    await r.settle();
    expect(r.feed.series.loss).toEqual({ x: [1, 2, 3, 4, 5], y: [2, 1.5, 1.25, 1, 0.75] });
    // average_k = 0.5 * average_{k-1} + 0.5 * loss_k, starting from the first loss
    expect(r.feed.series.lossAverage!.y).toEqual([2, 1.75, 1.5, 1.25, 1]);
    expect(r.average).toBe(1);
  });

  it("records the trainer's epoch metrics, or an evaluator's at the trainer's epoch, and the learning rate", async () => {
    const engine = trainer();
    const evaluator = new Engine(() => 0);
    evaluator.on(Events.COMPLETED, (e) => {
      e.state.metrics = { accuracy: 0.5 + engine.state.epoch / 10, loss: 1 / engine.state.epoch };
    });
    engine.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run([0]);
    });
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      e.state.metrics.own = e.state.epoch * 2;
    });
    const fromEvaluator = recorder(
      spec({
        loss: null,
        metrics: { left: ['accuracy'], right: ['loss'] },
        learningRate: (e) => e.state.lr,
      }),
    );
    const own = recorder(spec({ loss: null, metrics: { left: ['own'], right: [] } }));
    fromEvaluator.r.attach(engine, evaluator);
    own.r.attach(engine);
    await engine.run([0, 1], { maxEpochs: 3 });
    expect(fromEvaluator.r.feed.series['metric:accuracy']).toEqual({ x: [1, 2, 3], y: [0.6, 0.7, 0.8] });
    expect(fromEvaluator.r.feed.series['metric:loss']).toEqual({ x: [1, 2, 3], y: [1, 0.5, 1 / 3] });
    expect(fromEvaluator.r.feed.series.learningRate).toEqual({
      x: [1, 2, 3, 4, 5, 6],
      y: [0.1, 0.05, 0.1 / 3, 0.025, 0.02, 0.1 / 6],
    });
    expect(own.r.feed.series['metric:own']).toEqual({ x: [1, 2, 3], y: [2, 4, 6] });
  });

  it('stateDict waits for the losses still being read, so it reaches the current iteration', async () => {
    const { r } = recorder(spec());
    const engine = trainer();
    r.attach(engine);
    const saved: unknown[] = [];
    engine.on(Events.ITERATION_COMPLETED({ once: 3 }), async () => {
      saved.push(await r.stateDict());
    });
    await engine.run([0, 1, 2, 3], { maxEpochs: 1 });
    expect(saved[0]).toEqual({
      series: { loss: { x: [1, 2, 3], y: [2, 1.5, 1.25] }, lossAverage: { x: [1, 2, 3], y: [2, 1.75, 1.5] } },
      average: 1.5,
    });
    expect(JSON.parse(JSON.stringify(saved[0]))).toEqual(saved[0]);
  });

  it('a recorder loaded from a state dict continues exactly as the uninterrupted one', async () => {
    const straight = recorder(spec());
    const a = trainer();
    straight.r.attach(a);
    await a.run([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { maxEpochs: 1 });
    await straight.r.settle();

    const first = recorder(spec());
    const b = trainer();
    first.r.attach(b);
    await b.run(null, { epochLength: 10, maxIters: 4 });
    const sd = await first.r.stateDict();

    const second = recorder(spec());
    second.r.loadStateDict(structuredClone(sd));
    const c = trainer();
    c.loadStateDict({ iteration: 4, epochLength: 10, maxEpochs: 1 }); // as a resumed trainer would be
    second.r.attach(c);
    await c.run(null, { maxEpochs: 1 });
    await second.r.settle();
    expect(second.r.feed.series).toEqual(straight.r.feed.series);
    expect(second.r.average).toBe(straight.r.average);
  });

  it('loadStateDict checks everything before changing anything', () => {
    const { r } = recorder(spec());
    r.loadStateDict({ series: { loss: { x: [1], y: [3] } }, average: 3 });
    const bad: Array<[unknown, string]> = [
      [
        { series: { loss: { x: [1, 2], y: [3] } }, average: 1 },
        "LiveCharts.loadStateDict: series 'loss' should be x and y arrays of equal length",
      ],
      [
        { series: { loss: { x: [1], y: ['3'] } }, average: 1 },
        "LiveCharts.loadStateDict: a value of series 'loss' should be a number, got '3'.",
      ],
      [
        { series: {}, average: Number.NaN },
        "LiveCharts.loadStateDict: state dict entry 'average' should be a finite number or null, got NaN.",
      ],
      [{ series: {}, average: 1, extra: 2 }, "LiveCharts.loadStateDict: unknown state dict entry 'extra'"],
      [
        { series: [], average: 1 },
        "LiveCharts.loadStateDict: state dict entry 'series' should be an object of series { x, y }, got",
      ],
      [{ series: {} }, "LiveCharts.loadStateDict: required state dict entry 'average' is absent"],
    ];
    for (const [sd, message] of bad) expect(() => r.loadStateDict(sd as never)).toThrow(message);
    expect(r.feed.series).toEqual({ loss: { x: [1], y: [3] } });
    expect(r.average).toBe(3);
  });

  it('attaches to one engine at a time; remove() takes its handlers off', async () => {
    const { r } = recorder(spec());
    const engine = trainer();
    r.attach(engine);
    expect(() => r.attach(trainer())).toThrow(
      'LiveCharts.attach: these charts already record an engine; remove() them from it first',
    );
    r.remove();
    await engine.run([0, 1], { maxEpochs: 1 });
    await r.settle();
    expect(r.feed.series).toEqual({});
    r.attach(engine); // attachable again
  });

  it('a non-numeric metric is named in the error', async () => {
    const { r } = recorder(spec({ loss: null, metrics: { left: ['cm'], right: [] } }));
    const engine = new Engine(() => 0);
    engine.on(Events.EPOCH_COMPLETED, (e) => {
      e.state.metrics.cm = [
        [1, 0],
        [0, 1],
      ];
    });
    r.attach(engine);
    await expect(engine.run([0], { maxEpochs: 1 })).rejects.toThrow(
      "LiveCharts: metric 'cm' should be a number to chart, got [[1,0],[0,1]]. Chart numeric metrics only",
    );
  });

  it('leaves no tensors behind', async () => {
    const once = async () => {
      const { r } = recorder(spec());
      const engine = trainer();
      r.attach(engine);
      await engine.run([0, 1, 2, 3, 4, 5, 6], { maxEpochs: 3 });
      await r.stateDict();
      r.remove();
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('LiveCharts takes an element to draw in and rejects unknown options', () => {
    expect(() => new LiveCharts({} as HTMLElement)).toThrow(
      'LiveCharts: argument container should be an HTMLElement to draw the charts in, got',
    );
  });
});
