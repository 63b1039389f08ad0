import { readFileSync } from 'node:fs';
import { expect, paintedPixels, snapshot, test, waitForStatus } from './demo-helpers';

// The LR finder cell runs FastaiLRFinder on the current model and leaves it exactly as it was: a run started after it
// trains the same losses as a run in another store that never saw the finder. "apply" puts the suggestion in the form.
test('the LR finder plots loss against the rate, suggests one, applies it, and leaves the run untouched', async ({
  page,
}) => {
  const settings = 'backend=cpu&epochs=1&every=50&seed=3&fresh=1';
  await page.goto(`/?${settings}&db=e2e-lr-plain&autostart=1`);
  await waitForStatus(page, ['completed', 'failed']);
  const plain = await snapshot(page);
  expect(plain.status).toBe('completed');

  await page.goto(`/?${settings}&db=e2e-lr-finder`);
  await page.evaluate(() => (window as any).kindlingDemo.ready);
  await page.click('#find-lr');
  await expect(page.locator('#lr-summary')).toContainText(/suggested learning rate|no suggestion/, { timeout: 90_000 });
  expect(await paintedPixels(page, '#lr-chart')).toBeGreaterThan(500);
  await page.click('#start');
  await waitForStatus(page, ['completed', 'failed']);
  const afterFinder = await snapshot(page);
  expect(afterFinder.errors).toEqual([]);
  expect(afterFinder.losses).toEqual(plain.losses);

  const summary = (await page.locator('#lr-summary').textContent()) ?? '';
  const suggested = summary.match(/suggested learning rate ([\d.e-]+)/)?.[1];
  expect(suggested, `the digits MLP's range test should give a suggestion; the cell says '${summary}'`).toBeDefined();
  await page.click('#apply-lr');
  await expect(page.locator('input[name="learningRate"]')).toHaveValue(suggested!);
});

test('"download TensorBoard log" saves the run\'s event file', async ({ page }) => {
  await page.goto('/?backend=cpu&epochs=1&every=50&db=e2e-tensorboard&fresh=1&autostart=1');
  await waitForStatus(page, ['completed', 'failed']);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#tensorboard')]);
  expect(download.suggestedFilename()).toMatch(/^events\.out\.tfevents\./);
  const bytes = readFileSync((await download.path())!);
  // Scalars every 5 iterations of the 45 (tag training/loss) and the validation metrics of the epoch.
  const text = bytes.toString('latin1');
  expect(text.split('training/loss').length - 1).toBe(9);
  expect(text).toContain('validation/accuracy');
});
