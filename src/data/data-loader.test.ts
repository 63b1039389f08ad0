import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { DataLoader } from './data-loader';
import { createGenerator, getRandomState, manualSeed } from './random';
import { TensorDataset } from './tensor-dataset';

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** A { length, get } source that counts calls of get. */
function counting(n: number, isAsync = false) {
  const source = {
    calls: 0,
    length: n,
    get: isAsync
      ? async (i: number) => {
          source.calls++;
          await Promise.resolve();
          return i;
        }
      : (i: number) => {
          source.calls++;
          return i;
        },
  };
  return source;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DataLoader over arrays', () => {
  it('batches in order, the last batch smaller; length counts batches', () => {
    const loader = new DataLoader(range(10), { batchSize: 4 });
    expect(loader.length).toBe(3);
    expect([...loader]).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ]);
  });

  it('dropLast drops the smaller last batch', () => {
    const loader = new DataLoader(range(10), { batchSize: 4, dropLast: true });
    expect(loader.length).toBe(2);
    expect([...loader]).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(new DataLoader(range(8), { batchSize: 4, dropLast: true }).length).toBe(2);
  });

  it('batchSize defaults to 1 and collate builds the batch', () => {
    expect([...new DataLoader(['a', 'b'])]).toEqual([['a'], ['b']]);
    const sums = new DataLoader(range(6), { batchSize: 3, collate: (xs) => xs.reduce((a, b) => a + b, 0) });
    expect([...sums]).toEqual([3, 12]);
  });

  it('reads ArrayLikes such as typed arrays', () => {
    expect([...new DataLoader(Float32Array.from([1, 2, 3]), { batchSize: 2 })]).toEqual([[1, 2], [3]]);
  });
});

