import * as tf from '@tensorflow/tfjs';
import { describe, expectTypeOf, it } from 'vitest';
import { Engine, Events, type Handler } from '../engine';
import type { Stateful } from './checkpoint';
import { EarlyStopping } from './early-stopping';
import {
  type ConcatScheduler,
  CosineAnnealingScheduler,
  createLrSchedulerWithWarmup,
  LinearCyclicalScheduler,
  PiecewiseLinear,
  ReduceLROnPlateauScheduler,
  type SimulatedValue,
} from './param-scheduler';
import { ProgressBar } from './progress-bar';
import { TerminateOnNan } from './terminate-on-nan';
import { Timer } from './timer';

describe('handler types', () => {
  it('handlers can be added to an engine and schedulers and EarlyStopping can be checkpointed', () => {
    const trainer = new Engine<number[], number>(() => 0);
    const optimizer = tf.train.sgd(0.1);
    const stopper = new EarlyStopping({ patience: 2, scoreFunction: (e) => e.state.metrics.acc, trainer });
    const scheduler = new CosineAnnealingScheduler(optimizer, { startValue: 0.1, endValue: 0, cycleSize: 10 });
    expectTypeOf(stopper).toMatchTypeOf<Handler>();
    expectTypeOf(new TerminateOnNan()).toMatchTypeOf<Handler>();
    expectTypeOf(scheduler).toMatchTypeOf<Handler>();
    expectTypeOf(stopper).toMatchTypeOf<Stateful>();
    expectTypeOf(scheduler).toMatchTypeOf<Stateful>();
    expectTypeOf(
      createLrSchedulerWithWarmup(scheduler, { warmupStartValue: 0, warmupDuration: 5 }),
    ).toEqualTypeOf<ConcatScheduler>();
    expectTypeOf(new Timer().attach(trainer, { step: Events.ITERATION_COMPLETED })).toEqualTypeOf<Timer>();
    expectTypeOf(new ProgressBar().attach(trainer)).toEqualTypeOf<ProgressBar>();
    expectTypeOf(LinearCyclicalScheduler.simulateValues).returns.toEqualTypeOf<SimulatedValue[]>();
    expectTypeOf(PiecewiseLinear.simulateValues).returns.toEqualTypeOf<SimulatedValue[]>();
    expectTypeOf(ReduceLROnPlateauScheduler.simulateValues).returns.toEqualTypeOf<SimulatedValue[]>();
  });

  it('rejects misuse at compile time', () => {
    const trainer = new Engine(() => 0);
    // @ts-expect-error patience is required
    new EarlyStopping({ scoreFunction: () => 1, trainer });
    // @ts-expect-error mode is 'min' | 'max'
    new EarlyStopping({ patience: 1, scoreFunction: () => 1, trainer, mode: 'up' });
    // @ts-expect-error cycleSize is required
    new LinearCyclicalScheduler(tf.train.adam(), { startValue: 0, endValue: 1 });
    // @ts-expect-error metricNames is an array or 'all'
    new ProgressBar().attach(trainer, { metricNames: 'acc' });
  });
});
