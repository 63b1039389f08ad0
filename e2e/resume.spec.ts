import { type Browser, expect, type Page, test } from '@playwright/test';

// Issue 5's key test at library level: a tab reloaded mid-epoch resumes from its newest IndexedDB checkpoint and
// produces exactly the losses of an uninterrupted run (toEqual on float32 values), on the CPU backend and on WebGPU.
// The page is e2e/pages/resume.ts: 256 rows, batch 16 (16 iterations per epoch), 3 epochs, a checkpoint every 5
// iterations (none of 5, 10, ..., 45 ends an epoch, so every resume point is mid-epoch).

const EPOCHS = 3;
const EVERY = 5;
const EPOCH_LENGTH = 16;
const TOTAL = EPOCHS * EPOCH_LENGTH;

interface Session {
  resumedFrom: number | null;
  filename: string | null;
  losses: Record<string, number>;
  saved: number[];
}

interface RunResult {
  backend: string;
  epochLength: number;
  iteration: number;
  files: string[];
  tensorsBefore: number;
  tensorsAfter: number;
  sessions: Session[];
}

const url = (backend: string, db: string, extra = '', epochs = EPOCHS) =>
  `/e2e/pages/resume.html?backend=${backend}&db=${db}&epochs=${epochs}&every=${EVERY}${extra}`;

/** Waits until the page's run is over and returns its result; fails with the page's error if it had one. */
async function finish<T = RunResult>(page: Page, timeout = 100_000): Promise<T> {
  await page.waitForFunction(() => ['done', 'error'].includes((window as any).progress?.phase), null, {
    timeout,
    polling: 50,
  });
  const error = await page.evaluate(() => (window as any).progress.error ?? null);
  expect(error).toBeNull();
  return page.evaluate(() => (window as any).result) as Promise<T>;
}

/** A page in a fresh context (its own, empty IndexedDB and localStorage). */
async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  return page;
}

const iterations = (record: Record<string, unknown>) => Object.keys(record).map(Number);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

test.beforeAll(async ({ browser }) => {
  // A cold Vite server may optimise dependencies (the WebGPU backend is imported on demand) and reload the page
  // on the first visit: load each backend once, untimed, before the real runs.
  test.setTimeout(180_000);
  for (const backend of ['cpu', 'webgpu']) {
    const page = await freshPage(browser);
    const isOver = () => ['done', 'error'].includes((window as any).progress?.phase);
    await page.goto(url(backend, `warmup-${backend}`, '', 1));
    try {
      await page.waitForFunction(isOver, null, { timeout: 60_000 });
    } catch {
      await page.reload();
      await page.waitForFunction(isOver, null, { timeout: 60_000 });
    }
    await page.context().close();
  }
});

for (const [backend, mode] of [
  ['cpu', 'sync'],
  ['webgpu', 'sync'],
  ['cpu', 'async'],
  ['webgpu', 'async'],
] as const) {
  const suffix = mode === 'async' ? ' (background checkpoint writes)' : '';
  const asyncParam = mode === 'async' ? '&async=1' : '';
  test(`${backend}: a reload mid-epoch resumes from the last checkpoint with exactly the uninterrupted losses${suffix}`, async ({
    browser,
  }) => {
    test.setTimeout(240_000);
    // (a) The reference: an uninterrupted run in a fresh context.
    const refPage = await freshPage(browser);
    await refPage.goto(url(backend, 'reference'));
    const reference = await finish(refPage);
    await refPage.context().close();
    expect(reference.backend).toBe(backend);
    expect(reference.epochLength).toBe(EPOCH_LENGTH);
    expect(reference.sessions).toHaveLength(1);
    const refLosses = reference.sessions[0].losses;
    expect(reference.sessions[0].resumedFrom).toBeNull();
    expect(iterations(refLosses)).toEqual(range(1, TOTAL));
    expect(Object.values(refLosses).every(Number.isFinite)).toBe(true);
    expect(refLosses[TOTAL]).toBeLessThan(refLosses[1]); // it learns

    // (b) Another fresh context: start, reload during the second epoch after checkpoints 5..20, run to the end.
    const page = await freshPage(browser);
    await page.goto(url(backend, 'interrupted', `&delay=15${asyncParam}`));
    await page.waitForFunction(() => (window as any).progress?.iteration >= 22, null, { timeout: 60_000, polling: 1 });
    const seenBeforeReload = await page.evaluate(() => (window as any).progress.iteration as number);
    await page.reload();
    const resumed = await finish(page);
    await page.context().close();

    expect(resumed.sessions).toHaveLength(2);
    const [before, after] = resumed.sessions;
    const k = after.resumedFrom!;
    test.info().annotations.push({
      type: 'resume',
      description: `${backend}: reload requested at iteration ${seenBeforeReload}, first page reached ${Math.max(...iterations(before.losses))}, resumed from ${k} (${after.filename})`,
    });
    expect(before.resumedFrom).toBeNull();
    expect(k).toBeGreaterThanOrEqual(20);
    expect(k % EVERY).toBe(0);
    expect(k % EPOCH_LENGTH).not.toBe(0); // mid-epoch
    expect(after.filename).toBe(`checkpoint_${k}.ckpt`);
    // The newest checkpoint the first page finished (a save cut short by the reload is not there, e.g. a background
    // write still in flight).
    expect(k).toBe(Math.max(...before.saved));
    expect(Math.max(...iterations(before.losses))).toBeGreaterThanOrEqual(k);

    // Bit-exact: the first page matches the reference where it ran, the resumed page from k + 1 to the end.
    const beforeLosses = Object.fromEntries(Object.entries(before.losses).map(([i]) => [i, refLosses[i]]));
    expect(before.losses).toEqual(beforeLosses);
    expect(iterations(after.losses)).toEqual(range(k + 1, TOTAL));
    const expected = Object.fromEntries(range(k + 1, TOTAL).map((i) => [String(i), refLosses[i]]));
    expect(after.losses).toEqual(expected);

    // The resumed Checkpoint (includeSelf) kept rotating the files saved before the reload.
    const last = Math.floor(TOTAL / EVERY) * EVERY;
    expect(resumed.files).toEqual([`checkpoint_${last - EVERY}.ckpt`, `checkpoint_${last}.ckpt`]);
    expect(resumed.iteration).toBe(TOTAL);
    expect(resumed.tensorsAfter).toBe(resumed.tensorsBefore); // nothing leaked by the resumed run
  });
}

