import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceState } from './device-state';
import { useCpu } from './metric.test-util';

beforeAll(useCpu);

const readValues = async (state: DeviceState, name = 'x') => Array.from((await state.read()).get(name) ?? []);

describe('DeviceState', () => {
  it('sums tensors on the device and numbers on the host, reading once into float64', async () => {
    const state = new DeviceState('Test');
    const before = tf.memory().numTensors;
    tf.tidy(() => state.add({ x: tf.tensor1d([1, 2]) }));
    tf.tidy(() => state.add({ x: tf.tensor1d([10, 20]) }));
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(await readValues(state)).toEqual([11, 22]);
    expect(tf.memory().numTensors).toBe(before);
    state.add({ x: [0.5, 0.5] }); // host only
    expect(tf.memory().numTensors).toBe(before);
    expect(await readValues(state)).toEqual([11.5, 22.5]);
  });

  it('decays: value = value * decay + delta, mixing host and device parts', async () => {
    const state = new DeviceState('Test');
    state.add({ x: 4 }); // host 4
    tf.tidy(() => state.add({ x: tf.scalar(2) }, 0.5)); // 4 * 0.5 + 2 = 4
    state.add({ x: 1 }, 0.5); // 4 * 0.5 + 1 = 3 (device part exists: done on the device)
    expect(await readValues(state)).toEqual([3]);
    state.add({ x: 1 }, 0.5); // host: 3 * 0.5 + 1
    expect(await readValues(state)).toEqual([2.5]);
  });

  it('parallel reads see the same value; updates during a read count once, after it', async () => {
    const state = new DeviceState('Test');
    tf.tidy(() => state.add({ x: tf.scalar(3) }));
    const first = readValues(state);
    tf.tidy(() => state.add({ x: tf.scalar(1) }, 0.5)); // lands while the read is in flight
    state.add({ x: 1 }); // a number while a read is in flight goes to the device too
    const second = readValues(state);
    const third = readValues(state);
    expect(await first).toEqual([3]);
    expect(await second).toEqual([3 * 0.5 + 1 + 1]);
    expect(await third).toEqual([3 * 0.5 + 1 + 1]);
  });

  it('reset during a read discards it and frees everything', async () => {
    const state = new DeviceState('Test');
    const before = tf.memory().numTensors;
    tf.tidy(() => state.add({ x: tf.scalar(3), y: tf.tensor1d([1, 2, 3]) }));
    const pending = state.read();
    state.reset();
    await pending;
    expect(state.isEmpty).toBe(true);
    expect(await state.read()).toEqual(new Map());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('capture() resolves to the values at the call: reads in flight included, later updates and resets excluded', async () => {
    const state = new DeviceState('Test');
    const before = tf.memory().numTensors;
    state.add({ x: [4] }); // host
    tf.tidy(() => state.add({ x: tf.tensor1d([2]) }, 0.5)); // 4 * 0.5 + 2 = 4, on the device
    const reading = state.read(); // in flight: moves that part off the entry
    tf.tidy(() => state.add({ x: tf.tensor1d([1]) }, 0.5)); // 4 * 0.5 + 1 = 3
    const captured = state.capture();
    tf.tidy(() => state.add({ x: tf.tensor1d([100]) })); // after the call
    const afterReset = state.capture();
    state.reset();
    tf.tidy(() => state.add({ y: tf.tensor1d([7]) }));
    expect(await captured).toEqual({ x: { shape: [1], values: [3] } });
    expect(await afterReset).toEqual({ x: { shape: [1], values: [103] } });
    expect((await reading).has('x')).toBe(false); // a reset discards what read() returns (not what capture() took)
    expect(await state.capture()).toEqual({ y: { shape: [1], values: [7] } });
    expect(await new DeviceState('Empty').capture()).toEqual({});
    state.reset();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a change of shape and round-trips a snapshot', async () => {
    const state = new DeviceState('Test');
    state.add({ x: [1, 2] });
    expect(() => state.add({ x: [1, 2, 3] })).toThrow(
      /Test: this update's x has shape \[3\] but earlier updates had \[2\]/,
    );
    const copy = new DeviceState('Test');
    copy.restore(JSON.parse(JSON.stringify(state.snapshot())));
    expect(await readValues(copy)).toEqual([1, 2]);
    expect(() => copy.restore({ x: { shape: [3], values: [1] } })).toThrow(/should hold 3 numbers/);
    const scalar = tf.scalar(1);
    state.reset();
    state.add({ x: scalar });
    expect(() => state.snapshot()).toThrow(/not read back yet/);
    state.reset();
    scalar.dispose();
  });
});
