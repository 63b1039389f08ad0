// Every bad input of the table in bad-inputs.test-util.ts gives a clear error: a message that starts with the class or
// function named (`Engine.loadStateDict: ...`) and shows the bad value; never a raw TypeError from JavaScript
// ("Cannot read properties of undefined"), never silence, never a hang, and a rejected load changes nothing.
// `npx tsx scripts/probe-bad-inputs.ts` runs the same table and counts the outcomes.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badInputs, classify, runCase } from './bad-inputs.test-util';
import { type Logger, setLogger, silentLogger } from './index';

let previous: Logger;
beforeAll(() => {
  tf.enableProdMode();
  previous = setLogger(silentLogger);
});
afterAll(() => {
  setLogger(previous);
});

const cases = badInputs();

describe('bad inputs give clear errors', () => {
  it('the table is large and its names are unique', () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
  });

  it.each(cases.map((c) => [c.group, c.name, c] as const))('%s: %s', async (_group, _name, c) => {
    const { outcome, message } = await runCase(c, 10_000);
    expect({ outcome, message }).toEqual({ outcome: 'clear', message });
  });
});

describe('the classification of outcomes', () => {
  const probe = { group: 'g', name: 'n', where: 'Thing.load', mentions: ['NaN'], act: () => {} };
  it('wants the class first and the bad value in the message', () => {
    expect(classify(probe, "Thing.load: state dict entry 'x' should be a number, got NaN.")).toBe('clear');
    expect(classify(probe, "Thing.load: state dict entry 'x' is bad.")).toBe('unclear');
    expect(classify(probe, 'Other: got NaN.')).toBe('unclear');
    expect(classify(probe, "Cannot read properties of undefined (reading 'x')")).toBe('raw');
  });

  it('tells silence, a hang and a load that changed its target', async () => {
    expect((await runCase(probe)).outcome).toBe('silent');
    expect((await runCase({ ...probe, act: () => new Promise(() => {}) }, 20)).outcome).toBe('hang');
    const changed = {
      ...probe,
      act: () => {
        throw new Error('Thing.load: got NaN.');
      },
      unchanged: () => {
        throw new Error('it changed');
      },
    };
    expect(await runCase(changed)).toEqual({ outcome: 'partial', message: 'Thing.load: got NaN. [but: it changed]' });
  });
});
