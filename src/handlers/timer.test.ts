import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import { Timer } from './timer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A clock the test moves by hand, in milliseconds. */
function fakeClock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('Timer', () => {
  it('measures total time with pause and resume', () => {
    const clock = fakeClock();
    const timer = new Timer({ now: clock.now });
    clock.advance(500);
    expect(timer.value()).toBe(0.5);
    timer.pause();
    clock.advance(2000); // not counted
    expect(timer.value()).toBe(0.5);
    timer.pause(); // no effect when already paused
    timer.resume();
    clock.advance(250);
    expect(timer.value()).toBe(0.75);
    timer.resume(); // no effect when running
    expect(timer.value()).toBe(0.75);
    timer.reset();
    expect(timer.value()).toBe(0);
    expect(timer.isRunning).toBe(true);
  });

  it('averages over steps', () => {
    const clock = fakeClock();
    const timer = new Timer({ average: true, now: clock.now });
    for (let i = 0; i < 4; i++) {
      clock.advance(100);
      timer.step();
    }
    expect(timer.stepCount).toBe(4);
    expect(timer.value()).toBeCloseTo(0.1, 12);
    const noSteps = new Timer({ average: true, now: clock.now });
    clock.advance(300);
    expect(noSteps.value()).toBeCloseTo(0.3, 12); // divided by max(0, 1)
  });

  it('measures the average processing time of an iteration when attached', async () => {
    const clock = fakeClock();
    const trainer = new Engine(() => {
      clock.advance(10); // processing
    });
    const timer = new Timer({ average: true, now: clock.now }).attach(trainer, {
      start: Events.EPOCH_STARTED,
      resume: Events.ITERATION_STARTED,
      pause: Events.ITERATION_COMPLETED,
      step: Events.ITERATION_COMPLETED,
    });
    trainer.on(Events.ITERATION_COMPLETED, () => {
      clock.advance(5); // a later handler: outside resume..pause
    });
    const perEpoch: number[] = [];
    trainer.on(Events.EPOCH_COMPLETED, () => perEpoch.push(timer.value()));
    const before = tf.memory().numTensors;
    await trainer.run([1, 2, 3, 4], { maxEpochs: 2 });
    expect(perEpoch.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0.01, 0.01]);
    expect(timer.stepCount).toBe(4);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('defaults to STARTED..COMPLETED and measures with the real clock', async () => {
    const trainer = new Engine(async () => {
      await new Promise((resolve) => setTimeout(resolve, 15));
    });
    const timer = new Timer().attach(trainer);
    await trainer.run([1, 2], { maxEpochs: 1 });
    expect(timer.isRunning).toBe(false);
    expect(timer.value()).toBeGreaterThanOrEqual(0.025);
    expect(timer.value()).toBeLessThan(5);
  });

  it('rejects bad options', () => {
    expect(() => new Timer({ average: 1 as any })).toThrow(/average should be a boolean/);
    expect(() => new Timer({ now: 5 as any })).toThrow(/now should be a function/);
  });

  it('an event the engine refuses names Timer and the option, and leaves nothing attached', async () => {
    const clock = fakeClock();
    const timer = new Timer({ now: clock.now });
    clock.advance(5000);
    const engine = new Engine(() => 0);
    expect(() => timer.attach(engine, { start: Events.STARTED, pause: 'bad_event' })).toThrow(
      "Timer.attach: option pause was refused: Engine.addEventHandler: event 'bad_event' is not a valid event for this Engine. Register it first with engine.registerEvents([...]).",
    );
    await engine.run([1, 2], { maxEpochs: 1 });
    expect(timer.value()).toBe(5); // the start handler (reset at STARTED) was taken off again
  });
});
