import { expect, type Page, test } from '@playwright/test';

// Library parts in the page on WebGPU: device metrics equal the CPU backend's and the values computed here by hand,
// with no synchronous readback; ProgressBar's DOM display moves during a run; TerminateOnNan stops a NaN run.

const PAGE = '/e2e/pages/browser-parts.html';

interface PlainBatch {
  logits: number[][];
  labels: number[];
}

async function open(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => (window as any).ready === true, null, { timeout: 45_000 });
}

test.beforeAll(async ({ browser }) => {
  // A cold Vite server may optimise dependencies (the WebGPU backend is imported on demand) and reload open pages:
  // let that happen here, once, before the real tests.
  const page = await browser.newPage();
  await open(page);
  await call(page, 'metrics', 'webgpu', makeBatches()).catch(() => {});
  await page.close();
});

const call = <T = any>(page: Page, name: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(([n, a]) => (window as any).parts[n as string](...(a as unknown[])), [name, args] as const);

/** 4 batches of 10 rows, 3 classes, from a fixed linear congruential sequence. */
function makeBatches(): PlainBatch[] {
  let state = 12345;
  const next = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  return Array.from({ length: 4 }, () => {
    const logits = Array.from({ length: 10 }, () => Array.from({ length: 3 }, () => Math.fround(next() * 4 - 2)));
    const labels = Array.from({ length: 10 }, () => Math.floor(next() * 3));
    return { logits, labels };
  });
}

/** The metrics by hand, in float64. */
function expectedMetrics(batches: PlainBatch[]) {
  const cm = [0, 1, 2].map(() => [0, 0, 0]);
  let correct = 0;
  let count = 0;
  let lossSum = 0;
  const running: number[] = [];
  for (const { logits, labels } of batches) {
    let batchLoss = 0;
    logits.forEach((row, i) => {
      const predicted = row.indexOf(Math.max(...row));
      cm[labels[i]][predicted] += 1;
      if (predicted === labels[i]) correct += 1;
      const max = Math.max(...row);
      const logSum = max + Math.log(row.reduce((s, v) => s + Math.exp(v - max), 0));
      batchLoss += logSum - row[labels[i]];
    });
    lossSum += batchLoss;
    count += labels.length;
    const mean = batchLoss / labels.length;
    running.push(running.length === 0 ? mean : running[running.length - 1] * 0.9 + 0.1 * mean);
  }
  const precisions = [0, 1, 2].map((c) => {
    const predicted = cm.reduce((s, row) => s + row[c], 0);
    return predicted === 0 ? 0 : cm[c][c] / predicted;
  });
  return {
    accuracy: correct / count,
    precision: precisions.reduce((a, b) => a + b, 0) / 3,
    cm,
    loss: lossSum / count,
    running,
  };
}

function expectClose(actual: unknown, expected: unknown, path = 'value'): void {
  if (typeof expected === 'number') {
    expect(typeof actual, path).toBe('number');
    expect(Math.abs((actual as number) - expected), `${path}: ${actual} vs ${expected}`).toBeLessThanOrEqual(1e-5);
    return;
  }
  expect(Array.isArray(actual), path).toBe(true);
  expect((actual as unknown[]).length, path).toBe((expected as unknown[]).length);
  for (const [i, e] of (expected as unknown[]).entries()) expectClose((actual as unknown[])[i], e, `${path}[${i}]`);
}

test('metrics on WebGPU equal the CPU backend and the hand-computed values, with no synchronous readback', async ({
  page,
}) => {
  await open(page);
  const batches = makeBatches();
  const expected = expectedMetrics(batches);
  const cpu = await call(page, 'metrics', 'cpu', batches);
  const gpu = await call(page, 'metrics', 'webgpu', batches);
  expect(cpu.backend).toBe('cpu');
  expect(gpu.backend).toBe('webgpu');
  for (const result of [cpu, gpu]) {
    expect(result.syncReads).toEqual([]);
    expect(result.leaked).toBe(0);
    expect(result.cm).toEqual(expected.cm); // counts: exact
    for (const key of ['accuracy', 'precision', 'loss', 'running'] as const) {
      expectClose(result[key], expected[key], `${result.backend}.${key}`);
    }
  }
  for (const key of ['accuracy', 'precision', 'loss', 'running'] as const) {
    expectClose(gpu[key], cpu[key], `webgpu vs cpu ${key}`);
  }
  // Not a degenerate case: some but not all right, and a running average that moves.
  expect(expected.accuracy).toBeGreaterThan(0.1);
  expect(expected.accuracy).toBeLessThan(0.9);
  expect(new Set(expected.running).size).toBe(4);
});

test('ProgressBar draws epoch, iteration and loss in a <progress> element that moves during a WebGPU run', async ({
  page,
}) => {
  await open(page);
  // The run, slowed to 40 ms per iteration, is watched from here through the DOM while it goes.
  await page.evaluate(() => {
    (window as any).progressDone = (window as any).parts.progressRun(40);
  });
  const progress = page.locator('#progress progress');
  const seen = new Set<string>();
  for (let isDone = false; !isDone; ) {
    if (await progress.count()) seen.add(await progress.evaluate((el: HTMLProgressElement) => `${el.value}/${el.max}`));
    isDone = await page.evaluate(() =>
      Promise.race([(window as any).progressDone.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]),
    );
  }
  const result = await page.evaluate(() => (window as any).progressDone);
  expect(result.backend).toBe('webgpu');
  expect(result.syncReads).toEqual([]);
  expect(result.leaked).toBe(0);
  // Seen from outside during the run: several distinct positions of the bar.
  expect(seen.size).toBeGreaterThanOrEqual(3);

  // After each iteration the bar shows it: value n of max 8, and 'Epoch [e/2]: [n/8] p% , loss=...'.
  expect(result.snapshots).toHaveLength(16);
  result.snapshots.forEach((s: { epoch: number; iteration: number; value: number; max: number; text: string }) => {
    const n = ((s.iteration - 1) % 8) + 1;
    expect(s.epoch).toBe(Math.ceil(s.iteration / 8));
    expect(s.max).toBe(8);
    expect(s.value).toBe(n);
    expect(s.text).toMatch(
      new RegExp(
        `^Epoch \\[${s.epoch}/2\\]: \\[${n}/8\\] ${Math.floor((n / 8) * 100)}%, loss=\\d[\\d.]* \\[\\d\\d:\\d\\d<`,
      ),
    );
  });
  await expect(progress).toHaveCount(1);
  await expect(page.locator('#progress .kindling-progress-text')).toHaveText(/^Epoch \[2\/2\]: \[8\/8\] 100%, loss=/);
  expect(await progress.evaluate((el: HTMLProgressElement) => el.value)).toBe(8);
});

test('TerminateOnNan stops a WebGPU run whose loss turns NaN, one iteration later', async ({ page }) => {
  await open(page);
  // Row 20 is in the third batch (rows 16-23): the loss of iteration 3 is NaN, and so is every later one.
  const result = await call(page, 'nanRun', 20);
  expect(result.backend).toBe('webgpu');
  expect(result.syncReads).toEqual([]);
  expect(result.iteration).toBe(4); // the check of iteration 3 is read during iteration 4
  expect(result.epoch).toBe(1);
  expect(result.events).toEqual([
    'iteration 1',
    'iteration 2',
    'iteration 3',
    'iteration 4',
    'terminate at 4',
    'completed',
  ]);
  expect(result.warnings).toEqual([
    "TerminateOnNan: Output 'Tensor(float32, [])' of iteration 3 contains NaN or Inf. Stop training",
  ]);
  expect(result.leaked).toBe(0);
});
