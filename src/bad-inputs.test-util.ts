// A table of bad inputs thrown at the public API, shared by bad-inputs.test.ts (every case must give a clear error)
// and scripts/probe-bad-inputs.ts (which runs the table and counts the outcomes). Each case names the class or
// function its message must start with and the pieces of the bad input the message must show.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  Average,
  addEarlyStoppingByValScore,
  animationFrameScheduler,
  Bleu,
  ChartFeed,
  Checkpoint,
  ClassificationReport,
  CohenKappa,
  ConcatScheduler,
  ConfusionMatrix,
  CosineAnnealingScheduler,
  CSVLogger,
  createLrSchedulerWithWarmup,
  createSupervisedEvaluator,
  createSupervisedTbpttTrainer,
  createSupervisedTrainer,
  DataLoader,
  DeterministicEngine,
  defineEvents,
  EarlyStopping,
  EMAHandler,
  Engine,
  EpochMetric,
  EpochOutputStore,
  EventLoopYielder,
  Events,
  ExpStateScheduler,
  eventName,
  FastaiLRFinder,
  Fbeta,
  Frequency,
  formatProgressLine,
  formatProgressText,
  formatScore,
  getRandomState,
  keepRandomState,
  LambdaStateScheduler,
  LinearCyclicalScheduler,
  Loss,
  MeanAbsoluteError,
  MeanSquaredError,
  MemorySaver,
  MetricGroup,
  MetricsLambda,
  MultiLabelConfusionMatrix,
  MultiStepStateScheduler,
  manualSeed,
  OptimizerParamsHandler,
  OutputHandler,
  ParamGroupScheduler,
  PiecewiseLinear,
  PiecewiseLinearStateScheduler,
  Precision,
  ProgressBar,
  PSNR,
  Recall,
  ReduceLROnPlateauScheduler,
  RocCurve,
  RootMeanSquaredError,
  Rouge,
  RunningAverage,
  readLoss,
  resumeOrStart,
  ScalarHistory,
  SeededGenerator,
  SSIM,
  StepStateScheduler,
  saveBestModelByValScore,
  selectBackend,
  setRandomState,
  setupCommonTrainingHandlers,
  TensorboardLogger,
  TensorDataset,
  TerminateOnNan,
  TimeLimit,
  Timer,
  TopKCategoricalAccuracy,
  VariableAccumulation,
  WeightsScalarHandler,
} from './index';

/** What happened when a case ran. */
export type Outcome = 'clear' | 'unclear' | 'raw' | 'silent' | 'partial' | 'hang';

/** One bad input. */
export interface BadInput {
  /** The part of the API it targets, for the probe's summary. */
  group: string;
  /** What is tried, as code. */
  name: string;
  /** The class or function the message must start with, e.g. `'Engine.loadStateDict'`. */
  where: string;
  /** Pieces of text the message must contain: the bad value as the message shows it, the entry's name. */
  mentions: readonly string[];
  /** Does the bad thing; may return a promise. */
  act(): unknown;
  /** After the throw: throws when the target changed anyway (a load that is not all-or-nothing). */
  unchanged?(): void | Promise<void>;
  /**
   * When the input is accepted, what it does next hangs synchronously (no timeout can stop it in-process): the probe
   * script runs this case in a child process.
   */
  isolate?: boolean;
}

/** Messages of JavaScript's own errors: something was used as what it is not, before any check saw it. */
const RAW =
  /Cannot (read|destructure|convert|set|access|use)|is not a function|is not iterable|is not a constructor|is not defined|of undefined|of null|Invalid array length|Maximum call stack/;

/** Runs a case and says how it went; `timeoutMs` bounds a case that never settles. */
export async function runCase(c: BadInput, timeoutMs = 2000): Promise<{ outcome: Outcome; message: string }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<'hang'>((resolve) => {
    timer = setTimeout(() => resolve('hang'), timeoutMs);
  });
  let error: unknown = null;
  try {
    const result = await Promise.race([Promise.resolve().then(() => c.act()), hang]);
    if (result === 'hang') return { outcome: 'hang', message: `did not settle within ${timeoutMs} ms` };
    return { outcome: 'silent', message: 'no error' };
  } catch (caught) {
    error = caught;
  } finally {
    clearTimeout(timer);
  }
  const message = error instanceof Error ? error.message : String(error);
  if (c.unchanged !== undefined) {
    try {
      await c.unchanged();
    } catch (changed) {
      return { outcome: 'partial', message: `${message} [but: ${(changed as Error).message}]` };
    }
  }
  return { outcome: classify(c, message), message };
}

/** clear: starts with `where` and shows every mention; raw: one of JavaScript's own messages; else unclear. */
export function classify(c: BadInput, message: string): Outcome {
  const startsRight =
    message.startsWith(`${c.where}:`) || message.startsWith(`${c.where}.`) || message.startsWith(`${c.where}(`);
  if (startsRight && c.mentions.every((m) => message.includes(m))) return 'clear';
  if (!startsRight && RAW.test(message)) return 'raw';
  return 'unclear';
}

// ------------------------------------------------------------------------------------------------ fixtures

const noop = () => {};
const engineOf = () => new Engine((_e, batch: unknown) => batch);
const sgd = () => tf.train.sgd(0.1);
const same = (before: unknown, after: unknown, what: string) => {
  const a = JSON.stringify(before);
  const b = JSON.stringify(after);
  if (a !== b) throw new Error(`${what} changed from ${a} to ${b}`);
};

/** A disposed tensor of shape [4, 2]. */
const disposedTensor = () => {
  const t = tf.zeros([4, 2]);
  t.dispose();
  return t;
};

/**
 * A load case: makes a fresh target, takes its state dict, breaks a copy with `mutate`, loads it, and checks that the
 * target's state dict is the same afterwards.
 */
function loadCase<T extends { stateDict(): unknown; loadStateDict(sd: any): unknown }>(
  group: string,
  name: string,
  where: string,
  mentions: readonly string[],
  make: () => T,
  mutate: (sd: Record<string, any>) => unknown,
  options: { isolate?: boolean; prepare?: (target: T) => unknown } = {},
): BadInput {
  let target: T | null = null;
  let before: unknown = null;
  return {
    group,
    name,
    where,
    mentions,
    isolate: options.isolate,
    async act() {
      target = make();
      await options.prepare?.(target);
      before = structuredClone(await target.stateDict());
      const broken = structuredClone(before) as Record<string, any>;
      const replaced = mutate(broken);
      await target.loadStateDict(replaced === undefined ? broken : replaced);
    },
    async unchanged() {
      if (target === null) return;
      const after = await target.stateDict();
      const strip = (sd: unknown) => {
        // The RNG snapshot of a DeterministicEngine is the global generator's: it is not the engine's to keep.
        const { rngStates: _r, ...rest } = sd as Record<string, unknown>;
        return rest;
      };
      same(strip(before), strip(after), `${name.split('(')[0]}'s state dict`);
    },
  };
}

const permutationBroken = (fill: (S: number[]) => void) => {
  const state = structuredClone(getRandomState()) as { version: 1; mathRandom: { i: number; j: number; S: number[] } };
  fill(state.mathRandom.S);
  return state;
};

// ------------------------------------------------------------------------------------------------ the table

