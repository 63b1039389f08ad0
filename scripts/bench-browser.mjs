#!/usr/bin/env node
// Browser benchmarks in headless Chromium (Debian's /usr/bin/chromium, WebGPU through SwiftShader on a VM).
//   node scripts/bench-browser.mjs browser      demo/bench.html on WebGPU and CPU: steps/s of kindling vs a hand-written
//                                               loop vs model.fit, and the longest main-thread task; writes bench/RESULTS.md
//   node scripts/bench-browser.mjs checkpoint   e2e/pages/bench-checkpoint.html (written by the checkpoint engineer):
//                                               prints what its `window.benchResult` resolves to
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
if (mode !== 'browser' && mode !== 'checkpoint') {
  console.error(`bench-browser: the first argument should be 'browser' or 'checkpoint', got '${mode ?? ''}'.`);
  process.exit(1);
}
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const { createServer } = await import('vite');
const { chromium } = await import('@playwright/test');

const server = await createServer({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'error',
  server: { host: '127.0.0.1', port: 0, hmr: false },
});
await server.listen();
const origin = `http://127.0.0.1:${server.httpServer.address().port}`;
const browser = await chromium.launch({
  executablePath,
  args: [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
    '--enable-unsafe-webgpu',
  ],
});

/** Opens `path` in a fresh context and returns what `window.benchResult` resolves to. */
async function runPage(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${origin}${path}`);
  await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => window.benchResult);
  await context.close();
  return result;
}

let exitCode = 0;
try {
  if (mode === 'checkpoint') {
    const page = 'e2e/pages/bench-checkpoint.html';
    if (!existsSync(join(root, page))) throw new Error(`${page} does not exist yet.`);
    console.log(JSON.stringify(await runPage(`/${page}`), null, 2));
  } else {
    const epochs = Number(process.env.BENCH_EPOCHS ?? 3);
    const results = [];
    for (const backend of ['webgpu', 'cpu']) {
      const result = await runPage(`/demo/bench.html?backend=${backend}&epochs=${epochs}`);
      results.push(result);
      for (const row of result.rows) {
        console.log(
          `${result.backend.backend.padEnd(6)} ${row.name.padEnd(50)} ${row.stepsPerSecond.toFixed(1).padStart(7)} steps/s` +
            `  longest task ${row.longestTaskMs.toFixed(0)} ms (${row.longTasks} long tasks)`,
        );
      }
    }
    writeResults(results, epochs);
  }
} catch (error) {
  console.error(`bench-browser: ${error.stack ?? error}`);
  exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
process.exit(exitCode);

function writeResults(results, epochs) {
  const file = join(root, 'bench', 'RESULTS.md');
  const marker = '<!-- bench:browser -->';
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const lines = [
    marker,
    '## Browser training throughput (`npm run bench:browser`)',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machine} · ${results[0]?.userAgent ?? ''}`,
    '',
    `The demo's MLP (64→64→10, dropout 0.1) on the digits training split (1437 images, batch 32, 45 steps per epoch),`,
    `${epochs} epochs after one warm-up run. "kindling" is the demo's TrainingSession: createSupervisedTrainer`,
    '(deterministic), the loss read back every step for the chart, a ChartFeed redrawing uPlot at most once per frame,',
    'an evaluator (Accuracy, Loss) and an IndexedDB checkpoint each epoch, EventLoopYielder(8 ms). The hand-written loop',
    'also reads the loss back every step; model.fit does not. Longest task: PerformanceObserver("longtask") on the page.',
    'The VM is small and was shared with other jobs while this ran: repeat runs differ by 20% or more; compare rows of',
    'one run, not across runs. WebGPU runs on SwiftShader (a CPU emulation), so it is no faster than the CPU backend here.',
    '',
    '| backend | adapter | way | steps/s | longest task (ms) | long tasks |',
    '|---|---|---|---:|---:|---:|',
  ];
  for (const result of results) {
    const a = result.backend.adapter;
    const adapter = a ? [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') : '-';
    for (const row of result.rows) {
      lines.push(
        `| ${result.backend.backend} | ${adapter} | ${row.name} | ${row.stepsPerSecond.toFixed(1)} | ${row.longestTaskMs.toFixed(0)} | ${row.longTasks} |`,
      );
    }
  }
  lines.push(marker);
  const block = lines.join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const pattern = new RegExp(`${marker}[\\s\\S]*${marker}`);
  text = pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
