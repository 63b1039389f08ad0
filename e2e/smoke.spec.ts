import { expect, test } from '@playwright/test';

test('tfjs runs on WebGPU in headless Chromium', async ({ page }) => {
  await page.goto('/e2e/pages/smoke.html');
  const result = await page.evaluate(() => (window as any).result);
  expect(result.backend).toBe('webgpu');
  expect(result.values).toEqual([2, 3, 4]);
});
