import { expect, test } from './demo-helpers';

test('the embedding example trains with kindling as a plain ES module', async ({ page }) => {
  await page.goto('/demo/embed/');
  await page.click('#train');
  await page.waitForFunction(() => (window as any).embedResult !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => (window as any).embedResult);
  expect(result.accuracy).toBeGreaterThanOrEqual(0.9);
  await expect(page.locator('#out')).toContainText('epoch 10: accuracy');

  // A second click frees what it allocates: model, data and the optimizer's slots (finding 14 of review 2).
  await page.evaluate(() => {
    (window as any).embedResult = undefined;
  });
  await page.click('#train');
  await page.waitForFunction(() => (window as any).embedResult !== undefined, null, { timeout: 60_000 });
  const again = await page.evaluate(() => (window as any).embedResult);
  expect(again.numTensors).toBe(result.numTensors);
  await expect(page.locator('#train')).toBeEnabled();
});
