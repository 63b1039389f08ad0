// Test support for the metrics' test files (a *.test-util.ts: not a test, not built, not in the package).
import * as tf from '@tensorflow/tfjs';
import { Engine, setLogger, silentLogger } from '../engine';

/** Switches tfjs to the CPU backend and silences the engine's logger; call in `beforeAll`. */
export async function useCpu(): Promise<void> {
  setLogger(silentLogger);
  await tf.setBackend('cpu');
  await tf.ready();
}

/** A `[yPred, y]` pair of tensors. */
export type Pair = [tf.Tensor, tf.Tensor];

/** Builds a batch pair from nested arrays; `yInt` makes `y` int32 (class indices). */
export function pair(
  yPred: number[] | number[][] | number[][][],
  y: number[] | number[][] | number[][][],
  yInt = false,
): Pair {
  return [tf.tensor(yPred), tf.tensor(y, undefined, yInt ? 'int32' : 'float32')];
}

/** Disposes every tensor of a list of pairs. */
export function disposePairs(pairs: readonly Pair[]): void {
  for (const [a, b] of pairs) {
    a.dispose();
    b.dispose();
  }
}

/** An engine whose output is its batch (identity process function). */
export function identityEngine<B = Pair>(): Engine<B, B> {
  return new Engine<B, B>((_engine, batch) => batch);
}

/** Runs `update` on each pair and awaits `compute()`. */
export async function computeOver<T>(
  metric: { reset(): void; update(output: any): unknown; compute(): T | Promise<T> },
  pairs: readonly unknown[],
): Promise<T> {
  metric.reset();
  for (const p of pairs) await metric.update(p);
  return metric.compute();
}

/** Expects `actual` to equal `expected` elementwise within `digits` decimals (numbers or nested arrays). */
export function close(actual: unknown, expected: unknown, digits = 5): boolean {
  if (typeof expected === 'number') return typeof actual === 'number' && Math.abs(actual - expected) < 10 ** -digits;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => close(actual[i], e, digits))
    );
  }
  return Object.is(actual, expected);
}
