// Test support for metric state dicts (not a test itself, not exported from the package).
import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import type { Metric } from './metric';

/** Deep equality where numbers may differ by float32 rounding (1e-6 relative). */
export function nearlyEqual(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number') {
    return (
      typeof actual === 'number' &&
      (actual === expected || Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)))
    );
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => nearlyEqual(actual[i], e))
    );
  }
  if (expected !== null && typeof expected === 'object') {
    const keys = Object.keys(expected);
    return (
      actual !== null &&
      typeof actual === 'object' &&
      Object.keys(actual).length === keys.length &&
      keys.every((k) => nearlyEqual((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]))
    );
  }
  return Object.is(actual, expected);
}

/**
 * The mid-epoch round trip every metric must pass. One metric takes a state dict after `k` batches (through JSON, as
 * a checkpoint stores it) and carries on; a fresh one loads the state dict and takes the same remaining batches: both
 * must give **exactly** the same value. A third metric, never interrupted, gives the same value up to float32
 * rounding of device sums (exactly for counts and stored outputs). Returns the value.
 */
export async function expectMidEpochRoundTrip<T>(
  make: () => Metric<any, T>,
  batches: readonly unknown[],
  k: number,
): Promise<T> {
  const whole = make();
  for (const batch of batches) await whole.update(batch as never);
  const uninterrupted = await whole.compute();

  const first = make();
  for (const batch of batches.slice(0, k)) await first.update(batch as never);
  const saved = JSON.parse(JSON.stringify(await first.stateDict()));
  await expectCapturedAtCall(make, batches, k, saved);
  expect(structuredClone(saved)).toEqual(saved);
  const resumed = make();
  await resumed.loadStateDict(saved);
  for (const batch of batches.slice(k)) {
    await first.update(batch as never);
    await resumed.update(batch as never);
  }
  const value = await first.compute();
  expect(await resumed.compute()).toEqual(value);
  expect(nearlyEqual(value, uninterrupted), `${JSON.stringify(value)} vs ${JSON.stringify(uninterrupted)}`).toBe(true);
  return value;
}

/**
 * The capture contract of `Stateful`: `stateDict()` takes the state at the call, even when it resolves later. Two
 * metrics take `k` batches; one is updated with the next batch, the other reset and updated, right after calling
 * `stateDict()` and before it resolves (as training goes on while a background checkpoint is written): both state
 * dicts must equal `expected` (the state dict after `k` batches, through JSON). Leaves no tensor behind.
 */
export async function expectCapturedAtCall(
  make: () => Metric<any, unknown>,
  batches: readonly unknown[],
  k: number,
  expected: unknown,
): Promise<void> {
  const next = batches[k] ?? batches[0];
  const updated = make();
  const reset = make();
  for (const batch of batches.slice(0, k)) {
    await updated.update(batch as never);
    await reset.update(batch as never);
  }
  const before = tf.memory().numTensors;
  const whileUpdated = updated.stateDict();
  const pendingUpdate = updated.update(next as never); // called before the state dict resolves
  const whileReset = reset.stateDict();
  reset.reset();
  const pendingReset = reset.update(next as never);
  await pendingUpdate;
  await pendingReset;
  expect(JSON.parse(JSON.stringify(await whileUpdated))).toEqual(expected);
  expect(JSON.parse(JSON.stringify(await whileReset))).toEqual(expected);
  updated.reset();
  reset.reset();
  expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
}
