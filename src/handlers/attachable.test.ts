// The plugin contract: every handler's attach(engine, ...) wires it with a default event, returns the handler, and
// the handler's remove() / detach(engine) / `using` take back exactly what attach added.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { EventLoopYielder } from '../browser';
import { Engine, Events, setLogger, silentLogger } from '../engine';
import { MemorySaver } from '../storage';
import { Checkpoint, CheckpointEvents } from './checkpoint';
import { EarlyStopping } from './early-stopping';
import { LinearCyclicalScheduler } from './param-scheduler';
import { ProgressBar } from './progress-bar';
import { ScalarHistory } from './scalar-history';
import { TerminateOnNan } from './terminate-on-nan';
import { Timer } from './timer';

beforeAll(async () => {
  await tf.setBackend('cpu');
  setLogger(silentLogger);
});

const counter = () => {
  let value = 0;
  return {
    stateDict: () => ({ value }),
    loadStateDict: (sd: { value: number }) => {
      value = sd.value;
    },
  };
};

describe('attach / remove', () => {
  it('each handler attaches on its default event and returns itself', async () => {
    const trainer = new Engine((e) => e.state.iteration);
    const saver = new MemorySaver();
    const optimizer = { learningRate: 1 };
    const checkpoint = new Checkpoint({ c: counter() }, saver);
    const scheduler = new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 2 });
    const values: number[] = [];
    const history = new ScalarHistory({ onValues: (_its, v) => values.push(...v), chunk: 1 });
    const nan = new TerminateOnNan();
    const yielder = new EventLoopYielder({ budgetMs: 0 });
    const rates: number[] = [];
    trainer.on(Events.ITERATION_STARTED, () => rates.push(optimizer.learningRate));
    expect(checkpoint.attach(trainer)).toBe(checkpoint);
    expect(scheduler.attach(trainer)).toBe(scheduler);
    expect(history.attach(trainer)).toBe(history);
    expect(nan.attach(trainer)).toBe(nan);
    expect(yielder.attach(trainer)).toBe(yielder);
    await trainer.run([0, 0], { maxEpochs: 2 });
    await history.flush();
    expect(await saver.list()).toEqual(['c_4.ckpt']); // EPOCH_COMPLETED, nSaved 1
    // Set at every ITERATION_STARTED (0, 1, 0, 1); the handler added before attach() sees the previous value.
    expect(rates).toEqual([1, 0, 1, 0]);
    expect(optimizer.learningRate).toBe(1);
    expect(values).toEqual([1, 2, 3, 4]); // ITERATION_COMPLETED
    expect(trainer.hasEventHandler(nan, Events.ITERATION_COMPLETED)).toBe(true);
    expect(trainer.hasEventHandler(yielder, Events.ITERATION_COMPLETED)).toBe(true);
  });

  it('remove() takes back everything attach() added, on every engine; detach(engine) on one', async () => {
    const a = new Engine(() => 0);
    const b = new Engine(() => 0);
    const nan = new TerminateOnNan().attach(a).attach(b);
    expect(a.hasEventHandler(nan)).toBe(true);
    nan.detach(a);
    expect(a.hasEventHandler(nan)).toBe(false);
    expect(b.hasEventHandler(nan, Events.ITERATION_COMPLETED)).toBe(true);
    nan.remove();
    expect(b.hasEventHandler(nan)).toBe(false);
    nan.remove(); // twice is harmless
    // its end-of-epoch checks went too: b runs with no handler of the TerminateOnNan left
    await b.run([Number.NaN], { maxEpochs: 1 });
    expect(b.state.iteration).toBe(1);
  });

  it('Timer and ProgressBar keep their option forms and are removable too', async () => {
    let t = 0;
    const trainer = new Engine(() => {
      t += 1000;
    });
    const timer = new Timer({ now: () => t }).attach(trainer, { step: Events.ITERATION_COMPLETED });
    const updates: number[] = [];
    const bar = new ProgressBar({ sink: { update: (info) => updates.push(info.n), close() {} }, minInterval: 0 });
    expect(bar.attach(trainer)).toBe(bar);
    await trainer.run([0, 0], { maxEpochs: 1 });
    expect(timer.stepCount).toBe(2);
    expect(updates).toEqual([1, 2]);
    timer.remove();
    bar.remove();
    await trainer.run([0, 0], { maxEpochs: 1 });
    expect(timer.stepCount).toBe(2);
    expect(updates).toEqual([1, 2]);
  });

  it('a using block removes the handler at its end', async () => {
    const trainer = new Engine(() => 0);
    const optimizer = { learningRate: 1 };
    {
      using scheduler = new LinearCyclicalScheduler(optimizer, { startValue: 0, endValue: 1, cycleSize: 2 }).attach(
        trainer,
      );
      expect(trainer.hasEventHandler(scheduler, Events.ITERATION_STARTED)).toBe(true);
    }
    await trainer.run([0], { maxEpochs: 1 });
    expect(optimizer.learningRate).toBe(1);
  });

  it('Checkpoint.attach registers SAVED_CHECKPOINT, so handlers can be added on it before the first save', async () => {
    const trainer = new Engine(() => 0);
    const checkpoint = new Checkpoint({ c: counter() }, new MemorySaver(), { nSaved: null });
    checkpoint.attach(trainer, Events.ITERATION_COMPLETED({ every: 2 }));
    const saved: number[] = [];
    trainer.on(CheckpointEvents.SAVED_CHECKPOINT({ every: 2 }), (e) => saved.push(e.state.iteration));
    await trainer.run([0, 0, 0, 0, 0, 0, 0, 0], { maxEpochs: 1 });
    expect(trainer.state.savedCheckpoint).toBe(4);
    expect(saved).toEqual([4, 8]);
    // the old form still works: added with on(), it registers the event at its first save
    const other = new Engine(() => 0);
    other.on(Events.EPOCH_COMPLETED, new Checkpoint({ c: counter() }, new MemorySaver()));
    await other.run([0], { maxEpochs: 2 });
    expect(other.state.savedCheckpoint).toBe(2);
  });

  it('EarlyStopping.attach watches the engine it is attached to at COMPLETED', async () => {
    const trainer = new Engine(() => 0);
    const evaluator = new Engine(() => 0);
    const stopper = new EarlyStopping({ patience: 1, scoreFunction: () => 0, trainer }).attach(evaluator);
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run([0], { maxEpochs: 1 });
    });
    await trainer.run([0], { maxEpochs: 5 });
    expect(trainer.state.epoch).toBe(2); // first score is the best, the second does not improve: stop
    expect(evaluator.hasEventHandler(stopper, Events.COMPLETED)).toBe(true);
  });
});
