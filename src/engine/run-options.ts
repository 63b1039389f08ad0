// The checks of Engine.run's options and Engine.loadStateDict's state dict, apart from the loop: each reads its
// input, throws on anything wrong, and returns plain values that the engine then applies.
import {
  checkInteger,
  checkOptions,
  checkStateDict,
  describeValue,
  failRange,
  failType,
  isIterable,
} from '../internal';

/** run()'s options, checked: at most one of `maxEpochs` / `maxIters`, each a positive integer or null. */
export interface RunLimits {
  maxEpochs: number | null;
  maxIters: number | null;
  epochLength: number | null;
}

/** Checks run()'s arguments on their own (how they fit the state is #planRun's business). */
export function readRunOptions(data: unknown, options: unknown): RunLimits {
  const where = 'Engine.run';
  const given = checkOptions(where, options, ['maxEpochs', 'maxIters', 'epochLength']);
  if (data != null && !isIterable(data)) failType(where, 'argument data', 'iterable or async iterable', data);
  const { maxEpochs = null, maxIters = null, epochLength = null } = given;
  const length = checkInteger(where, 'argument epochLength', epochLength, {
    min: 1,
    nullable: true,
    expected: 'a positive integer (the iterations of an epoch)',
  });
  if (maxEpochs !== null && maxIters !== null) {
    throw new Error(
      'Engine.run: arguments maxIters and maxEpochs are mutually exclusive. Please provide only maxEpochs or maxIters.',
    );
  }
  return {
    maxEpochs: checkInteger(where, 'argument maxEpochs', maxEpochs, { min: 1, nullable: true }),
    maxIters: checkInteger(where, 'argument maxIters', maxIters, { min: 1, nullable: true }),
    epochLength: length,
  };
}

/** Throws unless a limit (`maxEpochs`, `maxIters`) is at least the progress already made. */
export function checkLimit(
  name: string,
  value: number,
  progressName: string,
  progress: number,
  where = 'Engine.run',
): void {
  if (value < progress) {
    throw new Error(
      `${where}: argument ${name} should be greater than or equal to the start ${progressName} defined in the state: ` +
        `${value} vs ${progress}. Please, set engine.state.${name} = null before calling engine.run() in order to restart the training from the beginning.`,
    );
  }
}

/** Where a loaded run stands, read from a checked state dict. */
export interface LoadedProgress {
  iteration: number;
  epoch: number;
  epochLength: number | null;
  maxEpochs: number | null;
  maxIters: number | null;
}

/** The entries an engine state dict may hold besides the user keys. */
const ENGINE_KEYS = ['iteration', 'epoch', 'epochLength', 'maxEpochs', 'maxIters'] as const;

/**
 * Checks an engine state dict before anything is loaded: a plain object with no unknown entries, exactly one of
 * `iteration` / `epoch`, `epochLength`, exactly one of `maxEpochs` / `maxIters`, every user key, each value a safe
 * non-negative integer of its range, and progress a run could have made: at most `maxEpochs × epochLength` or
 * `maxIters` iterations, none without a limit.
 */
export function readEngineStateDict(stateDict: unknown, userKeys: readonly string[]): LoadedProgress {
  const where = 'Engine.loadStateDict';
  const sd = checkStateDict(where, stateDict, [], [...ENGINE_KEYS, ...userKeys]);
  const has = (key: string) => key in sd && sd[key] !== undefined;
  if (has('iteration') && has('epoch')) {
    throw new Error(
      `${where}: state dictionary should contain only one of 'iteration' or 'epoch' keys. Found both: iteration=${describeValue(sd.iteration)}, epoch=${describeValue(sd.epoch)}.`,
    );
  }
  if (!has('iteration') && !has('epoch')) {
    throw new Error(`${where}: required state attribute 'iteration' (or 'epoch') is absent in the provided stateDict.`);
  }
  if (!('epochLength' in sd)) {
    throw new Error(`${where}: required state attribute 'epochLength' is absent in the provided stateDict.`);
  }
  const epochLength = checkInteger(where, "state dict entry 'epochLength'", sd.epochLength, {
    min: 0,
    nullable: true,
    expected: 'a positive integer or null',
  });
  const progressKey = has('iteration') ? 'iteration' : 'epoch';
  const progress = checkInteger(where, `state dict entry '${progressKey}'`, sd[progressKey], { min: 0 });
  if (progress !== 0 && !(epochLength !== null && epochLength > 0)) {
    throw new Error(
      `${where}: epochLength must be a positive integer to place iteration/epoch progress, got ${describeValue(epochLength)}.`,
    );
  }
  const hasMaxEpochs = 'maxEpochs' in sd;
  if (hasMaxEpochs === 'maxIters' in sd) {
    throw new Error(
      `${where}: state dictionary should contain ${hasMaxEpochs ? 'only' : 'at least'} one of 'maxEpochs' or 'maxIters'.`,
    );
  }
  for (const key of userKeys) {
    if (!(key in sd)) {
      throw new Error(
        `${where}: required user state attribute '${key}' is absent in the provided stateDict (keys: ${Object.keys(sd).join(', ')}).`,
      );
    }
  }
  const iteration = progressKey === 'iteration' ? progress : progress * (epochLength ?? 0);
  if (!Number.isSafeInteger(iteration)) {
    failRange(
      where,
      "state dict entries 'epoch' × 'epochLength'",
      'at most 2^53 - 1 iterations',
      `${progress} × ${epochLength} = ${iteration}`,
      'Save progress as the iteration, as stateDict() does.',
    );
  }
  const epoch = epochLength !== null && epochLength > 0 ? Math.floor(iteration / epochLength) : 0;
  const limitKey = hasMaxEpochs ? 'maxEpochs' : 'maxIters';
  const limit = checkInteger(where, `state dict entry '${limitKey}'`, sd[limitKey], { min: 1, nullable: true });
  if (limit === null && iteration > 0) {
    failType(
      where,
      `state dict entry '${limitKey}'`,
      `a positive integer when progress was made (${progressKey} ${progress})`,
      null,
      'A run always has a limit: save the state with stateDict() during or after run(), or give the limit the run had.',
    );
  }
  if (limit !== null) {
    if (hasMaxEpochs) checkLimit('maxEpochs', limit, 'epoch', epoch, where);
    else checkLimit('maxIters', limit, 'iteration', iteration, where);
    if (hasMaxEpochs && epochLength !== null && iteration > limit * epochLength) {
      failRange(
        where,
        `state dict entry '${progressKey}'`,
        `at most maxEpochs × epochLength = ${limit} × ${epochLength} = ${limit * epochLength} iterations, where such a run stops`,
        progress,
        'This state dict was not saved by stateDict() of this run, or was edited: load the one the run saved.',
      );
    }
  }
  return {
    iteration,
    epoch,
    epochLength,
    maxEpochs: hasMaxEpochs ? limit : null,
    maxIters: hasMaxEpochs ? null : limit,
  };
}
