// Test support for metric state dicts (not a test itself, not exported from the package).
import { expect } from 'vitest';
import type { Metric } from './metric';

/**
 * The mid-epoch round trip every metric must pass: a metric updated with all batches computes `expected`; another
 * takes a state dict after `k` batches (through JSON, as a checkpoint stores it), a fresh one loads it and takes the
 * rest, and both give exactly the uninterrupted value. Returns the value.
 */
export async function expectMidEpochRoundTrip<T>(
  make: () => Metric<any, T>,
  batches: readonly unknown[],
  k: number,
): Promise<T> {
  const whole = make();
  for (const batch of batches) await whole.update(batch as never);
  const expected = await whole.compute();

  const first = make();
  for (const batch of batches.slice(0, k)) await first.update(batch as never);
  const saved = JSON.parse(JSON.stringify(await first.stateDict()));
  expect(structuredClone(saved)).toEqual(saved);
  const resumed = make();
  resumed.loadStateDict(saved);
  for (const batch of batches.slice(k)) await resumed.update(batch as never);
  expect(await resumed.compute()).toEqual(expected);
  // Taking the state dict did not change the first metric's value.
  for (const batch of batches.slice(k)) await first.update(batch as never);
  expect(await first.compute()).toEqual(expected);
  return expected;
}
