import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Engine, Events } from '../engine';
import { ProgressBar } from './progress-bar';
import {
  formatDuration,
  formatNumber,
  formatProgressLine,
  type ProgressInfo,
  type ProgressSink,
} from './progress-format';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

afterEach(() => {
  vi.restoreAllMocks();
});

function fakeClock() {
  let t = 5000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A writable that keeps what is written. */
function fakeStream(columns?: number) {
  const writes: string[] = [];
  return { writes, stream: { write: (chunk: string) => writes.push(chunk), columns } };
}

/** A trainer whose iterations take `ms` on the fake clock and output `losses[iteration - 1]`. */
function timedTrainer(clock: ReturnType<typeof fakeClock>, ms: number, losses: number[]) {
  return new Engine((engine) => {
    clock.advance(ms);
    return losses[engine.state.iteration - 1];
  });
}

/** A sink that records every update and close. */
function recordingSink() {
  const updates: ProgressInfo[] = [];
  const closes: Array<[ProgressInfo, boolean]> = [];
  const sink: ProgressSink = {
    update: (info) => updates.push(info),
    close: (info, persist) => closes.push([info, persist]),
  };
  return { sink, updates, closes };
}

describe('ProgressBar on a terminal stream', () => {
  it('writes one updating line, throttled, and clears it at the end of each epoch', async () => {
    const clock = fakeClock();
    const { writes, stream } = fakeStream();
    const trainer = timedTrainer(clock, 50, [0.5, 0.25, 0.125, 0.0625, 1, 2, 3, 4]);
    trainer.on(Events.ITERATION_COMPLETED, (e) => {
      e.state.metrics.acc = 0.75;
    });
    new ProgressBar({ stream, now: clock.now }).attach(trainer, {
      metricNames: ['acc', 'missing'],
      outputTransform: (loss: number) => ({ loss }),
    });
    await trainer.run([0, 0, 0, 0], { maxEpochs: 2 });
    const first = 'Epoch [1/2]: [1/4]  25%|█████               |, acc=0.75, loss=0.5 [00:00<?, ?it/s]';
    // iteration 2 comes 50 ms after the first draw: skipped; iteration 3 (100 ms): drawn; iteration 4: last, drawn
    const third = 'Epoch [1/2]: [3/4]  75%|███████████████     |, acc=0.75, loss=0.125 [00:00<00:00, 20.00it/s]';
    const fourth = 'Epoch [1/2]: [4/4] 100%|████████████████████|, acc=0.75, loss=0.0625 [00:00<00:00, 20.00it/s]';
    expect(writes.slice(0, 4)).toEqual([`\r${first}`, `\r${third}`, `\r${fourth}`, `\r${' '.repeat(fourth.length)}\r`]);
    expect(writes).toHaveLength(8);
    expect(writes[4]).toBe(`\r${first.replace('Epoch [1/2]', 'Epoch [2/2]').replace('loss=0.5', 'loss=1')}`);
  });

  it('persist keeps the final line; shorter lines are padded; lines fit the terminal width', async () => {
    const clock = fakeClock();
    const { writes, stream } = fakeStream(40);
    const trainer = timedTrainer(clock, 1000, [1, 2]);
    new ProgressBar({ stream, now: clock.now, persist: true, barWidth: 4, desc: 'Train' }).attach(trainer);
    await trainer.run([0, 0], { maxEpochs: 1 });
    const full = 'Train: [2/2] 100%|████| [00:01<00:00, 1.00it/s]';
    expect(writes).toEqual([
      `\r${'Train: [1/2]  50%|██  | [00:00<?, ?it/s]'.slice(0, 39)}`,
      `\r${full.slice(0, 39)}`,
      `\r${full.slice(0, 39)}`,
      '\n',
    ]);
  });

  it('logMessage writes above the bar and redraws it', async () => {
    const clock = fakeClock();
    const { writes, stream } = fakeStream();
    const trainer = timedTrainer(clock, 10, [1, 2, 3]);
    const bar = new ProgressBar({ stream, now: clock.now, minInterval: 0 });
    bar.attach(trainer);
    trainer.on(Events.ITERATION_COMPLETED({ once: 2 }), () => bar.logMessage('halfway'));
    await trainer.run([0, 0, 0], { maxEpochs: 1 });
    const line2 = writes[1].slice(1);
    expect(writes.slice(2, 5)).toEqual([`\r${' '.repeat(line2.length)}\r`, 'halfway\n', `\r${line2}`]);
  });
});

describe('ProgressBar with a sink', () => {
  it('reports counts, rate and ETA; reads a scalar tensor output only when redrawing; no leaks', async () => {
    const clock = fakeClock();
    const { sink, updates, closes } = recordingSink();
    const trainer = new Engine((engine) => {
      clock.advance(40);
      return tf.scalar(engine.state.iteration / 8);
    });
    new ProgressBar({ sink, now: clock.now }).attach(trainer, { outputTransform: (out: tf.Scalar) => out });
    trainer.on(Events.ITERATION_COMPLETED, (e) => (e.state.output as tf.Tensor).dispose());
    const reads = vi.spyOn(tf.Tensor.prototype, 'data');
    const before = tf.memory().numTensors;
    await trainer.run(new Array(8).fill(0), { maxEpochs: 1 });
    expect(tf.memory().numTensors).toBe(before);
    // draws at iterations 1 (t=0), 4 (120 ms), 7 (240 ms) and 8 (last)
    expect(updates.map((u) => u.n)).toEqual([1, 4, 7, 8]);
    expect(reads).toHaveBeenCalledTimes(4);
    expect(updates.map((u) => u.postfix)).toEqual([
      [['output', '0.125']],
      [['output', '0.5']],
      [['output', '0.875']],
      [['output', '1']],
    ]);
    expect(updates[1].desc).toBe('Iteration');
    expect(updates[1].total).toBe(8);
    expect(updates[1].elapsed).toBeCloseTo(0.12, 12);
    expect(updates[1].rate).toBeCloseTo(25, 9); // 3 iterations in 0.12 s
    expect(updates[1].eta).toBeCloseTo(0.16, 9); // 4 left at 25 it/s
    expect(closes).toHaveLength(1);
    expect(closes[0][0].n).toBe(8);
    expect(closes[0][1]).toBe(false);
  });

  it('an epoch bar advances on EPOCH_COMPLETED and closes on COMPLETED', async () => {
    const clock = fakeClock();
    const { sink, updates, closes } = recordingSink();
    const trainer = timedTrainer(clock, 100, []);
    new ProgressBar({ sink, now: clock.now, minInterval: 0 }).attach(trainer, {
      event: Events.EPOCH_COMPLETED,
      closingEvent: Events.COMPLETED,
      metricNames: 'all',
      stateAttributes: ['phase'],
    });
    trainer.on(Events.EPOCH_STARTED, (e) => {
      e.state.phase = `p${e.state.epoch}`;
      e.state.metrics = { a: 1, b: [0.5, 0.25] };
    });
    await trainer.run([0, 0], { maxEpochs: 3 });
    expect(updates.map((u) => [u.desc, u.n, u.total])).toEqual([
      ['Epoch', 1, 3],
      ['Epoch', 2, 3],
      ['Epoch', 3, 3],
    ]);
    expect(updates[2].postfix).toEqual([
      ['a', '1'],
      ['b_0', '0.5'],
      ['b_1', '0.25'],
      ['phase', 'p3'],
    ]);
    expect(updates[2].rate).toBeCloseTo(5, 9); // 2 epochs in 0.4 s
    expect(closes).toHaveLength(1);
  });

  it('validates attach options and sinks', () => {
    const trainer = new Engine(() => null);
    const { sink } = recordingSink();
    const bar = new ProgressBar({ sink });
    expect(() => bar.attach(trainer, { closingEvent: Events.EPOCH_COMPLETED({ every: 2 }) })).toThrow(
      /closing event should not be a filtered event/,
    );
    expect(() => bar.attach(trainer, { event: Events.EPOCH_COMPLETED })).toThrow(
      /should be called before closing event/,
    );
    expect(() => bar.attach(trainer, { event: Events.STARTED })).toThrow(/not supported/);
    expect(() => bar.attach(trainer, { metricNames: 'acc' as any })).toThrow(/metricNames/);
    expect(() => new ProgressBar({ sink, stream: { write() {} } })).toThrow(/at most one/);
    expect(() => new ProgressBar({ sink: {} as any })).toThrow(/update\(info\)/);
    expect(() => new ProgressBar({ minInterval: -1 })).toThrow(/minInterval/);
  });
});

describe('progress formatting', () => {
  it('formats numbers like tqdm and durations as mm:ss', () => {
    expect(formatNumber(0.123456)).toBe('0.123');
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(3)).toBe('3');
    expect(formatNumber(1234.5)).toBe('1234.5');
    expect(formatNumber(123456.789)).toBe('1.23e+5');
    expect(formatNumber(Number.NaN)).toBe('NaN');
    expect(formatDuration(65.9)).toBe('01:05');
    expect(formatDuration(3725)).toBe('1:02:05');
  });

  it('draws partial blocks', () => {
    const info: ProgressInfo = { desc: 'E', n: 3, total: 16, elapsed: 1, rate: 3, eta: 4.33, postfix: [] };
    // 3/16 of 10 cells = 1.875 cells: one full block and a 7/8 block
    expect(formatProgressLine(info, 10)).toBe('E: [3/16]  18%|█▉        | [00:01<00:04, 3.00it/s]');
  });
});
