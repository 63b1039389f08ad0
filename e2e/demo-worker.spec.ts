import { expect, paintedPixels, snapshot, test, waitForStatus } from './demo-helpers';

test('worker mode trains in a Web Worker and the page charts its events', async ({ page }) => {
  await page.goto('/?worker=1&autostart=1&fresh=1&epochs=1&every=20&seed=5&db=e2e-worker');
  await expect(page.locator('#mode-badge')).toHaveText('mode: Web Worker');
  await waitForStatus(page, ['completed', 'failed']);
  const s = await snapshot(page);
  expect(s.errors).toEqual([]);
  expect(s.mode).toBe('worker');
  expect(s.status).toBe('completed');
  expect(s.backend?.backend).toBe('webgpu');
  expect(Object.keys(s.losses)).toHaveLength(45);
  expect(s.lastCheckpoint?.iteration).toBe(45);
  expect(await paintedPixels(page, '#charts .kindling-chart-loss')).toBeGreaterThan(500);
  await page.screenshot({ path: 'test-results/demo-worker.png', fullPage: true });
});
