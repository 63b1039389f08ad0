#!/usr/bin/env node
// `npm run train`: trains the demo notebook's digit classifier in headless Chromium, through kindling, and prints one
// line per epoch. Checkpoints live in IndexedDB inside a persistent browser profile (.kindling-checkpoints/), one store
// per configuration (as on the page): a second run with the same flags resumes where the first stopped, other
// --seed/--model/--every (or --epochs with a schedule) start a fresh run beside it. The options and the messages about
// them are in train-args.mjs (`npm run train -- --help`).
// IndexedDB belongs to an origin, port included: the server always uses the same port (default 5177) so that the
// next run finds the checkpoints.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumArgs, chromiumPath } from './chromium.mjs';
import { alreadyTrainedMessage, parseTrainArgs, TrainArgsError, usage } from './train-args.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function fail(message) {
  console.error(`train: ${message}`);
  process.exit(1);
}

let parsed;
try {
  parsed = parseTrainArgs(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof TrainArgsError)) throw error;
  fail(error.message);
}
if (parsed.help) {
  console.log(usage);
  process.exit(0);
}
const { epochs, seed, every, timeout: timeoutS, port } = parsed.options;
const args = parsed.options;
const executablePath = chromiumPath;
if (!existsSync(executablePath))
  fail(`no Chromium at ${executablePath}; install Debian's chromium or set CHROMIUM_PATH.`);

/** `seed 42/mlp/every 10` (and the epochs when a learning-rate schedule spans them): what identifies a run. */
function settings(config) {
  const span = config.schedule === 'constant' ? '' : `/${config.epochs} epochs (${config.schedule} lr)`;
  return `seed ${config.seed}/${config.model}/every ${config.checkpointEvery}${span}`;
}
/** The evaluator's metrics are on the validation split; the running loss is over training batches. */
const METRIC_LABELS = { accuracy: 'val_accuracy', loss: 'val_loss', runningLoss: 'running_train_loss' };

const { createServer } = await import('vite');
const { chromium } = await import('@playwright/test');

const profile = join(root, '.kindling-checkpoints');
const server = await createServer({
  root,
  configFile: join(root, 'vite.config.ts'),
  logLevel: 'error',
  server: { host: '127.0.0.1', port, strictPort: true, hmr: false, watch: null },
});
let context;
let exitCode = 1;
try {
  await server.listen().catch((error) => {
    throw new Error(
      `could not serve on 127.0.0.1:${port} (${error.message}). The checkpoints belong to that origin; free the port, ` +
        'or pass --port N (a new port starts with no checkpoints).',
    );
  });
  const address = server.httpServer.address();
  const origin = `http://127.0.0.1:${address.port}`;
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: chromiumArgs,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );

  let settle;
  let lastBackendLine = null;
  const finished = new Promise((resolve) => {
    settle = resolve;
  });
  await page.exposeFunction('__kindlingReport', (event) => {
    switch (event.type) {
      case 'backend': {
        const { backend, adapter, fellBackFrom, reason } = event.selection;
        const gpu = adapter
          ? ` (${[adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ')})`
          : '';
        // `reason` names each backend that failed ('webgpu: ...; webgl: ...'), as describeBackend shows it.
        // The page reports its backend when it loads and again when the run starts: say it once unless it changed.
        const line = `backend: ${backend}${gpu}${fellBackFrom ? ` — fell back: ${reason ?? fellBackFrom}` : ''}`;
        if (line !== lastBackendLine) console.log(line);
        lastBackendLine = line;
        break;
      }
      case 'plan': {
        const { config, resumeFrom, stored } = event;
        if (resumeFrom === 'latest') console.log(`resuming the stored run with ${settings(config)}`);
        else if (stored && stored.dbName !== config.dbName) {
          console.log(
            `stored run has ${settings(stored)}; starting fresh with ${settings(config)} ` +
              '(pass the stored flags to resume it; its checkpoints are kept)',
          );
        } else console.log(`starting a fresh run with ${settings(config)}`);
        break;
      }
      case 'resumed':
        console.log(`resumed from iteration ${event.iteration} (epoch ${event.epoch}, checkpoint ${event.name})`);
        {
          const note = alreadyTrainedMessage(event.epoch, epochs);
          if (note) console.log(note);
        }
        break;
      case 'epoch': {
        const metrics = Object.entries(event.metrics)
          .map(([name, value]) => `${METRIC_LABELS[name] ?? name} ${value.toFixed(4)}`)
          .join('  ');
        console.log(
          `epoch ${event.epoch}/${epochs}  iteration ${event.iteration}  ${metrics}  (${event.seconds.toFixed(1)} s)`,
        );
        break;
      }
      case 'evaluation':
        console.log(`validation accuracy ${(100 * event.accuracy).toFixed(2)}%`);
        break;
      case 'error':
        problems.push(`training error: ${event.message}`);
        break;
      case 'status':
        if (['completed', 'failed', 'stopped'].includes(event.status)) settle(event);
        break;
    }
  });
  const query = new URLSearchParams({ autostart: '1', epochs: String(epochs), seed: String(seed) });
  query.set('model', args.model);
  query.set('every', String(every));
  if (args.backend) query.set('backend', args.backend);
  if (args.fresh) query.set('fresh', '1');
  if (args.worker) query.set('worker', '1');
  // Subscribe before the page's own boot code runs, so no event is missed.
  await page.addInitScript(() => {
    const hook = () => {
      const demo = window.kindlingDemo;
      if (demo) demo.subscribe((event) => window.__kindlingReport(event));
      else setTimeout(hook, 0);
    };
    hook();
  });
  await page.goto(`${origin}/?${query}`);
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), timeoutS * 1000));
  const last = await Promise.race([finished, timeout]);
  const checkpoint = await page.evaluate(() => window.kindlingDemo?.lastCheckpoint ?? null);
  if (last === null) problems.push(`timed out after ${timeoutS} s`);
  else if (last.status !== 'completed') problems.push(`training ended ${last.status}: ${last.message ?? ''}`);
  if (checkpoint) console.log(`checkpoint: ${checkpoint.where} (iteration ${checkpoint.iteration}) in ${profile}`);
  if (problems.length > 0) {
    for (const problem of problems) console.error(`train: ${problem}`);
  } else {
    exitCode = 0;
  }
} catch (error) {
  console.error(`train: ${error.stack ?? error}`);
} finally {
  await context?.close();
  await server.close();
}
process.exit(exitCode);
