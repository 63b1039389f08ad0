import { expect, lossList, snapshot, test, waitForIteration, waitForStatus } from './demo-helpers';

test('pause and resume mid-epoch continue at the same iteration; stop then start resumes', async ({ page }) => {
  // Batches of 8: 180 iterations per epoch, so the pause lands mid-epoch 1 although losses reach the page a chunk
  // (20) late and the CPU backend is fast.
  await page.goto('/?backend=cpu&epochs=2&every=5&seed=3&batch=8&db=e2e-controls&autostart=1&fresh=1');
  await waitForIteration(page, 12);
  await page.click('#pause');
  await waitForStatus(page, ['paused']);
  const paused = await snapshot(page);
  const at = Math.max(...Object.keys(paused.losses).map(Number));
  expect(at).toBeLessThan(180); // still mid-epoch 1
  await expect(page.locator('#resume')).toBeEnabled();

  await page.click('#resume');
  await waitForIteration(page, at + 5);
  await page.click('#stop');
  await waitForStatus(page, ['stopped']);
  const stopped = await snapshot(page);
  const iterations = lossList(stopped.losses).map(([i]) => i);
  // No iteration repeated or skipped around the pause.
  expect(iterations).toEqual(Array.from({ length: iterations.length }, (_, k) => k + 1));

  await page.click('#start'); // continues from the latest checkpoint
  await waitForStatus(page, ['completed', 'failed']);
  const done = await snapshot(page);
  expect(done.status).toBe('completed');
  expect(done.resumedFrom!.iteration % 5).toBe(0);
  expect(done.resumedFrom!.iteration).toBeGreaterThanOrEqual(at);
  await expect(page.locator('#progress-text')).toContainText('iteration 360/360');
  expect(lossList(done.losses).map(([i]) => i)).toEqual(Array.from({ length: 360 }, (_, k) => k + 1));
});
