import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

import {
  ASYNC_ONLY,
  checkBoolean,
  checkEngine,
  checkFunction,
  checkInteger,
  checkKeyName,
  checkNumber,
  checkOneOf,
  checkOptions,
  checkStateDict,
  checkString,
  closestName,
  describeValue,
  hasSyncIterator,
  isPlainObject,
  isThenable,
  lengthOf,
  yieldToEventLoop,
  yieldWithinJob,
} from './index';

describe('describeValue', () => {
  it('describes each kind of value briefly', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(0)).toBe('0');
    expect(describeValue(-0)).toBe('-0');
    expect(describeValue(Number.NaN)).toBe('NaN');
    expect(describeValue('x')).toBe("'x'");
    expect(describeValue(2n)).toBe('2n');
    expect(describeValue(function fit() {})).toBe('a function fit');
    expect(describeValue(() => 1)).toBe('an anonymous function');
    expect(describeValue([1, 2])).toBe('[1,2]');
    expect(describeValue({ every: 0, f: Number.POSITIVE_INFINITY })).toBe('{"every":0,"f":"Infinity"}');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(new Float32Array(3))).toBe('a Float32Array of length 3');
    expect(describeValue('a'.repeat(200)).length).toBeLessThan(90);
  });

  it('describes tensors by dtype and shape, and says when they are disposed', () => {
    const t = tf.zeros([2, 3]);
    expect(describeValue(t)).toBe('a float32 tensor of shape [2,3]');
    t.dispose();
    expect(describeValue(t)).toBe('a disposed float32 tensor of shape [2,3]');
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    expect(describeValue(a)).toBe('an object with keys {x, self}');
  });
});

describe('guards', () => {
  it('tell plain objects, thenables and lengths', () => {
    expect(isPlainObject({})).toBe(true);
    expect(isPlainObject(Object.create(null))).toBe(true);
    expect(isPlainObject([])).toBe(false);
    expect(isPlainObject(new Date())).toBe(false);
    expect(isThenable(Promise.resolve())).toBe(true);
    expect(isThenable({ ['th' + 'en']: 1 })).toBe(false);
    expect(lengthOf([1, 2])).toBe(2);
    expect(lengthOf({ length: Number.POSITIVE_INFINITY })).toBe(null);
    expect(lengthOf(5)).toBe(null);
  });
});