describe('DataLoader shuffling', () => {
  it('each pass is a permutation from (seed, pass), different between passes', () => {
    const loader = new DataLoader(range(23), { batchSize: 5, shuffle: true });
    loader.seed = 77;
    const pass0 = [...loader].flat();
    const pass1 = [...loader].flat();
    expect([...pass0].sort((a, b) => a - b)).toEqual(range(23));
    expect([...pass1].sort((a, b) => a - b)).toEqual(range(23));
    expect(pass0).not.toEqual(pass1);
    expect(pass0).toEqual(Array.from(createGenerator(77, 0).permutation(23)));
    expect(pass1).toEqual(Array.from(createGenerator(77, 1).permutation(23)));
    expect(loader.pass).toBe(2);
  });

  it('iterate({ seed, pass, startBatch }) reproduces any pass from any batch, loading only what it yields', () => {
    const source = counting(23);
    const loader = new DataLoader(source, { batchSize: 5, shuffle: true });
    loader.seed = 5;
    [...loader];
    [...loader];
    const pass1 = [...loader];
    source.calls = 0;
    const tail = [...loader.iterate({ seed: 5, pass: 2, startBatch: 3 })];
    expect(tail).toEqual(pass1.slice(3));
    expect(source.calls).toBe(5 + 3); // batch 3 (5 items) and batch 4 (3 items)
    expect([...loader.iterate({ seed: 5, pass: 2, startBatch: 5 })]).toEqual([]);
    expect(loader.iterate({ seed: 5, pass: 2, startBatch: 2 }).length).toBe(3);
  });

  it('draws its seed from Math.random only when shuffling', () => {
    manualSeed(31);
    const a = [...new DataLoader(range(50), { batchSize: 50, shuffle: true })][0];
    manualSeed(31);
    const loader = new DataLoader(range(50), { batchSize: 50, shuffle: true });
    expect(loader.seed).toBeNull();
    expect([...loader][0]).toEqual(a);
    expect(loader.seed).toBeNull(); // each pass draws its own
    const before = getRandomState();
    [...new DataLoader(range(5), { batchSize: 2 })];
    expect(getRandomState()).toEqual(before);
  });

  it("without a seed, draws each pass's order from the global seeded RNG when the iteration starts (torch's rule)", () => {
    const loader = new DataLoader(range(40), { batchSize: 4, shuffle: true });
    manualSeed(5);
    const first = [...loader];
    const second = [...loader];
    expect(second).not.toEqual(first); // consecutive passes differ
    manualSeed(5);
    expect([...loader]).toEqual(first); // manualSeed(5) before iterating repeats the order
    expect([...loader]).toEqual(second);
    // The draw happens when the iteration starts: what runs before it changes the order, what runs after does not.
    manualSeed(5);
    const iterator = loader[Symbol.iterator]();
    Math.random();
    expect([...{ [Symbol.iterator]: () => iterator }]).toEqual(first);
    manualSeed(5);
    Math.random();
    expect([...loader]).not.toEqual(first);
  });

  it('a plain Engine over a shuffled loader repeats its batches after the same manualSeed', async () => {
    const runOnce = async () => {
      manualSeed(5);
      const seen: number[][] = [];
      await new Engine((_e, batch: number[]) => seen.push(batch)).run(
        new DataLoader(range(12), { batchSize: 4, shuffle: true }),
        { maxEpochs: 2 },
      );
      return seen;
    };
    const a = await runOnce();
    expect(
      a
        .slice(0, 3)
        .flat()
        .sort((x, y) => x - y),
    ).toEqual(range(12));
    expect(a.slice(3).flat()).not.toEqual(a.slice(0, 3).flat());
    expect(await runOnce()).toEqual(a);
  });

  it('permutes 1,000,000 indices quickly', () => {
    const loader = new DataLoader({ length: 1_000_000, get: (i: number) => i }, { batchSize: 4, shuffle: true });
    const start = performance.now();
    // the lazy shuffle runs ~1M Fisher-Yates steps to reach the last batch
    const last = loader.iterate({ seed: 1, pass: 0, startBatch: 249_999 })[Symbol.iterator]().next();
    expect(last.value).toHaveLength(4);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

describe('DataLoader over async sources', () => {
  it('is async-iterable only and loads items with awaits', async () => {
    const source = counting(7, true);
    const loader = new DataLoader(source, { batchSize: 3 });
    expect(loader.isAsync).toBe(true);
    expect((loader as unknown as { [Symbol.iterator]: unknown })[Symbol.iterator]).toBeUndefined();
    const batches: number[][] = [];
    for await (const b of loader) batches.push(b);
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(source.calls).toBe(7);
  });

  it('runs in a plain Engine', async () => {
    const loader = new DataLoader(counting(5, true), { batchSize: 2 });
    const seen: number[][] = [];
    const engine = new Engine((_e, batch: number[]) => seen.push(batch));
    await engine.run(loader, { maxEpochs: 2 });
    expect(seen).toEqual([[0, 1], [2, 3], [4], [0, 1], [2, 3], [4]]);
  });

  it('a sync get that returns promises needs for await', async () => {
    const loader = new DataLoader({ length: 2, get: (i: number) => Promise.resolve(i) });
    expect(() => [...loader]).toThrow(/returned a promise during a synchronous iteration/);
    const out: number[][] = [];
    for await (const b of loader) out.push(b);
    expect(out).toEqual([[0], [1]]);
  });
});

describe('DataLoader over a TensorDataset', () => {
  function dataset(n: number) {
    const x = tf.tensor2d(
      range(n).map((i) => [i, 10 * i]),
      [n, 2],
    );
    const y = tf.tensor1d(range(n).map((i) => 100 * i));
    return new TensorDataset(x, y);
  }

  it('yields [x, y] gathered in the shuffled order', async () => {
    const ds = dataset(10);
    const loader = new DataLoader(ds, { batchSize: 4, shuffle: true });
    const order = Array.from(createGenerator(3, 1).permutation(10));
    const rows: number[][] = [];
    const labels: number[] = [];
    for await (const [x, y] of loader.iterate({ seed: 3, pass: 1 })) {
      rows.push(...((await x.array()) as number[][]));
      labels.push(...((await y.array()) as number[]));
    }
    expect(rows).toEqual(order.map((i) => [i, 10 * i]));
    expect(labels).toEqual(order.map((i) => 100 * i));
    ds.dispose();
  });

  it('disposes the previous batch on next(), and the last on return() or exhaustion; no leaks', async () => {
    const ds = dataset(9);
    const before = tf.memory().numTensors;
    const loader = new DataLoader(ds, { batchSize: 4 });
    const it = loader[Symbol.iterator]();
    const first = it.next().value as tf.Tensor[];
    expect(await first[1].array()).toEqual([0, 100, 200, 300]);
    const kept = first[0].clone();
    const second = it.next().value as tf.Tensor[];
    expect(first.every((t) => t.isDisposed)).toBe(true);
    expect(second.some((t) => t.isDisposed)).toBe(false);
    it.return?.();
    expect(second.every((t) => t.isDisposed)).toBe(true);
    expect(await kept.array()).toEqual([
      [0, 0],
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    kept.dispose();
    for (const _ of loader) {
      // exhaust
    }
    for (const _ of loader) break;
    expect(tf.memory().numTensors).toBe(before);
    ds.dispose();
  });

  it('passes the gathered tensors to collate and owns what it returns', () => {
    const ds = dataset(6);
    const before = tf.memory().numTensors;
    const loader = new DataLoader(ds, {
      batchSize: 3,
      collate: ([x, y]) => ({ x: tf.mul(x, 2), y }),
    });
    const batches = [...loader];
    expect(batches).toHaveLength(2);
    expect(batches.every((b) => b.x.isDisposed && b.y.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    ds.dispose();
  });

  it('owns tensors a collate makes from plain items, never the items themselves', () => {
    const items = range(4).map((i) => tf.scalar(i));
    const before = tf.memory().numTensors;
    const loader = new DataLoader(items, { batchSize: 2, collate: (xs: tf.Tensor[]) => tf.stack(xs) });
    for (const _ of loader) {
      // each stacked batch is disposed when the next is requested
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(items.some((t) => t.isDisposed)).toBe(false);
    tf.dispose(items);
  });
});

describe('DataLoader errors', () => {
  it('batchSize must be a positive integer', () => {
    for (const bad of [0, -1, 2.5, Number.NaN]) {
      expect(() => new DataLoader(range(3), { batchSize: bad as number })).toThrow(RangeError);
    }
    expect(() => new DataLoader(range(3), { batchSize: '4' as never })).toThrow(
      new TypeError("DataLoader: option batchSize should be a positive integer, got '4'."),
    );
    expect(() => new DataLoader(range(3), { batchSize: 0 })).toThrow(
      'DataLoader: option batchSize should be a positive integer, got 0.',
    );
  });

  it('the dataset needs a length', () => {
    expect(() => new DataLoader({ get: (i: number) => i } as never)).toThrow(TypeError);
    expect(() => new DataLoader({ get: (i: number) => i } as never)).toThrow(
      /non-negative integer length, got length undefined/,
    );
    expect(() => new DataLoader(null as never)).toThrow(TypeError);
    expect(() => new DataLoader(5 as never)).toThrow(TypeError);
  });

  it('rejects options of the wrong type and bad iterate positions', () => {
    expect(() => new DataLoader(range(3), { shuffle: 'yes' as never })).toThrow(TypeError);
    expect(() => new DataLoader(range(3), { dropLast: 1 as never })).toThrow(TypeError);
    expect(() => new DataLoader(range(3), { collate: 3 as never })).toThrow(
      new TypeError('DataLoader: option collate should be a function (items) => batch, got 3.'),
    );
    const loader = new DataLoader(range(3), { batchSize: 2 });
    expect(() => loader.iterate({ startBatch: 3 })).toThrow(/startBatch should be an integer in \[0, 2\], got 3/);
    expect(() => loader.iterate({ pass: -1 })).toThrow(RangeError);
    expect(() => {
      loader.seed = 1.5;
    }).toThrow(RangeError);
  });
});

describe('DataLoader options', () => {
  it('rejects unknown options, naming the closest known one (PyTorch spellings included)', () => {
    expect(() => new DataLoader(range(3), { batch_size: 2 } as never)).toThrow(
      new TypeError(
        "DataLoader: unknown option 'batch_size'. Did you mean 'batchSize'? Known options: batchSize, shuffle, dropLast, collate.",
      ),
    );
    expect(() => new DataLoader(range(3), { shufle: true } as never)).toThrow(
      /unknown option 'shufle'\. Did you mean 'shuffle'\?/,
    );
    expect(() => new DataLoader(range(3), { numWorkers: 4 } as never)).toThrow(
      new TypeError("DataLoader: unknown option 'numWorkers'. Known options: batchSize, shuffle, dropLast, collate."),
    );
    expect(() => new DataLoader(range(3), 4 as never)).toThrow(TypeError);
    const loader = new DataLoader(range(3), { batchSize: 2 });
    expect(() => loader.iterate({ start: 1 } as never)).toThrow(
      new TypeError(
        "DataLoader.iterate: unknown option 'start'. Did you mean 'startBatch'? Known options: seed, pass, startBatch.",
      ),
    );
  });
});

describe('DataLoader with an Engine', () => {
  it('gives epochLength and passes batches; TensorDataset batches do not leak', async () => {
    const x = tf.tensor2d(range(12), [6, 2]);
    const ds = new TensorDataset(x);
    const before = tf.memory().numTensors;
    const loader = new DataLoader(ds, { batchSize: 4, shuffle: true });
    const sums: number[] = [];
    const engine = new Engine((_e, [xb]: tf.Tensor[]) => tf.sum(xb));
    engine.on(Events.ITERATION_COMPLETED, async (e) => {
      const out = e.state.output as tf.Tensor;
      sums.push((await out.data())[0]);
      out.dispose();
    });
    const state = await engine.run(loader, { maxEpochs: 3 });
    expect(state.epochLength).toBe(2);
    expect(state.iteration).toBe(6);
    expect(sums[0] + sums[1]).toBe(66);
    expect(tf.memory().numTensors).toBe(before);
    ds.dispose();
  });
});
