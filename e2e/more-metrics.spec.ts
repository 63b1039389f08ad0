import { expect, type Page, test } from '@playwright/test';

// The tensor metrics of issue 15 on WebGPU give the CPU backend's values (SSIM's reflection padding and depthwise
// filters, the divergences' log-softmax, the median's concatenated readback), with no synchronous readback and no
// tensor left behind.

const PAGE = '/e2e/pages/more-metrics.html';

async function open(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => (window as any).ready === true, null, { timeout: 45_000 });
}

/** 3 batches from a fixed linear congruential sequence: 6 values, 6 × 4 logits, 2 images of 12 × 10 × 3. */
function makeBatches() {
  let state = 2024;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return Math.fround(state / 2 ** 32);
  };
  const array = <T>(n: number, f: () => T): T[] => Array.from({ length: n }, f);
  return array(3, () => {
    const image = array(2, () => array(12, () => array(10, () => array(3, next))));
    return {
      yPred: array(6, () => 1 + next()),
      y: array(6, () => 1 + next()),
      logitsPred: array(6, () => array(4, () => next() * 4 - 2)),
      logits: array(6, () => array(4, () => next() * 4 - 2)),
      imagePred: image.map((im) =>
        im.map((row) => row.map((px) => px.map((v) => Math.min(1, Math.max(0, v + next() * 0.2 - 0.1))))),
      ),
      image,
    };
  });
}

test('regression, divergence and vision metrics on WebGPU equal the CPU backend', async ({ page }) => {
  await open(page);
  const batches = makeBatches();
  const run = (backend: string) =>
    page.evaluate(([b, data]) => (window as any).moreMetrics(b, data), [backend, batches] as const);
  const gpu = await run('webgpu');
  const cpu = await run('cpu');
  expect(gpu.backend).toBe('webgpu');
  for (const result of [gpu, cpu]) {
    expect(result.syncReads).toEqual([]);
    expect(result.leaked).toBe(0);
  }
  expect(Object.keys(gpu.values).sort()).toEqual(Object.keys(cpu.values).sort());
  for (const [name, value] of Object.entries(cpu.values as Record<string, unknown>)) {
    // geometric: one mean per position of the (6) vectors; sum: [accumulator, count]
    const expected = [value].flat(2) as number[];
    const actual = [(gpu.values as Record<string, unknown>)[name]].flat(2) as number[];
    expect(actual.length, name).toBe(expected.length);
    for (const [i, a] of expected.entries()) {
      expect(Number.isFinite(a), name).toBe(true);
      expect(Math.abs(a - actual[i]!), `${name}: cpu ${a}, webgpu ${actual[i]}`).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(a)),
      );
    }
  }
});
