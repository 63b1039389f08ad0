import { describe, expect, it } from 'vitest';
import { EventLoopYielder, yieldToEventLoop } from './yield';

describe('yieldToEventLoop', () => {
  it('resolves on a later task, after already-queued macrotasks', async () => {
    const order: string[] = [];
    setTimeout(() => order.push('timer'), 0);
    await new Promise((r) => setTimeout(r, 5)); // let the timer queue settle
    const p = yieldToEventLoop().then(() => order.push('yielded'));
    order.push('sync');
    await p;
    expect(order).toEqual(['timer', 'sync', 'yielded']);
  });

  it('resolves every caller, in order', async () => {
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => yieldToEventLoop().then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
  });
});

describe('EventLoopYielder', () => {
  it('yields only once its time budget is spent', async () => {
    const yielder = new EventLoopYielder({ budgetMs: 30 });
    expect(yielder.handle()).toBeUndefined(); // just made: budget not spent
    const until = performance.now() + 35;
    while (performance.now() < until) {
      /* busy: spend the budget */
    }
    const p = yielder.handle();
    expect(p).toBeInstanceOf(Promise);
    await p;
    // The clock restarted after the yield, but the last span (35 ms) is expected again: it would pass the budget.
    expect(yielder.handle()).toBeInstanceOf(Promise);
    await new EventLoopYielder({ budgetMs: 0 }).handle();
  });

  it('yields before the work it expects next would take the task past the budget', async () => {
    const busy = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        /* busy */
      }
    };
    // Wide margins: a busy machine may pause this thread, which only makes the spans longer.
    const yielder = new EventLoopYielder({ budgetMs: 200 });
    busy(5);
    expect(yielder.handle()).toBeUndefined(); // about 5 ms done, 5 expected
    busy(110);
    const p = yielder.handle(); // 115 ms done, 110 expected: it yields before the next span, not after it
    expect(p).toBeInstanceOf(Promise);
    await p;
    expect(yielder.handle()).toBeUndefined(); // a fresh task: 0 ms done, 110 expected
    busy(100);
    expect(yielder.handle()).toBeInstanceOf(Promise); // 100 done, 100 expected (the 110 ms span is two calls back)
  });

  it('rejects a negative budget', () => {
    expect(() => new EventLoopYielder({ budgetMs: -1 })).toThrow(/budgetMs should be a number >= 0, got -1/);
    expect(() => new EventLoopYielder({ budget: 8 } as never)).toThrow(
      new TypeError("EventLoopYielder: unknown option 'budget'. Did you mean 'budgetMs'? Known options: budgetMs."),
    );
  });
});
