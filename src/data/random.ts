/**
 * Seeded randomness for kindling.
 *
 * What is covered:
 * - `Math.random`. kindling replaces it with a seedrandom ARC4 generator whose state can be captured. TensorFlow.js
 *   draws all of its unseeded randomness from `Math.random`: weight initializers, `Dropout` layers and `tf.dropout`,
 *   `tf.randomUniform` / `randomNormal` / `truncatedNormal` / `multinomial` without a `seed`, `tf.util.shuffle`.
 *   So do most augmentation helpers and user code.
 * - The base seeds of `DataLoader`s that do not have one: they are drawn from `Math.random` on first use.
 * - {@link SeededGenerator}s are *not* global: each owner (a `DataLoader`, your own augmentation) keeps its own and
 *   saves `generator.state()` itself.
 *
 * What is not covered:
 * - `crypto.getRandomValues` / `crypto.randomUUID` (cannot be seeded).
 * - A tfjs op given an explicit `seed` argument: it builds its own generator from that seed, so it is already
 *   reproducible and has no state to save.
 * - Randomness inside a GPU shader or any other library that keeps a private generator.
 *
 * Ownership of `Math.random`: the first call of `manualSeed`, `getRandomState`, `setRandomState` or `keepRandomState`
 * installs kindling's generator as `Math.random` (seeded from the platform's `Math.random` unless `manualSeed` gives
 * the seed). If other code replaces `Math.random` afterwards, the next of those calls installs kindling's generator
 * again, seeded from a draw of the replacement.
 * @module
 */
import seedrandom from 'seedrandom';
import { checkFunction, checkInteger, describeValue, isPlainObject } from '../internal';

/** The internal state of an ARC4 generator, as seedrandom reports it. */
interface Arc4State {
  i: number;
  j: number;
  S: number[];
}

/** A JSON-serialisable snapshot of every generator kindling controls; see {@link getRandomState}. */
export interface RandomState {
  /** Format version of the snapshot. */
  version: 1;
  /** State of the ARC4 generator installed as `Math.random`. */
  mathRandom: Arc4State;
}

/** The state of a {@link SeededGenerator}: four unsigned 32-bit words. */
export type GeneratorState = [number, number, number, number];

let installed: (() => number) | null = null;
let arc4: seedrandom.StatefulPRNG<Arc4State> | null = null;

function install(prng: seedrandom.StatefulPRNG<Arc4State>): void {
  arc4 = prng;
  // A plain function so `Math.random()` keeps working when detached (`const r = Math.random`).
  installed = () => prng();
  Math.random = installed;
}

/** Makes sure kindling's generator is `Math.random`; returns it. */
function ensureInstalled(): seedrandom.StatefulPRNG<Arc4State> {
  if (arc4 === null || Math.random !== installed) {
    // Seed from whatever Math.random is now: the platform's, or a replacement installed after ours.
    install(seedrandom(String(Math.random()), { state: true }) as seedrandom.StatefulPRNG<Arc4State>);
  }
  return arc4!;
}

function checkSeed(fnName: string, seed: unknown): asserts seed is number {
  checkInteger(fnName, 'argument seed', seed, { fix: 'Round it, e.g. Math.floor(seed).' });
}

/**
 * Seeds every generator kindling controls: installs a seeded generator as `Math.random` (which TensorFlow.js uses for
 * initializers, dropout and unseeded random ops). Two runs of the same program after the same `manualSeed` draw the
 * same numbers.
 *
 * @param seed A safe integer.
 * @example
 * manualSeed(42);
 * const model = buildModel(); // same initial weights on every run
 */
export function manualSeed(seed: number): void {
  checkSeed('manualSeed', seed);
  install(seedrandom(String(seed), { state: true }) as seedrandom.StatefulPRNG<Arc4State>);
}

/**
 * Returns a snapshot of every generator kindling controls (currently `Math.random`). The snapshot is plain data
 * that survives `JSON.stringify` and `structuredClone`; give it to {@link setRandomState} to continue the same
 * sequence.
 *
 * @returns The snapshot.
 * @example
 * const saved = getRandomState();
 * const a = Math.random();
 * setRandomState(saved);
 * Math.random() === a; // true
 */
export function getRandomState(): RandomState {
  return { version: 1, mathRandom: ensureInstalled().state() };
}

const isByte = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 256;

