import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkFunction, checkInteger, checkOptions, failRange, failType } from '../internal';
import { createGenerator, type SeededGenerator } from './random';
import { TensorDataset } from './tensor-dataset';

/** A data set read by index: `get(i)` may return the item or a promise of it. */
export interface IndexedSource<T> {
  readonly length: number;
  get(index: number): T | Promise<T>;
}

/** What a {@link DataLoader} can read: an array or other ArrayLike, an {@link IndexedSource}, or a {@link TensorDataset}. */
export type Dataset<T> = ArrayLike<T> | IndexedSource<T> | TensorDataset;

/** Options of {@link DataLoader}. Any other key is a TypeError. */
export interface DataLoaderOptions<T, B> {
  /** Items per batch, a positive integer (default 1). */
  batchSize?: number;
  /** Visit the items in a new random order on each pass (default false). */
  shuffle?: boolean;
  /** Drop the last batch of a pass when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /**
   * Builds a batch from its items. Default: the array of items; for a {@link TensorDataset} the array of gathered
   * tensors (`[x, y]`), which is also what `collate` receives there.
   */
  collate?: (items: T[]) => B;
}

/** Where {@link DataLoader.iterate} starts. Any other key is a TypeError. */
export interface IterateOptions {
  /** Base seed of the shuffled order (default: the loader's `seed`; when unset, one drawn from `Math.random` now). */
  seed?: number;
  /** Pass index: with `seed` it determines the pass's order (default 0). */
  pass?: number;
  /** First batch to produce; the batches before it are skipped without loading anything (default 0). */
  startBatch?: number;
}

/** One pass over a {@link DataLoader}'s data from a given batch: iterable (sync or async) any number of times. */
export interface DataLoaderPass<B> extends Iterable<B>, AsyncIterable<B> {
  /** Base seed of the order, or null when the loader does not shuffle. */
  readonly seed: number | null;
  /** Pass index. */
  readonly pass: number;
  /** First batch produced. */
  readonly startBatch: number;
  /** Number of batches this pass produces (`loader.length - startBatch`). */
  readonly length: number;
}

interface BuiltBatch<B> {
  batch: B;
  /** Tensors the loader created for this batch; disposed when the next batch is requested or iteration ends. */
  owned: tf.Tensor[];
}

type Kind = 'array' | 'indexed' | 'tensors';

/**
 * The shuffled order of one pass, produced front to back only as far as batches are read (Fisher-Yates steps run
 * lazily): starting at batch k costs k * batchSize cheap steps and loads nothing.
 */
class PassOrder {
  readonly seed: number;
  readonly pass: number;
  readonly array: Int32Array;
  readonly #generator: SeededGenerator;
  #done = 0;

  constructor(seed: number, pass: number, n: number) {
    this.seed = seed;
    this.pass = pass;
    this.array = new Int32Array(n);
    for (let i = 0; i < n; i++) this.array[i] = i;
    this.#generator = createGenerator(seed, pass);
  }

  /** Makes entries [0, end) final; returns the whole array. */
  upTo(end: number): Int32Array {
    if (end > this.#done) {
      this.#generator.shuffleSteps(this.array, this.#done, end);
      this.#done = end;
    }
    return this.array;
  }
}

function isAsyncFunction(fn: unknown): boolean {
  return Object.prototype.toString.call(fn) === '[object AsyncFunction]';
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

/** Collects the tensors inside arrays and plain objects. */
function collectTensors(value: unknown, into: Set<tf.Tensor>): Set<tf.Tensor> {
  if (value instanceof tf.Tensor) {
    into.add(value);
  } else if (Array.isArray(value)) {
    for (const v of value) collectTensors(v, into);
  } else if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      for (const v of Object.values(value)) collectTensors(v, into);
    }
  }
  return into;
}

function checkIndex(where: string, name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  const expected = `an integer in [0, ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}]`;
  if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > max) {
    failRange(where, `argument ${name}`, expected, value);
  }
  return value as number;
}

