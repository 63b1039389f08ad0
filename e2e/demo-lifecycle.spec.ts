import type { Page } from '@playwright/test';
import { expect, snapshot, test, waitForIteration, waitForStatus } from './demo-helpers';

// Regression tests for review 2 (findings 1, 2, 4 and 5): reset during a run, start with other settings, a second
// tab, and the checkpoint table's buttons. CPU backend, long runs that are cut short: each test takes a few seconds.

/** Records every status the page reports, from its first event on. */
async function recordStatuses(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as any;
    w.statuses = [];
    const hook = () => {
      if (w.kindlingDemo) w.kindlingDemo.subscribe((e: any) => e.type === 'status' && w.statuses.push(e.status));
      else setTimeout(hook, 0);
    };
    hook();
  });
}

const statuses = (page: Page): Promise<string[]> => page.evaluate(() => (window as any).statuses);

/** Clicks `selector`, then waits until the session reports a new completed or failed status. */
async function clickAndSettle(page: Page, selector: string): Promise<void> {
  const ends = (list: string[]) => list.filter((s) => s === 'completed' || s === 'failed').length;
  const before = ends(await statuses(page));
  await page.click(selector);
  await page.waitForFunction(
    (n) => (window as any).statuses.filter((s: string) => s === 'completed' || s === 'failed').length > n,
    before,
    { timeout: 60_000 },
  );
}
const storedRun = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('kindling-demo:run') ?? 'null'));

for (const mode of ['main', 'worker'] as const) {
  test(`reset during training waits for the run to end, then clears it (${mode})`, async ({ page }) => {
    await recordStatuses(page);
    const worker = mode === 'worker' ? '&worker=1' : '';
    await page.goto(`/?epochs=100&every=5&seed=3&db=e2e-reset-${mode}&autostart=1&fresh=1${worker}`);
    await waitForIteration(page, 12);
    // Finding 5: while a run is under way the table's load and delete buttons are disabled.
    await expect(page.locator('#checkpoints tbody tr').first()).toBeVisible();
    for (const button of await page.locator('#checkpoints tbody button').all()) await expect(button).toBeDisabled();

    const before = (await statuses(page)).length;
    await page.click('#reset');
    await waitForStatus(page, ['idle', 'failed']);
    await page.waitForTimeout(300); // a step still running on disposed tensors would fail within this
    const s = await snapshot(page);
    expect(s.status).toBe('idle');
    expect(s.errors).toEqual([]);
    // The run ended (stopped) before the reset freed its model and deleted the checkpoints.
    expect((await statuses(page)).slice(before)).toEqual(['stopped', 'resetting', 'idle']);
    await expect(page.locator('#checkpoints tbody tr')).toHaveCount(0);
    expect(await storedRun(page)).toBeNull();

    // The session is usable again: a new run trains from iteration 1.
    await page.click('#start');
    await waitForIteration(page, 3);
    expect((await snapshot(page)).resumedFrom).toBeNull();
    await page.click('#pause');
    await waitForStatus(page, ['paused']);
    for (const button of await page.locator('#checkpoints tbody button').all()) await expect(button).toBeEnabled();
  });
}

test('start with other settings trains a fresh run in its own store; the same settings resume', async ({ page }) => {
  await recordStatuses(page);
  await page.goto('/?backend=cpu&epochs=1&every=20&seed=3&db=e2e-settings&fresh=1');
  await page.evaluate(() => (window as any).kindlingDemo.ready);
  await clickAndSettle(page, '#start');
  const first = await snapshot(page);
  expect(first.status).toBe('completed');

  await page.fill('input[name=seed]', '4');
  await clickAndSettle(page, '#start');
  const second = await snapshot(page);
  expect(second.status).toBe('completed');
  expect(second.resumedFrom).toBeNull(); // trained, not resumed from the seed-3 run
  await expect(page.locator('input[name=seed]')).toHaveValue('4'); // the form was not reverted
  expect(Object.keys(second.losses)).toHaveLength(45);
  expect(second.losses[1]).not.toBe(first.losses[1]);
  await expect(page.locator('#log')).toContainText('new settings (mlp, seed 4');
  expect((await storedRun(page)).config.seed).toBe(4);

  // Back to seed 3: its store still holds its finished run, which start continues (here: nothing left to train).
  await page.fill('input[name=seed]', '3');
  await page.locator('input[name=seed]').dispatchEvent('change');
  await clickAndSettle(page, '#start');
  const third = await snapshot(page);
  expect(third.resumedFrom?.iteration).toBe(45);
  expect(third.losses).toEqual(first.losses);
  await expect(page.locator('#log')).toContainText('this run had already finished');
});

test('a second tab finds the store locked, leaves the shared record alone, and the first tab still resumes', async ({
  page,
  context,
}) => {
  const url = '/?backend=cpu&epochs=100&every=5&seed=9&db=e2e-tabs';
  await page.goto(`${url}&autostart=1&fresh=1`);
  await waitForIteration(page, 12);
  expect((await storedRun(page)).status).toBe('running');

  const tab2 = await context.newPage();
  await recordStatuses(tab2);
  await tab2.goto(url); // the record says running: without the lock check this tab would auto-start
  await waitForStatus(tab2, ['locked', 'failed', 'running']);
  await expect(tab2.locator('#status')).toContainText('in use by another tab');
  expect(await statuses(tab2)).toEqual([]); // it did not try to train
  await tab2.click('#start'); // an explicit start is refused the same way
  await tab2.waitForFunction(() => (window as any).statuses.includes('locked'));
  await waitForStatus(tab2, ['locked', 'failed', 'running']);
  expect(await statuses(tab2)).not.toContain('running');
  expect(await statuses(tab2)).not.toContain('failed');
  expect((await snapshot(tab2)).errors).toEqual([]);
  expect((await storedRun(page)).status).toBe('running');
  await tab2.close();

  await page.goto(url); // a reload of the first tab continues its run
  await page.waitForFunction(() => (window as any).kindlingDemo.resumedFrom !== null, null, { timeout: 30_000 });
  expect((await snapshot(page)).resumedFrom!.iteration).toBeGreaterThanOrEqual(10);
  await page.click('#stop');
  await waitForStatus(page, ['stopped']);
});
