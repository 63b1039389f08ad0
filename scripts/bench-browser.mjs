#!/usr/bin/env node
// Browser benchmarks in headless Chromium (Debian's /usr/bin/chromium, WebGPU through SwiftShader on a VM).
//   node scripts/bench-browser.mjs browser      demo/bench.html on WebGPU and CPU: steps/s of kindling vs a hand-written
//                                               loop vs model.fit, and the longest main-thread task; writes bench/RESULTS.md
//   node scripts/bench-browser.mjs checkpoint   e2e/pages/bench-checkpoint.html (written by the checkpoint engineer):
//                                               prints what its `window.benchResult` resolves to
//   node scripts/bench-browser.mjs resume       e2e/pages/bench-resume.html on CPU and WebGPU: time from navigation to
//                                               the first training step, fresh vs after a reload mid-run (resumed from
//                                               IndexedDB); writes the ratio to bench/RESULTS.md
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
if (mode !== 'browser' && mode !== 'checkpoint' && mode !== 'resume') {
  console.error(
    `bench-browser: the first argument should be 'browser', 'checkpoint' or 'resume', got '${mode ?? ''}'.`,
  );
  process.exit(1);
}
const { createServer } = await import('vite');
const { chromium } = await import('@playwright/test');

// E2E_PORT (as for Playwright) picks the dev server's port, failing if it is taken; otherwise any free port.
const port = process.env.E2E_PORT ? Number(process.env.E2E_PORT) : 0;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`bench-browser: E2E_PORT should be a port number, got '${process.env.E2E_PORT}'.`);
  process.exit(1);
}
const server = await createServer({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'error',
  server: { host: '127.0.0.1', port, strictPort: port !== 0, hmr: false, watch: null },
});
await server.listen();
const origin = `http://127.0.0.1:${server.httpServer.address().port}`;
const browser = await chromium.launch({ executablePath: chromiumPath, args: chromiumArgs });

/** Opens `path` in a fresh context and returns what `window.benchResult` resolves to. */
async function runPage(path) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  await page.goto(`${origin}${path}`, { timeout: 120_000 });
  await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 60_000 });
  const result = await page.evaluate(() => window.benchResult);
  await context.close();
  return result;
}

let exitCode = 0;
try {
  if (mode === 'checkpoint') {
    // BENCH_PARTS=async runs only the background-save part (base: only save/load).
    const parts = (process.env.BENCH_PARTS ?? 'base,async').split(',');
    if (parts.includes('base')) writeCheckpointResults(await runPage('/e2e/pages/bench-checkpoint.html'));
    if (parts.includes('async')) {
      const results = [];
      for (const backend of (process.env.BENCH_BACKENDS ?? 'cpu,webgpu').split(',')) {
        // BENCH_CASES=small,model,full picks the cases (default all three).
        const cases = process.env.BENCH_CASES ? `&cases=${process.env.BENCH_CASES}` : '';
        const query = `backend=${backend}&iterations=${process.env.BENCH_ITERATIONS ?? 30}&layers=${process.env.BENCH_LAYERS ?? 5}${cases}`;
        const result = await runPage(`/e2e/pages/bench-checkpoint-async.html?${query}`);
        for (const row of result.rows) console.log(JSON.stringify({ backend: result.backend, ...row }));
        results.push(result);
      }
      writeAsyncCheckpointResults(results);
    }
  } else if (mode === 'resume') {
    const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
    const results = [];
    for (const backend of ['cpu', 'webgpu']) results.push(await benchResume(backend, rounds));
    writeResumeResults(results, rounds);
  } else {
    const epochs = Number(process.env.BENCH_EPOCHS ?? 3);
    const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
    const results = [];
    for (const backend of ['webgpu', 'cpu']) {
      const result = await runPage(`/demo/bench.html?backend=${backend}&epochs=${epochs}&rounds=${rounds}`);
      results.push(result);
      for (const row of result.rows) {
        console.log(
          `${result.backend.backend.padEnd(6)} ${row.name.padEnd(50)} ${row.stepsPerSecond.toFixed(1).padStart(7)} steps/s` +
            ` (rounds: ${row.rounds.map((r) => r.toFixed(1)).join(', ')})` +
            `  longest task ${row.longestTaskMs.toFixed(0)} ms (${row.longTasks} long tasks)`,
        );
      }
    }
    writeResults(results, epochs, rounds);
  }
} catch (error) {
  console.error(`bench-browser: ${error.stack ?? error}`);
  exitCode = 1;
} finally {
  await browser.close();
  await server.close();
}
process.exit(exitCode);

