import { expect, snapshot, test, waitForStatus } from './demo-helpers';

// The notebook at a phone's width and a laptop's: nothing wider than the window (no sideways scrolling), and the
// charts show their axes both while empty and after a run. Screenshots: test-results/demo-layout-{width}.png.
for (const width of [390, 1280]) {
  test(`at ${width} px wide: no horizontal overflow, charts with axes before and after training`, async ({ page }) => {
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`/?backend=cpu&epochs=1&every=50&db=e2e-layout-${width}&fresh=1`);
    await page.evaluate(() => (window as any).kindlingDemo.ready);
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    // Empty charts: the loss and the metrics charts are drawn with their axes (x + y, x + two y, x + y).
    await expect(page.locator('#charts .kindling-chart')).toHaveCount(3);
    expect(await page.locator('#charts .kindling-chart .u-axis').count()).toBe(7);
    expect(await overflow()).toBeLessThanOrEqual(0);

    await page.click('#start');
    await waitForStatus(page, ['completed', 'failed']);
    expect((await snapshot(page)).status).toBe('completed');
    await expect(page.locator('#confusion td')).toHaveCount(100);
    expect(await page.locator('#charts .kindling-chart .u-axis').count()).toBe(7);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: `test-results/demo-layout-${width}.png`, fullPage: true });
  });
}