/**
 * Groups a data set into batches, optionally in a new random order on every pass, like PyTorch's `DataLoader`.
 *
 * - `length` is the number of batches per pass; give the loader to `engine.run(loader)` as it is.
 * - Iterate it with `for...of` (sync sources) or `for await...of` (any source; needed when `dataset.get` is async).
 *   Each new iteration is a new pass.
 * - Shuffling: each pass's order is a function of (seed, pass index), so {@link DataLoader.iterate} can start at
 *   batch k of pass p without loading the k skipped batches. This is how `DeterministicEngine` resumes: it passes its
 *   own seed and the pass index. Iterated directly (`for...of`, or a plain `Engine`), a loader without a `seed` draws
 *   each pass's seed from `Math.random` when the iteration starts, as PyTorch's sampler draws from the global
 *   generator: `manualSeed(5)` before iterating repeats the order, and consecutive passes differ. A loader given a
 *   `seed` uses it with its pass counter instead. The order is a Fisher-Yates shuffle run lazily, front to back, only
 *   as far as batches are read (no stall at the start of a pass over 10M items).
 * - A TensorDataset batch is `[x, y, ...]`: one `tf.gather` per tensor (a `tf.slice` when not shuffling).
 * - Tensors the loader creates for a batch (the gathered tensors of a {@link TensorDataset}, and tensors a `collate`
 *   function creates) belong to the loader for one step: they are disposed when the next batch is requested and when
 *   the iteration ends or is stopped (`break`, `return()`). Clone what you want to keep (`x.clone()`). Items the data
 *   set returns are never disposed by the loader.
 *
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true });
 * for (const [xb, yb] of loader) optimizer.minimize(() => loss(model.predict(xb), yb));
 *
 * const files = new DataLoader({ length: 1000, get: async (i) => (await fetch(`/img/${i}`)).json() }, { batchSize: 8 });
 * for await (const batch of files) { ... }
 */
export class DataLoader<T = tf.Tensor, B = T[]> implements Iterable<B>, AsyncIterable<B> {
  /** The data set. */
  readonly dataset: Dataset<T>;
  /** Items per batch. */
  readonly batchSize: number;
  /** Whether each pass has a new random order. */
  readonly shuffle: boolean;
  /** Whether a smaller last batch is dropped. */
  readonly dropLast: boolean;
  /** True when `dataset.get` is an async function: iterate with `for await`. */
  readonly isAsync: boolean;

  readonly #kind: Kind;
  readonly #collate: ((items: T[]) => B) | null;
  #seed: number | null = null;
  #pass = 0;
  #cachedOrder: PassOrder | null = null;

