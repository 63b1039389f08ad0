import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGenerator,
  getRandomState,
  keepRandomState,
  manualSeed,
  SeededGenerator,
  setRandomState,
} from './random';

const draws = (n: number) => Array.from({ length: n }, () => Math.random());

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('manualSeed', () => {
  it('makes Math.random the seedrandom ARC4 sequence of the seed', () => {
    manualSeed(42);
    const expected = seedrandom('42');
    expect(draws(5)).toEqual([expected(), expected(), expected(), expected(), expected()]);
  });

  it('repeats sequences for the same seed and differs for another', () => {
    manualSeed(1);
    const a = draws(10);
    manualSeed(1);
    expect(draws(10)).toEqual(a);
    manualSeed(2);
    expect(draws(10)).not.toEqual(a);
  });

  it('makes unseeded tfjs randomness reproducible (initializers, randomUniform, dropout, util.shuffle)', async () => {
    const sample = async () => {
      const init = tf.initializers.glorotUniform({}).apply([3, 2]);
      const uniform = tf.randomUniform([4]);
      const dropped = tf.dropout(tf.ones([8]), 0.5);
      const order = [0, 1, 2, 3, 4, 5];
      tf.util.shuffle(order);
      const values = [await init.data(), await uniform.data(), await dropped.data()].map((v) => Array.from(v));
      tf.dispose([init, uniform, dropped]);
      return { values, order };
    };
    manualSeed(9);
    const first = await sample();
    manualSeed(9);
    expect(await sample()).toEqual(first);
    manualSeed(10);
    expect((await sample()).values).not.toEqual(first.values);
  });

  it('rejects seeds that are not safe integers', () => {
    expect(() => manualSeed('1' as unknown as number)).toThrow(TypeError);
    expect(() => manualSeed(1.5)).toThrow(/manualSeed: argument seed should be a safe integer, got 1\.5/);
    expect(() => manualSeed(Number.NaN)).toThrow(RangeError);
  });
});

describe('getRandomState / setRandomState', () => {
  it('captures and restores the Math.random sequence through JSON and structuredClone', () => {
    manualSeed(3);
    draws(7);
    const state = getRandomState();
    const next = draws(5);
    setRandomState(JSON.parse(JSON.stringify(state)));
    expect(draws(5)).toEqual(next);
    setRandomState(structuredClone(state));
    expect(draws(5)).toEqual(next);
  });

  it('works without manualSeed: the first call installs a capturable generator', () => {
    const state = getRandomState();
    const next = draws(3);
    setRandomState(state);
    expect(draws(3)).toEqual(next);
  });

  it('takes over again when other code replaced Math.random', () => {
    manualSeed(4);
    const original = Math.random;
    Math.random = () => 0.25;
    try {
      const state = getRandomState();
      const next = draws(3);
      expect(next).not.toEqual([0.25, 0.25, 0.25]);
      setRandomState(state);
      expect(draws(3)).toEqual(next);
    } finally {
      Math.random = original;
    }
  });

  it('rejects garbage with a TypeError that names the expected shape', () => {
    const bad = [
      null,
      undefined,
      'state',
      42,
      {},
      { version: 2, mathRandom: getRandomState().mathRandom },
      { version: 1, mathRandom: { i: 0, j: 0, S: [1, 2, 3] } },
      { version: 1, mathRandom: { i: 0, j: 300, S: new Array(256).fill(0) } },
    ];
    for (const value of bad) {
      expect(() => setRandomState(value)).toThrow(TypeError);
    }
    expect(() => setRandomState({})).toThrow(
      /setRandomState: argument state should be a snapshot from getRandomState\(\)/,
    );
  });
});

describe('a random state that is not a permutation', () => {
  const withS = (change: (S: number[]) => void) => {
    const state = structuredClone(getRandomState());
    change(state.mathRandom.S);
    return state;
  };

  it('is rejected before it is installed: on S all zeros Math.random() would loop forever', () => {
    manualSeed(3);
    const expected = draws(3);
    manualSeed(3);
    for (const broken of [
      withS((S) => S.fill(0)),
      withS((S) => {
        S[1] = S[0]!;
      }),
      withS((S) => {
        S[255] = 7.5;
      }),
    ]) {
      expect(() => setRandomState(broken)).toThrow(TypeError);
      expect(() => setRandomState(broken)).toThrow(/setRandomState: argument state should be a snapshot/);
    }
    expect(() => setRandomState(withS((S) => S.fill(0)))).toThrow(
      /S is not a permutation of 0\.\.255 \(0 appears 256 times, 1 is missing\): such a state would make Math\.random\(\) loop forever/,
    );
    // Nothing was installed: the sequence goes on where it was.
    expect(draws(3)).toEqual(expected);
  });

  it('names unknown keys and out-of-range counters', () => {
    const state = getRandomState();
    expect(() => setRandomState({ ...state, extra: 1 })).toThrow(/unknown key 'extra'/);
    expect(() => setRandomState({ ...state, mathRandom: { ...state.mathRandom, i: 256 } })).toThrow(
      /mathRandom\.i is 256, not an integer in \[0, 255\]/,
    );
    expect(() => setRandomState(state)).not.toThrow();
  });
});

