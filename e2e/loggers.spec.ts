import { readFileSync } from 'node:fs';
import { expect, type Page, test } from '@playwright/test';
import { type DecodedEvent, decodeEvents, scalarsOf } from '../src/loggers/tfevents-decoder.test-util';

// Loggers and profilers in Chromium: TensorBoard event files written to OPFS (a sync access handle in a Worker) or
// IndexedDB, read back and downloaded, then decoded here by an independent decoder (protobufjs + our own .proto, both
// CRCs of every record checked); a CSV table downloaded as a Blob; the profilers' performance.measure entries.

const PAGE = '/e2e/pages/loggers.html';

async function open(page: Page): Promise<void> {
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(PAGE);
  await page.waitForFunction(() => (window as any).ready === true, null, { timeout: 45_000 });
}

const call = <T = any>(page: Page, name: string, ...args: unknown[]): Promise<T> =>
  page.evaluate(([n, a]) => (window as any).loggers[n as string](...(a as unknown[])), [name, args] as const);

/** What trainWithLogger (loggers.ts) logs: 6 losses, 6 learning rates, 2 histograms of the kernel and the bias. */
function expectTrainingRun(events: DecodedEvent[], losses: number[]): void {
  expect(events[0]!.fileVersion).toBe('brain.Event:2');
  const scalars = scalarsOf(events);
  expect(scalars.filter(([, tag]) => tag === 'training/loss')).toEqual(
    losses.map((loss, i) => [i + 1, 'training/loss', loss]),
  );
  expect(scalars.filter(([, tag]) => tag === 'lr/group_0').map(([step, , value]) => [step, value])).toEqual(
    [1, 2, 3, 4, 5, 6].map((step) => [step, Math.fround(0.1)]),
  );
  const histograms = events.flatMap((e) =>
    (e.summary?.value ?? []).filter((v) => v.histo).map((v) => [e.step, v.tag, v.histo!.num]),
  );
  expect(histograms).toEqual([
    [1, 'weights/dense/kernel', 2],
    [1, 'weights/dense/bias', 1],
    [2, 'weights/dense/kernel', 2],
    [2, 'weights/dense/bias', 1],
  ]);
}

test.beforeAll(async ({ browser }) => {
  // A cold Vite server may optimise dependencies and reload open pages: let that happen here, once.
  const page = await browser.newPage();
  await open(page);
  await call(page, 'csv').catch(() => {});
  await page.close();
});

test('TensorboardLogger writes an event file to OPFS that decodes independently', async ({ page }) => {
  await open(page);
  const run = await call(page, 'tensorboard', 'auto');
  expect(run.location).toBe(`opfs:runs/e2e/${run.fileName}`);
  expect(run.fileName).toMatch(/^events\.out\.tfevents\.\d{10}\.127\.0\.0\.1\.[0-9a-f]{8}\.\d+$/);
  expect(run.direct).toEqual(run.bytes); // toBlob() gives what OPFS holds
  expectTrainingRun(decodeEvents(Uint8Array.from(run.bytes)), run.losses);
});

test('the run downloads as a .tfevents file from an object URL', async ({ page }) => {
  await open(page);
  const run = await call(page, 'offerDownload');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  expect(download.suggestedFilename()).toBe(run.fileName);
  const bytes = new Uint8Array(readFileSync(await download.path()));
  expectTrainingRun(decodeEvents(bytes), run.losses);
});

test('without OPFS the log goes to IndexedDB, and decodes the same', async ({ page }) => {
  await open(page);
  const run = await call(page, 'tensorboard', 'indexeddb');
  expect(run.location).toBe(`indexeddb:runs/e2e/${run.fileName}`);
  expect(run.direct).toBeNull();
  expectTrainingRun(decodeEvents(Uint8Array.from(run.bytes)), run.losses);
});

test('in a Worker, OPFS is written through a sync access handle', async ({ page }) => {
  await open(page);
  const run = await call(page, 'inWorker');
  expect(run.hasSyncHandles).toBe(true);
  expect(run.location).toMatch(/^opfs:runs\/worker\/events\.out\.tfevents\./);
  const events = decodeEvents(Uint8Array.from(run.bytes));
  expect(scalarsOf(events)).toEqual([1, 2, 3, 4, 5].map((step) => [step, 'worker/x', step / 2]));
  expect(events.at(-1)!.summary!.value[0]).toMatchObject({ tag: 'worker/h', histo: { num: 3, sum: 6 } });
});

test('CSVLogger keeps its table in the page and hands it out as a Blob', async ({ page }) => {
  await open(page);
  const { text, type } = await call(page, 'csv');
  expect(type).toBe('text/csv');
  const rows = text
    .trimEnd()
    .split('\n')
    .map((line: string) => line.split(','));
  expect(rows[0]).toEqual(['step', 'wall_time', 'train/double']);
  expect(rows.slice(1).map((row: string[]) => [row[0], row[2]])).toEqual([
    ['1', '2'],
    ['2', '4'],
    ['3', '6'],
  ]);
});

test('the profilers record performance.measure entries for the Performance panel', async ({ page }) => {
  await open(page);
  const { measures, table, processing } = await call(page, 'profile');
  const count = (name: string) => measures.filter((m: { name: string }) => m.name === name).length;
  expect(count('kindling logLoss (ITERATION_COMPLETED)')).toBe(6);
  expect(count('kindling evaluate (EPOCH_COMPLETED)')).toBe(2);
  expect(count('kindling EPOCH_COMPLETED handlers')).toBe(2);
  expect(count('kindling processing')).toBe(12); // 6 iterations, measured by each profiler
  expect(count('kindling dataflow')).toBe(12);
  const evaluate = measures.filter((m: { name: string }) => m.name === 'kindling evaluate (EPOCH_COMPLETED)');
  for (const m of evaluate) expect(m.duration).toBeGreaterThanOrEqual(4);
  const steps = measures.filter((m: { name: string }) => m.name === 'kindling processing');
  for (const m of steps) expect(m.duration).toBeGreaterThanOrEqual(1.9);
  expect(processing).toBeGreaterThanOrEqual(0.0119);
  expect(table).toMatch(/evaluate +EPOCH_COMPLETED/);
});