/**
 * Time from navigation to the first training step of e2e/pages/bench-resume.html: in a fresh store, then after a
 * reload of the same page mid-run (the run hangs at iteration 20; its newest checkpoint is iteration 15), where the
 * first step is the resumed iteration 16. One browser context per backend (the same HTTP cache and IndexedDB for
 * both loads), a warm-up load first so that neither measurement pays for the first module fetches.
 */
async function benchResume(backend, rounds) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`page error: ${error.message}`));
  const stamp = Date.now();
  const open = async (url) => {
    await page.goto(url);
    await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 120_000 });
    return page.evaluate(() => window.benchResult);
  };
  await open(`${origin}/e2e/pages/bench-resume.html?backend=${backend}&db=bench-resume-warmup-${stamp}`);
  const fresh = [];
  const reloaded = [];
  for (let round = 0; round < rounds; round++) {
    const url = `${origin}/e2e/pages/bench-resume.html?backend=${backend}&db=bench-resume-${stamp}-${round}&hangAt=20&every=5`;
    const first = await open(url);
    if (first.resumed) throw new Error(`bench:resume: round ${round} on ${backend} found a checkpoint in a new store.`);
    await page.waitForFunction(() => window.iteration >= 19, null, { timeout: 120_000 });
    await page.waitForTimeout(200); // the checkpoint of iteration 15 is long written; let IndexedDB settle
    await page.reload();
    await page.waitForFunction(() => window.benchResult !== undefined, null, { timeout: 120_000 });
    const second = await page.evaluate(() => window.benchResult);
    if (!second.resumed || second.from !== 15) {
      throw new Error(
        `bench:resume: the reload on ${backend} should resume from iteration 15, got ${JSON.stringify(second)}.`,
      );
    }
    fresh.push(first.firstStepMs);
    reloaded.push(second.firstStepMs);
    console.log(
      `${backend.padEnd(6)} round ${round + 1}: fresh first step ${first.firstStepMs.toFixed(0)} ms, ` +
        `reload first resumed step ${second.firstStepMs.toFixed(0)} ms (ratio ${(second.firstStepMs / first.firstStepMs).toFixed(2)})`,
    );
  }
  await context.close();
  return { backend, fresh, reloaded };
}

function writeResumeResults(results, rounds) {
  const marker = '<!-- bench:resume -->';
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  const lines = [
    marker,
    '## Reload to the first resumed step (`npm run bench:resume`)',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machineLine(results.some((r) => r.backend === 'webgpu'))}`,
    '',
    'e2e/pages/bench-resume.html: an app on the public API (the headline recipe: a 12→24→4 classifier with dropout,',
    'Adam, a cosine LR schedule, an evaluator each epoch, LiveCharts, setupResumableTraining with a checkpoint every 5',
    'iterations into IndexedDB, trainHere). Time from navigation start to the end of the first training step of the',
    'page load: a fresh run in a new store, and after a reload of the same page mid-run, the first step resumed from',
    'the newest checkpoint (iteration 15 of a run stopped at 20: opening the store, loading model, optimizer, trainer,',
    `schedule and the charts' history). Same browser context for both (warm HTTP cache), ${rounds} rounds, medians;`,
    'the ratio is the median of the per-round ratios (target <= 1.2).',
    '',
    '| backend | fresh: first step (ms) | reload: first resumed step (ms) | reload / fresh | rounds (fresh / reload, ms) |',
    '|---|---:|---:|---:|---|',
  ];
  for (const { backend, fresh, reloaded } of results) {
    const ratio = median(reloaded.map((r, i) => r / fresh[i]));
    lines.push(
      `| ${backend} | ${median(fresh).toFixed(0)} | ${median(reloaded).toFixed(0)} | ${ratio.toFixed(2)} | ` +
        `${fresh.map((f, i) => `${f.toFixed(0)}/${reloaded[i].toFixed(0)}`).join(', ')} |`,
    );
    console.log(`${backend}: reload / fresh time to the first step = ${ratio.toFixed(2)} (target <= 1.2)`);
  }
  lines.push('');
  writeSection(marker, lines);
}