for (const backend of ['cpu', 'webgpu']) {
  test(`${backend}: repeated checkpoint saves and loads leave tf.memory().numTensors unchanged`, async ({
    browser,
  }) => {
    const page = await freshPage(browser);
    await page.goto(url(backend, 'leak', '&mode=leak'));
    const result = await finish<{ backend: string; counts: number[]; files: string[] }>(page);
    await page.context().close();
    expect(result.backend).toBe(backend);
    expect(result.counts).toHaveLength(12);
    expect(new Set(result.counts).size).toBe(1);
  });
}

// Everything a run carries, through IndexedDB and a reload: Accuracy and Loss on the trainer (EpochWise and as
// RunningAverages), a cosine learning-rate schedule, an evaluator every epoch with EarlyStopping, all in a checkpoint
// taken at every iteration. The first page load stops after the checkpoint of iteration K (mid-epoch, or the last
// iteration of an epoch, whose EPOCH_COMPLETED has not fired yet); the reloaded page resumes from it. Every recorded
// value after the resume is === the uninterrupted run's (JSON keeps doubles exact).

interface FullSession extends Session {
  iterations: Record<string, { loss: number; lr: number; runAcc: number; runLoss: number }>;
  epochs: Record<string, { earlyStopping: { counter: number; bestScore: number | null }; terminated: boolean }>;
}

const fullUrl = (backend: string, db: string, stopAt = 0, mode: 'sync' | 'async' = 'sync') =>
  `/e2e/pages/resume.html?backend=${backend}&db=${db}&epochs=${EPOCHS}&every=1&full=1${stopAt > 0 ? `&stopAt=${stopAt}` : ''}${mode === 'async' ? '&async=1' : ''}`;

/** The entries of `record` whose numeric keys lie in [from, to]. */
const slice = <T>(record: Record<string, T>, from: number, to: number) =>
  Object.fromEntries(Object.entries(record).filter(([key]) => Number(key) >= from && Number(key) <= to));

// With background writes (async) as well: the run's end (the interrupt at K) waits for the write of checkpoint K.
for (const [backend, points, mode] of [
  ['cpu', [7, 16, 29], 'sync'],
  ['webgpu', [21], 'sync'],
  ['cpu', [7, 16, 29], 'async'],
  ['webgpu', [21], 'async'],
] as const) {
  const suffix = mode === 'async' ? ' (background checkpoint writes)' : '';
  test(`${backend}: metrics, the LR schedule and early stopping resume exactly after a reload at iteration ${points.join(', ')}${suffix}`, async ({
    browser,
  }) => {
    test.setTimeout(backend === 'cpu' ? 240_000 : 300_000);
    const refPage = await freshPage(browser);
    await refPage.goto(fullUrl(backend, `full-reference-${backend}`));
    const reference = await finish<RunResult & { sessions: FullSession[] }>(refPage, 200_000);
    await refPage.context().close();
    expect(reference.backend).toBe(backend);
    const ref = reference.sessions[0];
    expect(iterations(ref.iterations)).toEqual(range(1, TOTAL));
    expect(new Set(Object.values(ref.iterations).map((v) => v.lr)).size).toBeGreaterThan(5);
    expect(Object.values(ref.epochs).map((e) => [e.earlyStopping.counter, e.terminated])).toEqual([
      [0, false],
      [1, false],
      [2, true],
    ]);

    for (const k of points) {
      const page = await freshPage(browser);
      await page.goto(fullUrl(backend, `full-${backend}-${k}`, k, mode));
      await page.waitForFunction(() => ['stopped', 'error'].includes((window as any).progress?.phase), null, {
        timeout: 200_000,
        polling: 50,
      });
      expect(await page.evaluate(() => (window as any).progress.error ?? null)).toBeNull();
      await page.reload();
      const resumed = await finish<RunResult & { sessions: FullSession[] }>(page, 200_000);
      await page.context().close();

      expect(resumed.sessions).toHaveLength(2);
      const [before, after] = resumed.sessions;
      expect(before.resumedFrom).toBeNull();
      expect(Math.max(...before.saved)).toBe(k);
      expect(after.resumedFrom).toBe(k);
      expect(after.filename).toBe(`checkpoint_${k}.ckpt`);
      expect(before.iterations).toEqual(slice(ref.iterations, 1, k));
      expect(after.iterations).toEqual(slice(ref.iterations, k + 1, TOTAL));
      // The epochs that ended after the resume; with k at an epoch's end, that epoch's end came after the resume.
      const firstEpoch = Math.ceil(k / EPOCH_LENGTH);
      expect(after.epochs).toEqual(slice(ref.epochs, firstEpoch, EPOCHS));
      expect(resumed.iteration).toBe(TOTAL);
      expect(resumed.tensorsAfter).toBe(resumed.tensorsBefore); // nothing left by the resumed run
    }
  });
}