  /**
   * @param dataset An array / ArrayLike, an object `{ length, get(i) }` (get may be async), or a {@link TensorDataset}.
   * @param options See {@link DataLoaderOptions}.
   * @throws TypeError for a data set without a length, an unknown option or an option of the wrong type; RangeError
   *   for a bad batchSize.
   */
  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    const where = 'DataLoader';
    const given = checkOptions(where, options, ['batchSize', 'shuffle', 'dropLast', 'collate']);
    if (dataset === null || (typeof dataset !== 'object' && typeof dataset !== 'function')) {
      failType(where, 'argument dataset', 'an array, an ArrayLike, { length, get(i) } or a TensorDataset', dataset);
    }
    const length = (dataset as { length?: unknown }).length;
    if (!Number.isSafeInteger(length) || (length as number) < 0) {
      throw new TypeError(
        `DataLoader: argument dataset should have a non-negative integer length, got length ${String(length)}. ` +
          'Wrap an unsized source as { length, get(i) }, or pass an iterable to engine.run() directly.',
      );
    }
    const batchSize = checkInteger(where, 'option batchSize', given.batchSize ?? 1, { min: 1 });
    const shuffle = checkBoolean(where, 'option shuffle', given.shuffle ?? false);
    const dropLast = checkBoolean(where, 'option dropLast', given.dropLast ?? false);
    const collate =
      given.collate === undefined
        ? undefined
        : checkFunction<(items: T[]) => B>(where, 'option collate', given.collate, '(items) => batch');
    if (dataset instanceof TensorDataset) {
      this.#kind = 'tensors';
    } else if (typeof (dataset as Partial<IndexedSource<T>>).get === 'function') {
      this.#kind = 'indexed';
    } else {
      this.#kind = 'array';
    }
    this.dataset = dataset;
    this.batchSize = batchSize as number;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.isAsync = this.#kind === 'indexed' && isAsyncFunction((dataset as IndexedSource<T>).get);
    this.#collate = collate ?? null;
    if (this.isAsync) {
      // Not sync-iterable: consumers that test for Symbol.iterator (such as Engine.run) then use Symbol.asyncIterator.
      Object.defineProperty(this, Symbol.iterator, { value: undefined, configurable: true });
    }
  }

  /** The number of batches per pass. */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * Base seed of the shuffled orders, or null (the default): then each pass iterated directly draws its own seed from
   * `Math.random` when it starts. Set, pass p's order is a function of (seed, p). Setting it also restarts the pass
   * counter at 0.
   */
  get seed(): number | null {
    return this.#seed;
  }

  set seed(value: number | null) {
    if (value !== null && !Number.isSafeInteger(value))
      failRange('DataLoader', 'seed', 'a safe integer or null', value);
    this.#seed = value;
    this.#pass = 0;
  }

  /**
   * Index of the pass the next `for...of` starts (incremented each time an iteration starts); with a `seed` set, it
   * selects the pass's order.
   */
  get pass(): number {
    return this.#pass;
  }

  set pass(value: number) {
    this.#pass = checkIndex('DataLoader', 'pass', value);
  }

  /**
   * Describes one pass starting at a given batch; iterate the result with `for...of` or `for await...of`.
   * Batches before `startBatch` are skipped by index arithmetic: nothing is loaded for them.
   *
   * @param options `seed`, `pass`, `startBatch`; see {@link IterateOptions}.
   * @returns The pass (it does not change the loader's own pass counter).
   * @example
   * // resume at iteration 1234 of a run with 100 batches per pass
   * for (const batch of loader.iterate({ seed, pass: 12, startBatch: 34 })) { ... }
   */
  iterate(options: IterateOptions = {}): DataLoaderPass<B> {
    checkOptions('DataLoader.iterate', options, ['seed', 'pass', 'startBatch']);
    const pass = checkIndex('DataLoader.iterate', 'pass', options.pass ?? 0);
    const startBatch = checkIndex('DataLoader.iterate', 'startBatch', options.startBatch ?? 0, this.length);
    let seed: number | null = null;
    if (this.shuffle) {
      if (options.seed !== undefined && !Number.isSafeInteger(options.seed)) {
        failRange('DataLoader.iterate', 'option seed', 'a safe integer', options.seed);
      }
      seed = options.seed ?? this.#baseSeed();
    }
    const batchCount = this.length;
    return {
      seed,
      pass,
      startBatch,
      length: batchCount - startBatch,
      [Symbol.iterator]: () => this.#batches(seed, pass, startBatch),
      [Symbol.asyncIterator]: () => this.#batchesAsync(seed, pass, startBatch),
    };
  }

  /**
   * Starts the next pass (synchronous); a shuffled loader without a `seed` draws the pass's seed from `Math.random`
   * now. A loader whose `dataset.get` is an async function has no sync iterator (`loader[Symbol.iterator]` is
   * undefined): iterate it with `for await`.
   */
  [Symbol.iterator](): Iterator<B> {
    return this.#nextPass()[Symbol.iterator]();
  }

  /** Starts the next pass (asynchronous; works for every data set), drawing its seed as `[Symbol.iterator]` does. */
  [Symbol.asyncIterator](): AsyncIterator<B> {
    return this.#nextPass()[Symbol.asyncIterator]();
  }

  /** The pass a direct iteration starts: (seed, pass counter) with a seed set, else a seed drawn now and pass 0. */
  #nextPass(): DataLoaderPass<B> {
    const pass = this.#pass++;
    return this.#seed === null ? this.iterate() : this.iterate({ pass });
  }

  /** The loader's seed, or (unset) one drawn from `Math.random`: torch's sampler draws a seed per pass likewise. */
  #baseSeed(): number {
    return this.#seed ?? Math.floor(Math.random() * 4294967296);
  }

  /** The order of a pass when shuffling (the last one is cached and shared), else null (identity). */
  #order(seed: number | null, pass: number): PassOrder | null {
    if (seed === null) return null;
    const cached = this.#cachedOrder;
    if (cached?.seed === seed && cached.pass === pass && cached.array.length === this.dataset.length) return cached;
    this.#cachedOrder = new PassOrder(seed, pass, this.dataset.length);
    return this.#cachedOrder;
  }

  *#batches(seed: number | null, pass: number, startBatch: number): Generator<B, void, undefined> {
    const order = this.#order(seed, pass);
    const end = this.length;
    let owned: tf.Tensor[] = [];
    try {
      for (let k = startBatch; k < end; k++) {
        const built = this.#build(order, k, false) as BuiltBatch<B>;
        owned = built.owned;
        yield built.batch;
        tf.dispose(owned);
        owned = [];
      }
    } finally {
      tf.dispose(owned);
    }
  }

  async *#batchesAsync(seed: number | null, pass: number, startBatch: number): AsyncGenerator<B, void, undefined> {
    const order = this.#order(seed, pass);
    const end = this.length;
    let owned: tf.Tensor[] = [];
    try {
      for (let k = startBatch; k < end; k++) {
        const built = await this.#build(order, k, true);
        owned = built.owned;
        yield built.batch;
        tf.dispose(owned);
        owned = [];
      }
    } finally {
      tf.dispose(owned);
    }
  }

  /** Loads and collates batch k. Returns a promise only when `allowAsync` and an item was a promise. */
  #build(passOrder: PassOrder | null, k: number, allowAsync: boolean): BuiltBatch<B> | Promise<BuiltBatch<B>> {
    const n = this.dataset.length;
    const start = k * this.batchSize;
    const end = Math.min(n, start + this.batchSize);
    const order = passOrder === null ? null : passOrder.upTo(end);
    if (this.#kind === 'tensors') {
      const ds = this.dataset as TensorDataset;
      const tensors = order === null ? ds.slice(start, end - start) : ds.gather(order.subarray(start, end));
      return this.#collateOwned(tensors as T[], tensors);
    }
    const items: unknown[] = new Array(end - start);
    let hasPromise = false;
    if (this.#kind === 'indexed') {
      const source = this.dataset as IndexedSource<T>;
      for (let m = 0; m < items.length; m++) {
        const item = source.get(order === null ? start + m : order[start + m]);
        if (isPromiseLike(item)) hasPromise = true;
        items[m] = item;
      }
    } else {
      const source = this.dataset as ArrayLike<T>;
      for (let m = 0; m < items.length; m++) items[m] = source[order === null ? start + m : order[start + m]];
    }
    if (hasPromise) {
      if (!allowAsync) {
        throw new TypeError(
          'DataLoader: dataset.get returned a promise during a synchronous iteration. Declare get as an async function ' +
            '(the loader is then async-iterable only, which Engine.run handles) or iterate with for await...of.',
        );
      }
      return Promise.all(items).then((resolved) => this.#collateOwned(resolved as T[], []));
    }
    return this.#collateOwned(items as T[], []);
  }

  /** Applies collate; the loader owns `created` plus every tensor in the batch that is not one of the items. */
  #collateOwned(items: T[], created: tf.Tensor[]): BuiltBatch<B> {
    if (this.#collate === null) return { batch: items as unknown as B, owned: created };
    let batch: B;
    try {
      batch = this.#collate(items);
    } catch (error) {
      tf.dispose(created);
      throw error;
    }
    const fromItems = created.length > 0 ? new Set<tf.Tensor>() : collectTensors(items, new Set());
    const owned = new Set(created);
    for (const t of collectTensors(batch, new Set())) {
      if (!fromItems.has(t)) owned.add(t);
    }
    return { batch, owned: [...owned] };
  }
}
