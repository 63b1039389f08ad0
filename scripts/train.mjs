#!/usr/bin/env node
// `npm run train`: trains the demo notebook's digit classifier in headless Chromium, through kindling, and prints one
// line per epoch. Checkpoints live in IndexedDB inside a persistent browser profile (.kindling-checkpoints/), one store
// per configuration (as on the page): a second run with the same flags resumes where the first stopped, other
// --seed/--model/--every (or --epochs with a schedule) start a fresh run beside it. Options: --backend webgpu|webgl|cpu, --epochs N, --seed N, --fresh,
// --model mlp|cnn, --every N (checkpoint interval in iterations), --worker, --timeout SECONDS, --port N.
// IndexedDB belongs to an origin, port included: the server always uses the same port (default 5177) so that the
// next run finds the checkpoints.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const usage = `usage: npm run train -- [options]
  --backend webgpu|webgl|cpu  where to start in the order webgpu, webgl, cpu (default: webgpu, falling back)
  --epochs N                  epochs to train in all (default 5); more than the stored run trains it further
  --seed N                    random seed (default 42)
  --model mlp|cnn             the digit classifier (default mlp)
  --every N                   checkpoint every N iterations, and at each epoch end (default 10)
  --fresh                     delete the stored checkpoints of these settings and start over
  --worker                    train in a Web Worker instead of the page's main thread
  --timeout SECONDS           give up after this long (default 900)
  --port N                    dev-server port (default 5177); the checkpoints belong to that origin
A run with the same --seed, --model and --every resumes from its latest checkpoint; other values start a fresh run
in a store of their own (the earlier run keeps its checkpoints).`;

function fail(message) {
  console.error(`train: ${message}`);
  process.exit(1);
}

let args;
try {
  args = parseArgs({
    options: {
      backend: { type: 'string' },
      epochs: { type: 'string', default: '5' },
      seed: { type: 'string', default: '42' },
      model: { type: 'string', default: 'mlp' },
      every: { type: 'string', default: '10' },
      worker: { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      timeout: { type: 'string', default: '900' },
      port: { type: 'string', default: '5177' },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  fail(`${error.message}\n${usage}`);
}
if (args.help) {
  console.log(usage);
  process.exit(0);
}
const integer = (name, min) => {
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < min) fail(`--${name} should be an integer >= ${min}, got '${args[name]}'.`);
  return value;
};
const epochs = integer('epochs', 1);
const seed = integer('seed', 0);
const every = integer('every', 1);
const timeoutS = integer('timeout', 1);
const port = integer('port', 1);
if (args.backend !== undefined && !['webgpu', 'webgl', 'cpu'].includes(args.backend)) {
  fail(`--backend should be webgpu, webgl or cpu, got '${args.backend}'.`);
}
if (!['mlp', 'cnn'].includes(args.model)) fail(`--model should be mlp or cnn, got '${args.model}'.`);
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
        console.log(`backend: ${backend}${gpu}${fellBackFrom ? ` — fell back: ${reason ?? fellBackFrom}` : ''}`);
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
        if (event.epoch >= epochs) {
          console.log(
            `training already reached epoch ${epochs}; pass --epochs ${epochs + 5} to train on, or --fresh to start over.`,
          );
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
