// DeterministicEngine: an Engine whose data order and randomness are a function of the iteration, so that a resumed
// run continues bit for bit. A little over 400 lines: fast-forwarding each kind of data (DataLoader, sync and async
// iterables, sized or not) and the state dict's own checks, kept here beside the loadStateDict they guard.
import { Engine, Events, type ProcessFunction, type RunData, type RunOptions, type State } from '../engine';
import { describeValue, failRange, failType, isThenable, lengthOf, planLoad } from '../internal';
import { DataLoader } from './data-loader';
import { getRandomState, isRandomState, manualSeed, type RandomState, setRandomState } from './random';

type DataIterator<B> = Iterator<B> | AsyncIterator<B>;

/** A data iterator made by DeterministicEngine: it records when the data ran out. */
interface Tracked<B> {
  iterator: DataIterator<B>;
  isExhausted: boolean;
}

/** Batches per pass over `data`, or null when the data has no positive integer length. */
function passLengthOf(data: unknown): number | null {
  const length = lengthOf(data);
  return length !== null && Number.isInteger(length) && length > 0 ? length : null;
}

/**
 * An {@link Engine} whose data flow and randomness are a pure function of the iteration: a run resumed from a
 * `stateDict()` (with the model and optimizer weights) continues bit-identically, on the same backend, to the run that
 * saved it. Ignite's `DeterministicEngine`, made stricter.
 *
 * How:
 * - At STARTED of a new run, `state.seed` is drawn from `Math.random` (call `manualSeed` first for identical runs),
 *   unless a loaded state dict gave it.
 * - Each pass over the data starts by reseeding every generator kindling controls with
 *   `seed + floor(iteration / passLength)` (passLength: batches per pass). For data without a length, passes are
 *   told apart by where they start: `seed + iteration`.
 * - The batch at iteration i is always the same: a new iterator (resume, exception, `terminateEpoch`, `setData`)
 *   starts at batch `i % passLength` of pass `floor(i / passLength)`. A shuffled {@link DataLoader} gets there by index
 *   arithmetic (`loader.iterate({ seed, pass, startBatch })`: nothing is loaded for the skipped batches; the pass's
 *   order comes from `state.seed` and the pass index). Other iterables are replayed from the pass start and the
 *   skipped items discarded (the RNG state is put back afterwards, so the replay disturbs nothing).
 * - `stateDict()` adds `seed` and `rngStates` (a {@link getRandomState} snapshot). Loaded and resumed, the snapshot is
 *   restored after the fast-forward, so dropout and augmentation draw what the original run drew.
 * - A state saved after the last iteration of an epoch but before its EPOCH_COMPLETED (a checkpoint at
 *   ITERATION_COMPLETED) also has `epochCompleted: false`: the resumed run then fires that epoch's EPOCH_COMPLETED
 *   (evaluation, epoch metrics, early stopping) before it goes on with the next epoch, as the original run did.
 *
 * What it cannot see: randomness drawn between the `stateDict()` call and the next batch in the original run
 * (e.g. an EPOCH_COMPLETED evaluation with dropout): wrap such handlers in `keepRandomState`. Also see the list of
 * covered generators in `random.ts` (`crypto.getRandomValues` is not).
 *
 * @example
 * manualSeed(12);
 * const trainer = new DeterministicEngine(step);
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), async (e) => save(e.stateDict(), model.getWeights()));
 * await trainer.run(new DataLoader(ds, { batchSize: 32, shuffle: true }), { maxEpochs: 10 });
 * // later, in a new page:
 * trainer2.loadStateDict(saved.engine); model2.setWeights(saved.weights); await trainer2.run(loader2);
 */
export class DeterministicEngine<B = unknown, O = unknown> extends Engine<B, O> {
  /** RNG snapshot from a loaded state dict, restored when the next iterator is positioned. */
  #loadedRngStates: RandomState | null = null;
  /** True when `state.seed` came from a loaded state dict and STARTED must keep it. */
  #hasLoadedSeed = false;
  /** True while `_setupEngine` opens the iterator for an epoch (run start or resume). */
  #isEpochSetup = false;
  #tracked: Tracked<B> | null = null;
  /** An async iterable fast-forwarded at STARTED, waiting for `_setupDataIterator`. */
  #prepared: { data: unknown; iteration: number; iterator: AsyncIterator<B> } | null = null;
  /** True from EPOCH_STARTED until EPOCH_COMPLETED fires (or the run ends without it). */
  #isEpochOpen = false;