/** What is wrong with `value` as a snapshot from {@link getRandomState}, or null when nothing is. */
function randomStateProblem(value: unknown): string | null {
  if (!isPlainObject(value)) return 'it is not an object';
  const unknown = Object.keys(value).find((key) => key !== 'version' && key !== 'mathRandom');
  if (unknown !== undefined) return `it has an unknown key '${unknown}'`;
  if (value.version !== 1) return `its version is ${describeValue(value.version)}, not 1`;
  const arc4 = value.mathRandom;
  if (!isPlainObject(arc4)) return `its mathRandom is ${describeValue(arc4)}, not { i, j, S }`;
  const unknownInner = Object.keys(arc4).find((key) => key !== 'i' && key !== 'j' && key !== 'S');
  if (unknownInner !== undefined) return `its mathRandom has an unknown key '${unknownInner}'`;
  for (const key of ['i', 'j'] as const) {
    if (!isByte(arc4[key])) return `its mathRandom.${key} is ${describeValue(arc4[key])}, not an integer in [0, 255]`;
  }
  const S = arc4.S;
  if (!Array.isArray(S) || S.length !== 256) {
    return `its mathRandom.S is ${Array.isArray(S) ? `an array of length ${S.length}` : describeValue(S)}, not 256 bytes`;
  }
  const bad = S.findIndex((x) => !isByte(x));
  if (bad >= 0) return `its mathRandom.S[${bad}] is ${describeValue(S[bad])}, not an integer in [0, 255]`;
  // ARC4 swaps entries of S and never changes the multiset: S must be a permutation of 0..255, or Math.random()
  // (which draws until it has 52 random bits) can spin forever on a state that only ever yields zeros.
  const seen = new Uint16Array(256);
  for (const x of S as number[]) seen[x]! += 1;
  const twice = seen.findIndex((count) => count > 1);
  if (twice >= 0) {
    return `its mathRandom.S is not a permutation of 0..255 (${twice} appears ${seen[twice]} times, ${seen.indexOf(0)} is missing): such a state would make Math.random() loop forever`;
  }
  return null;
}

/** True when `value` is a snapshot from {@link getRandomState} (or a JSON copy of one). */
export function isRandomState(value: unknown): value is RandomState {
  return randomStateProblem(value) === null;
}

/**
 * Throws a TypeError unless `value` is a snapshot from {@link getRandomState}, saying what is wrong with it (a value
 * out of range, an `S` that is not a permutation of 0..255, an unknown key). The message names `where` and `subject`;
 * `nullable` says that null is accepted too (the caller lets it through).
 */
export function checkRandomState(
  where: string,
  subject: string,
  value: unknown,
  { nullable = false }: { nullable?: boolean } = {},
): asserts value is RandomState {
  const problem = randomStateProblem(value);
  if (problem === null) return;
  throw new TypeError(
    `${where}: ${subject} should be a snapshot from getRandomState() ({ version: 1, mathRandom: { i, j, S } })${nullable ? ' or null' : ''}, got ${describeValue(value)}: ${problem}. Pass what getRandomState() returned, unchanged.`,
  );
}

/**
 * Restores a snapshot taken by {@link getRandomState}.
 *
 * @param state The snapshot (a parsed JSON copy works too).
 * @throws TypeError when `state` is not such a snapshot, e.g. when its `S` is not a permutation of 0..255 (a state
 *   no generator reaches, on which `Math.random()` would never return).
 * @example
 * setRandomState(JSON.parse(localStorage.rng));
 */
export function setRandomState(state: unknown): void {
  checkRandomState('setRandomState', 'argument state', state);
  // seedrandom copies the given state into a fresh generator; the seed string is then irrelevant.
  const { i, j, S } = state.mathRandom;
  install(seedrandom('', { state: { i, j, S: S.slice() } }) as seedrandom.StatefulPRNG<Arc4State>);
}

/**
 * Wraps `fn` so that every generator kindling controls is restored to its state from before the call, after the call
 * (also when it throws or its promise rejects). Use it for work that must not disturb the training's random sequence,
 * e.g. an evaluation handler that reseeds or uses dropout.
 *
 * @param fn A sync or async function.
 * @returns A function with the same signature.
 * @example
 * trainer.on(Events.EPOCH_COMPLETED, keepRandomState(async () => { manualSeed(0); await evaluator.run(valLoader); }));
 */
export function keepRandomState<F extends (...args: any[]) => any>(fn: F): F {
  checkFunction('keepRandomState', 'argument fn', fn, '(...args) => result');
  const wrapped = function (this: unknown, ...args: unknown[]) {
    const saved = getRandomState();
    let result: unknown;
    try {
      result = fn.apply(this, args);
    } catch (error) {
      setRandomState(saved);
      throw error;
    }
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(result).finally(() => setRandomState(saved));
    }
    setRandomState(saved);
    return result;
  };
  return wrapped as F;
}

/** Mixes 32 bits (a finaliser from MurmurHash3). */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function splitWords(value: number): [number, number] {
  return [value >>> 0, Math.floor(value / 4294967296) >>> 0];
}

/**
 * A small, fast, seedable generator (SFC32, 128 bits of state) for code that needs its own random stream, such as a
 * `DataLoader`'s shuffling. Unlike `Math.random` it is not global: its owner saves `state()` when it needs to.
 *
 * @example
 * const g = new SeededGenerator(42);
 * g.next();        // a float in [0, 1)
 * g.nextInt(10);   // an integer in [0, 10)
 * const s = g.state(); const a = g.next(); g.setState(s); g.next() === a; // true
 */
export class SeededGenerator {
  #a = 0;
  #b = 0;
  #c = 0;
  #d = 0;

