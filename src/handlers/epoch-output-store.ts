import * as tf from '@tensorflow/tfjs';
import { type Engine, Events, type RemovableEventHandle, type Stateful } from '../engine';
import {
  checkEngine,
  checkFunction,
  checkKeyName,
  checkOptions,
  checkStateDict,
  describeValue,
  isPlainObject,
} from '../internal';

/** Options of {@link EpochOutputStore}. */
export interface EpochOutputStoreOptions {
  /** Picks what to keep from `engine.state.output`, e.g. `(output) => output.yPred` (default: all of it). */
  outputTransform?: (output: any) => unknown;
}

/** A tensor in {@link EpochOutputStore.stateDict}: its shape, dtype and values. */
export interface StoredTensor {
  kind: 'tfjs-tensor';
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: Float32Array | Int32Array | Uint8Array;
}

/** What {@link EpochOutputStore.stateDict} returns: the outputs kept so far, tensors as {@link StoredTensor}s. */
export interface EpochOutputStoreStateDict {
  data: unknown[];
}

const DTYPES = { float32: Float32Array, int32: Int32Array, bool: Uint8Array } as const;

/**
 * Keeps every output of an epoch: PyTorch Ignite's `EpochOutputStore`. At `EPOCH_STARTED` it empties (disposing the
 * tensors it kept), at each `ITERATION_COMPLETED` it keeps `outputTransform(engine.state.output)`, and with a `name`
 * it puts its `data` on `engine.state[name]` at `EPOCH_COMPLETED`. Useful to plot an evaluator's predictions.
 *
 * Tensors in the output are kept as `tf.clone`s (new handles on the same device data, no copy), so they outlive the
 * trainer's disposal of `state.output`; arrays and plain objects are copied. The store owns what it keeps: it
 * disposes it at the next epoch, on {@link reset} and on {@link dispose}. Keeping every output of an epoch can take a lot
 * of device memory: keep only what you need with `outputTransform`.
 *
 * @example
 * const store = new EpochOutputStore({ outputTransform: ([yPred, y]) => ({ yPred, y }) });
 * store.attach(evaluator, 'outputs');
 * await evaluator.run(valLoader);
 * const first = evaluator.state.outputs[0]; // { yPred, y } of the first batch
 */
export class EpochOutputStore implements Stateful {
  readonly #outputTransform: (output: any) => unknown;
  #data: unknown[] = [];
  #name: string | null = null;