  /**
   * @param processFunction `(engine, batch) => output`, as for {@link Engine}.
   */
  constructor(processFunction: ProcessFunction<B, O>) {
    super(processFunction);
    this.addEventHandler(Events.STARTED, () => this.#onStarted());
    const close = () => {
      this.#isEpochOpen = false;
    };
    this.addEventHandler(Events.EPOCH_STARTED, () => {
      this.#isEpochOpen = true;
    });
    this.addEventHandler(Events.EPOCH_COMPLETED, close);
    this.addEventHandler(Events.TERMINATE, close);
    this.addEventHandler(Events.COMPLETED, close);
  }

  /**
   * The engine's state dict plus `seed` and `rngStates` (plain data), and `epochCompleted: false` when saved after the
   * last iteration of an epoch whose EPOCH_COMPLETED has not fired yet.
   */
  override stateDict(): Record<string, unknown> {
    const dict: Record<string, unknown> = { ...super.stateDict(), seed: this.state.seed, rngStates: getRandomState() };
    if (this.#isEpochEndNext()) dict.epochCompleted = false;
    return dict;
  }

  /** True when the iterations of the current epoch are all done and its EPOCH_COMPLETED is still to fire. */
  #isEpochEndNext(): boolean {
    const { iteration, epoch, epochLength } = this.state;
    return (
      this.#isEpochOpen &&
      epochLength !== null &&
      iteration > 0 &&
      iteration === epoch * epochLength &&
      this.shouldTerminate === false &&
      this.shouldTerminateSingleEpoch !== 'skip_epoch_completed'
    );
  }

  /**
   * Loads a state dict from {@link DeterministicEngine.stateDict}: the engine's keys plus `rngStates` (a
   * {@link getRandomState} snapshot, or null to leave the random state as it is) and, optionally, `seed` (a safe
   * integer or null). Without a seed, STARTED draws one from `Math.random`, as a new run does: call `manualSeed` with
   * the original run's seed first and the data order is the original's (the reference's own example).
   * @throws Error when `rngStates` is absent; TypeError when `seed` or `rngStates` is malformed.
   * @example
   * trainer.loadStateDict({ epoch: 1, epochLength: 5, maxEpochs: 2, rngStates: null }); // resume at epoch 2
   * manualSeed(56); // the seed of the original run
   * await trainer.run(loader);
   */
  override loadStateDict(stateDict: Record<string, unknown>): void {
    this.#checkOwnEntries(stateDict);
    super.loadStateDict(stateDict);
    const {
      seed = null,
      rngStates,
      epochCompleted = true,
    } = stateDict as {
      seed?: number | null;
      rngStates: RandomState | null;
      epochCompleted?: boolean;
    };
    this.#isEpochOpen = false;
    if (!epochCompleted) {
      // Saved between the epoch's last iteration and its EPOCH_COMPLETED: that epoch is not counted yet.
      this.state.epoch -= 1;
      this._isEpochEndPending = true;
    }
    this.state.seed = seed;
    this.#hasLoadedSeed = seed !== null;
    this.#loadedRngStates = rngStates === null ? null : structuredClone(rngStates);
  }

  /** Checks a state dict as {@link DeterministicEngine.loadStateDict} does; returns the function that loads it. */
  override [planLoad](stateDict: Record<string, unknown>): () => void {
    this.#checkOwnEntries(stateDict);
    super[planLoad](stateDict);
    return () => this.loadStateDict(stateDict);
  }

  /** Checks the entries a DeterministicEngine adds to the engine's state dict. */
  #checkOwnEntries(stateDict: Record<string, unknown>): void {
    const where = 'DeterministicEngine.loadStateDict';
    if (stateDict !== null && typeof stateDict === 'object') {
      if (!('rngStates' in stateDict)) {
        throw new Error(
          `${where}: required state attribute 'rngStates' is absent in the provided stateDict (keys: ${Object.keys(stateDict).join(', ')}). ` +
            'Save it with DeterministicEngine.stateDict(), or pass rngStates: null to resume without restoring the random state.',
        );
      }
      const { seed = null, rngStates } = stateDict;
      if (seed !== null && !Number.isSafeInteger(seed)) {
        failType(where, 'state dict entry seed', 'a safe integer or null', seed);
      }
      if (rngStates !== null && !isRandomState(rngStates)) {
        failType(where, 'state dict entry rngStates', 'a snapshot from getRandomState() or null', rngStates);
      }
      const { epochCompleted = true, iteration, epochLength } = stateDict;
      if (typeof epochCompleted !== 'boolean') {
        failType(
          where,
          'state dict entry epochCompleted',
          'a boolean (false: EPOCH_COMPLETED still to fire)',
          epochCompleted,
        );
      }
      if (
        !epochCompleted &&
        !(
          Number.isSafeInteger(iteration) &&
          Number.isSafeInteger(epochLength) &&
          (epochLength as number) > 0 &&
          (iteration as number) > 0 &&
          (iteration as number) % (epochLength as number) === 0
        )
      ) {
        failRange(
          where,
          'state dict entry epochCompleted',
          'true, or false only at the end of an epoch (iteration a positive multiple of epochLength)',
          epochCompleted,
          `Here iteration is ${describeValue(iteration)} and epochLength ${describeValue(epochLength)}.`,
        );
      }
    }
  }