  /**
   * @param seed A safe integer.
   * @param stream A second safe integer selecting an independent stream for the same seed (e.g. a pass index).
   */
  constructor(seed: number, stream = 0) {
    checkSeed('SeededGenerator', seed);
    checkSeed('SeededGenerator', stream);
    const [seedLo, seedHi] = splitWords(seed);
    const [streamLo, streamHi] = splitWords(stream);
    this.#a = mix32(seedLo ^ 0x9e3779b9);
    this.#b = mix32(seedHi ^ mix32(this.#a + 0x632be5ab));
    this.#c = mix32(streamLo ^ mix32(this.#b + 0x85a308d3));
    this.#d = mix32(streamHi ^ mix32(this.#c + 0x243f6a88));
    for (let k = 0; k < 15; k++) this.nextUint32();
  }

  /** Returns the next unsigned 32-bit integer. */
  nextUint32(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }

  /** Returns a float in [0, 1) with 53 random bits. */
  next(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * 67108864 + low) / 9007199254740992;
  }

  /**
   * Returns an unbiased integer in [0, bound).
   * @param bound An integer in [1, 2^32].
   */
  nextInt(bound: number): number {
    if (!Number.isInteger(bound) || bound < 1 || bound > 4294967296) {
      throw new RangeError(`SeededGenerator.nextInt: argument bound should be an integer in [1, 2^32], got ${bound}.`);
    }
    // Rejection sampling: draws at or above `limit` would favour small results.
    const limit = 4294967296 - (4294967296 % bound);
    let u = this.nextUint32();
    while (u >= limit) u = this.nextUint32();
    return u % bound;
  }

  /**
   * Returns a uniformly random permutation of 0..n-1 (Fisher-Yates).
   * @param n The number of indices, below 2^31.
   */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n >= 2147483648) {
      throw new RangeError(`SeededGenerator.permutation: argument n should be an integer in [0, 2^31), got ${n}.`);
    }
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    this.shuffleSteps(order, 0, n);
    return order;
  }

  /**
   * Runs steps `from`..`to - 1` of a front-to-back Fisher-Yates shuffle of `array`: step i swaps entry i with a
   * uniformly drawn entry of [i, length). After the steps 0..to-1, entries [0, to) are final, so a long permutation
   * can be produced lazily, only as far as it is read (`permutation(n)` runs all steps at once, with the same result).
   *
   * @param array The array to shuffle in place (e.g. 0..n-1).
   * @param from First step (the number of steps already run).
   * @param to One past the last step, at most `array.length`.
   */
  shuffleSteps(array: Int32Array, from: number, to: number): void {
    const n = array.length;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || from > to || to > n) {
      throw new RangeError(
        `SeededGenerator.shuffleSteps: steps [${from}, ${to}) should lie within [0, ${n}] with from <= to.`,
      );
    }
    // The generator is inlined, and the draw is floor(u * bound / 2^32) with Lemire's rejection (unbiased, no
    // division in the common case). The cost is mostly memory: each step touches one random entry.
    let a = this.#a;
    let b = this.#b;
    let c = this.#c;
    let d = this.#d;
    for (let i = from; i < to && i < n - 1; i++) {
      const bound = n - i;
      let u = 0;
      let low = 0;
      let threshold = -1;
      do {
        const t = (((a + b) | 0) + d) | 0;
        d = (d + 1) | 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) | 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) | 0;
        u = t >>> 0;
        low = Math.imul(u, bound) >>> 0; // the low 32 bits of u * bound
        if (low < bound && threshold < 0) threshold = (4294967296 - bound) % bound;
      } while (low < threshold);
      // The high 32 bits of u * bound, exactly (u * bound can exceed 2^53): split u into 16-bit halves.
      const j = i + Math.floor(((u >>> 16) * bound + Math.floor(((u & 0xffff) * bound) / 65536)) / 65536);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    this.#a = a;
    this.#b = b;
    this.#c = c;
    this.#d = d;
  }

  /** Returns the generator's state (plain data). */
  state(): GeneratorState {
    return [this.#a >>> 0, this.#b >>> 0, this.#c >>> 0, this.#d >>> 0];
  }

  /**
   * Restores a state from {@link SeededGenerator.state}.
   * @throws TypeError when `state` is not four unsigned 32-bit integers.
   */
  setState(state: GeneratorState): void {
    const isWord = (x: unknown) => Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;
    if (!Array.isArray(state) || state.length !== 4 || !state.every(isWord)) {
      throw new TypeError(
        `SeededGenerator.setState: argument state should be four unsigned 32-bit integers from state(), got ${describeValue(state)}.`,
      );
    }
    [this.#a, this.#b, this.#c, this.#d] = state.map((x) => x | 0);
  }
}

/**
 * Creates a {@link SeededGenerator}.
 *
 * @param seed A safe integer.
 * @param stream Selects an independent stream for the same seed (default 0).
 * @returns The generator.
 * @example
 * const order = createGenerator(seed, pass).permutation(dataset.length);
 */
export function createGenerator(seed: number, stream = 0): SeededGenerator {
  return new SeededGenerator(seed, stream);
}
