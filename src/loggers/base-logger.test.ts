import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events, type Logger, setLogger } from '../engine';
import { BaseLogger } from './base-logger';
import { OptimizerParamsHandler } from './optimizer-params-handler';
import { OutputHandler } from './output-handler';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A logger that records what reaches the back end. */
class RecordingLogger extends BaseLogger {
  records: [number, string, number][] = [];
  flushes = 0;
  closes = 0;
  constructor() {
    super('RecordingLogger');
  }
  protected override _writeScalars(scalars: readonly [string, number][], step: number): void {
    for (const [tag, value] of scalars) this.records.push([step, tag, value]);
  }
  protected override async _flush(): Promise<void> {
    this.flushes += 1;
  }
  protected override async _close(): Promise<void> {
    this.closes += 1;
  }
}

let warnings: string[] = [];
let previous: Logger | null = null;
function captureWarnings() {
  warnings = [];
  previous = setLogger({ debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} });
}
afterEach(() => {
  if (previous !== null) setLogger(previous);
  previous = null;
});

describe('BaseLogger', () => {
  it('attaches handler objects and functions on events, lists and filters, and removes them', async () => {
    const logger = new RecordingLogger();
    const engine = new Engine((_e, b: number) => b);
    const seen: string[] = [];
    const handle = logger.attach(
      engine,
      (e, l, eventName) => {
        expect(l).toBe(logger);
        seen.push(`${eventName}@${e.state.iteration}`);
      },
      Events.ITERATION_COMPLETED({ every: 2 }).or(Events.COMPLETED),
    );
    logger.attach(engine, { handle: (e, l, name) => l.addScalar(name, e.state.iteration, e.state.epoch) }, [
      Events.EPOCH_COMPLETED,
    ]);
    await engine.run([1, 2, 3, 4], { maxEpochs: 1 });
    expect(seen).toEqual(['iteration_completed@2', 'iteration_completed@4', 'completed@4']);
    expect(logger.records).toEqual([[1, 'epoch_completed', 4]]);
    handle.remove();
    await engine.run([1, 2], { maxEpochs: 1 });
    expect(seen).toHaveLength(3);
    await logger.close();
    expect([logger.flushes, logger.closes]).toEqual([1, 1]);
    expect(() => logger.attach(engine, () => {}, Events.STARTED)).toThrow(
      'RecordingLogger.attach: the logger is closed',
    );
    expect(() => new RecordingLogger().attach(engine, 5 as never, Events.STARTED)).toThrow(
      'RecordingLogger.attach: argument handler should be a log handler (an object with handle(engine, logger, eventName)) or a function, got 5.',
    );
  });

  it('attaches to every event of a list or to none: an event the engine refuses is named, and nothing stays', async () => {
    const engine = new Engine(() => 0);
    const logger = new RecordingLogger();
    const calls: string[] = [];
    expect(() => logger.attach(engine, (_e, _l, name) => calls.push(name), [Events.STARTED, 'nope'])).toThrow(
      "RecordingLogger.attach: argument eventName was refused: Engine.addEventHandler: event 'nope' is not a valid event for this Engine.",
    );
    await engine.run([1], { maxEpochs: 1 });
    expect(calls).toEqual([]);
  });

  it('writes in call order while device reads arrive, waits only past a few pending reads, and reports failures', async () => {
    const logger = new RecordingLogger();
    const releases: (() => void)[] = [];
    const slowRead = (value: number) =>
      new Promise<number>((resolve) => {
        releases.push(() => resolve(value));
      });
    const returned: unknown[] = [];
    for (let i = 1; i <= 10; i++) {
      returned.push(logger.schedule(slowRead(i), (v) => logger.addScalar('x', v, v)));
      logger.addScalar('direct', i, i); // queued behind the pending read, keeps its order
    }
    // 20 writes pending: from the ninth, schedule() hands back a promise to wait on
    expect(returned.slice(0, 4).every((r) => r === undefined)).toBe(true);
    expect(returned.at(-1)).toBeInstanceOf(Promise);
    expect(logger.records).toEqual([]);
    for (const release of releases.reverse()) release(); // reads arrive in any order...
    await logger.flush();
    // ...writes keep the call order
    expect(logger.records.map(([step, tag]) => `${tag}${step}`).slice(0, 4)).toEqual([
      'x1',
      'direct1',
      'x2',
      'direct2',
    ]);
    expect(logger.records).toHaveLength(20);

    logger.schedule(Promise.reject(new Error('device lost')), () => {});
    await expect(logger.flush()).rejects.toThrow('device lost');
    await logger.flush(); // reported once
    logger.schedule(Promise.resolve(1), () => {
      throw new Error('write failed');
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(() => logger.schedule(Promise.resolve(1), () => {})).toThrow('write failed');
    await logger.close();
  });
});

describe('OutputHandler', () => {
  it('logs output, metrics and state attributes as tag/name, flattening objects, arrays and 1-D tensors', async () => {
    captureWarnings();
    const logger = new RecordingLogger();
    const engine = new Engine((_e, b: number) => ({
      loss: tf.scalar(b),
      parts: tf.tensor1d([b, -b]),
      nested: { n: [b * 10] },
    }));
    engine.on(Events.ITERATION_COMPLETED, (e) => {
      e.state.metrics = { acc: 0.5 + e.state.iteration / 10, report: { f1: [0.25, 0.75] }, label: 'x' };
      e.state.alpha = 3;
    });
    const before = tf.memory().numTensors;
    logger.attachOutputHandler(engine, {
      eventName: Events.ITERATION_COMPLETED,
      tag: 'train',
      outputTransform: (output) => output,
      metricNames: 'all',
      stateAttributes: ['alpha'],
    });
    logger.attach(
      engine,
      new OutputHandler({ tag: 'picked', metricNames: ['acc', 'missing'] }),
      Events.EPOCH_COMPLETED,
    );
    logger.attach(engine, new OutputHandler({ tag: 't', outputTransform: (o) => o.loss }), Events.COMPLETED);
    engine.on(Events.ITERATION_COMPLETED, (e) => tf.dispose([e.state.output!.loss, e.state.output!.parts]));
    await engine.run([2], { maxEpochs: 1 });
    await logger.close();
    expect(logger.records).toEqual([
      [1, 'train/acc', 0.6],
      [1, 'train/report/f1/0', 0.25],
      [1, 'train/report/f1/1', 0.75],
      [1, 'train/loss', 2],
      [1, 'train/parts/0', 2],
      [1, 'train/parts/1', -2],
      [1, 'train/nested/n/0', 20],
      [1, 'train/alpha', 3],
      [1, 'picked/acc', 0.6],
    ]);
    expect(warnings).toEqual([
      "OutputHandler: cannot log 'train/label': 'x' is not a number or a scalar or 1-D tensor; skipped.",
      "OutputHandler: metric 'missing' is missing in the engine's state.metrics (acc, report, label).",
      "OutputHandler: cannot log 't/output': a disposed float32 tensor of shape [] is not a number or a scalar or 1-D tensor; skipped.",
    ]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes its step from globalStepTransform, and checks its options', async () => {
    const logger = new RecordingLogger();
    const engine = new Engine(() => 1);
    logger.attach(
      engine,
      new OutputHandler({ tag: 'a', outputTransform: (o) => ({ o }), globalStepTransform: () => 42 }),
      Events.COMPLETED,
    );
    logger.attach(
      engine,
      new OutputHandler({ tag: 'b', outputTransform: (o) => o, globalStepTransform: () => 0.5 }),
      Events.STARTED,
    );
    await expect(engine.run([1], { maxEpochs: 1 })).rejects.toThrow(
      "OutputHandler: the global step (globalStepTransform's result) should be a safe integer, got 0.5.",
    );
    expect(() => new OutputHandler({ tag: 'x' })).toThrow(
      'OutputHandler: give at least one of the options metricNames, outputTransform or stateAttributes; there is nothing to log.',
    );
    expect(() => new OutputHandler({ tag: 'x', metricNames: 'some' as never })).toThrow(
      "OutputHandler: option metricNames should be an array of metric names or 'all', got 'some'.",
    );
    expect(() => new OutputHandler({ tag: '', metricNames: 'all' })).toThrow(
      "OutputHandler: option tag should be a non-empty string, got ''.",
    );
  });
});

describe('OptimizerParamsHandler', () => {
  it("logs the learning rate as Ignite's lr/group_0, or another numeric parameter", async () => {
    const logger = new RecordingLogger();
    const optimizer = tf.train.adam(0.01);
    const engine = new Engine(() => 0);
    engine.on(Events.ITERATION_STARTED, (e) => {
      (optimizer as unknown as { learningRate: number }).learningRate = 0.01 * e.state.iteration;
    });
    logger.attachOptParamsHandler(engine, { eventName: Events.ITERATION_COMPLETED, optimizer });
    logger.attach(engine, new OptimizerParamsHandler({ optimizer, paramName: 'beta1', tag: 'gen' }), Events.COMPLETED);
    await engine.run([1, 2], { maxEpochs: 1 });
    expect(logger.records).toEqual([
      [1, 'lr/group_0', 0.01],
      [2, 'lr/group_0', 0.02],
      [1, 'gen/beta1/group_0', 0.9],
    ]);
    expect(() => new OptimizerParamsHandler({ optimizer, paramName: 'momentum' })).toThrow(
      "OptimizerParamsHandler: the optimizer's 'momentum' should be a number, got undefined. tfjs optimizers have 'learningRate' (paramName 'lr'); pass the name of a numeric property.",
    );
    optimizer.dispose();
  });
});
