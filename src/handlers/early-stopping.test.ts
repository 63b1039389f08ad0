import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events, type Logger, setLogger } from '../engine';
import { EarlyStopping, type EarlyStoppingOptions } from './early-stopping';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let restoreLogger: Logger | null = null;
afterEach(() => {
  if (restoreLogger) setLogger(restoreLogger);
  restoreLogger = null;
});

/** Feeds `scores` to a fresh EarlyStopping one call at a time; returns the counter after each call and when it stopped. */
async function trace(scores: number[], options: Partial<EarlyStoppingOptions>) {
  const trainer = new Engine(() => null);
  const evaluator = new Engine(() => null);
  let i = 0;
  const handler = new EarlyStopping({ patience: 100, scoreFunction: () => scores[i++], trainer, ...options });
  const counters: number[] = [];
  let stoppedAt: number | null = null;
  for (let call = 1; call <= scores.length; call++) {
    await handler.handle(evaluator);
    counters.push(handler.counter);
    if (stoppedAt === null && trainer.shouldTerminate) stoppedAt = call;
  }
  return { counters, stoppedAt, handler };
}

describe('EarlyStopping', () => {
  it('validates its arguments with the reference key words', () => {
    const trainer = new Engine(() => null);
    const scoreFunction = () => 0;
    expect(() => new EarlyStopping({ patience: 0, scoreFunction, trainer })).toThrow(
      /patience should be positive integer/,
    );
    expect(() => new EarlyStopping({ patience: 1.5, scoreFunction, trainer })).toThrow(RangeError);
    expect(() => new EarlyStopping({ patience: 2, scoreFunction: 3 as any, trainer })).toThrow(
      /scoreFunction should be a function/,
    );
    expect(() => new EarlyStopping({ patience: 2, scoreFunction, trainer: {} as any })).toThrow(
      /trainer should be an Engine/,
    );
    expect(() => new EarlyStopping({ patience: 2, scoreFunction, trainer, minDelta: -0.1 })).toThrow(
      /minDelta should not be negative/,
    );
    expect(() => new EarlyStopping({ patience: 2, scoreFunction, trainer, mode: 'up' as any })).toThrow(
      /mode should be either 'min' or 'max'/,
    );
  });

  it('counts calls without improvement and terminates at patience', async () => {
    const { counters, stoppedAt } = await trace([1, 2, 2, 1.5, 3], { patience: 2 });
    // 1 recorded; 2 improves; 2 ties (no improvement); 1.5 worse -> counter 2 == patience -> terminate
    expect(counters.slice(0, 4)).toEqual([0, 0, 1, 2]);
    expect(stoppedAt).toBe(4);
  });

  it('an improvement resets the counter', async () => {
    const { counters, stoppedAt } = await trace([5, 4, 6, 5, 5.5, 7], { patience: 2 });
    expect(counters).toEqual([0, 1, 0, 1, 2, 0]);
    expect(stoppedAt).toBe(5);
  });

  it('minDelta: without cumulativeDelta the best follows each score', async () => {
    const scores = [1.0, 1.05, 1.12, 1.15, 1.2, 1.21];
    const { counters, handler } = await trace(scores, { minDelta: 0.1 });
    expect(counters).toEqual([0, 1, 2, 3, 4, 5]);
    expect(handler.bestScore).toBe(1.21);
  });

  it('minDelta with cumulativeDelta measures from the best since the last reset', async () => {
    const scores = [1.0, 1.05, 1.12, 1.15, 1.2, 1.21];
    const { counters, handler } = await trace(scores, { minDelta: 0.1, cumulativeDelta: true });
    expect(counters).toEqual([0, 1, 0, 1, 2, 3]);
    expect(handler.bestScore).toBe(1.12);
  });

  it("mode 'min' treats lower scores as better", async () => {
    const scores = [10, 9.6, 9, 9.4, 8.4];
    const loose = await trace(scores, { mode: 'min', minDelta: 0.5, patience: 2 });
    expect(loose.counters).toEqual([0, 1, 0, 1, 0]);
    expect(loose.stoppedAt).toBeNull();
    const strict = await trace(scores, { mode: 'min', minDelta: 0.5, patience: 1 });
    expect(strict.stoppedAt).toBe(2);
  });

  it("minDeltaMode 'rel' scales minDelta by the best score", async () => {
    // best 10: improvement needs > 11; then best 11.5: needs > 12.65
    const { counters } = await trace([10, 10.9, 11.5, 12.6, 12.7], {
      minDelta: 0.1,
      minDeltaMode: 'rel',
      cumulativeDelta: true,
    });
    expect(counters).toEqual([0, 1, 0, 1, 0]);
  });

  it('a NaN score never counts as an improvement', async () => {
    const { counters, stoppedAt } = await trace([1, Number.NaN, Number.NaN], { patience: 2 });
    expect(counters).toEqual([0, 1, 2]);
    expect(stoppedAt).toBe(3);
  });

  it('a NaN first score adds one to the counter and never becomes the best (in both modes)', async () => {
    for (const mode of ['max', 'min'] as const) {
      const { counters, stoppedAt, handler } = await trace([Number.NaN, 1, Number.NaN, 2, 2], { patience: 3, mode });
      // NaN: no improvement (1); 1: the first best (1, unchanged); NaN: no improvement (2); 2: an improvement
      // in 'max' mode (0), none in 'min' mode (3, which stops the trainer); 2 again: no improvement.
      expect(counters).toEqual(mode === 'max' ? [1, 1, 2, 0, 1] : [1, 1, 2, 3, 4]);
      expect(stoppedAt).toBe(mode === 'max' ? null : 4);
      expect(handler.bestScore).toBe(mode === 'max' ? 2 : 1);
    }
    const nanOnly = await trace([Number.NaN, Number.NaN], { patience: 2 });
    expect(nanOnly.counters).toEqual([1, 2]);
    expect(nanOnly.stoppedAt).toBe(2);
    expect(nanOnly.handler.stateDict()).toEqual({ counter: 2, bestScore: null, minDeltaMode: 'abs' });
  });

  it('loadStateDict checks values, not only keys, and changes nothing when it throws', async () => {
    const { handler } = await trace([1, 2, 1.5], { patience: 5 });
    const before = handler.stateDict();
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...before, counter: -1 }, /'counter' should be a non-negative integer, got -1/],
      [{ ...before, counter: 2 ** 53 }, /'counter' should be a non-negative integer, got 9007199254740992/],
      [{ ...before, bestScore: Number.NaN }, /'bestScore' should be a number or null, got NaN\. A NaN score is never/],
      [{ ...before, bestScore: '2' }, /'bestScore' should be a number or null, got '2'/],
      [{ ...before, patience: 3 }, /unknown state dict entry 'patience'/],
    ];
    for (const [sd, message] of bad) {
      expect(() => handler.loadStateDict(sd as never)).toThrow(message);
      expect(handler.stateDict()).toEqual(before);
    }
    handler.loadStateDict({ ...before, bestScore: Number.POSITIVE_INFINITY }); // a perfect PSNR, say
    expect(handler.bestScore).toBe(Number.POSITIVE_INFINITY);
  });

  it('awaits an async scoreFunction and rejects non-number scores', async () => {
    const trainer = new Engine(() => null);
    const scores = [3, 2];
    const handler = new EarlyStopping({ patience: 1, trainer, scoreFunction: async () => scores.shift()! });
    await handler.handle(trainer);
    await handler.handle(trainer);
    expect(trainer.shouldTerminate).toBeTruthy();
    const t = tf.scalar(1);
    const bad = new EarlyStopping({ patience: 1, trainer, scoreFunction: () => t as any });
    await expect(bad.handle(trainer)).rejects.toThrow(/should return a number/);
    t.dispose();
  });

  it('stateDict survives JSON and resumes the count', async () => {
    const first = await trace([1, 2, 1.5], { patience: 2 });
    const sd = first.handler.stateDict();
    expect(sd).toEqual({ counter: 1, bestScore: 2, minDeltaMode: 'abs' });
    const copy = JSON.parse(JSON.stringify(sd));
    const trainer = new Engine(() => null);
    const resumed = new EarlyStopping({ patience: 2, scoreFunction: () => 1.8, trainer });
    resumed.loadStateDict(copy);
    expect(resumed.counter).toBe(1);
    expect(resumed.bestScore).toBe(2);
    await resumed.handle(trainer);
    expect(resumed.counter).toBe(2);
    expect(trainer.shouldTerminate).toBeTruthy();
    expect(() => resumed.loadStateDict({ bestScore: 1 } as any)).toThrow(/counter/);
    resumed.reset();
    expect(resumed.stateDict()).toEqual({ counter: 0, bestScore: null, minDeltaMode: 'abs' });
  });

  it('stops a trainer from an evaluator, logs it, and leaks no tensors', async () => {
    const messages: string[] = [];
    restoreLogger = setLogger({
      debug: (m) => messages.push(m),
      info: (m) => messages.push(m),
      warn: (m) => messages.push(m),
      error: (m) => messages.push(m),
    });
    const w = tf.variable(tf.zeros([2]));
    const x = tf.ones([2]);
    const before = tf.memory().numTensors;
    const trainer = new Engine(() => {
      tf.tidy(() => {
        tf.sum(tf.mul(w, x));
      });
    });
    const evaluator = new Engine(() => null);
    const epochScores = [0.5, 0.6, 0.6, 0.55, 0.9, 0.9];
    evaluator.on(
      Events.COMPLETED,
      new EarlyStopping({ patience: 2, trainer, scoreFunction: () => epochScores[trainer.state.epoch - 1] }),
    );
    trainer.on(Events.EPOCH_COMPLETED, () => evaluator.run([0]));
    const state = await trainer.run([1, 2, 3], { maxEpochs: 6 });
    expect(state.epoch).toBe(4);
    expect(state.iteration).toBe(12);
    expect(messages.filter((m) => m.startsWith('EarlyStopping'))).toEqual([
      'EarlyStopping: 1 / 2',
      'EarlyStopping: 2 / 2',
      'EarlyStopping: Stop training',
    ]);
    expect(tf.memory().numTensors).toBe(before);
    w.dispose();
    x.dispose();
  });
});

describe('EarlyStopping option names', () => {
  it("rejects Ignite's threshold/cumulative names and unknown options, naming kindling's", () => {
    const trainer = new Engine(() => 0);
    const scoreFunction = () => 1;
    expect(() => new EarlyStopping({ patience: 2, scoreFunction, trainer, threshold: 0.1 } as never)).toThrow(
      /unknown option 'threshold'; kindling calls it minDelta/,
    );
    expect(() => new EarlyStopping({ patience: 2, scoreFunction, trainer, cumulative: true } as never)).toThrow(
      /cumulativeDelta/,
    );
    expect(() => new EarlyStopping({ patience: 2, scoreFunction, trainer, patiense: 3 } as never)).toThrow(
      /unknown option 'patiense'/,
    );
  });
});
