import * as tf from '@tensorflow/tfjs';
import { describe, expectTypeOf, it } from 'vitest';
import { Engine, type Handler, type RemovableEventHandle } from '../engine';
import {
  type Checkpoint,
  CosineAnnealingScheduler,
  type EarlyStopping,
  ExpStateScheduler,
  LambdaStateScheduler,
  ParamGroupScheduler,
  type SimulatedGroupValues,
  type SimulatedValue,
  type Stateful,
  StepStateScheduler,
} from '../handlers';
import { MemorySaver } from '../storage';
import {
  addEarlyStoppingByValScore,
  type CommonTrainingHandlers,
  saveBestModelByValScore,
  setupCommonTrainingHandlers,
} from '.';

describe('types of the state schedulers, ParamGroupScheduler and the common setup', () => {
  it('are handlers and Stateful, and return what they attached', () => {
    const trainer = new Engine<number[], number>(() => 0);
    const evaluator = new Engine(() => 0);
    const optimizer = tf.train.sgd(0.1);
    const state = new ExpStateScheduler({ paramName: 'alpha', initialValue: 1, gamma: 0.9, createNew: true });
    const group = new ParamGroupScheduler({
      schedulers: [new CosineAnnealingScheduler(optimizer, { startValue: 0.1, endValue: 0, cycleSize: 10 })],
    });
    expectTypeOf(state).toMatchTypeOf<Handler>();
    expectTypeOf(state).toMatchTypeOf<Stateful>();
    expectTypeOf(group).toMatchTypeOf<Handler>();
    expectTypeOf(group).toMatchTypeOf<Stateful>();
    expectTypeOf(state.attach(trainer)).toEqualTypeOf<ExpStateScheduler>();
    expectTypeOf(group.attach(trainer)).toEqualTypeOf<ParamGroupScheduler>();
    expectTypeOf(ExpStateScheduler.simulateValues).returns.toEqualTypeOf<SimulatedValue[]>();
    expectTypeOf(ParamGroupScheduler.simulateValues).returns.toEqualTypeOf<SimulatedGroupValues[]>();
    const common = setupCommonTrainingHandlers(trainer, { outputNames: ['loss'], withPbars: false });
    expectTypeOf(common).toEqualTypeOf<CommonTrainingHandlers>();
    expectTypeOf(common).toMatchTypeOf<RemovableEventHandle>();
    const saver = new MemorySaver();
    const model = { stateDict: () => ({}), loadStateDict: () => {} };
    expectTypeOf(saveBestModelByValScore({ saver, evaluator, model, metricName: 'acc' })).toEqualTypeOf<Checkpoint>();
    expectTypeOf(
      addEarlyStoppingByValScore({ patience: 2, evaluator, trainer, metricName: 'acc' }),
    ).toEqualTypeOf<EarlyStopping>();
  });

  it('rejects misuse at compile time', () => {
    const trainer = new Engine(() => 0);
    // @ts-expect-error paramName is required
    new ExpStateScheduler({ initialValue: 1, gamma: 0.9 });
    // @ts-expect-error stepSize is required
    new StepStateScheduler({ paramName: 'a', initialValue: 1, gamma: 0.9 });
    // @ts-expect-error lambdaFn returns a number
    new LambdaStateScheduler((n: number) => `${n}`, { paramName: 'a' });
    // @ts-expect-error scoreSign is 1 or -1
    addEarlyStoppingByValScore({ patience: 1, evaluator: trainer, trainer, metricName: 'acc', scoreSign: 2 });
    // @ts-expect-error a Saver, not a path
    setupCommonTrainingHandlers(trainer, { outputPath: '/tmp/run' });
    const stateScheduler = new ExpStateScheduler({ paramName: 'a', initialValue: 1, gamma: 1 });
    // @ts-expect-error lrScheduler is an optimizer scheduler or a group
    setupCommonTrainingHandlers(trainer, { lrScheduler: stateScheduler });
  });
});
