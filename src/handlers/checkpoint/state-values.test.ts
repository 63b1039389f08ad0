// Checkpoint's own state dict and an optimizer's saved scalars are checked by value, not only by shape, and a
// rejected load changes nothing.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../engine';
import { CheckpointError, MemorySaver } from '../../storage';
import { Checkpoint } from '.';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('Checkpoint.loadStateDict', () => {
  const make = () => new Checkpoint({ engine: new Engine(() => 0) }, new MemorySaver(), { nSaved: 2 });

  it.each([
    [
      'a NaN priority',
      { saved: [[Number.NaN, 'a.ckpt']] },
      /'saved' at 0: its priority should be a number other than NaN, got NaN/,
    ],
    ['an empty file name', { saved: [[1, '']] }, /'saved' at 0: its filename should be a non-empty string, got ''/],
    [
      'a file listed twice',
      {
        saved: [
          [1, 'a.ckpt'],
          [2, 'a.ckpt'],
        ],
      },
      /'saved' at 1: its filename should be a name listed once, got 'a.ckpt'\. Each file is kept once\./,
    ],
    [
      'more files than nSaved',
      {
        saved: [
          [1, 'a.ckpt'],
          [2, 'b.ckpt'],
          [3, 'c.ckpt'],
        ],
      },
      /'saved' should be at most nSaved = 2 checkpoints, got '3 of them'\. Make this Checkpoint with nSaved: 3 \(or null\)/,
    ],
    ['an unknown entry', { saved: [], best: 1 }, /unknown state dict entry 'best'/],
    ['a pair of three', { saved: [[1, 'a.ckpt', 'x']] }, /'saved' at 0 should be a \[priority, filename\] pair/],
  ])('rejects %s, keeping what it had', (_label, sd, message) => {
    const checkpoint = make();
    checkpoint.loadStateDict({ saved: [[5, 'engine_5.ckpt']] });
    expect(() => checkpoint.loadStateDict(sd as never)).toThrow(message);
    expect(checkpoint.stateDict()).toEqual({ saved: [[5, 'engine_5.ckpt']] });
    expect(checkpoint.lastCheckpoint).toBe('engine_5.ckpt');
  });

  it('loads a good one, lowest priority first', () => {
    const checkpoint = make();
    checkpoint.loadStateDict({
      saved: [
        [9, 'b.ckpt'],
        [-1, 'a.ckpt'],
      ],
    });
    expect(checkpoint.stateDict()).toEqual({
      saved: [
        [-1, 'a.ckpt'],
        [9, 'b.ckpt'],
      ],
    });
  });
});

describe("an optimizer's saved scalars", () => {
  /** An Adam optimizer after two steps, its checkpoint entry, and a reader of everything it holds. */
  async function adamAfterTwoSteps() {
    const w = tf.variable(tf.tensor1d([1, -2]), true, `state_values_w_${Math.random().toString(36).slice(2)}`);
    const optimizer = tf.train.adam(0.1);
    const step = () => optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
    step();
    const saver = new MemorySaver();
    await new Checkpoint({ optimizer }, saver).handle(new Engine(() => 0));
    const entry = (await saver.load((await saver.list())[0]!)) as Record<string, any>;
    step();
    const read = async () => {
      const weights = await optimizer.getWeights();
      const values = await Promise.all(weights.map(async (x) => [x.name, Array.from(await x.tensor.data())]));
      for (const x of weights) if (!(x.tensor instanceof tf.Variable)) x.tensor.dispose();
      const hidden = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
      return { values, accBeta1: (await hidden.accBeta1.data())[0], accBeta2: (await hidden.accBeta2.data())[0] };
    };
    return { optimizer, entry, read, dispose: () => w.dispose() };
  }

  it.each([
    [
      'accBeta1 NaN',
      (e: any) => (e.extra.accBeta1 = Number.NaN),
      /its entry 'extra\.accBeta1' should be a number in \[0, 1\] \(a power beta\^t\), got NaN/,
    ],
    [
      'accBeta2 above 1',
      (e: any) => (e.extra.accBeta2 = 2),
      /'extra\.accBeta2' should be a number in \[0, 1\].*, got 2/,
    ],
    [
      'an unknown scalar',
      (e: any) => (e.extra.accBeta3 = 0.5),
      /'extra\.accBeta3' should be absent \(Adam keeps accBeta1, accBeta2\), got 0\.5/,
    ],
    [
      'a missing scalar',
      (e: any) => delete e.extra.accBeta2,
      /'extra\.accBeta2' should be a number in \[0, 1\].*, got undefined/,
    ],
    [
      'no extra at all',
      (e: any) => delete e.extra,
      /'extra' should be an object of its hidden scalars \(accBeta1, accBeta2\), got undefined/,
    ],
    [
      'a negative step count',
      (e: any) => (e.iterations = -1),
      /its entry 'iterations' should be an integer in \[0, 2147483647\].*, got -1/,
    ],
    [
      'a NaN step count',
      (e: any) => (e.iterations = Number.NaN),
      /'iterations' should be an integer in \[0, 2147483647\].*, got NaN/,
    ],
  ])('rejects %s as CORRUPT and loads nothing', async (_label, breakIt, message) => {
    const { optimizer, entry, read, dispose } = await adamAfterTwoSteps();
    const before = await read();
    breakIt(entry);
    const load = Checkpoint.loadObjects({ toLoad: { optimizer }, checkpoint: entry });
    await expect(load).rejects.toThrow(message);
    await expect(load).rejects.toBeInstanceOf(CheckpointError);
    await expect(load).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(await read()).toEqual(before);
    dispose();
  });

  it('loads the scalars it checked, exactly', async () => {
    const { optimizer, entry, read, dispose } = await adamAfterTwoSteps();
    await Checkpoint.loadObjects({ toLoad: { optimizer }, checkpoint: entry });
    const after = await read();
    expect([after.accBeta1, after.accBeta2]).toEqual([
      Math.fround(entry.extra.accBeta1),
      Math.fround(entry.extra.accBeta2),
    ]);
    dispose();
  });
});
