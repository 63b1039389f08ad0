import { expect, type Page, test } from '@playwright/test';

// The classification metrics, the label checks and the metric state dicts on WebGPU (SwiftShader here): the same
// values as the CPU backend, clear label errors, no synchronous readback and no leaked tensor.

const PAGE = '/e2e/pages/metrics.html';

async function open(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => (window as any).ready === true, null, { timeout: 45_000 });
}

const call = <T = any>(page: Page, name: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(([n, a]) => (window as any).metricParts[n as string](...(a as unknown[])), [name, args] as const);

/** 4 batches of 16 rows from a fixed linear congruential sequence; scores rounded so that some are tied. */
function makeBatches() {
  let state = 4242;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: 4 }, () => {
    const binary = Array.from({ length: 16 }, () => (next() < 0.4 ? 1 : 0));
    const scores = binary.map((y) => Math.round((0.3 * y + 0.7 * next()) * 20) / 20);
    const labels = Array.from({ length: 16 }, () => Math.floor(next() * 3));
    const predicted = labels.map((l) => (next() < 0.6 ? l : Math.floor(next() * 3)));
    const multi = Array.from({ length: 16 }, () => [0, 1, 2].map(() => (next() < 0.4 ? 1 : 0)));
    const multiPred = multi.map((row) => row.map((v) => (next() < 0.7 ? v : 1 - v)));
    return { scores, binary, predicted, labels, multiPred, multi };
  });
}

test.beforeAll(async ({ browser }) => {
  // A cold Vite server may optimise dependencies and reload open pages: let that happen once, here.
  const page = await browser.newPage();
  await open(page);
  await call(page, 'badLabels', 'webgpu').catch(() => {});
  await page.close();
});

test('RocAuc, curves, AveragePrecision, CohenKappa and MultiLabelConfusionMatrix on WebGPU equal the CPU backend', async ({
  page,
}) => {
  await open(page);
  const batches = makeBatches();
  const cpu = await call(page, 'classification', 'cpu', batches);
  const gpu = await call(page, 'classification', 'webgpu', batches);
  expect([cpu.backend, gpu.backend]).toEqual(['cpu', 'webgpu']);
  for (const result of [cpu, gpu]) {
    expect(result.syncReads).toEqual([]);
    expect(result.leaked).toBe(0);
    expect(result.auc).toBeGreaterThan(0.5);
    expect(result.auc).toBeLessThan(1);
  }
  // Scores and labels are stored exactly and counts are exact: every value is identical.
  for (const key of ['auc', 'roc', 'ap', 'pr', 'mlcm'] as const) expect(gpu[key], key).toEqual(cpu[key]);
  expect(gpu.qwk).toBeCloseTo(cpu.qwk, 12);
});

test('bad labels throw at compute() on WebGPU with the value and range; valid ones do not', async ({ page }) => {
  await open(page);
  for (const backend of ['cpu', 'webgpu']) {
    const result = await call(page, 'badLabels', backend);
    expect(result.backend).toBe(backend);
    expect(result.syncReads).toEqual([]);
    expect(result.leaked).toBe(0);
    const m = result.messages;
    expect(m['accuracy y=[2,3]']).toMatch(
      /^Accuracy: y should hold class indices, integers in \[0, 2\), got 3 since the last reset/,
    );
    expect(m['accuracy y=[2,3]']).toMatch(/read when compute\(\) reads results back/);
    expect(m['accuracy NaN']).toMatch(/^Accuracy: y .*got NaN or ±Infinity/);
    expect(m['accuracy binary 0.5']).toMatch(/^Accuracy: y should hold 0 or 1 \(binary targets\), got 0.5/);
    expect(m['precision -1']).toMatch(/^Precision: y .*got -1/);
    expect(m['topk 2']).toMatch(/^TopKCategoricalAccuracy: y .*\[0, 2\), got 2/);
    expect(m['cm 5']).toMatch(/^ConfusionMatrix: y .*got 5/);
    expect(m['cm valid']).toBe('no error');
    expect(m['mlcm 3']).toMatch(/^MultiLabelConfusionMatrix: y should hold 0 or 1 \(multilabel targets\), got 3/);
  }
});

test('a mid-epoch state dict round trip on WebGPU gives the uninterrupted value', async ({ page }) => {
  await open(page);
  const result = await call(page, 'stateRoundTrip', 'webgpu', makeBatches());
  expect(result.syncReads).toEqual([]);
  expect(result.leaked).toBe(0);
  expect(result.value['accuracy resumed']).toBe(result.value['accuracy whole']);
  expect(result.value['auc resumed']).toBe(result.value['auc whole']);
});