describe('checks', () => {
  it('integers: type, safety and bounds, with the one message shape', () => {
    expect(checkInteger('X', 'argument n', 3, { min: 1 })).toBe(3);
    expect(() => checkInteger('X', 'argument n', 0, { min: 1 })).toThrow(
      new RangeError('X: argument n should be a positive integer, got 0.'),
    );
    expect(() => checkInteger('X', 'argument n', '3', { min: 1 })).toThrow(TypeError);
    expect(() => checkInteger('X', 'argument n', 2 ** 53, { min: 0 })).toThrow(
      /non-negative integer, got 9007199254740992/,
    );
    expect(() => checkInteger('X', 'argument n', 1.5)).toThrow(RangeError);
    expect(checkInteger('X', 'argument n', null, { min: 1, nullable: true })).toBe(null);
    expect(() => checkInteger('X', 'argument n', null, { min: 1 })).toThrow(TypeError);
    expect(() => checkInteger('X', 'option k', 9, { min: 1, max: 5, fix: 'Use k <= 5.' })).toThrow(
      'X: option k should be an integer in [1, 5], got 9. Use k <= 5.',
    );
  });

  it('numbers: NaN and infinities are rejected', () => {
    expect(checkNumber('X', 'option alpha', 0.5, { min: 0, max: 1, minExclusive: true })).toBe(0.5);
    expect(() => checkNumber('X', 'option alpha', Number.NaN)).toThrow(RangeError);
    expect(() => checkNumber('X', 'option alpha', Number.POSITIVE_INFINITY)).toThrow(/finite number, got Infinity/);
    expect(() => checkNumber('X', 'option alpha', 0, { min: 0, max: 1, minExclusive: true })).toThrow(
      'X: option alpha should be a finite number in (0, 1], got 0.',
    );
  });

  it('booleans, strings, functions and choices', () => {
    expect(() => checkBoolean('X', 'option b', 1)).toThrow('X: option b should be a boolean, got 1.');
    expect(() => checkString('X', 'option s', '')).toThrow(TypeError);
    expect(checkString('X', 'option s', '', { allowEmpty: true })).toBe('');
    expect(() => checkFunction('X', 'option f', 1, '(engine) => number')).toThrow(
      'X: option f should be a function (engine) => number, got 1.',
    );
    expect(checkOneOf('X', 'option mode', 'min', ['min', 'max'])).toBe('min');
    expect(() => checkOneOf('X', 'option mode', 'low', ['min', 'max'])).toThrow(
      "X: option mode should be one of 'min' or 'max', got 'low'.",
    );
  });

  it('options: unknown keys are rejected with the closest known name', () => {
    expect(checkOptions('selectBackend', undefined, ['prefer'])).toEqual({});
    expect(() => checkOptions('selectBackend', { preferred: 'cpu' }, ['prefer', 'powerPreference'])).toThrow(
      "selectBackend: unknown option 'preferred'. Did you mean 'prefer'? Known options: prefer, powerPreference.",
    );
    expect(() =>
      checkOptions('EarlyStopping', { threshold: 1 }, ['minDelta'], { threshold: "Use 'minDelta'." }),
    ).toThrow("EarlyStopping: unknown option 'threshold'. Use 'minDelta'. Known options: minDelta.");
    expect(() => checkOptions('X', 5, ['a'])).toThrow(TypeError);
    expect(() => checkOptions('X', [], ['a'])).toThrow(TypeError);
    expect(closestName('max_epochs', ['maxEpochs', 'maxIters'])).toBe('maxEpochs');
    expect(closestName('zzz', ['maxEpochs'])).toBe(null);
  });

  it('engines by shape, names that become keys, and iterables that refuse sync iteration', () => {
    const engineLike = { addEventHandler() {}, hasEventHandler() {}, removeEventHandler() {}, state: {} };
    expect(() => checkEngine('X.attach', 'argument engine', engineLike)).not.toThrow();
    expect(() => checkEngine('X.attach', 'argument engine', {})).toThrow(
      new TypeError('X.attach: argument engine should be an Engine (e.g. the trainer or an evaluator), got {}.'),
    );
    expect(checkKeyName('X', 'argument name', 'acc')).toBe('acc');
    expect(() => checkKeyName('X', 'argument name', '__proto__')).toThrow(
      new RangeError(
        "X: argument name should be a name other than '__proto__', 'constructor' and 'prototype', got '__proto__'. Pick another name.",
      ),
    );
    expect(() => checkKeyName('X', 'argument name', '')).toThrow(TypeError);
    const refuse = Object.defineProperty(() => [][Symbol.iterator](), ASYNC_ONLY, { value: true });
    expect(hasSyncIterator([1])).toBe(true);
    expect(hasSyncIterator({ [Symbol.iterator]: refuse })).toBe(false);
    expect(hasSyncIterator(null)).toBe(false);
  });

  it('state dicts: shape, unsafe, missing and unknown keys', () => {
    expect(checkStateDict('S', { a: 1 }, ['a'], ['b'])).toEqual({ a: 1 });
    expect(() => checkStateDict('S', null, ['a'])).toThrow(TypeError);
    expect(() => checkStateDict('S', JSON.parse('{"__proto__": {}, "a": 1}'), ['a'])).toThrow(/not allowed/);
    expect(() => checkStateDict('S', {}, ['a'])).toThrow("S: required state dict entry 'a' is absent");
    expect(() => checkStateDict('S', { a: 1, c: 2 }, ['a'], ['b'])).toThrow("S: unknown state dict entry 'c'");
  });
});

describe('yielding', () => {
  it("yieldToEventLoop lets other ports' messages and timers run while a loop goes on", async () => {
    const log: string[] = [];
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (event: MessageEvent) => log.push(`message ${event.data}`);
    for (let step = 0; step < 10; step++) {
      log.push(`step ${step}`);
      if (step === 2) {
        port2.postMessage('posted at step 2'); // as a Worker's reply arrives mid-run
        setTimeout(() => log.push('timer set at step 2'), 0);
      }
      const start = performance.now();
      while (performance.now() - start < 2) {
        // a step's work
      }
      await yieldToEventLoop();
    }
    port1.close();
    // Each is a task that came due during the run: it runs at one of the next yields, not after the loop.
    expect(log.indexOf('message posted at step 2')).toBeLessThan(log.indexOf('step 5'));
    expect(log.indexOf('timer set at step 2')).toBeLessThan(log.indexOf('step 5'));
    expect(log.indexOf('message posted at step 2')).toBeGreaterThan(log.indexOf('step 2'));
  });

  it('yieldWithinJob resolves on a later task', async () => {
    let ran = false;
    setTimeout(() => {
      ran = true;
    }, 0);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await yieldWithinJob();
    expect(ran).toBe(true);
  });
});
