import { test as base, expect, type Page } from '@playwright/test';

/** The slice of `window.kindlingDemo` the tests read (see demo/main.ts). */
export interface DemoSnapshot {
  status: string;
  mode: string;
  backend: { backend: string; fellBackFrom: string | null } | null;
  losses: Record<number, number>;
  epochs: Array<{ epoch: number; iteration: number; metrics: Record<string, number> }>;
  lastCheckpoint: { name: string; iteration: number } | null;
  resumedFrom: { name: string; iteration: number; epoch: number } | null;
  errors: string[];
}

/** Reads the page's test API. */
export function snapshot(page: Page): Promise<DemoSnapshot> {
  return page.evaluate(() => {
    const d = (window as any).kindlingDemo;
    return {
      status: d.status,
      mode: d.mode,
      backend: d.backend,
      losses: { ...d.losses },
      epochs: d.epochs,
      lastCheckpoint: d.lastCheckpoint,
      resumedFrom: d.resumedFrom,
      errors: d.errors,
    };
  });
}

/** Waits until the demo's status is one of `statuses`. */
export async function waitForStatus(page: Page, statuses: string[], timeout = 90_000): Promise<void> {
  await page.waitForFunction((s) => s.includes((window as any).kindlingDemo?.status), statuses, { timeout });
}

/** Waits until the trainer passed `iteration`. */
export async function waitForIteration(page: Page, iteration: number, timeout = 60_000): Promise<void> {
  await page.waitForFunction(
    (i) => Object.keys((window as any).kindlingDemo?.losses ?? {}).some((k) => Number(k) >= i),
    iteration,
    { timeout },
  );
}

/** Losses as an array ordered by iteration: `[[iteration, loss], ...]`. */
export function lossList(losses: Record<number, number>): Array<[number, number]> {
  return Object.entries(losses)
    .map(([k, v]) => [Number(k), v] as [number, number])
    .sort((a, b) => a[0] - b[0]);
}

/** Counts pixels that differ from the first one in every canvas inside `selector`. */
export function paintedPixels(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    let painted = 0;
    for (const canvas of document.querySelectorAll<HTMLCanvasElement>(`${sel} canvas`)) {
      const ctx = canvas.getContext('2d');
      if (!ctx || canvas.width === 0 || canvas.height === 0) continue;
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) painted++;
      }
    }
    return painted;
  }, selector);
}

/**
 * A `page` that records uncaught errors, console errors and failed requests; each test ends by checking none
 * happened (issue 6, item 6).
 */
export const test = base.extend<{ problems: string[] }>({
  problems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      const watch = (p: Page) => {
        p.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
        p.on('console', (message) => {
          if (message.type() === 'error') problems.push(`console: ${message.text()}`);
        });
        p.on('requestfailed', (request) => {
          // A reload cancels the requests in flight; that is not a failure of the page.
          if (request.failure()?.errorText !== 'net::ERR_ABORTED') {
            problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
          }
        });
        p.on('response', (response) => {
          if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
        });
      };
      watch(page);
      page.context().on('page', watch);
      await use(problems);
      expect(problems).toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