function writeResults(results, epochs, rounds) {
  const marker = '<!-- bench:browser -->';
  const swiftShader = results.some((r) => /swiftshader/i.test(JSON.stringify(r.backend.adapter ?? '')));
  const machine = machineLine(swiftShader);
  const lines = [
    marker,
    '## Browser training throughput (`npm run bench:browser`)',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machine} · ${results[0]?.userAgent ?? ''}`,
    '',
    `The demo's MLP (64→64→10, dropout 0.1) on the digits training split (1437 images, batch 32, 45 steps per epoch),`,
    `${epochs} epochs per measurement after one warm-up run; each way is measured ${rounds} times, the ways taking turns,`,
    'and the table gives the median (all rounds in the last column). "kindling" is the demo\'s TrainingSession:',
    'createSupervisedTrainer (deterministic), the losses recorded by ScalarHistory (a clone per step, one read per 20',
    'steps, never awaited by the step) for the chart and running loss, a ChartFeed redrawing uPlot at most once per',
    'frame, an evaluator (Accuracy, Loss) and an IndexedDB checkpoint each epoch, EventLoopYielder(16 ms), and the',
    "mistakes cell at the end (from the last evaluation's logits: one read, no second pass). The hand-written",
    'loop reads nothing back during an epoch and one loss at its end; model.fit reads nothing back per batch either.',
    'Longest task: PerformanceObserver("longtask") on the page, over all rounds.',
    'The VM is small and was shared with other jobs while this ran: single runs differ by 50% or more, hence the',
    'medians. WebGPU runs on SwiftShader (a CPU emulation in the GPU process), about 6x slower than the CPU backend here.',
    'Each page keeps every way on its own backend (the bench checks tf.getBackend() after each measurement).',
    '',
    '| backend | adapter | way | steps/s (median) | longest task (ms) | long tasks | rounds (steps/s) |',
    '|---|---|---|---:|---:|---:|---|',
  ];
  for (const result of results) {
    const a = result.backend.adapter;
    const adapter = a ? [a.vendor, a.architecture, a.description].filter(Boolean).join(' ') : '-';
    for (const row of result.rows) {
      lines.push(
        `| ${result.backend.backend} | ${adapter} | ${row.name} | ${row.stepsPerSecond.toFixed(1)} | ${row.longestTaskMs.toFixed(0)} | ${row.longTasks} | ${row.rounds.map((r) => r.toFixed(1)).join(', ')} |`,
      );
    }
  }
  lines.push('');
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  for (const result of results) {
    const row = (prefix) => result.rows.find((r) => r.name.startsWith(prefix));
    const [kindling, loop, fit] = [row('kindling'), row('hand-written'), row('model.fit')];
    if (kindling && loop && fit) {
      // Ratios within each round (the ways ran one after another) cancel much of the machine's drift.
      const paired = (other) => median(kindling.rounds.map((r, i) => r / other.rounds[i]));
      lines.push(
        `- ${result.backend.backend}: kindling / hand-written loop = ${(kindling.stepsPerSecond / loop.stepsPerSecond).toFixed(2)} ` +
          `(median of per-round ratios ${paired(loop).toFixed(2)}; target >= 0.95); kindling / model.fit = ` +
          `${(kindling.stepsPerSecond / fit.stepsPerSecond).toFixed(2)} (per-round ${paired(fit).toFixed(2)}; target >= 1.2).`,
      );
    }
  }
  writeSection(marker, lines);
}

