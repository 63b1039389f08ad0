// Error messages name kindling's classes literally in the built package too. `npm run build` minifies dist/index.js;
// the build keeps class names (output.keepNames), but messages do not rely on that: each names its class in a string,
// so a subclass or a bundler that drops names still reads "LinearCyclicalScheduler: argument cycleSize ...". This runs
// the built package in a separate Node process, as a user's script would import it, and checks how each message
// starts. `npm test` builds before it runs the unit tests.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Each case: the literal start its message must have, and the code (run against dist/) that throws or rejects. */
const CASES: ReadonlyArray<readonly [string, string]> = [
  [
    'LinearCyclicalScheduler: argument cycleSize',
    'new LinearCyclicalScheduler(sgd, { startValue: 0, endValue: 1, cycleSize: 1 })',
  ],
  [
    'CosineAnnealingScheduler: argument startValue',
    'new CosineAnnealingScheduler(sgd, { startValue: NaN, endValue: 1, cycleSize: 4 })',
  ],
  ['PiecewiseLinear: argument milestonesValues', 'new PiecewiseLinear(sgd, { milestonesValues: [] })'],
  ['ConcatScheduler: argument schedulers', 'new ConcatScheduler({ schedulers: [], durations: [] })'],
  ['ReduceLROnPlateauScheduler: argument metricName', "new ReduceLROnPlateauScheduler(sgd, { metricName: '' })"],
  [
    'ParamScheduler: argument paramName',
    'new (class extends ParamScheduler { getParam() { return 0; } })(sgd, { paramName: 3 })',
  ],
  ['Accuracy: option isMultilabel', 'new Accuracy({ isMultilabel: 1 })'],
  ['MeanSquaredError: option outputTransform', 'new MeanSquaredError({ outputTransform: 3 })'],
  ['RootMeanSquaredError must have at least one example', 'await new RootMeanSquaredError().compute()'],
  ['Precision: option average', "new Precision({ average: 'mean' })"],
  ['RunningAverage: option alpha', 'new RunningAverage({ outputTransform: (x) => x, alpha: 2 })'],
  [
    'Metric.attach: argument name',
    "new (class extends Metric { reset() {} update() {} compute() { return 0; } })().attach(new Engine(() => 0), '')",
  ],
  ['Checkpoint: argument toSave', 'new Checkpoint({}, new MemorySaver())'],
  ['Checkpoint: argument nSaved', 'new Checkpoint({ a: { stateDict: () => ({}) } }, new MemorySaver(), { nSaved: 0 })'],
  [
    'EarlyStopping: argument patience',
    'new EarlyStopping({ patience: 0, scoreFunction: () => 0, trainer: new Engine(() => 0) })',
  ],
  ['Engine: argument processFunction', 'new Engine(3)'],
  ['Engine.run: argument maxEpochs', 'await new Engine(() => 0).run([1], { maxEpochs: 0 })'],
  ['Engine.addEventHandler: event', "new DeterministicEngine(() => 0).on('nope', () => {})"],
  ['DataLoader: option batchSize', 'new DataLoader([1, 2], { batchSize: 0 })'],
  ['Timer: option average', 'new Timer({ average: 1 })'],
  ['Timer.attach: option pause was refused', "new Timer().attach(new Engine(() => 0), { pause: 'bad' })"],
  ['ProgressBar: option minInterval', 'new ProgressBar({ minInterval: -1 })'],
  ['TerminateOnNan: option outputTransform', 'new TerminateOnNan({ outputTransform: 1 })'],
  ['ScalarHistory: option chunk', 'new ScalarHistory({ onValues: () => {}, chunk: 0 })'],
  [
    "CosineAnnealingScheduler.loadStateDict: state dict entry 'eventIndex'",
    'const s = new CosineAnnealingScheduler(sgd, { startValue: 1, endValue: 0, cycleSize: 4 }); s.loadStateDict({ ...s.stateDict(), eventIndex: NaN })',
  ],
  ['TerminateOnNan.attach: argument engine', 'new TerminateOnNan().attach({})'],
  ['Accuracy.attach: argument engine', "new Accuracy().attach({}, 'acc')"],
  [
    "Engine.loadStateDict: state dict entry 'iteration'",
    'new DeterministicEngine(() => 0).loadStateDict({ iteration: 7, epochLength: 2, maxEpochs: 3, seed: 1, rngStates: null })',
  ],
  [
    'ExpStateScheduler: argument gamma',
    "new kindling.ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: NaN })",
  ],
  [
    'StepStateScheduler.loadStateDict: required state dict entry',
    "new kindling.StepStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1, stepSize: 1 }).loadStateDict({})",
  ],
  [
    'LambdaStateScheduler.attach: engine.state has no attribute',
    "new kindling.LambdaStateScheduler((n) => n, { paramName: 'a' }).attach(new Engine(() => 0))",
  ],
  ['ParamGroupScheduler: argument schedulers', 'new kindling.ParamGroupScheduler({ schedulers: [] })'],
  [
    "setupCommonTrainingHandlers: unknown option 'outputPath'",
    "kindling.setupCommonTrainingHandlers(new Engine(() => 0), { outputPath: 'runs' })",
  ],
  [
    'saveBestModelByValScore: give exactly one',
    "kindling.saveBestModelByValScore({ saver: new MemorySaver(), evaluator: new Engine(() => 0), metricName: 'acc' })",
  ],
  // A kindling object given where another is expected is described by its class's own name: the build keeps class
  // names (vite.config.ts, output.keepNames), which minification would otherwise turn into "an instance of e".
  [
    'setupCommonTrainingHandlers: option lrScheduler should be an optimizer scheduler (e.g. CosineAnnealingScheduler) or a ParamGroupScheduler, got an instance of ExpStateScheduler.',
    "kindling.setupCommonTrainingHandlers(new Engine(() => 0), { lrScheduler: new kindling.ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1 }) })",
  ],
  [
    'addEarlyStoppingByValScore: option patience',
    "kindling.addEarlyStoppingByValScore({ patience: 0, evaluator: new Engine(() => 0), trainer: new Engine(() => 0), metricName: 'acc' })",
  ],
];