  /**
   * Runs (or resumes) over `data`, as {@link Engine.run}. The data is required: the engine replays its order to
   * fast-forward a resumed run, so `run(null, { epochLength })` is rejected.
   *
   * @example
   * await trainer.run(new DataLoader(ds, { batchSize: 32, shuffle: true }), { maxEpochs: 10 });
   */
  override run(data?: RunData<B> | null, options?: RunOptions): Promise<State<B, O>> {
    if (data == null) {
      return Promise.reject(
        new TypeError(
          `DeterministicEngine.run: argument data ${data === null ? 'null' : 'undefined'} is not supported: the engine ` +
            'needs the data itself to replay its order and fast-forward a resumed run. Pass the data (e.g. a DataLoader; ' +
            'epochLength may be less than its length), also to continue an interrupted run, or use an Engine to run without data.',
        ),
      );
    }
    return super.run(data, options);
  }

  protected override _setupEngine(): void {
    this.#isEpochSetup = true;
    try {
      super._setupEngine();
    } finally {
      this.#isEpochSetup = false;
      this.#loadedRngStates = null;
    }
  }

  protected override _setupDataIterator(): void {
    const wasExhausted = this.#tracked?.isExhausted === true && this._dataIterator === this.#tracked.iterator;
    this._closeDataIterator();
    this.#tracked = null;
    const data = this.state.dataloader;
    const { iteration, isSized, isPassStart, pass, skip } = this.#position(wasExhausted);

    if (isPassStart && this.#isEpochSetup && iteration > 0 && isSized) {
      // The run that saved this state had an exhausted iterator here: replay that, so DATALOADER_STOP_ITERATION
      // fires and the reseed happens at the same point of the event sequence.
      if (this.#loadedRngStates !== null) setRandomState(this.#loadedRngStates);
      this.#install({ next: () => ({ done: true, value: undefined }) }, true);
      return;
    }
    const seed = this.#seed();
    if (isPassStart) {
      manualSeed(seed + (isSized ? pass : iteration));
      this.#install(this.#freshIterator(0, pass, seed), false);
      return;
    }
    // Mid-pass: position the iterator at the batch of this iteration, then put the RNG state back.
    const loaded = this.#loadedRngStates;
    if (data instanceof DataLoader) {
      this.#install(this.#freshIterator(skip, pass, seed), false);
      if (loaded !== null) setRandomState(loaded);
      return;
    }
    if (!isAsyncOnly(data)) {
      const before = getRandomState();
      manualSeed(seed + pass);
      this.#install(this.#skipSync(this.#freshIterator(0, pass, seed) as Iterator<B>, skip, isSized, seed), false);
      setRandomState(loaded ?? before);
      return;
    }
    const prepared = this.#prepared;
    this.#prepared = null;
    if (prepared !== null && prepared.iteration === iteration && prepared.data === data) {
      this.#install(prepared.iterator, false);
      if (loaded !== null) setRandomState(loaded);
      return;
    }
    // Only awaits can fast-forward an async iterable: do it when the first batch is requested.
    this.#install(this.#skipAsyncLazily(skip, isSized, pass, seed, loaded), false);
  }

  /** Where the data must be for the current iteration. */
  #position(wasExhausted: boolean) {
    const data = this.state.dataloader;
    const iteration = this.state.iteration;
    const passLength = passLengthOf(data);
    if (passLength !== null && passLength > 0) {
      const pass = Math.floor(iteration / passLength);
      const skip = iteration % passLength;
      return { iteration, isSized: true, isPassStart: skip === 0, pass, skip };
    }
    return { iteration, isSized: false, isPassStart: iteration === 0 || wasExhausted, pass: 0, skip: iteration };
  }