/** Writes the background-save figures (e2e/pages/bench-checkpoint-async.html) to bench/RESULTS.md. */
function writeAsyncCheckpointResults(results) {
  const marker = '<!-- bench:checkpoint-async -->';
  const load = process.env.BENCH_LOAD ? ` · load average at start ${process.env.BENCH_LOAD}` : '';
  const lines = [
    marker,
    '## Background checkpoints (`Checkpoint({ async: true })`, `npm run bench:checkpoint`)',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machineLine(true)}${load} · headless Chromium`,
    '',
    `Training the 21 MB model (Adam, batch 4, the loss read back each step) with a checkpoint every ${results[0]?.every}`,
    `iterations: ${results[0]?.iterations} steps (small MLP: 5x as many, batch 32; an EventLoopYielder(16 ms) in every way) measured after a warm-up of ${results[0]?.every} (one checkpoint), up to run() resolving.`,
    'pause: median time in the Checkpoint handler (all pauses in brackets). steps/s: with checkpoints vs without,',
    'and their ratio. Longest task during a save: the same state saved with the training loop idle, the longest gap',
    `of a MessageChannel heartbeat and the longest "longtask" entry (0: none over 50 ms), worst of ${results[0]?.saveReps} saves.`,
    '',
    '| backend | saved | MB | way | pause (ms) | steps/s with / without | ratio | longest task: heartbeat / longtask (ms) |',
    '|---|---|---:|---|---:|---|---:|---|',
  ];
  for (const result of results) {
    for (const r of result.rows) {
      lines.push(
        `| ${result.backend} | ${r.case} | ${r.megabytes} | ${r.way} | ${r.pauseMs} (${r.pausesMs.join(', ')}) | ${r.stepsPerSecond} / ${r.withoutCheckpoints} | ${r.ratio} | ${r.heartbeatGapMs} / ${r.longTaskMs} |`,
      );
    }
  }
  writeSection(marker, lines);
}

/** Prints the checkpoint benchmark as a table and writes it to bench/RESULTS.md. */
function writeCheckpointResults(result) {
  const marker = '<!-- bench:checkpoint -->';
  const lines = [
    marker,
    '## Checkpoint save and load (`npm run bench:checkpoint`)',
    '',
    `${new Date().toISOString().slice(0, 10)} · ${machineLine(false)} · headless Chromium, tfjs ${result.backend} backend`,
    '',
    `A model of about ${result.megabytes} MB of weights (plus Adam slots where named), median of ${result.reps} runs.`,
    '',
    '| operation | median (ms) | min (ms) | MB/s |',
    '|---|---:|---:|---:|',
    ...result.rows.map((row) => `| ${row.name} | ${row.medianMs} | ${row.minMs} | ${row.mbPerSecond} |`),
    '',
    'How long training is paused while a checkpoint is taken (time inside the Checkpoint handler during a run):',
    '',
    '| saved | MB | pause (ms) | iteration without / with a checkpoint (ms) |',
    '|---|---:|---:|---|',
    ...result.pauses.map(
      (p) => `| ${p.name} | ${p.megabytes} | ${p.pauseMs} | ${p.iterationMs} / ${p.iterationWithCheckpointMs} |`,
    ),
    '',
    ...Object.entries(result.ratios).map(([name, value]) => `- ${name}: ${value}`),
    marker,
  ];
  for (const line of lines.slice(1, -1)) console.log(line);
  writeSection(marker, lines);
}

function machineLine(swiftShader) {
  return (
    `${cpus().length}-core VM (${cpus()[0]?.model ?? 'unknown CPU'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB` +
    (swiftShader ? ', no GPU: WebGPU on SwiftShader' : '')
  );
}

/** Replaces the block between two `marker` lines in bench/RESULTS.md (or appends it). */
function writeSection(marker, lines) {
  const file = join(root, 'bench', 'RESULTS.md');
  if (lines.at(-1) !== marker) lines.push(marker);
  const block = lines.join('\n');
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const pattern = new RegExp(`${marker}[\\s\\S]*${marker}`);
  text = pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
