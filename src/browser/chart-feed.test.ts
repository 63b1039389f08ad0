import { describe, expect, it } from 'vitest';
import { ChartFeed, type ChartFrame } from './chart-feed';

/** A scheduler the test drives by hand: `tick()` runs the pending flush, like a frame arriving. */
function manualScheduler() {
  let pending: (() => void) | null = null;
  let scheduled = 0;
  return {
    scheduler: (flush: () => void) => {
      pending = flush;
      scheduled += 1;
      return () => {
        pending = null;
      };
    },
    tick() {
      const f = pending;
      pending = null;
      f?.();
    },
    get scheduled() {
      return scheduled;
    },
  };
}

describe('ChartFeed', () => {
  it('hands many pushes to the sink in one flush per frame', () => {
    const frames: Array<{ changed: string[]; loss: number[] }> = [];
    const clock = manualScheduler();
    const feed = new ChartFeed({
      sink: (f: ChartFrame) => frames.push({ changed: f.changed, loss: [...(f.series.loss?.y ?? [])] }),
      scheduler: clock.scheduler,
    });
    for (let i = 1; i <= 100; i++) feed.push('loss', i, 1 / i);
    expect(frames).toEqual([]);
    expect(clock.scheduled).toBe(1);
    clock.tick();
    expect(frames).toHaveLength(1);
    expect(frames[0]!.loss).toHaveLength(100);
    expect(frames[0]!.loss[3]).toBe(0.25);
    clock.tick();
    expect(frames).toHaveLength(1); // nothing new, no second call
    feed.push('acc', 1, 0.5);
    clock.tick();
    expect(frames[1]!.changed).toEqual(['acc']);
    expect(clock.scheduled).toBe(2);
  });

  it('flush() draws at once and cancels the scheduled frame', () => {
    let calls = 0;
    const clock = manualScheduler();
    const feed = new ChartFeed({ sink: () => calls++, scheduler: clock.scheduler });
    feed.push('a', 0, 1);
    feed.flush();
    expect(calls).toBe(1);
    clock.tick();
    expect(calls).toBe(1);
  });

  it('recorder pushes state.iteration or state.epoch against the awaited value', async () => {
    const clock = manualScheduler();
    const feed = new ChartFeed({ sink: () => {}, scheduler: clock.scheduler });
    const engine = { state: { iteration: 7, epoch: 2 } };
    await feed.recorder('loss', () => Promise.resolve(0.5))(engine);
    await feed.recorder('acc', () => 0.9, { x: 'epoch' })(engine);
    await feed.recorder('skip', () => undefined)(engine);
    expect(feed.series).toEqual({ loss: { x: [7], y: [0.5] }, acc: { x: [2], y: [0.9] } });
    expect(() => feed.recorder('x', () => 1, { x: 'time' as 'epoch' })).toThrow(/'iteration' or 'epoch'/);
  });

  it('round-trips its history through stateDict, JSON and loadStateDict', () => {
    const clock = manualScheduler();
    const seen: ChartFrame[] = [];
    const a = new ChartFeed({ sink: () => {}, scheduler: clock.scheduler });
    a.push('loss', 1, 2.5);
    a.push('loss', 2, 1.5);
    const sd = JSON.parse(JSON.stringify(a.stateDict()));
    a.push('loss', 3, 1); // the saved copy must not change
    expect(sd).toEqual({ series: { loss: { x: [1, 2], y: [2.5, 1.5] } } });

    const b = new ChartFeed({ sink: (f) => seen.push(f), scheduler: clock.scheduler });
    b.push('old', 1, 1);
    b.loadStateDict(sd);
    clock.tick();
    expect(seen).toHaveLength(1);
    expect(seen[0]!.series).toEqual({ loss: { x: [1, 2], y: [2.5, 1.5] } });
    expect(seen[0]!.changed.sort()).toEqual(['loss', 'old']);
    expect(() => b.loadStateDict({ series: { l: { x: [1], y: [] } } })).toThrow(/equal length/);
  });

  it('loadStateDict checks every series before replacing the history', () => {
    const feed = new ChartFeed({ sink: () => {}, scheduler: manualScheduler().scheduler });
    feed.push('loss', 1, 0.5);
    const before = feed.stateDict();
    const bad: [unknown, RegExp][] = [
      [
        { series: { ok: { x: [1], y: [1] }, acc: { x: [1, 2], y: [1] } } },
        /series 'acc' should be x and y arrays of equal length/,
      ],
      [{ series: { loss: { x: ['1'], y: [1] } } }, /series 'loss': its x should be an array of numbers, got \["1"\]/],
      [
        JSON.parse('{"series": {"__proto__": {"x": [1], "y": [1]}}}'),
        /a series' name should be a name other than '__proto__'/,
      ],
      [{ series: {}, points: [] }, /unknown state dict entry 'points'/],
      [{ series: { loss: { x: [1], y: [1], z: [1] } } }, /unknown state dict entry 'z'/],
    ];
    for (const [sd, message] of bad) {
      expect(() => feed.loadStateDict(sd as never)).toThrow(message);
      expect(feed.stateDict()).toEqual(before);
    }
    expect(() => feed.push('__proto__', 1, 1)).toThrow(/^ChartFeed\.push: argument name should be a name other than/);
  });

  it('rejects a missing sink and non-numeric points', () => {
    expect(() => new ChartFeed({} as never)).toThrow(TypeError);
    expect(() => new ChartFeed({ sink: () => {}, schedule: () => () => {} } as never)).toThrow(
      new TypeError("ChartFeed: unknown option 'schedule'. Did you mean 'scheduler'? Known options: sink, scheduler."),
    );
    const feed = new ChartFeed({ sink: () => {}, scheduler: manualScheduler().scheduler });
    expect(() => feed.push('a', 1, '2' as never)).toThrow(
      "ChartFeed.push: argument y of series 'a' should be a number, got '2'.",
    );
  });

  it('falls back to a timer where there are no animation frames (Node, workers)', async () => {
    const seen: string[][] = [];
    const feed = new ChartFeed({ sink: (f) => seen.push(f.changed) });
    feed.push('loss', 1, 1);
    await new Promise((r) => setTimeout(r, 60));
    expect(seen).toEqual([['loss']]);
  });
});