  /**
   * At STARTED: draws the seed of a new run. When an async iterable must be fast-forwarded (a resume), does it now,
   * before the first GET_BATCH_STARTED, so that handlers there draw what they drew in the original run.
   */
  #onStarted(): void | Promise<void> {
    if (this.#hasLoadedSeed) {
      this.#hasLoadedSeed = false;
    } else if (this.state.iteration === 0 || this.state.seed === null) {
      this.state.seed = Math.floor(Math.random() * 1e9);
    }
    const data = this.state.dataloader;
    if (this._dataIterator !== null || data instanceof DataLoader || !isAsyncOnly(data)) return;
    const position = this.#position(false);
    if (position.isPassStart) return;
    return this.#prefetch(position.skip, position.isSized, position.pass);
  }

  async #prefetch(skip: number, isSized: boolean, pass: number): Promise<void> {
    const data = this.state.dataloader;
    const iteration = this.state.iteration;
    const seed = this.#seed();
    const before = getRandomState();
    manualSeed(seed + pass);
    const iterator = await this.#skipAsync(this.#freshIterator(0, pass, seed) as AsyncIterator<B>, skip, isSized, seed);
    setRandomState(before);
    this.#prepared = { data, iteration, iterator };
  }

  #seed(): number {
    if (this.state.seed === null) this.state.seed = Math.floor(Math.random() * 1e9);
    return this.state.seed;
  }

  /** A new iterator over the data; a DataLoader starts at `startBatch` of `pass`, other data at its beginning. */
  #freshIterator(startBatch: number, pass: number, seed: number): DataIterator<B> {
    const data = this.state.dataloader;
    if (data instanceof DataLoader) {
      const view = (data as DataLoader<unknown, B>).iterate({ seed, pass, startBatch });
      return data.isAsync ? view[Symbol.asyncIterator]() : view[Symbol.iterator]();
    }
    super._setupDataIterator();
    const iterator = this._dataIterator!;
    this._dataIterator = null;
    return iterator;
  }

  /** Makes `iterator` the engine's data iterator, recording when it runs out. */
  #install(iterator: DataIterator<B>, isExhausted: boolean): void {
    const tracked: Tracked<B> = { iterator, isExhausted };
    const inner = iterator;
    tracked.iterator = {
      next: () => {
        const result = inner.next();
        if (isThenable(result)) {
          return Promise.resolve(result).then((r) => {
            if (r.done) tracked.isExhausted = true;
            return r;
          });
        }
        if (result.done) tracked.isExhausted = true;
        return result;
      },
      return: (value?: unknown) => inner.return?.(value) ?? { done: true, value },
    } as DataIterator<B>;
    this.#tracked = tracked;
    this._dataIterator = tracked.iterator;
  }

  /** Discards `skip` items. For data without a length, a pass that runs out is restarted as the engine would have. */
  #skipSync(iterator: Iterator<B>, skip: number, isSized: boolean, seed: number): Iterator<B> {
    for (let count = 0; count < skip; ) {
      if (!iterator.next().done) {
        count++;
        continue;
      }
      if (isSized || count === 0) this.#throwRanOut(count, skip);
      manualSeed(seed + count);
      iterator = this.#freshIterator(0, 0, seed) as Iterator<B>;
    }
    return iterator;
  }

  async #skipAsync(
    iterator: AsyncIterator<B>,
    skip: number,
    isSized: boolean,
    seed: number,
  ): Promise<AsyncIterator<B>> {
    for (let count = 0; count < skip; ) {
      if (!(await iterator.next()).done) {
        count++;
        continue;
      }
      if (isSized || count === 0) this.#throwRanOut(count, skip);
      manualSeed(seed + count);
      iterator = this.#freshIterator(0, 0, seed) as AsyncIterator<B>;
    }
    return iterator;
  }

  /** An iterator that fast-forwards on its first `next()`, leaving the RNG as it found it (or as loaded). */
  #skipAsyncLazily(skip: number, isSized: boolean, pass: number, seed: number, loaded: RandomState | null) {
    let ready: Promise<AsyncIterator<B>> | null = null;
    let started: AsyncIterator<B> | null = null;
    const prepare = async () => {
      const before = getRandomState();
      manualSeed(seed + pass);
      started = this.#freshIterator(0, pass, seed) as AsyncIterator<B>;
      const positioned = await this.#skipAsync(started, skip, isSized, seed);
      setRandomState(loaded ?? before);
      return positioned;
    };
    return {
      next: async () => {
        ready ??= prepare();
        return (await ready).next();
      },
      return: async (value?: unknown) => {
        const current = ready === null ? null : await ready.catch(() => started);
        return (await current?.return?.(value)) ?? { done: true, value };
      },
    } as AsyncIterator<B>;
  }

  #throwRanOut(count: number, skip: number): never {
    throw new Error(
      `DeterministicEngine: the data ran out after ${count} items while skipping ${skip} to resume at iteration ` +
        `${this.state.iteration}. Resume with the same data as the run that saved the state.`,
    );
  }
}

/** True when the engine iterates `data` asynchronously (it has no sync iterator). */
function isAsyncOnly(data: unknown): boolean {
  return (
    data != null &&
    typeof (data as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
    typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
  );
}
