import { expect, snapshot, test } from './demo-helpers';

// Issue 6: training must not rely on requestAnimationFrame to make progress, so that it continues in a background
// tab. The page is made to look like one before any of its code runs: hidden, and animation frames never come.
test('training continues in a background tab: hidden page, no animation frames', async ({ page, problems }) => {
  await page.addInitScript(() => {
    Object.defineProperty(document, 'visibilityState', { get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { get: () => true });
    (window as any).__animationFrames = 0;
    window.requestAnimationFrame = () => {
      (window as any).__animationFrames += 1;
      return 0; // never called back, as in a background tab
    };
  });
  await page.goto('/?backend=cpu&autostart=1&fresh=1&epochs=2&every=20&seed=3&db=e2e-background');
  // Poll on a timer: Playwright's default polling waits for animation frames, which this page never gets.
  await page.waitForFunction(() => ['completed', 'failed'].includes((window as any).kindlingDemo?.status), null, {
    polling: 100,
    timeout: 90_000,
  });
  const s = await snapshot(page);
  expect(s.status).toBe('completed');
  expect(s.errors).toEqual([]);
  // Every loss reached the page's chart history and every epoch its validation metrics, without a single frame.
  expect(Object.keys(s.losses)).toHaveLength(90);
  expect(s.epochs.map((e) => e.epoch)).toEqual([1, 2]);
  expect(s.lastCheckpoint?.iteration).toBe(90);
  expect(await page.evaluate(() => document.hidden)).toBe(true);
  expect(problems).toEqual([]);
});
