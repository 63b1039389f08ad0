import { expect, test } from '@playwright/test';

// selectBackend in the page: WebGPU when its optional package loads; when the package is missing (here: every request
// for it answered 404, as a page built without it fails to load it), WebGL, with a reason that names the package.

const PAGE = '/e2e/pages/backend.html';

test('selectBackend picks WebGPU when @tensorflow/tfjs-backend-webgpu loads', async ({ page }) => {
  await page.goto(PAGE);
  const result = await page.evaluate(() => (window as any).selection);
  expect(result.backend).toBe('webgpu');
  expect(result.fellBackFrom).toBeNull();
  expect(result.label).toMatch(/^webgpu/);
});

test('without @tensorflow/tfjs-backend-webgpu the page gets WebGL and the badge says what to install', async ({
  page,
}) => {
  await page.route(/tfjs-backend-webgpu/, (route) => route.fulfill({ status: 404, body: 'not installed' }));
  await page.goto(PAGE);
  const result = await page.evaluate(() => (window as any).selection);
  expect(result.backend).toBe('webgl');
  expect(result.fellBackFrom).toBe('webgpu');
  expect(result.label).toMatch(
    /^webgl — fell back: webgpu: the optional package @tensorflow\/tfjs-backend-webgpu did not load \(.+\); to train on WebGPU, install it beside @tensorflow\/tfjs: npm install @tensorflow\/tfjs-backend-webgpu@4\.22\.0$/,
  );
});