/** Every case, built fresh (cases hold state between `act` and `unchanged`). */
export function badInputs(): BadInput[] {
  const cases: BadInput[] = [];
  const add = (group: string, name: string, where: string, mentions: readonly string[], act: () => unknown) =>
    cases.push({ group, name, where, mentions, act });

  // ---------------------------------------------------------------- issue 10.5: the named raw errors
  add(
    'named',
    'new ConfusionMatrix()',
    'ConfusionMatrix',
    ['undefined', 'numClasses'],
    () => new (ConfusionMatrix as any)(),
  );
  add('named', "new Accuracy().attach({}, 'acc')", 'Accuracy.attach', ['{}', 'Engine'], () =>
    new Accuracy().attach({} as any, 'acc'),
  );
  add('named', "new Accuracy().attach(null, 'acc')", 'Accuracy.attach', ['null'], () =>
    new Accuracy().attach(null as any, 'acc'),
  );
  add('named', 'for (const b of asyncLoader)', 'DataLoader', ['for await'], () => {
    const loader = new DataLoader({ length: 4, get: async (i: number) => i }, { batchSize: 2 });
    for (const _b of loader as unknown as Iterable<unknown>) break;
  });
  add('named', '[...asyncLoader]', 'DataLoader', ['for await'], () => {
    const loader = new DataLoader({ length: 4, get: async (i: number) => i }, { batchSize: 2 });
    return [...(loader as unknown as Iterable<unknown>)];
  });
  add(
    'named',
    'new TensorDataset(disposed)',
    'TensorDataset',
    ['disposed float32 tensor of shape [4,2]'],
    () => new TensorDataset(disposedTensor()),
  );
  add('named', 'TensorDataset tensor disposed before a batch', 'TensorDataset.slice', ['disposed', 'dispose'], () => {
    const x = tf.zeros([4, 2]);
    const loader = new DataLoader(new TensorDataset(x), { batchSize: 2 });
    x.dispose();
    for (const _b of loader) break;
  });
  add('named', 'TensorDataset tensor disposed before a shuffled batch', 'TensorDataset.gather', ['disposed'], () => {
    const x = tf.zeros([4, 2]);
    const loader = new DataLoader(new TensorDataset(x), { batchSize: 2, shuffle: true });
    x.dispose();
    for (const _b of loader) break;
  });
  add('named', "metric.attach(engine, '__proto__')", 'Accuracy.attach', ["'__proto__'"], () =>
    new Accuracy().attach(engineOf(), '__proto__'),
  );
  add('named', "metric.attach(engine, 'constructor')", 'Accuracy.attach', ["'constructor'"], () =>
    new Accuracy().attach(engineOf(), 'constructor'),
  );
  add('named', "metric.attach(engine, '')", 'Accuracy.attach', ["''"], () => new Accuracy().attach(engineOf(), ''));
  add(
    'named',
    "MetricsLambda result with key '__proto__' spread into state.metrics",
    'MetricsLambda',
    ["'__proto__'"],
    async () => {
      const engine = engineOf();
      const lambda = new MetricsLambda(() => JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}'), new Average());
      lambda.attach(engine, 'lambda');
      await engine.run([tf.scalar(1)], { maxEpochs: 1 });
      if ((engine.state.metrics as { polluted?: unknown }).polluted === 1) throw new Error('state.metrics polluted');
    },
  );
  add(
    'named',
    'Events.ITERATION_COMPLETED({ before: 2, after: 5 })',
    'Events.ITERATION_COMPLETED(...)',
    ['before', 'after', 'never'],
    () => Events.ITERATION_COMPLETED({ before: 2, after: 5 }),
  );
  add(
    'named',
    'Events.ITERATION_COMPLETED({ before: 3, after: 2 })',
    'Events.ITERATION_COMPLETED(...)',
    ['never'],
    () => Events.ITERATION_COMPLETED({ before: 3, after: 2 }),
  );
  add('named', 'Events.EPOCH_COMPLETED({ before: 1 })', 'Events.EPOCH_COMPLETED(...)', ['never'], () =>
    Events.EPOCH_COMPLETED({ before: 1 }),
  );
  add('named', 'Events.EPOCH_COMPLETED({ before: 0 })', 'Events.EPOCH_COMPLETED(...)', ['never'], () =>
    Events.EPOCH_COMPLETED({ before: 0 }),
  );
  add('named', 'Events.ITERATION_COMPLETED({ once: [] })', 'Events.ITERATION_COMPLETED(...)', ['[]'], () =>
    Events.ITERATION_COMPLETED({ once: [] }),
  );
  add('named', 'Events.ITERATION_COMPLETED({ once: 0 })', 'Events.ITERATION_COMPLETED(...)', ['0'], () =>
    Events.ITERATION_COMPLETED({ once: 0 }),
  );
  add('named', 'Events.ITERATION_COMPLETED({ every: 0 })', 'Events.ITERATION_COMPLETED(...)', ['0'], () =>
    Events.ITERATION_COMPLETED({ every: 0 }),
  );
  add('named', 'Events.ITERATION_COMPLETED({ every: NaN })', 'Events.ITERATION_COMPLETED(...)', ['NaN'], () =>
    Events.ITERATION_COMPLETED({ every: Number.NaN }),
  );
  add('named', 'Events.ITERATION_COMPLETED({ after: -1 })', 'Events.ITERATION_COMPLETED(...)', ['-1'], () =>
    Events.ITERATION_COMPLETED({ after: -1 }),
  );
  add('named', 'Events.ITERATION_COMPLETED({ every: 2, once: 3 })', 'Events.ITERATION_COMPLETED(...)', ['once'], () =>
    Events.ITERATION_COMPLETED({ every: 2, once: 3 } as any),
  );
  add('named', 'Events.ITERATION_COMPLETED({ evry: 2 })', 'Events.ITERATION_COMPLETED(...)', ["'evry'"], () =>
    Events.ITERATION_COMPLETED({ evry: 2 } as any),
  );

  // ---------------------------------------------------------------- engine
  add('engine', 'new Engine(5)', 'Engine', ['5'], () => new Engine(5 as any));
  add('engine', 'engine.run(5)', 'Engine.run', ['5'], () => engineOf().run(5 as any));
  add('engine', 'engine.run([1], { maxEpochs: 0 })', 'Engine.run', ['0'], () => engineOf().run([1], { maxEpochs: 0 }));
  add('engine', 'engine.run([1], { maxEpochs: NaN })', 'Engine.run', ['NaN'], () =>
    engineOf().run([1], { maxEpochs: Number.NaN }),
  );
  add('engine', 'engine.run([1], { epochs: 2 })', 'Engine.run', ["'epochs'", 'maxEpochs'], () =>
    engineOf().run([1], { epochs: 2 } as any),
  );
  add('engine', 'engine.run([1], { epochLength: 1.5 })', 'Engine.run', ['1.5'], () =>
    engineOf().run([1], { epochLength: 1.5 }),
  );
  add('engine', 'engine.run([1], { maxEpochs: 2, maxIters: 2 })', 'Engine.run', ['maxIters', 'maxEpochs'], () =>
    engineOf().run([1], { maxEpochs: 2, maxIters: 2 }),
  );
  add('engine', 'engine.run([], { maxEpochs: 1 })', 'Engine.run', ['zero size'], () =>
    engineOf().run([], { maxEpochs: 1 }),
  );
  add('engine', 'engine.on(Events.COMPLETED, 5)', 'Engine.addEventHandler', ['5'], () =>
    engineOf().on(Events.COMPLETED, 5 as any),
  );
  add('engine', "engine.on('nope', handler)", 'Engine.addEventHandler', ["'nope'"], () => engineOf().on('nope', noop));
  add('engine', 'engine.on(5, handler)', 'Engine.addEventHandler', ['5'], () => engineOf().on(5 as any, noop));
  add('engine', 'engine.on([], handler)', 'Engine.addEventHandler', ['empty'], () => engineOf().on([], noop));
  add(
    'engine',
    'engine.removeEventHandler(unknown, Events.COMPLETED)',
    'Engine.removeEventHandler',
    ["'completed'"],
    () => engineOf().removeEventHandler(noop, Events.COMPLETED),
  );
  add('engine', 'engine.hasEventHandler(handler, 5)', 'Engine.hasEventHandler', ['5'], () =>
    engineOf().hasEventHandler(noop, 5 as any),
  );
  add('engine', "engine.fireEvent('nope')", 'Engine.fireEvent', ["'nope'"], () => engineOf().fireEvent('nope'));
  add('engine', 'engine.registerEvents(5)', 'Engine.registerEvents', ['5'], () => engineOf().registerEvents(5 as any));
  add('engine', 'engine.registerEvents([5])', 'Engine.registerEvents', ['5'], () =>
    engineOf().registerEvents([5 as any]),
  );
  add(
    'engine',
    "engine.registerEvents(['x'], { eventToAttr: { x: '__proto__' } })",
    'Engine.registerEvents',
    ["'__proto__'"],
    () => engineOf().registerEvents(['x'], { eventToAttr: { x: '__proto__' } }),
  );
  add('engine', 'engine.setData(5)', 'Engine.setData', ['5'], () => engineOf().setData(5 as any));
  add('engine', 'engine.getEventAttribValue(Events.TERMINATE)', 'Engine', ["'terminate'"], () =>
    engineOf().getEventAttribValue(Events.TERMINATE),
  );
  add('engine', 'engine.observeHandlerCalls(5)', 'Engine.observeHandlerCalls', ['5'], () =>
    engineOf().observeHandlerCalls(5 as any),
  );
  add('engine', 'defineEvents({ A: 5 })', 'defineEvents', ['5'], () => defineEvents({ A: 5 } as any));
  add('engine', 'defineEvents(null)', 'defineEvents', ['null'], () => defineEvents(null as any));
  add('engine', 'eventName(undefined)', 'eventName', ['undefined'], () => eventName(undefined as any));
  add('engine', 'eventName(5)', 'eventName', ['5'], () => eventName(5 as any));
  add('engine', 'Events.COMPLETED.or(5)', 'EventList.or', ['5'], () => Events.COMPLETED.or(5 as any));

  // ---------------------------------------------------------------- engine state dicts
  const loaded = () => {
    const engine = engineOf();
    engine.loadStateDict({ iteration: 4, epochLength: 2, maxEpochs: 3 });
    return engine;
  };
  const eng = (name: string, mentions: readonly string[], mutate: (sd: Record<string, any>) => unknown) =>
    cases.push(
      loadCase('engine state dict', `Engine.loadStateDict(${name})`, 'Engine.loadStateDict', mentions, loaded, mutate),
    );
  eng('iteration: NaN', ['iteration', 'NaN'], (sd) => {
    sd.iteration = Number.NaN;
  });
  eng('iteration: -1', ['iteration', '-1'], (sd) => {
    sd.iteration = -1;
  });
  eng('iteration: 2 ** 53', ['iteration', '9007199254740992'], (sd) => {
    sd.iteration = 2 ** 53;
  });
  eng("iteration: '4'", ['iteration', "'4'"], (sd) => {
    sd.iteration = '4';
  });
  eng('epochLength: Infinity', ['epochLength', 'Infinity'], (sd) => {
    sd.epochLength = Number.POSITIVE_INFINITY;
  });
  eng('epochLength: 0 with progress', ['epochLength', '0'], (sd) => {
    sd.epochLength = 0;
  });
  eng('maxEpochs: 1.5', ['maxEpochs', '1.5'], (sd) => {
    sd.maxEpochs = 1.5;
  });
  eng('iteration beyond maxEpochs × epochLength', ['iteration', '7', 'maxEpochs'], (sd) => {
    sd.iteration = 7;
  });
  eng('maxEpochs: null with progress', ['maxEpochs', 'null'], (sd) => {
    sd.maxEpochs = null;
  });
  eng('maxEpochs below the epoch', ['maxEpochs', '1'], (sd) => {
    sd.maxEpochs = 1;
  });
  eng('epoch × epochLength beyond 2^53', ['epoch', 'epochLength'], () => ({
    epoch: 2 ** 40,
    epochLength: 2 ** 20,
    maxEpochs: 2 ** 41,
  }));
  eng('unknown key maxEpoch', ["'maxEpoch'"], (sd) => {
    sd.maxEpoch = 3;
  });
  eng('key __proto__', ["'__proto__'"], (sd) => JSON.parse(`{"__proto__": {}, ${JSON.stringify(sd).slice(1)}`));
  eng('null', ['null'], () => null);
  eng('maxIters and maxEpochs', ['maxEpochs', 'maxIters'], (sd) => {
    sd.maxIters = 10;
  });
  eng('maxIters below the iteration', ['maxIters', '2'], (sd) => {
    delete sd.maxEpochs;
    sd.maxIters = 2;
  });

  const det = () => {
    const engine = new DeterministicEngine((_e, batch: unknown) => batch);
    engine.loadStateDict({ iteration: 4, epochLength: 2, maxEpochs: 3, seed: 7, rngStates: getRandomState() });
    return engine;
  };
  const dsd = (
    name: string,
    mentions: readonly string[],
    mutate: (sd: Record<string, any>) => unknown,
    isolate = false,
  ) =>
    cases.push(
      loadCase(
        'engine state dict',
        `DeterministicEngine.loadStateDict(${name})`,
        'DeterministicEngine.loadStateDict',
        mentions,
        det,
        mutate,
        { isolate },
      ),
    );
  dsd('seed: NaN', ['seed', 'NaN'], (sd) => {
    sd.seed = Number.NaN;
  });
  dsd('seed: 1.5', ['seed', '1.5'], (sd) => {
    sd.seed = 1.5;
  });
  dsd("seed: '7'", ['seed', "'7'"], (sd) => {
    sd.seed = '7';
  });
  dsd('rngStates: 5', ['rngStates', '5'], (sd) => {
    sd.rngStates = 5;
  });
  dsd(
    'rngStates with S all zeros',
    ['rngStates', 'permutation'],
    (sd) => {
      sd.rngStates.mathRandom.S.fill(0);
    },
    true,
  );
  dsd('rngStates with i: 256', ['rngStates', '256'], (sd) => {
    sd.rngStates.mathRandom.i = 256;
  });
  dsd('rngStates with an unknown key', ['rngStates', "'extra'"], (sd) => {
    sd.rngStates.extra = 1;
  });
  // The Engine's own entries are checked by Engine.loadStateDict, which DeterministicEngine.loadStateDict calls.
  cases.push(
    loadCase(
      'engine state dict',
      'DeterministicEngine.loadStateDict(iteration: NaN)',
      'Engine.loadStateDict',
      ['iteration', 'NaN'],
      det,
      (sd) => {
        sd.iteration = Number.NaN;
      },
    ),
  );

  // ---------------------------------------------------------------- randomness
  add('random', 'setRandomState(S all zeros) then Math.random()', 'setRandomState', ['permutation'], () => {
    setRandomState(permutationBroken((S) => S.fill(0)));
  });
  cases.at(-1)!.isolate = true;
  add('random', 'setRandomState(S with a repeated byte)', 'setRandomState', ['permutation', '0'], () => {
    setRandomState(
      permutationBroken((S) => {
        S[1] = S[0]!;
      }),
    );
  });
  cases.at(-1)!.isolate = true;
  add('random', 'setRandomState({ version: 2, ... })', 'setRandomState', ['2'], () =>
    setRandomState({ ...getRandomState(), version: 2 }),
  );
  add('random', 'setRandomState(S of length 255)', 'setRandomState', ['255'], () =>
    setRandomState(
      permutationBroken((S) => {
        S.pop();
      }),
    ),
  );
  add('random', 'setRandomState(j: -1)', 'setRandomState', ['-1'], () => {
    const state = structuredClone(getRandomState());
    state.mathRandom.j = -1;
    setRandomState(state);
  });
  add('random', 'setRandomState(null)', 'setRandomState', ['null'], () => setRandomState(null));
  add('random', 'manualSeed(1.5)', 'manualSeed', ['1.5'], () => manualSeed(1.5));
  add('random', 'manualSeed(NaN)', 'manualSeed', ['NaN'], () => manualSeed(Number.NaN));
  add('random', 'manualSeed(2 ** 53)', 'manualSeed', ['9007199254740992'], () => manualSeed(2 ** 53));
  add('random', 'keepRandomState(5)', 'keepRandomState', ['5'], () => keepRandomState(5 as any));
  add('random', 'new SeededGenerator(NaN)', 'SeededGenerator', ['NaN'], () => new SeededGenerator(Number.NaN));
  add('random', 'generator.setState([1, 2, 3])', 'SeededGenerator.setState', ['[1,2,3]'], () =>
    new SeededGenerator(1).setState([1, 2, 3] as any),
  );
  add('random', 'generator.nextInt(0)', 'SeededGenerator.nextInt', ['0'], () => new SeededGenerator(1).nextInt(0));
  add('random', 'generator.permutation(-1)', 'SeededGenerator.permutation', ['-1'], () =>
    new SeededGenerator(1).permutation(-1),
  );

  // ---------------------------------------------------------------- data
  add('data', 'new DataLoader(5)', 'DataLoader', ['5'], () => new DataLoader(5 as any));
  add(
    'data',
    'new DataLoader([1], { batchSize: 0 })',
    'DataLoader',
    ['0'],
    () => new DataLoader([1], { batchSize: 0 }),
  );
  add(
    'data',
    'new DataLoader([1], { batchSize: NaN })',
    'DataLoader',
    ['NaN'],
    () => new DataLoader([1], { batchSize: Number.NaN }),
  );
  add(
    'data',
    'new DataLoader([1], { batch_size: 2 })',
    'DataLoader',
    ["'batch_size'", 'batchSize'],
    () => new DataLoader([1], { batch_size: 2 } as any),
  );
  add(
    'data',
    "new DataLoader([1], { shuffle: 'yes' })",
    'DataLoader',
    ["'yes'"],
    () => new DataLoader([1], { shuffle: 'yes' as any }),
  );
  add(
    'data',
    'new DataLoader({ length: -1, get })',
    'DataLoader',
    ['-1'],
    () => new DataLoader({ length: -1, get: noop }),
  );
  add(
    'data',
    'new DataLoader({ length: NaN, get })',
    'DataLoader',
    ['NaN'],
    () => new DataLoader({ length: Number.NaN, get: noop }),
  );
  add('data', 'loader.iterate({ startBatch: 99 })', 'DataLoader.iterate', ['99'], () =>
    new DataLoader([1, 2], { batchSize: 1 }).iterate({ startBatch: 99 }),
  );
  add('data', 'loader.iterate({ pass: -1 })', 'DataLoader.iterate', ['-1'], () =>
    new DataLoader([1, 2], { batchSize: 1 }).iterate({ pass: -1 }),
  );
  add('data', 'loader.iterate({ seed: 1.5 }) when shuffling', 'DataLoader.iterate', ['1.5'], () =>
    new DataLoader([1, 2], { batchSize: 1, shuffle: true }).iterate({ seed: 1.5 }),
  );
  add('data', 'loader.seed = NaN', 'DataLoader', ['NaN'], () => {
    new DataLoader([1, 2]).seed = Number.NaN;
  });
  add('data', 'loader.pass = -1', 'DataLoader', ['-1'], () => {
    new DataLoader([1, 2]).pass = -1;
  });
  add('data', 'sync iteration of a get() that returns promises', 'DataLoader', ['for await'], () => {
    const loader = new DataLoader({ length: 2, get: (i: number) => Promise.resolve(i) });
    for (const _b of loader) break;
  });
  add('data', 'new TensorDataset()', 'TensorDataset', ['none'], () => new TensorDataset());
  add('data', 'new TensorDataset([1, 2])', 'TensorDataset', ['[1,2]'], () => new TensorDataset([1, 2] as any));
  add('data', 'new TensorDataset(scalar)', 'TensorDataset', ['scalar'], () => new TensorDataset(tf.scalar(1)));
  add(
    'data',
    'new TensorDataset(x[4], y[3])',
    'TensorDataset',
    ['[4', '[3'],
    () => new TensorDataset(tf.zeros([4]), tf.zeros([3])),
  );
  add('data', 'dataset.gather([7]) out of range', 'TensorDataset.gather', ['7'], () =>
    new TensorDataset(tf.zeros([4, 2])).gather([7]),
  );
  add('data', 'dataset.gather([-1])', 'TensorDataset.gather', ['-1'], () =>
    new TensorDataset(tf.zeros([4, 2])).gather([-1]),
  );
  add('data', 'dataset.slice(3, 5)', 'TensorDataset.slice', ['3', '8'], () =>
    new TensorDataset(tf.zeros([4, 2])).slice(3, 5),
  );

  // ---------------------------------------------------------------- metric constructors and options
  add(
    'metric options',
    'new Accuracy({ multilabel: true })',
    'Accuracy',
    ["'multilabel'", 'isMultilabel'],
    () => new Accuracy({ multilabel: true } as any),
  );
  add(
    'metric options',
    "new Accuracy({ isMultilabel: 'yes' })",
    'Accuracy',
    ["'yes'"],
    () => new Accuracy({ isMultilabel: 'yes' as any }),
  );
  add('metric options', 'new Accuracy(5)', 'Accuracy', ['5'], () => new Accuracy(5 as any));
  add(
    'metric options',
    'new Accuracy({ outputTransform: 5 })',
    'Accuracy',
    ['5'],
    () => new Accuracy({ outputTransform: 5 as any }),
  );
  add(
    'metric options',
    'new Precision({ averge: true })',
    'Precision',
    ["'averge'", 'average'],
    () => new Precision({ averge: true } as any),
  );
  add(
    'metric options',
    "new Precision({ average: 'mean' })",
    'Precision',
    ["'mean'"],
    () => new Precision({ average: 'mean' as any }),
  );
  add(
    'metric options',
    'new Recall({ is_multilabel: true })',
    'Recall',
    ["'is_multilabel'"],
    () => new Recall({ is_multilabel: true } as any),
  );
  add(
    'metric options',
    'new ConfusionMatrix({ numClasses: 1 })',
    'ConfusionMatrix',
    ['1'],
    () => new ConfusionMatrix({ numClasses: 1 }),
  );
  add(
    'metric options',
    'new ConfusionMatrix({ numClasses: NaN })',
    'ConfusionMatrix',
    ['NaN'],
    () => new ConfusionMatrix({ numClasses: Number.NaN }),
  );
  add(
    'metric options',
    'new ConfusionMatrix({ num_classes: 3 })',
    'ConfusionMatrix',
    ["'num_classes'", 'numClasses'],
    () => new ConfusionMatrix({ num_classes: 3 } as any),
  );
  add(
    'metric options',
    'new ConfusionMatrix(null)',
    'ConfusionMatrix',
    ['null'],
    () => new ConfusionMatrix(null as any),
  );
  add(
    'metric options',
    'new TopKCategoricalAccuracy({ k: 0 })',
    'TopKCategoricalAccuracy',
    ['0'],
    () => new TopKCategoricalAccuracy({ k: 0 }),
  );
  add(
    'metric options',
    'new TopKCategoricalAccuracy({ topK: 3 })',
    'TopKCategoricalAccuracy',
    ["'topK'"],
    () => new TopKCategoricalAccuracy({ topK: 3 } as any),
  );
  add(
    'metric options',
    'new MeanSquaredError({ reduction: "sum" })',
    'MeanSquaredError',
    ["'reduction'"],
    () => new MeanSquaredError({ reduction: 'sum' } as any),
  );
  add(
    'metric options',
    'new MeanAbsoluteError({ bogus: 1 })',
    'MeanAbsoluteError',
    ["'bogus'"],
    () => new MeanAbsoluteError({ bogus: 1 } as any),
  );
  add(
    'metric options',
    'new RootMeanSquaredError({ bogus: 1 })',
    'RootMeanSquaredError',
    ["'bogus'"],
    () => new RootMeanSquaredError({ bogus: 1 } as any),
  );
  add('metric options', 'new Average({ bogus: 1 })', 'Average', ["'bogus'"], () => new Average({ bogus: 1 } as any));
  add('metric options', 'new Loss(5)', 'Loss', ['5'], () => new Loss(5 as any));
  add(
    'metric options',
    'new Loss(fn, { batch_size: fn })',
    'Loss',
    ["'batch_size'", 'batchSize'],
    () => new Loss(() => tf.scalar(0), { batch_size: noop } as any),
  );
  add(
    'metric options',
    'new RunningAverage({ alpha: 2, outputTransform })',
    'RunningAverage',
    ['2'],
    () => new RunningAverage({ alpha: 2, outputTransform: (x: any) => x }),
  );
  add('metric options', 'new RunningAverage(null)', 'RunningAverage', ['null'], () => new RunningAverage(null as any));
  add(
    'metric options',
    'new RunningAverage({ src: acc, bogus: 1 })',
    'RunningAverage',
    ["'bogus'"],
    () => new RunningAverage({ src: new Accuracy(), bogus: 1 } as any),
  );
  add('metric options', 'new Fbeta({ beta: 0 })', 'Fbeta', ['0'], () => new Fbeta({ beta: 0 }));
  add(
    'metric options',
    'new Fbeta({ beta: 1, averge: false })',
    'Fbeta',
    ["'averge'"],
    () => new Fbeta({ beta: 1, averge: false } as any),
  );
  add(
    'metric options',
    "new CohenKappa({ weights: 'cubic' })",
    'CohenKappa',
    ["'cubic'"],
    () => new CohenKappa({ weights: 'cubic' as any }),
  );
  add('metric options', 'new MetricsLambda(5)', 'MetricsLambda', ['5'], () => new MetricsLambda(5 as any));
  add('metric options', 'metric.add(NaN)', 'Accuracy.add', ['NaN'], () => new Accuracy().add(Number.NaN));
  add('metric options', "metric.attach(engine, 'acc', 'epoch')", 'Accuracy.attach', ["'epoch'"], () =>
    new Accuracy().attach(engineOf(), 'acc', 'epoch' as any),
  );
  add('metric options', 'metric.attach(engine, 5)', 'Accuracy.attach', ['5'], () =>
    new Accuracy().attach(engineOf(), 5 as any),
  );
  add('metric options', 'metric.detach({})', 'Accuracy.detach', ['{}'], () => new Accuracy().detach({} as any));
  add('metric options', 'metric.isAttached(5)', 'Accuracy.isAttached', ['5'], () =>
    new Accuracy().isAttached(5 as any),
  );
  add('metric options', 'lambda.attach({}, "f")', 'MetricsLambda.attach', ['{}'], () =>
    new MetricsLambda((a: any) => a, new Average()).attach({} as any, 'f'),
  );

  // ---------------------------------------------------------------- metric updates
  const upd = (name: string, where: string, mentions: readonly string[], act: () => unknown) =>
    add('metric update', name, where, mentions, act);
  upd('accuracy.update(5)', 'Accuracy', ['5'], () => new Accuracy().update(5 as any));
  upd('accuracy.update([yPred])', 'Accuracy', ['[yPred, y]'], () => new Accuracy().update([tf.zeros([2, 3])] as any));
  upd('accuracy.update([disposed, y])', 'Accuracy', ['disposed'], () =>
    new Accuracy().update([disposedTensor(), tf.zeros([4])]),
  );
  upd('accuracy.update([yPred [4,3], y [5]])', 'Accuracy', ['[4,3]', '[5]'], () =>
    new Accuracy().update([tf.zeros([4, 3]), tf.zeros([5])]),
  );
  upd('accuracy.update([[1,2], [0,1]]) (arrays, not tensors)', 'Accuracy', ['[1,2]'], () =>
    new Accuracy().update([
      [1, 2],
      [0, 1],
    ] as any),
  );
  upd('precision.update([yPred, disposed y])', 'Precision', ['disposed'], () => {
    const y = tf.zeros([4]);
    y.dispose();
    new Precision().update([tf.zeros([4, 3]), y]);
  });
  upd('mse.update([yPred [4], y [3]])', 'MeanSquaredError', ['[4]', '[3]'], () =>
    new MeanSquaredError().update([tf.zeros([4]), tf.zeros([3])]),
  );
  upd('mse.update(null)', 'MeanSquaredError', ['null'], () => new MeanSquaredError().update(null as any));
  upd('mae.update([disposed, disposed])', 'MeanAbsoluteError', ['disposed'], () =>
    new MeanAbsoluteError().update([disposedTensor(), disposedTensor()]),
  );
  upd('confusionMatrix.update([yPred [4,2], y]) with numClasses 3', 'ConfusionMatrix', ['3', '2'], () =>
    new ConfusionMatrix({ numClasses: 3 }).update([tf.zeros([4, 2]), tf.zeros([4])]),
  );
  upd('topK.update([yPred [4], y [4]])', 'TopKCategoricalAccuracy', ['[4]'], () =>
    new TopKCategoricalAccuracy({ k: 2 }).update([tf.zeros([4]), tf.zeros([4])]),
  );
  upd('loss.update([yPred, y]) with a lossFn returning a string', 'Loss', ["'x'"], () =>
    new Loss(() => 'x' as any).update([tf.zeros([2]), tf.zeros([2])]),
  );
  upd('loss.update with batchSize returning NaN', 'Loss', ['NaN'], () =>
    new Loss(() => tf.scalar(1), { batchSize: () => Number.NaN }).update([tf.zeros([2]), tf.zeros([2])]),
  );
  upd('average.update("x")', 'Average', ["'x'"], () => new Average().update('x' as any));
  upd('average.update(disposed)', 'Average', ['disposed'], () => new Average().update(disposedTensor()));
  upd('runningAverage.update(disposed) (output mode)', 'RunningAverage', ['disposed'], () =>
    new RunningAverage({ outputTransform: (x: any) => x }).update(disposedTensor()),
  );

  // ---------------------------------------------------------------- metric state dicts
  const metricLoad = (
    name: string,
    where: string,
    mentions: readonly string[],
    make: () => any,
    mutate: (sd: Record<string, any>) => unknown,
    isRegression = false,
  ) =>
    cases.push(
      loadCase('metric state dict', name, where, mentions, make, mutate, {
        prepare: (m: any) =>
          isRegression
            ? m.update([tf.tensor1d([0.5, 1.5]), tf.tensor1d([1, 1])])
            : m.update([
                tf.tensor2d([
                  [0.9, 0.1],
                  [0.2, 0.8],
                ]),
                tf.tensor1d([0, 1], 'int32'),
              ]),
      }),
    );
  metricLoad(
    'accuracy.loadStateDict(numExamples: NaN)',
    'Accuracy.loadStateDict',
    ['NaN'],
    () => new Accuracy(),
    (sd) => {
      sd.numExamples = Number.NaN;
    },
  );
  metricLoad(
    'accuracy.loadStateDict(unknown key)',
    'Accuracy.loadStateDict',
    ["'bogus'"],
    () => new Accuracy(),
    (sd) => {
      sd.bogus = 1;
    },
  );
  metricLoad(
    'accuracy.loadStateDict(null)',
    'Accuracy.loadStateDict',
    ['null'],
    () => new Accuracy(),
    () => null,
  );
  metricLoad(
    'precision.loadStateDict(values: [NaN])',
    'Precision.loadStateDict',
    ['NaN'],
    () => new Precision(),
    (sd) => {
      const first = Object.values(sd.sums ?? sd).find((v: any) => Array.isArray(v?.values)) as any;
      if (first) first.values[0] = Number.NaN;
      else sd.isUpdated = 'x';
    },
  );
  metricLoad(
    'confusionMatrix.loadStateDict(shape [3,3] for 2 classes)',
    'ConfusionMatrix.loadStateDict',
    ['3'],
    () => new ConfusionMatrix({ numClasses: 2 }),
    (sd) => {
      const entry = (sd.sums ?? sd).matrix;
      if (entry) {
        entry.shape = [3, 3];
        entry.values = new Array(9).fill(0);
      }
    },
  );
  metricLoad(
    'mse.loadStateDict(numExamples: -1)',
    'MeanSquaredError.loadStateDict',
    ['-1'],
    () => new MeanSquaredError(),
    (sd) => {
      sd.numExamples = -1;
    },
    true,
  );
  metricLoad(
    'loss.loadStateDict(numExamples: 1.5)',
    'Loss.loadStateDict',
    ['1.5'],
    () => new Loss(() => tf.scalar(0.5)),
    (sd) => {
      sd.numExamples = 1.5;
    },
    true,
  );
  cases.push(
    loadCase(
      'metric state dict',
      'runningAverage.loadStateDict(value: NaN)',
      'RunningAverage.loadStateDict',
      ['NaN'],
      () => new RunningAverage({ outputTransform: (x: any) => x }),
      (sd) => {
        sd.value = Number.NaN;
      },
    ),
  );
  cases.push(
    loadCase(
      'metric state dict',
      'lambda.loadStateDict({ args: 5 })',
      'MetricsLambda.loadStateDict',
      ['5'],
      () => new MetricsLambda((a: any) => a, new Average()),
      (sd) => {
        sd.args = 5;
      },
      { prepare: (m: any) => m.update(tf.scalar(1)) },
    ),
  );

  // ---------------------------------------------------------------- handlers: constructors and attach
  const stopper = (options: Record<string, unknown>) =>
    new EarlyStopping({ patience: 2, scoreFunction: () => 1, trainer: engineOf(), ...options } as any);
  add('handlers', 'new EarlyStopping({ patience: 0, ... })', 'EarlyStopping', ['0'], () => stopper({ patience: 0 }));
  add('handlers', 'new EarlyStopping({ patience: NaN, ... })', 'EarlyStopping', ['NaN'], () =>
    stopper({ patience: Number.NaN }),
  );
  add('handlers', 'new EarlyStopping({ minDelta: -1, ... })', 'EarlyStopping', ['-1'], () => stopper({ minDelta: -1 }));
  add('handlers', 'new EarlyStopping({ threshold: 1, ... })', 'EarlyStopping', ["'threshold'", 'minDelta'], () =>
    stopper({ threshold: 1 }),
  );
  add('handlers', 'new EarlyStopping({ trainer: {} })', 'EarlyStopping', ['{}'], () => stopper({ trainer: {} }));
  add('handlers', 'new EarlyStopping({ mode: "low" })', 'EarlyStopping', ["'low'"], () => stopper({ mode: 'low' }));
  add('handlers', 'earlyStopping.attach({})', 'EarlyStopping.attach', ['{}'], () => stopper({}).attach({} as any));
  add(
    'handlers',
    'new TerminateOnNan({ outputTransform: 5 })',
    'TerminateOnNan',
    ['5'],
    () => new TerminateOnNan({ outputTransform: 5 as any }),
  );
  add(
    'handlers',
    'new TerminateOnNan({ bogus: 1 })',
    'TerminateOnNan',
    ["'bogus'"],
    () => new TerminateOnNan({ bogus: 1 } as any),
  );
  add('handlers', 'terminateOnNan.attach(null)', 'TerminateOnNan.attach', ['null'], () =>
    new TerminateOnNan().attach(null as any),
  );
  add('handlers', 'new Timer({ average: 1 })', 'Timer', ['1'], () => new Timer({ average: 1 as any }));
  add('handlers', 'timer.attach(engine, { begin: Events.STARTED })', 'Timer.attach', ["'begin'"], () =>
    new Timer().attach(engineOf(), { begin: Events.STARTED } as any),
  );
  add('handlers', 'timer.attach({})', 'Timer.attach', ['{}'], () => new Timer().attach({} as any));
  add('handlers', 'new ScalarHistory({})', 'ScalarHistory', ['undefined'], () => new ScalarHistory({} as any));
  add(
    'handlers',
    'new ScalarHistory({ onValues, chunk: 0 })',
    'ScalarHistory',
    ['0'],
    () => new ScalarHistory({ onValues: noop, chunk: 0 }),
  );
  add(
    'handlers',
    'new ProgressBar({ barWidth: -1 })',
    'ProgressBar',
    ['-1'],
    () => new ProgressBar({ barWidth: -1 } as any),
  );
  add('handlers', 'progressBar.attach({})', 'ProgressBar.attach', ['{}'], () => new ProgressBar().attach({} as any));
  add(
    'handlers',
    'new EpochOutputStore({ outputTransform: 5 })',
    'EpochOutputStore',
    ['5'],
    () => new EpochOutputStore({ outputTransform: 5 as any }),
  );
  add('handlers', 'epochOutputStore.attach(5)', 'EpochOutputStore.attach', ['5'], () =>
    new EpochOutputStore().attach(5 as any),
  );

  // ---------------------------------------------------------------- early stopping state
  const es = (name: string, mentions: readonly string[], mutate: (sd: Record<string, any>) => unknown) =>
    cases.push(
      loadCase(
        'handler state dict',
        `EarlyStopping.loadStateDict(${name})`,
        'EarlyStopping.loadStateDict',
        mentions,
        () => stopper({}),
        mutate,
      ),
    );
  es('counter: -1', ['counter', '-1'], (sd) => {
    sd.counter = -1;
  });
  es('counter: 2 ** 53', ['counter', '9007199254740992'], (sd) => {
    sd.counter = 2 ** 53;
  });
  es('bestScore: NaN', ['bestScore', 'NaN'], (sd) => {
    sd.bestScore = Number.NaN;
  });
  es("bestScore: '1'", ['bestScore', "'1'"], (sd) => {
    sd.bestScore = '1';
  });
  es("minDeltaMode: 'pct'", ['minDeltaMode', "'pct'"], (sd) => {
    sd.minDeltaMode = 'pct';
  });
  es('unknown key patience', ["'patience'"], (sd) => {
    sd.patience = 3;
  });
  add('handler state dict', 'EarlyStopping: a NaN first score becomes the best', 'EarlyStopping', ['NaN'], async () => {
    const trainer = engineOf();
    const scores = [Number.NaN, 1, 0.5];
    const handler = new EarlyStopping({ patience: 2, scoreFunction: () => scores.shift()!, trainer });
    for (let i = 0; i < 3; i++) await handler.handle(engineOf());
    // NaN is no improvement: counter 1 after it, then 1 is the first best, then 0.5 does not improve: counter 1.
    if (Number.isNaN(handler.bestScore) || trainer.shouldTerminate) {
      throw new Error(
        `EarlyStopping: a NaN score became the best (bestScore ${handler.bestScore}) and stopped the trainer`,
      );
    }
  });

  // ---------------------------------------------------------------- schedulers
  const cos = () =>
    new CosineAnnealingScheduler({ learningRate: 0.1 }, { startValue: 0.1, endValue: 0.01, cycleSize: 4 });
  add(
    'scheduler options',
    'new CosineAnnealingScheduler(opt, { cycleSize: 1, ... })',
    'CosineAnnealingScheduler',
    ['1'],
    () => new CosineAnnealingScheduler(sgd(), { startValue: 1, endValue: 0, cycleSize: 1 }),
  );
  add(
    'scheduler options',
    'new CosineAnnealingScheduler(opt, { startValue: NaN, ... })',
    'CosineAnnealingScheduler',
    ['NaN'],
    () => new CosineAnnealingScheduler(sgd(), { startValue: Number.NaN, endValue: 0, cycleSize: 4 }),
  );
  add(
    'scheduler options',
    'new CosineAnnealingScheduler(opt, { cycle_size: 4, ... })',
    'CosineAnnealingScheduler',
    ['cycleSize', 'undefined'],
    () => new CosineAnnealingScheduler(sgd(), { startValue: 1, endValue: 0, cycle_size: 4 } as any),
  );
  add(
    'scheduler options',
    'new CosineAnnealingScheduler(opt, { cycleMult: 0, ... })',
    'CosineAnnealingScheduler',
    ['cycleMult', '0'],
    () => new CosineAnnealingScheduler(sgd(), { startValue: 1, endValue: 0, cycleSize: 4, cycleMult: 0 }),
  );
  add(
    'scheduler options',
    'new CosineAnnealingScheduler(null, {...})',
    'CosineAnnealingScheduler',
    ['null'],
    () => new CosineAnnealingScheduler(null as any, { startValue: 1, endValue: 0, cycleSize: 4 }),
  );
  add(
    'scheduler options',
    'new CosineAnnealingScheduler(opt) without options',
    'CosineAnnealingScheduler',
    ['undefined'],
    () => new (CosineAnnealingScheduler as any)(sgd()),
  );
  add(
    'scheduler options',
    "new CosineAnnealingScheduler(opt, { paramName: 'momentum', ... }) on SGD",
    'CosineAnnealingScheduler',
    ["'momentum'"],
    () => new CosineAnnealingScheduler(sgd(), { startValue: 1, endValue: 0, cycleSize: 4, paramName: 'momentum' }),
  );
  add(
    'scheduler options',
    'new LinearCyclicalScheduler(opt, { warmupDuration: 2 }) (not monotonic)',
    'LinearCyclicalScheduler',
    ['warmupDuration'],
    () => new LinearCyclicalScheduler(sgd(), { startValue: 1, endValue: 0, cycleSize: 4, warmupDuration: 2 }),
  );
  add(
    'scheduler options',
    'new PiecewiseLinear(opt, { milestonesValues: [[2, 1], [1, 0]] })',
    'PiecewiseLinear',
    ['1', '2'],
    () =>
      new PiecewiseLinear(sgd(), {
        milestonesValues: [
          [2, 1],
          [1, 0],
        ],
      }),
  );
  add(
    'scheduler options',
    'new PiecewiseLinear(opt, { milestonesValues: [] })',
    'PiecewiseLinear',
    ['[]'],
    () => new PiecewiseLinear(sgd(), { milestonesValues: [] }),
  );
  add(
    'scheduler options',
    'new PiecewiseLinear(opt, { milestonesValues: [[0, NaN]] })',
    'PiecewiseLinear',
    ['NaN'],
    () => new PiecewiseLinear(sgd(), { milestonesValues: [[0, Number.NaN]] }),
  );
  add(
    'scheduler options',
    'new ConcatScheduler({ schedulers: [a], durations: [] })',
    'ConcatScheduler',
    ['1'],
    () => new ConcatScheduler({ schedulers: [cos()], durations: [] }),
  );
  add(
    'scheduler options',
    'new ConcatScheduler({ schedulers: [a, b], durations: [-1] })',
    'ConcatScheduler',
    ['-1'],
    () => {
      const opt = sgd();
      const a = new CosineAnnealingScheduler(opt, { startValue: 1, endValue: 0, cycleSize: 4 });
      const b = new CosineAnnealingScheduler(opt, { startValue: 1, endValue: 0, cycleSize: 4 });
      return new ConcatScheduler({ schedulers: [a, b], durations: [-1] });
    },
  );
  add(
    'scheduler options',
    'new ReduceLROnPlateauScheduler(opt, { metricName: "loss", factor: 1 })',
    'ReduceLROnPlateauScheduler',
    ['1'],
    () => new ReduceLROnPlateauScheduler(sgd(), { metricName: 'loss', factor: 1 }),
  );
  add(
    'scheduler options',
    'new ReduceLROnPlateauScheduler(opt, { metricName: "loss", trainer: {} })',
    'ReduceLROnPlateauScheduler',
    ['{}'],
    () => new ReduceLROnPlateauScheduler(sgd(), { metricName: 'loss', trainer: {} as any }),
  );
  add(
    'scheduler options',
    'new ReduceLROnPlateauScheduler(opt, {})',
    'ReduceLROnPlateauScheduler',
    ['undefined'],
    () => new ReduceLROnPlateauScheduler(sgd(), {} as any),
  );
  add(
    'scheduler options',
    'createLrSchedulerWithWarmup(s, { warmupDuration: 1, ... })',
    'createLrSchedulerWithWarmup',
    ['1'],
    () => createLrSchedulerWithWarmup(cos(), { warmupStartValue: 0, warmupDuration: 1 }),
  );
  add(
    'scheduler options',
    'CosineAnnealingScheduler.simulateValues(-1, ...)',
    'CosineAnnealingScheduler.simulateValues',
    ['-1'],
    () => CosineAnnealingScheduler.simulateValues(-1, { startValue: 1, endValue: 0, cycleSize: 4 }),
  );
  add('scheduler options', 'scheduler.attach({})', 'CosineAnnealingScheduler.attach', ['{}'], () =>
    cos().attach({} as any),
  );

  const sch = (
    cls: string,
    make: () => any,
    name: string,
    mentions: readonly string[],
    mutate: (sd: Record<string, any>) => unknown,
  ) =>
    cases.push(
      loadCase(
        'scheduler state dict',
        `${cls}.loadStateDict(${name})`,
        `${cls}.loadStateDict`,
        mentions,
        make,
        mutate,
        {
          prepare: (s: any) => {
            s.handle(null);
            s.handle(null);
          },
        },
      ),
    );
  sch('CosineAnnealingScheduler', cos, 'eventIndex: NaN', ['eventIndex', 'NaN'], (sd) => {
    sd.eventIndex = Number.NaN;
  });
  sch('CosineAnnealingScheduler', cos, 'eventIndex: -1', ['eventIndex', '-1'], (sd) => {
    sd.eventIndex = -1;
  });
  sch('CosineAnnealingScheduler', cos, 'eventIndex beyond the cycle', ['eventIndex', '99'], (sd) => {
    sd.eventIndex = 99;
  });
  sch('CosineAnnealingScheduler', cos, 'startValue: Infinity', ['startValue', 'Infinity'], (sd) => {
    sd.startValue = Number.POSITIVE_INFINITY;
  });
  sch('CosineAnnealingScheduler', cos, 'cycleSize: 0', ['cycleSize', '0'], (sd) => {
    sd.cycleSize = 0;
  });
  sch('CosineAnnealingScheduler', cos, "cycle: '1'", ['cycle', "'1'"], (sd) => {
    sd.cycle = '1';
  });
  sch(
    'CosineAnnealingScheduler',
    cos,
    'totalCycleSize not cycleSize + warmupDuration',
    ['totalCycleSize', '7'],
    (sd) => {
      sd.totalCycleSize = 7;
    },
  );
  sch('CosineAnnealingScheduler', cos, "paramName: 'lr' (not on the optimizer)", ['paramName', "'lr'"], (sd) => {
    sd.paramName = 'lr';
  });
  sch('CosineAnnealingScheduler', cos, 'saveHistory: 1', ['saveHistory', '1'], (sd) => {
    sd.saveHistory = 1;
  });
  sch('CosineAnnealingScheduler', cos, 'unknown key', ["'cycleMultiplier'"], (sd) => {
    sd.cycleMultiplier = 2;
  });
  sch('CosineAnnealingScheduler', cos, 'startValueMult: NaN', ['startValueMult', 'NaN'], (sd) => {
    sd.startValueMult = Number.NaN;
  });
  const pw = () =>
    new PiecewiseLinear(
      { learningRate: 0.1 },
      {
        milestonesValues: [
          [0, 1],
          [4, 0],
        ],
      },
    );
  sch('PiecewiseLinear', pw, 'milestones: [4, 0]', ['milestones', 'at 1', '0'], (sd) => {
    sd.milestones = [4, 0];
  });
  sch('PiecewiseLinear', pw, 'values: [1, NaN]', ['values', 'NaN'], (sd) => {
    sd.values = [1, Number.NaN];
  });
  sch('PiecewiseLinear', pw, 'milestones longer than values', ['values', 'milestone'], (sd) => {
    sd.milestones = [0, 2, 4];
  });
  sch('PiecewiseLinear', pw, 'milestones: 5', ['milestones', '5'], (sd) => {
    sd.milestones = 5;
  });
  const concat = () => {
    const opt = { learningRate: 0.1 };
    const a = new CosineAnnealingScheduler(opt, { startValue: 1, endValue: 0, cycleSize: 4 });
    const b = new CosineAnnealingScheduler(opt, { startValue: 0.5, endValue: 0, cycleSize: 4 });
    return new ConcatScheduler({ schedulers: [a, b], durations: [3] });
  };
  sch('ConcatScheduler', concat, 'schedulerIndex: 5', ['schedulerIndex', '5'], (sd) => {
    sd.schedulerIndex = 5;
  });
  sch('ConcatScheduler', concat, 'durations: [NaN]', ['durations', 'NaN'], (sd) => {
    sd.durations = [Number.NaN];
  });
  sch('ConcatScheduler', concat, 'currentDuration: 99', ['currentDuration', '99'], (sd) => {
    sd.currentDuration = 99;
  });
  sch('ConcatScheduler', concat, 'second scheduler state broken', ['eventIndex', 'NaN'], (sd) => {
    sd.schedulers[1].eventIndex = Number.NaN;
  });
  const plateau = () =>
    new ReduceLROnPlateauScheduler({ learningRate: 0.1 }, { metricName: 'loss', patience: 2, cooldown: 1 });
  const pl = (name: string, mentions: readonly string[], mutate: (sd: Record<string, any>) => unknown) =>
    cases.push(
      loadCase(
        'scheduler state dict',
        `ReduceLROnPlateauScheduler.loadStateDict(${name})`,
        'ReduceLROnPlateauScheduler.loadStateDict',
        mentions,
        plateau,
        mutate,
      ),
    );
  pl('best: NaN', ['best', 'NaN'], (sd) => {
    sd.best = Number.NaN;
  });
  pl('numBadEpochs: -1', ['numBadEpochs', '-1'], (sd) => {
    sd.numBadEpochs = -1;
  });
  pl('numBadEpochs beyond patience', ['numBadEpochs', '5'], (sd) => {
    sd.numBadEpochs = 5;
  });
  pl('cooldownCounter beyond cooldown', ['cooldownCounter', '4'], (sd) => {
    sd.cooldownCounter = 4;
  });
  pl('value: NaN', ['value', 'NaN'], (sd) => {
    sd.value = Number.NaN;
  });
  pl("metricName: 'accuracy' (another metric)", ['metricName', "'accuracy'"], (sd) => {
    sd.metricName = 'accuracy';
  });
  pl('unknown key', ["'factor'"], (sd) => {
    sd.factor = 0.5;
  });

  // ---------------------------------------------------------------- checkpoint
  const ckpt = () => new Checkpoint({ engine: engineOf() }, new MemorySaver(), { nSaved: 2 });
  const ck = (name: string, mentions: readonly string[], mutate: (sd: Record<string, any>) => unknown) =>
    cases.push(
      loadCase('checkpoint', `Checkpoint.loadStateDict(${name})`, 'Checkpoint.loadStateDict', mentions, ckpt, mutate, {
        prepare: (c: Checkpoint) => c.loadStateDict({ saved: [[1, 'engine_1.ckpt']] }),
      }),
    );
  ck('priority NaN', ['NaN'], (sd) => {
    sd.saved = [[Number.NaN, 'a.ckpt']];
  });
  ck('empty filename', ["''"], (sd) => {
    sd.saved = [[1, '']];
  });
  ck('a filename twice', ["'a.ckpt'"], (sd) => {
    sd.saved = [
      [1, 'a.ckpt'],
      [2, 'a.ckpt'],
    ];
  });
  ck('more entries than nSaved', ['3', 'nSaved'], (sd) => {
    sd.saved = [
      [1, 'a.ckpt'],
      [2, 'b.ckpt'],
      [3, 'c.ckpt'],
    ];
  });
  ck('unknown key', ["'best'"], (sd) => {
    sd.best = 1;
  });
  ck('saved: 5', ['5'], (sd) => {
    sd.saved = 5;
  });
  add('checkpoint', 'new Checkpoint({}, saver)', 'Checkpoint', ['empty'], () => new Checkpoint({}, new MemorySaver()));
  add(
    'checkpoint',
    'new Checkpoint({ x: 5 }, saver)',
    'Checkpoint',
    ['5'],
    () => new Checkpoint({ x: 5 } as any, new MemorySaver()),
  );
  add(
    'checkpoint',
    'new Checkpoint({ engine }, {})',
    'Checkpoint',
    ['{}'],
    () => new Checkpoint({ engine: engineOf() }, {} as any),
  );
  add(
    'checkpoint',
    'new Checkpoint({ engine }, saver, { nSaved: 0 })',
    'Checkpoint',
    ['0'],
    () => new Checkpoint({ engine: engineOf() }, new MemorySaver(), { nSaved: 0 }),
  );
  add(
    'checkpoint',
    'new Checkpoint({ engine }, saver, { n_saved: 2 })',
    'Checkpoint',
    ["'n_saved'", 'nSaved'],
    () => new Checkpoint({ engine: engineOf() }, new MemorySaver(), { n_saved: 2 } as any),
  );
  add(
    'checkpoint',
    "new Checkpoint({ engine }, saver, { filenamePattern: '{nope}' })",
    'Checkpoint',
    ["'{nope}'"],
    () => new Checkpoint({ engine: engineOf() }, new MemorySaver(), { filenamePattern: '{nope}' }),
  );
  add('checkpoint', 'checkpoint.handle({})', 'Checkpoint', ['{}'], () =>
    new Checkpoint({ engine: engineOf() }, new MemorySaver()).handle({} as any),
  );
  add('checkpoint', 'formatScore(undefined)', 'formatScore', ['undefined'], () => formatScore(undefined as any));
  add('checkpoint', "formatScore('x')", 'formatScore', ["'x'"], () => formatScore('x' as any));
  add('checkpoint', 'Checkpoint.loadObjects({ toLoad: {}, checkpoint: {} })', 'Checkpoint.loadObjects', ['empty'], () =>
    Checkpoint.loadObjects({ toLoad: {}, checkpoint: {} }),
  );
  add('checkpoint', 'Checkpoint.loadObjects with a __proto__ key', 'Checkpoint.loadObjects', ["'__proto__'"], () =>
    Checkpoint.loadObjects({ toLoad: { engine: engineOf() }, checkpoint: JSON.parse('{"engine": {"__proto__": {}}}') }),
  );
  add('checkpoint', 'MemorySaver.save(data, "")', 'MemorySaver.save', ["''"], () => new MemorySaver().save({}, ''));
  add('checkpoint', 'MemorySaver.save({ f: fn }, "a")', 'MemorySaver.save', ['function'], () =>
    new MemorySaver().save({ f: noop }, 'a.ckpt'),
  );
  add('checkpoint', 'MemorySaver.load("missing")', 'MemorySaver.load', ["'missing.ckpt'"], () =>
    new MemorySaver().load('missing.ckpt'),
  );
  add('checkpoint', 'resumeOrStart({ saver: 5, toLoad })', 'resumeOrStart', ['5'], () =>
    resumeOrStart({ saver: 5 as any, toLoad: { engine: engineOf() } }),
  );

  // optimizer extras, through Checkpoint.loadObjects
  const optimizerCase = (name: string, mentions: readonly string[], mutate: (state: Record<string, any>) => void) => {
    let optimizer: tf.Optimizer | null = null;
    let before = '';
    const read = async (o: tf.Optimizer) => {
      const weights = await o.getWeights();
      const values = await Promise.all(weights.map(async (w) => [w.name, Array.from(await w.tensor.data())]));
      for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
      const extra = o as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
      return JSON.stringify([values, extra.accBeta1 ? await extra.accBeta1.data() : null]);
    };
    cases.push({
      group: 'checkpoint',
      name: `Checkpoint.loadObjects(optimizer: ${name})`,
      where: 'Checkpoint.loadObjects',
      mentions,
      async act() {
        const w = tf.variable(tf.ones([2]), true, `probe_w_${Math.random().toString(36).slice(2)}`);
        optimizer = tf.train.adam(0.1);
        optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
        const saver = new MemorySaver();
        await new Checkpoint({ optimizer }, saver).handle(engineOf());
        const state = (await saver.load((await saver.list())[0]!)) as Record<string, any>;
        optimizer.minimize(() => tf.sum(tf.square(w)) as tf.Scalar);
        before = await read(optimizer);
        mutate(state);
        await Checkpoint.loadObjects({ toLoad: { optimizer }, checkpoint: state });
      },
      async unchanged() {
        if (optimizer !== null && (await read(optimizer)) !== before) throw new Error('the optimizer changed');
      },
    });
  };
  optimizerCase('accBeta1: NaN', ['accBeta1', 'NaN'], (state) => {
    state.extra.accBeta1 = Number.NaN;
  });
  optimizerCase('accBeta2: 2', ['accBeta2', '2'], (state) => {
    state.extra.accBeta2 = 2;
  });
  optimizerCase("accBeta1: '0.9'", ['accBeta1', "'0.9'"], (state) => {
    state.extra.accBeta1 = '0.9';
  });
  optimizerCase('unknown extra accBeta3', ['accBeta3', 'absent'], (state) => {
    state.extra.accBeta3 = 0.5;
  });
  optimizerCase('extra missing accBeta2', ['accBeta2'], (state) => {
    delete state.extra.accBeta2;
  });
  optimizerCase('iterations: -1', ['iterations', '-1'], (state) => {
    state.iterations = -1;
  });
  optimizerCase('iterations: NaN', ['iterations', 'NaN'], (state) => {
    state.iterations = Number.NaN;
  });

  // ---------------------------------------------------------------- supervised
  const model = () => tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
  add('supervised', 'createSupervisedTrainer(model, 5, lossFn)', 'createSupervisedTrainer', ['5'], () =>
    createSupervisedTrainer(model(), 5 as any, () => tf.scalar(0)),
  );
  add('supervised', 'createSupervisedTrainer(model, opt, 5)', 'createSupervisedTrainer', ['5'], () =>
    createSupervisedTrainer(model(), sgd(), 5 as any),
  );
  add(
    'supervised',
    'createSupervisedTrainer(..., { gradientAccumulationSteps: 0 })',
    'createSupervisedTrainer',
    ['0'],
    () => createSupervisedTrainer(model(), sgd(), () => tf.scalar(0), { gradientAccumulationSteps: 0 }),
  );
  add('supervised', 'createSupervisedTrainer(..., { device: "gpu" })', 'createSupervisedTrainer', ["'device'"], () =>
    createSupervisedTrainer(model(), sgd(), () => tf.scalar(0), { device: 'gpu' } as any),
  );
  add(
    'supervised',
    'createSupervisedEvaluator(model, { metrics: { acc: 5 } })',
    'createSupervisedEvaluator',
    ['5'],
    () => createSupervisedEvaluator(model(), { metrics: { acc: 5 as any } }),
  );
  add(
    'supervised',
    "createSupervisedEvaluator(model, { metrics: { ['__proto__']: acc } })",
    'Accuracy.attach',
    ["'__proto__'"],
    () =>
      createSupervisedEvaluator(model(), {
        metrics: Object.defineProperty({}, '__proto__', { value: new Accuracy(), enumerable: true }),
      }),
  );
  add('supervised', 'readLoss(undefined)', 'readLoss', ['undefined'], () => readLoss(undefined as any));
  add('supervised', 'readLoss({ state: { output: 5 } })', 'readLoss', ['5'], () =>
    readLoss({ state: { output: 5 } } as any),
  );
  add('supervised', 'readLoss(disposed output)', 'readLoss', ['disposed'], () =>
    readLoss({ state: { output: disposedTensor() } } as any),
  );
  add('supervised', 'trainer step on a batch [x] (no y)', 'prepareBatch', ['[x, y]', 'length 1'], async () => {
    const trainer = createSupervisedTrainer(
      model(),
      sgd(),
      (p: tf.Tensor, y: tf.Tensor) => tf.losses.meanSquaredError(y, p) as tf.Scalar,
    );
    await trainer.run([[tf.zeros([2, 2])]] as any, { maxEpochs: 1 });
  });

  // ---------------------------------------------------------------- browser layer (no DOM needed)
  add('browser', 'new ChartFeed({ sink: 5 })', 'ChartFeed', ['5'], () => new ChartFeed({ sink: 5 as any }));
  add('browser', 'animationFrameScheduler(5)', 'animationFrameScheduler', ['5'], () =>
    animationFrameScheduler(5 as any),
  );
  add('browser', "chartFeed.push('loss', '1', 2)", 'ChartFeed.push', ["'1'"], () =>
    new ChartFeed({ sink: noop, scheduler: () => noop }).push('loss', '1' as any, 2),
  );
  add('browser', "chartFeed.push('__proto__', 1, 2)", 'ChartFeed.push', ["'__proto__'"], () =>
    new ChartFeed({ sink: noop, scheduler: () => noop }).push('__proto__', 1, 2),
  );
  const feed = () => {
    const f = new ChartFeed({ sink: noop, scheduler: () => noop });
    f.push('loss', 1, 0.5);
    return f;
  };
  const cf = (name: string, mentions: readonly string[], mutate: (sd: Record<string, any>) => unknown) =>
    cases.push(
      loadCase('browser', `ChartFeed.loadStateDict(${name})`, 'ChartFeed.loadStateDict', mentions, feed, mutate),
    );
  cf('x and y of different lengths (after a good series)', ['acc'], (sd) => {
    sd.series.acc = { x: [1, 2], y: [1] };
  });
  cf("x: ['1']", ['"1"'], (sd) => {
    sd.series.loss.x = ['1'];
  });
  cf('series __proto__', ["'__proto__'"], () => JSON.parse('{"series": {"__proto__": {"x": [1], "y": [1]}}}'));
  cf('unknown key', ["'points'"], (sd) => {
    sd.points = [];
  });
  add('browser', 'formatProgressLine(undefined)', 'formatProgressLine', ['undefined'], () =>
    formatProgressLine(undefined as any),
  );
  add('browser', 'formatProgressLine({})', 'formatProgressLine', ['{}'], () => formatProgressLine({} as any));
  add('browser', 'formatProgressText(null)', 'formatProgressText', ['null'], () => formatProgressText(null as any));

  // ---------------------------------------------------------------- metrics on an engine
  add('metric on engine', 'Accuracy.attach(engine, "acc", { STARTED: 5 })', 'Accuracy.attach', ['5'], () =>
    new Accuracy().attach(engineOf(), 'acc', {
      usageName: 'x',
      STARTED: 5,
      ITERATION_COMPLETED: 5,
      COMPLETED: 5,
    } as any),
  );
  add('metric on engine', 'BatchWise is not a name', 'Accuracy.attach', ['BatchWise'], () =>
    new Accuracy().attach(engineOf(), 'acc', 'BatchWise' as any),
  );

  // ---------------------------------------------------------------- state schedulers, ParamGroupScheduler, common/
  const exp = () => new ExpStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.9, createNew: true });
  const step = () =>
    new StepStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.5, stepSize: 2, createNew: true });
  const multi = () =>
    new MultiStepStateScheduler({
      paramName: 'alpha',
      initialValue: 1,
      gamma: 0.5,
      milestones: [2, 4],
      createNew: true,
    });
  const state = (name: string, where: string, mentions: readonly string[], act: () => unknown) =>
    add('state schedulers', name, where, mentions, act);
  state(
    'new ExpStateScheduler({ ..., gama: 0.9 })',
    'ExpStateScheduler',
    ["'gama'", 'gamma'],
    () => new ExpStateScheduler({ paramName: 'alpha', initialValue: 1, gama: 0.9 } as any),
  );
  state('new ExpStateScheduler(null)', 'ExpStateScheduler', ['null'], () => new ExpStateScheduler(null as any));
  state(
    'new ExpStateScheduler({ ..., gamma: NaN })',
    'ExpStateScheduler',
    ['gamma', 'NaN'],
    () => new ExpStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: Number.NaN }),
  );
  state(
    "new ExpStateScheduler({ paramName: '__proto__', createNew: true })",
    'ExpStateScheduler',
    ["'__proto__'"],
    () => new ExpStateScheduler({ paramName: '__proto__', initialValue: 1, gamma: 0.9, createNew: true }),
  );
  state(
    "new ExpStateScheduler({ paramName: 'iteration' })",
    'ExpStateScheduler',
    ["'iteration'"],
    () => new ExpStateScheduler({ paramName: 'iteration', initialValue: 1, gamma: 0.9 }),
  );
  state(
    'new StepStateScheduler({ ..., stepSize: 0 })',
    'StepStateScheduler',
    ['stepSize', '0'],
    () => new StepStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.5, stepSize: 0 }),
  );
  state(
    'new MultiStepStateScheduler({ ..., milestones: [4, 2] })',
    'MultiStepStateScheduler',
    ['milestones', '4'],
    () => new MultiStepStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.5, milestones: [4, 2] }),
  );
  state(
    'new LambdaStateScheduler(5, { paramName })',
    'LambdaStateScheduler',
    ['5'],
    () => new LambdaStateScheduler(5 as any, { paramName: 'alpha' }),
  );
  state(
    'new PiecewiseLinearStateScheduler({ milestonesValues: [] })',
    'PiecewiseLinearStateScheduler',
    ['[]'],
    () => new PiecewiseLinearStateScheduler({ paramName: 'alpha', milestonesValues: [] }),
  );
  state('expStateScheduler.attach({})', 'ExpStateScheduler.attach', ['{}'], () => exp().attach({} as any));
  const stateLoad = <T extends { stateDict(): unknown; loadStateDict(sd: any): unknown }>(
    name: string,
    where: string,
    mentions: readonly string[],
    make: () => T,
    mutate: (sd: Record<string, any>) => unknown,
  ) => cases.push(loadCase('state scheduler state dict', name, where, mentions, make, mutate));
  stateLoad(
    'ExpStateScheduler.loadStateDict(eventIndex: NaN)',
    'ExpStateScheduler.loadStateDict',
    ['eventIndex', 'NaN'],
    exp,
    (sd) => {
      sd.eventIndex = Number.NaN;
    },
  );
  stateLoad(
    'ExpStateScheduler.loadStateDict(eventIndex: 2 ** 53)',
    'ExpStateScheduler.loadStateDict',
    ['9007199254740992'],
    exp,
    (sd) => {
      sd.eventIndex = 2 ** 53;
    },
  );
  stateLoad(
    'ExpStateScheduler.loadStateDict(gamma: Infinity)',
    'ExpStateScheduler.loadStateDict',
    ['gamma', 'Infinity'],
    exp,
    (sd) => {
      sd.gamma = Number.POSITIVE_INFINITY;
    },
  );
  stateLoad(
    "ExpStateScheduler.loadStateDict(paramName: 'beta')",
    'ExpStateScheduler.loadStateDict',
    ["'beta'"],
    exp,
    (sd) => {
      sd.paramName = 'beta';
    },
  );
  stateLoad(
    'ExpStateScheduler.loadStateDict(unknown key gama)',
    'ExpStateScheduler.loadStateDict',
    ["'gama'"],
    exp,
    (sd) => {
      sd.gama = 1;
    },
  );
  stateLoad('ExpStateScheduler.loadStateDict(null)', 'ExpStateScheduler.loadStateDict', ['null'], exp, () => null);
  stateLoad(
    'StepStateScheduler.loadStateDict(stepSize: 0)',
    'StepStateScheduler.loadStateDict',
    ['stepSize', '0'],
    step,
    (sd) => {
      sd.stepSize = 0;
    },
  );
  stateLoad(
    'StepStateScheduler.loadStateDict(saveHistory: 1)',
    'StepStateScheduler.loadStateDict',
    ['saveHistory', '1'],
    step,
    (sd) => {
      sd.saveHistory = 1;
    },
  );
  stateLoad(
    'MultiStepStateScheduler.loadStateDict(milestones: [4, 2])',
    'MultiStepStateScheduler.loadStateDict',
    ['milestones', '4'],
    multi,
    (sd) => {
      sd.milestones = [4, 2];
    },
  );
  stateLoad(
    'MultiStepStateScheduler.loadStateDict(milestones: [NaN])',
    'MultiStepStateScheduler.loadStateDict',
    ['NaN'],
    multi,
    (sd) => {
      sd.milestones = [Number.NaN];
    },
  );

  const group = () =>
    new ParamGroupScheduler({
      schedulers: [
        new CosineAnnealingScheduler({ learningRate: 0.1 }, { startValue: 0.1, endValue: 0.01, cycleSize: 4 }),
        new LinearCyclicalScheduler({ learningRate: 0.1 }, { startValue: 0.1, endValue: 0.01, cycleSize: 4 }),
      ],
      names: ['a', 'b'],
    });
  state(
    'new ParamGroupScheduler({ schedulers: [5] })',
    'ParamGroupScheduler',
    ['5'],
    () => new ParamGroupScheduler({ schedulers: [5 as any] }),
  );
  state(
    "new ParamGroupScheduler({ ..., names: ['a', 'a'] })",
    'ParamGroupScheduler',
    ["'a'"],
    () => new ParamGroupScheduler({ schedulers: group().schedulers as any, names: ['a', 'a'] }),
  );
  state(
    'new ParamGroupScheduler({ ..., name: [] })',
    'ParamGroupScheduler',
    ["'name'"],
    () => new ParamGroupScheduler({ schedulers: group().schedulers as any, name: [] } as any),
  );
  cases.push(
    loadCase(
      'state scheduler state dict',
      "ParamGroupScheduler.loadStateDict(b's eventIndex: NaN), a's state fine",
      'ParamGroupScheduler.loadStateDict',
      ["scheduler 'b'", 'LinearCyclicalScheduler.loadStateDict', 'eventIndex', 'NaN'],
      group,
      (sd) => {
        sd.schedulers[0][1].eventIndex = 3;
        sd.schedulers[1][1].eventIndex = Number.NaN;
      },
    ),
  );
  cases.push(
    loadCase(
      'state scheduler state dict',
      'ParamGroupScheduler.loadStateDict(unknown name c)',
      'ParamGroupScheduler.loadStateDict',
      ["'c'"],
      group,
      (sd) => {
        sd.schedulers[1][0] = 'c';
      },
    ),
  );

  const common = (name: string, where: string, mentions: readonly string[], act: () => unknown) =>
    add('common', name, where, mentions, act);
  common('setupCommonTrainingHandlers(5)', 'setupCommonTrainingHandlers', ['5'], () =>
    setupCommonTrainingHandlers(5 as any),
  );
  common('setupCommonTrainingHandlers(trainer, { saveEvery: 0 })', 'setupCommonTrainingHandlers', ["'saveEvery'"], () =>
    setupCommonTrainingHandlers(engineOf(), { saveEvery: 0 } as any),
  );
  common('saveBestModelByValScore(null)', 'saveBestModelByValScore', ['null'], () =>
    saveBestModelByValScore(null as any),
  );
  common('addEarlyStoppingByValScore({ patience: NaN, ... })', 'addEarlyStoppingByValScore', ['patience', 'NaN'], () =>
    addEarlyStoppingByValScore({ patience: Number.NaN, evaluator: engineOf(), trainer: engineOf(), metricName: 'acc' }),
  );
  common('addEarlyStoppingByValScore({ evaluator: {}, ... })', 'addEarlyStoppingByValScore', ['{}'], () =>
    addEarlyStoppingByValScore({ patience: 2, evaluator: {} as any, trainer: engineOf(), metricName: 'acc' }),
  );

  // ---------------------------------------------------------------- a third sweep (after the merge of main)
  const third = (name: string, where: string, mentions: readonly string[], act: () => unknown) =>
    add('third sweep', name, where, mentions, act);
  third('engine.run([1], { epochLength: 0 })', 'Engine.run', ['epochLength', '0'], () =>
    engineOf().run([1], { epochLength: 0 }),
  );
  third(
    'new DeterministicEngine(5)',
    'DeterministicEngine',
    ['processFunction', '5'],
    () => new DeterministicEngine(5 as any),
  );
  third(
    "new ProgressBar({ persist: 'yes' })",
    'ProgressBar',
    ['persist', "'yes'"],
    () => new ProgressBar({ persist: 'yes' as any }),
  );
  third(
    "new DataLoader([1, 2], { dropLast: 'yes' })",
    'DataLoader',
    ['dropLast', "'yes'"],
    () => new DataLoader([1, 2], { batchSize: 2, dropLast: 'yes' as any }),
  );
  third('Events.ITERATION_COMPLETED({ once: [1, 1.5] })', 'Events.ITERATION_COMPLETED(...)', ['1.5'], () =>
    Events.ITERATION_COMPLETED({ once: [1, 1.5] }),
  );
  third('EarlyStopping whose scoreFunction returns a string', 'EarlyStopping', ["'a'"], async () => {
    const evaluator = engineOf();
    new EarlyStopping({ patience: 2, scoreFunction: () => 'a' as any, trainer: engineOf() }).attach(evaluator);
    await evaluator.run([1], { maxEpochs: 1 });
  });
  third(
    'new ReduceLROnPlateauScheduler(opt, { factor: 1 })',
    'ReduceLROnPlateauScheduler',
    ['factor', '1'],
    () => new ReduceLROnPlateauScheduler(sgd(), { metricName: 'loss', factor: 1 }),
  );
  third(
    'new PiecewiseLinear(opt, { milestonesValues: [[0, NaN], [2, 1]] })',
    'PiecewiseLinear',
    ['NaN'],
    () =>
      new PiecewiseLinear(sgd(), {
        milestonesValues: [
          [0, Number.NaN],
          [2, 1],
        ],
      }),
  );
  third(
    'new TensorDataset(x of 4 rows, y of 3)',
    'TensorDataset',
    ['[4, 2]', '[3]'],
    () => new TensorDataset(tf.zeros([4, 2]), tf.zeros([3])),
  );
  third("engine.stateDictUserKeys = ['constructor']; engine.stateDict()", 'Engine.stateDict', ["'constructor'"], () => {
    const engine = engineOf();
    engine.stateDictUserKeys.push('constructor');
    return engine.stateDict();
  });
  third('Checkpoint.loadObjects(engine entry iteration 1e300)', 'Checkpoint.loadObjects', ['1e+300'], () =>
    Checkpoint.loadObjects({
      toLoad: { engine: engineOf() },
      checkpoint: { engine: { iteration: 1e300, epochLength: 1, maxEpochs: 1 } },
    }),
  );
  third('new TerminateOnNan().attach(engine, 5)', 'TerminateOnNan.attach', ['argument event', '5'], () =>
    new TerminateOnNan().attach(engineOf(), 5 as any),
  );
  third("new EarlyStopping(...).attach(engine, 'nope')", 'EarlyStopping.attach', ["'nope'"], () =>
    new EarlyStopping({ patience: 1, scoreFunction: () => 0, trainer: engineOf() }).attach(engineOf(), 'nope'),
  );
  const store = () => new EpochOutputStore();
  for (const [name, mentions, mutate] of [
    ['data: 5', ["'data'", '5'], (sd: Record<string, any>) => ({ ...sd, data: 5 })],
    ['unknown entry', ["'extra'"], (sd: Record<string, any>) => ({ ...sd, extra: 1 })],
    ['a function in data', ['data[0]', 'function'], (sd: Record<string, any>) => ({ ...sd, data: [() => 1] })],
    [
      'a stored tensor of the wrong size',
      ['data[0]'],
      (sd: Record<string, any>) => ({
        ...sd,
        data: [{ kind: 'tfjs-tensor', shape: [2], dtype: 'float32', data: [1] }],
      }),
    ],
  ] as const) {
    cases.push(
      loadCase(
        'handler state dict',
        `EpochOutputStore.loadStateDict(${name})`,
        'EpochOutputStore.loadStateDict',
        mentions,
        store,
        mutate,
      ),
    );
  }
  third('resumeOrStart(null)', 'resumeOrStart', ['null'], () => resumeOrStart(null as any));

  // ---------------------------------------------------------------- a second sweep: the rest of the API
  const hunt = (name: string, where: string, mentions: readonly string[], act: () => unknown) =>
    add('more', name, where, mentions, act);
  const lin = () => tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [2] })] });
  hunt('new MetricGroup(5)', 'MetricGroup', ['5'], () => new MetricGroup(5 as any));
  hunt('new MetricGroup({ a: 5 })', 'MetricGroup', ['5'], () => new MetricGroup({ a: 5 } as any));
  hunt(
    "new MetricGroup({ ['__proto__']: acc })",
    'MetricGroup',
    ["'__proto__'"],
    () => new MetricGroup(Object.defineProperty({}, '__proto__', { value: new Accuracy(), enumerable: true })),
  );
  hunt('new EpochMetric(5)', 'EpochMetric', ['5'], () => new EpochMetric(5 as any));
  hunt(
    'new EpochMetric(fn, { bogus: 1 })',
    'EpochMetric',
    ["'bogus'"],
    () => new EpochMetric(noop as any, { bogus: 1 } as any),
  );
  hunt('new Bleu({ ngram: 0 })', 'Bleu', ['0'], () => new Bleu({ ngram: 0 }));
  hunt("new Bleu({ smooth: 'laplace' })", 'Bleu', ["'laplace'"], () => new Bleu({ smooth: 'laplace' as any }));
  hunt("new Rouge({ variants: ['X'] })", 'Rouge', ['"X"'], () => new Rouge({ variants: ['X' as any] }));
  hunt('new Rouge({ alpha: 2 })', 'Rouge', ['2'], () => new Rouge({ alpha: 2 }));
  hunt('bleu.update(5)', 'Bleu', ['5'], () => new Bleu().update(5 as any));
  hunt('new PSNR()', 'PSNR', ['undefined'], () => new (PSNR as any)());
  hunt('new PSNR({ dataRange: 0 })', 'PSNR', ['0'], () => new PSNR({ dataRange: 0 }));
  hunt(
    'new SSIM({ dataRange: 1, kernelSize: 4 })',
    'SSIM',
    ['4'],
    () => new SSIM({ dataRange: 1, kernelSize: 4 } as any),
  );
  hunt('new SSIM({ dataRange: NaN })', 'SSIM', ['NaN'], () => new SSIM({ dataRange: Number.NaN }));
  hunt('psnr.update([disposed, disposed])', 'PSNR', ['disposed'], () =>
    new PSNR({ dataRange: 1 }).update([disposedTensor(), disposedTensor()]),
  );
  hunt(
    'new ClassificationReport({ beta: -1 })',
    'ClassificationReport',
    ['-1'],
    () => new ClassificationReport({ beta: -1 }),
  );
  hunt(
    "new ClassificationReport({ labels: ['__proto__', 'b'] })",
    'ClassificationReport',
    ["'__proto__'"],
    () => new ClassificationReport({ labels: ['__proto__', 'b'] }),
  );
  hunt(
    "new ClassificationReport({ labels: ['a', 'a'] })",
    'ClassificationReport',
    ["'a'"],
    () => new ClassificationReport({ labels: ['a', 'a'] }),
  );
  hunt('new CohenKappa({ numClasses: 1 })', 'CohenKappa', ['1'], () => new CohenKappa({ numClasses: 1 }));
  hunt(
    'new MultiLabelConfusionMatrix({ numClasses: 0 })',
    'MultiLabelConfusionMatrix',
    ['0'],
    () => new MultiLabelConfusionMatrix({ numClasses: 0 }),
  );
  hunt(
    "new RocCurve({ dropIntermediate: 'no' })",
    'RocCurve',
    ["'no'"],
    () => new RocCurve({ dropIntermediate: 'no' as any }),
  );
  hunt('new Frequency({ now: 5 })', 'Frequency', ['5'], () => new Frequency({ now: 5 as any }));
  hunt(
    'new VariableAccumulation(5, ...)',
    'VariableAccumulation',
    ['5'],
    () => new (VariableAccumulation as any)(5, noop),
  );
  hunt('new EMAHandler(5)', 'EMAHandler', ['5'], () => new EMAHandler(5 as any));
  hunt('new EMAHandler(model, { momentum: 2 })', 'EMAHandler', ['2'], () => new EMAHandler(lin(), { momentum: 2 }));
  hunt("emaHandler.attach(engine, '__proto__')", 'EMAHandler.attach', ["'__proto__'"], () =>
    new EMAHandler(lin()).attach(engineOf(), '__proto__'),
  );
  hunt('emaHandler.loadStateDict({ step: NaN, weights })', 'EMAHandler.loadStateDict', ['NaN'], async () => {
    const handler = new EMAHandler(lin());
    const sd = await handler.stateDict();
    await handler.loadStateDict({ ...sd, step: Number.NaN });
  });
  hunt('new TimeLimit({ limitSec: -1 })', 'TimeLimit', ['-1'], () => new TimeLimit({ limitSec: -1 }));
  hunt('new TimeLimit({ limitSec: NaN })', 'TimeLimit', ['NaN'], () => new TimeLimit({ limitSec: Number.NaN }));
  hunt('timeLimit.attach({})', 'TimeLimit.attach', ['{}'], () => new TimeLimit().attach({} as any));
  hunt(
    'new EventLoopYielder({ budgetMs: -1 })',
    'EventLoopYielder',
    ['-1'],
    () => new EventLoopYielder({ budgetMs: -1 }),
  );
  hunt('new OutputHandler({ tag: 5 })', 'OutputHandler', ['5'], () => new OutputHandler({ tag: 5 as any }));
  hunt(
    "new OutputHandler({ tag: 'train', metricNames: 'some' })",
    'OutputHandler',
    ["'some'"],
    () => new OutputHandler({ tag: 'train', metricNames: 'some' as any }),
  );
  hunt(
    'new TensorboardLogger({ logDir: 5 })',
    'TensorboardLogger',
    ['5'],
    () => new TensorboardLogger({ logDir: 5 as any }),
  );
  hunt('new CSVLogger({ path: 5 })', 'CSVLogger', ['5'], () => new CSVLogger({ path: 5 as any }));
  hunt('new WeightsScalarHandler(5)', 'WeightsScalarHandler', ['5'], () => new WeightsScalarHandler(5 as any));
  hunt(
    'new OptimizerParamsHandler({ optimizer: 5 })',
    'OptimizerParamsHandler',
    ['5'],
    () => new OptimizerParamsHandler({ optimizer: 5 as any }),
  );
  hunt('createSupervisedTbpttTrainer(..., { tbpttStep: 0 })', 'createSupervisedTbpttTrainer', ['0'], () =>
    createSupervisedTbpttTrainer(lin(), sgd(), () => tf.scalar(0), { tbpttStep: 0 }),
  );
  hunt("selectBackend({ prefer: 'tpu' })", 'selectBackend', ["'tpu'"], () => selectBackend({ prefer: 'tpu' as any }));
  hunt('new FastaiLRFinder().attach(trainer, {}) without toSave', 'FastaiLRFinder', ['toSave'], () =>
    new FastaiLRFinder().attach(engineOf(), {} as any, {} as any),
  );
  hunt(
    'new ScalarHistory({ onValues, maxReadsInFlight: 0 })',
    'ScalarHistory',
    ['0'],
    () => new ScalarHistory({ onValues: noop, maxReadsInFlight: 0 }),
  );
  hunt('resumeOrStart({ saver, toLoad: {} })', 'resumeOrStart', ['empty'], () =>
    resumeOrStart({ saver: new MemorySaver(), toLoad: {} }),
  );
  hunt("engine.stateDictUserKeys = ['__proto__']; engine.stateDict()", 'Engine.stateDict', ["'__proto__'"], () => {
    const engine = engineOf();
    engine.stateDictUserKeys.push('__proto__');
    return engine.stateDict();
  });
  hunt(
    'engine.state.metrics polluted through a metric name of a MetricGroup',
    'MetricGroup',
    ["'constructor'"],
    () => new MetricGroup({ constructor: new Accuracy() } as any),
  );
  hunt('DataLoader collate returning a promise in a sync iteration', 'DataLoader', ['collate', 'promise'], () => {
    const loader = new DataLoader([1, 2], { collate: async (items: number[]) => items });
    for (const _b of loader) break;
  });
  return cases;
}