/** Runs every case against dist/ in one Node process; returns each message (or a note that nothing was thrown). */
function messagesFromDist(): string[] {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import * as kindling from 'kindling';
    const {
      Accuracy, Checkpoint, ConcatScheduler, CosineAnnealingScheduler, DataLoader, DeterministicEngine, EarlyStopping,
      Engine, LinearCyclicalScheduler, MeanSquaredError, MemorySaver, Metric, ParamScheduler, PiecewiseLinear, Precision,
      ProgressBar, ReduceLROnPlateauScheduler, RootMeanSquaredError, RunningAverage, ScalarHistory, TerminateOnNan, Timer,
    } = kindling;
    kindling.setLogger(kindling.silentLogger);
    const sgd = tf.train.sgd(0.1);
    const cases = [${CASES.map(([, code]) => `async () => { ${code}; }`).join(',\n')}];
    const messages = [];
    for (const run of cases) {
      try {
        await run();
        messages.push('(nothing was thrown)');
      } catch (error) {
        messages.push(String(error?.message ?? error));
      }
    }
    console.log(JSON.stringify(messages));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('error messages in the built package', () => {
  it('start with the literal class (or function) name, whatever the minifier did to the classes', () => {
    expect(
      existsSync(new URL('../dist/index.js', import.meta.url)),
      'dist/index.js is missing: run npm run build',
    ).toBe(true);
    const messages = messagesFromDist();
    expect(messages).toHaveLength(CASES.length);
    CASES.forEach(([start], i) => {
      expect(messages[i], `case ${i}: ${CASES[i]![1]}`).toMatch(
        new RegExp(`^${start.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      );
    });
  });
});