  /** @param options - `{ outputTransform? }`, see {@link EpochOutputStoreOptions}. */
  constructor(options: EpochOutputStoreOptions = {}) {
    const { outputTransform = (output: unknown) => output } = checkOptions('EpochOutputStore', options, [
      'outputTransform',
    ]);
    this.#outputTransform = checkFunction(
      'EpochOutputStore',
      'option outputTransform',
      outputTransform,
      '(output) => value',
    );
  }

  /** The outputs kept in the current (or last) epoch, in order. The store owns their tensors. */
  get data(): readonly unknown[] {
    return this.#data;
  }

  /**
   * Empties the store at `EPOCH_STARTED`, keeps outputs at `ITERATION_COMPLETED`, and with `name` sets
   * `engine.state[name] = data` at `EPOCH_COMPLETED`.
   *
   * @returns a handle that removes the three handlers (the kept outputs stay until {@link reset}).
   */
  attach(engine: Engine<any, any>, name?: string): RemovableEventHandle {
    checkEngine('EpochOutputStore.attach', 'argument engine', engine);
    if (name !== undefined) this.#name = checkKeyName('EpochOutputStore.attach', 'argument name', name);
    const handles = [
      engine.addEventHandler(Events.EPOCH_STARTED, () => this.reset()),
      engine.addEventHandler(Events.ITERATION_COMPLETED, (e: Engine<any, any>) => this.update(e)),
    ];
    if (name !== undefined)
      handles.push(engine.addEventHandler(Events.EPOCH_COMPLETED, (e: Engine<any, any>) => this.store(e)));
    const remove = () => {
      for (const handle of handles) handle.remove();
    };
    return { remove, [Symbol.dispose]: remove };
  }

  /** Disposes the tensors kept and empties the store. */
  reset(): void {
    tf.dispose(collectTensors(this.#data));
    this.#data = [];
  }

  /** The same as {@link reset}: frees what the store holds. */
  dispose(): void {
    this.reset();
  }

  /** Keeps `outputTransform(engine.state.output)` (tensors as clones). */
  update(engine: Engine<any, any>): void {
    this.#data.push(keepCopy(this.#outputTransform(engine.state.output)));
  }

  /** Puts the kept outputs on `engine.state[name]` (the name given to {@link attach}). */
  store(engine: Engine<any, any>): void {
    if (this.#name === null) {
      throw new TypeError(
        'EpochOutputStore.store: no state attribute to store into; pass a name to attach(engine, name).',
      );
    }
    engine.state[this.#name] = this.#data;
  }

  /**
   * The kept outputs as plain data, tensors read with `await data()` into {@link StoredTensor}s: those kept at the
   * call. Outputs may hold numbers, strings, booleans, null, tensors, arrays and plain objects.
   */
  async stateDict(): Promise<EpochOutputStoreStateDict> {
    const encode = async (value: unknown, path: string): Promise<unknown> => {
      if (value instanceof tf.Tensor) {
        if (!Object.hasOwn(DTYPES, value.dtype)) {
          throw new TypeError(
            `EpochOutputStore.stateDict: ${path} is a ${value.dtype} tensor, which a state dict cannot hold (float32, int32 and bool can).`,
          );
        }
        const data = (await value.data()) as StoredTensor['data'];
        const dtype = value.dtype as StoredTensor['dtype'];
        return { kind: 'tfjs-tensor', shape: [...value.shape], dtype, data } satisfies StoredTensor;
      }
      if (Array.isArray(value)) return Promise.all(value.map((item, i) => encode(item, `${path}[${i}]`)));
      if (isPlainObject(value)) {
        const entries = await Promise.all(
          Object.entries(value).map(async ([key, item]) => [key, await encode(item, `${path}.${key}`)] as const),
        );
        return Object.fromEntries(entries);
      }
      if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) return value;
      throw new TypeError(
        `EpochOutputStore.stateDict: ${path} is ${describeValue(value)}, which a state dict cannot hold; keep numbers, strings, tensors, arrays or plain objects (use outputTransform).`,
      );
    };
    // Taken at the call (see Stateful): clones of the kept tensors, so a reset or new outputs do not change the result.
    const taken = keepCopy(this.#data) as unknown[];
    try {
      return { data: (await encode(taken, 'data')) as unknown[] };
    } finally {
      tf.dispose(collectTensors(taken));
    }
  }

  /** Replaces the kept outputs with those of a {@link stateDict}; checks everything before changing anything. */
  loadStateDict(stateDict: EpochOutputStoreStateDict): void {
    const where = 'EpochOutputStore.loadStateDict';
    const sd = checkStateDict(where, stateDict, ['data']);
    if (!Array.isArray(sd.data)) {
      throw new TypeError(`${where}: state dict entry 'data' should be an array, got ${describeValue(sd.data)}.`);
    }
    const check = (value: unknown, path: string): void => {
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`);
      } else if (isPlainObject(value) && value.kind === 'tfjs-tensor') checkStoredTensor(where, value, path);
      else if (isPlainObject(value)) for (const [key, item] of Object.entries(value)) check(item, `${path}.${key}`);
      else if (!(value === null || ['number', 'string', 'boolean'].includes(typeof value))) {
        throw new TypeError(`${where}: ${path} should be plain data, got ${describeValue(value)}.`);
      }
    };
    check(sd.data, 'data');
    const decode = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(decode);
      if (isPlainObject(value) && value.kind === 'tfjs-tensor') {
        const stored = value as unknown as StoredTensor;
        return tf.tensor(stored.data, stored.shape, stored.dtype);
      }
      if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
      return value;
    };
    this.reset();
    this.#data = decode(sd.data) as unknown[];
  }
}

function checkStoredTensor(where: string, value: Record<string, unknown>, path: string): void {
  const { shape, dtype, data } = value;
  const fail = (what: string) => {
    throw new TypeError(`${where}: ${path} is not a valid stored tensor: ${what}.`);
  };
  if (!Array.isArray(shape) || !shape.every((size) => Number.isSafeInteger(size) && size >= 0)) {
    fail(`its shape should be an array of non-negative integers, got ${describeValue(shape)}`);
  }
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPES, dtype)) {
    fail(`its dtype should be 'float32', 'int32' or 'bool', got ${describeValue(dtype)}`);
  }
  const Class = DTYPES[dtype as keyof typeof DTYPES];
  if (!(data instanceof Class)) fail(`its data should be a ${Class.name}, got ${describeValue(data)}`);
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  if ((data as ArrayLike<number>).length !== size) {
    fail(
      `it holds ${(data as ArrayLike<number>).length} values but its shape [${(shape as number[]).join(',')}] needs ${size}`,
    );
  }
  for (const key of Object.keys(value)) {
    if (!['kind', 'shape', 'dtype', 'data'].includes(key)) fail(`unknown key '${key}'`);
  }
}

/** A copy of `value` the store can own: tensors cloned, arrays and plain objects copied, the rest as it is. */
function keepCopy(value: unknown): unknown {
  if (value instanceof tf.Tensor) return tf.keep(tf.clone(value));
  if (Array.isArray(value)) return value.map(keepCopy);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, keepCopy(v)]));
  return value;
}

/** Every tensor inside arrays and plain objects. */
function collectTensors(value: unknown, into: tf.Tensor[] = []): tf.Tensor[] {
  if (value instanceof tf.Tensor) into.push(value);
  else if (Array.isArray(value)) for (const item of value) collectTensors(item, into);
  else if (isPlainObject(value)) for (const item of Object.values(value)) collectTensors(item, into);
  return into;
}