describe('keepRandomState', () => {
  it('restores the sequence after a sync function that reseeds and draws, and returns its result', () => {
    manualSeed(5);
    const reference = draws(4);
    manualSeed(5);
    const a = draws(2);
    const wrapped = keepRandomState((x: number, y: number) => {
      manualSeed(123);
      draws(10);
      return x + y;
    });
    expect(wrapped(2, 3)).toBe(5);
    expect([...a, ...draws(2)]).toEqual(reference);
  });

  it('restores after an async function, after a throw and after a rejection', async () => {
    manualSeed(6);
    const reference = draws(3);
    manualSeed(6);
    const out: number[] = [draws(1)[0]];
    const asyncFn = keepRandomState(async () => {
      draws(3);
      await new Promise((r) => setTimeout(r, 1));
      manualSeed(0);
      return 'done';
    });
    await expect(asyncFn()).resolves.toBe('done');
    out.push(draws(1)[0]);
    const throwing = keepRandomState(() => {
      draws(5);
      throw new Error('boom');
    });
    expect(() => throwing()).toThrow('boom');
    const rejecting = keepRandomState(async () => {
      draws(5);
      throw new Error('later');
    });
    await expect(rejecting()).rejects.toThrow('later');
    out.push(draws(1)[0]);
    expect(out).toEqual(reference);
  });

  it('passes this through and rejects non-functions', () => {
    const obj = {
      k: 7,
      get: keepRandomState(function (this: { k: number }) {
        return this.k;
      }),
    };
    expect(obj.get()).toBe(7);
    expect(() => keepRandomState(3 as unknown as () => void)).toThrow(TypeError);
  });
});

describe('SeededGenerator', () => {
  it('repeats for the same (seed, stream) and differs across seeds and streams', () => {
    const seq = (g: SeededGenerator) => Array.from({ length: 5 }, () => g.nextUint32());
    expect(seq(createGenerator(1, 0))).toEqual(seq(new SeededGenerator(1)));
    expect(seq(createGenerator(1, 1))).not.toEqual(seq(createGenerator(1, 0)));
    expect(seq(createGenerator(2, 0))).not.toEqual(seq(createGenerator(1, 0)));
    // seeds that differ only above bit 32 give different streams
    expect(seq(createGenerator(2 ** 32 + 1))).not.toEqual(seq(createGenerator(1)));
  });

  it('saves and restores its state', () => {
    const g = createGenerator(11);
    g.next();
    const state = g.state();
    const a = [g.next(), g.nextInt(100), g.nextUint32()];
    g.setState(JSON.parse(JSON.stringify(state)));
    expect([g.next(), g.nextInt(100), g.nextUint32()]).toEqual(a);
    expect(() => g.setState([1, 2, 3] as never)).toThrow(TypeError);
  });

  it('draws floats in [0, 1) and unbiased integers in range', () => {
    const g = createGenerator(5);
    const counts = [0, 0, 0];
    let outside = 0;
    for (let k = 0; k < 30000; k++) {
      const f = g.next();
      if (!(f >= 0 && f < 1)) outside++;
      counts[g.nextInt(3)]++;
    }
    expect(outside).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    expect(() => g.nextInt(0)).toThrow(RangeError);
  });

  it('permutation is a reproducible permutation of 0..n-1', () => {
    const p = createGenerator(8, 2).permutation(1000);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(createGenerator(8, 2).permutation(1000)).toEqual(p);
    expect(createGenerator(8, 3).permutation(1000)).not.toEqual(p);
    expect(createGenerator(1).permutation(0)).toEqual(new Int32Array(0));
    expect(createGenerator(1).permutation(1)).toEqual(Int32Array.from([0]));
  });

  it('each index lands in each position about equally often', () => {
    const n = 4;
    const counts = Array.from({ length: n }, () => new Array(n).fill(0));
    for (let s = 0; s < 4000; s++) {
      const p = createGenerator(s).permutation(n);
      for (let pos = 0; pos < n; pos++) counts[pos][p[pos]]++;
    }
    for (const row of counts) for (const c of row) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });
});
