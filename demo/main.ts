// The notebook page: wires the cells to a training session (demo/session.ts) on this thread or in a Worker, and
// offers the test API `window.kindlingDemo` (e2e tests, scripts/train.mjs).
import { type BackendSelection, describeBackend } from 'kindling';
import { enableRowButtons, isHeldElsewhere, renderCheckpoints, tableSaver } from './checkpoint-table';
import {
  backendParam,
  describeRun,
  flag,
  initForm,
  readConfig,
  readStoredRun,
  type StoredRun,
  urlForMode,
  writeConfig,
  writeStoredRun,
} from './config';
import { loadDigits, NUM_PIXELS } from './data';
import { drawDigitGrid, renderConfusionMatrix } from './draw';
import { drawLrCurve, roundRate } from './lr-panel';
import { BUSY_STATUSES, type EpochEntry, type RunConfig, type SessionEvent, type SessionStatus } from './protocol';
import { TrainingSession } from './session';

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

/**
 * What "start" decided, for the log and for subscribers (scripts/train.mjs prints it): a fresh run, the latest
 * checkpoint of the same settings (`'latest'`), or a checkpoint picked in the table. `stored`: the settings of the
 * run this browser last trained, if any.
 */
export interface PlanEvent {
  type: 'plan';
  config: RunConfig;
  resumeFrom: string | null;
  stored: RunConfig | null;
}

/** What `subscribe` listeners receive: the session's events and the page's plan. */
export type PageEvent = SessionEvent | PlanEvent;

/** The test API on `window.kindlingDemo`, used by the e2e tests and scripts/train.mjs. */
export interface KindlingDemo {
  status: SessionStatus;
  mode: 'main' | 'worker';
  backend: BackendSelection | null;
  /** Loss of each iteration charted so far (restored history included), by iteration; complete once not running. */
  readonly losses: Record<number, number>;
  /** The epoch log (restored entries included). */
  epochs: EpochEntry[];
  lastCheckpoint: { name: string; iteration: number; where: string } | null;
  resumedFrom: { name: string; iteration: number; epoch: number } | null;
  evaluation: { accuracy: number; confusion: number[][] } | null;
  errors: string[];
  config: RunConfig;
  /** Resolves when the data cell is drawn (and, on this thread, the backend chosen). */
  ready: Promise<void>;
  /** The start button: applies `overrides` to the form, then continues its store's latest checkpoint or starts fresh. */
  start(overrides?: Partial<Omit<RunConfig, 'dbName'>>): Promise<void>;
  pause(): void;
  resume(): Promise<void>;
  stop(): void;
  reset(): Promise<void>;
  /** Calls `listener` with every later event, after replaying the earlier ones (all but 'iteration'). */
  subscribe(listener: (event: PageEvent) => void): () => void;
}

const { inWorker } = initForm();
$('#mode-badge').textContent = inWorker ? 'mode: Web Worker' : 'mode: main thread';
$('#mode-badge').dataset.mode = inWorker ? 'worker' : 'main';
const session = new TrainingSession($('#charts'), inWorker, onEvent);
const listeners = new Set<(event: PageEvent) => void>();
const history: PageEvent[] = [];
/** Whether this tab trained the run in the shared record: only that tab writes the record (never a second tab). */
let ownsRun = false;
let progress: Extract<SessionEvent, { type: 'iteration' }> | null = null;
let isProgressDrawn = true;

const log = (line: string) => {
  const pre = $('#log');
  pre.textContent += `${line}\n`;
  pre.scrollTop = pre.scrollHeight;
};

function drawProgress(): void {
  isProgressDrawn = true;
  if (!progress) return;
  const { iteration, epoch, epochIteration, epochLength, maxEpochs, rate } = progress;
  const total = epochLength * maxEpochs;
  const eta = rate > 0 ? (total - iteration) / rate : Number.NaN;
  $('#progress-fill').style.width = `${((100 * iteration) / total).toFixed(1)}%`;
  $('#progress-text').textContent =
    `epoch ${epoch}/${maxEpochs} · iteration ${iteration}/${total} (${epochIteration}/${epochLength} in epoch) · ` +
    `${rate.toFixed(1)} it/s · ETA ${Number.isFinite(eta) ? `${eta.toFixed(1)} s` : '…'}`;
}

function setStatus(status: SessionStatus, message?: string): void {
  demo.status = status;
  const badge = $('#status');
  badge.textContent = message ? `${status}: ${message}` : status;
  badge.dataset.status = status;
  const busy = BUSY_STATUSES.includes(status);
  $<HTMLButtonElement>('#start').disabled = busy || status === 'paused';
  $<HTMLButtonElement>('#pause').disabled = status !== 'running';
  $<HTMLButtonElement>('#resume').disabled = status !== 'paused';
  $<HTMLButtonElement>('#stop').disabled = !['running', 'paused', 'ready'].includes(status);
  $<HTMLButtonElement>('#reset').disabled = status === 'resetting';
  $<HTMLButtonElement>('#find-lr').disabled = busy;
  $<HTMLButtonElement>('#tensorboard').disabled =
    session.actions === null || status === 'loading' || status === 'resetting';
  enableRowButtons($('#checkpoints tbody'), busy);
  if (status === 'running') ownsRun = true; // the session holds the store's Web Lock once it runs
  if (ownsRun && !['loading', 'ready', 'resetting', 'locked'].includes(status))
    writeStoredRun({ config: demo.config, status });
}

/** The epoch log's names: the evaluator's metrics are on the validation split, the running loss on training batches. */
const METRIC_LABELS: Record<string, string> = {
  accuracy: 'val_accuracy',
  loss: 'val_loss',
  runningLoss: 'running_train_loss',
};

function onEvent(event: PageEvent): void {
  switch (event.type) {
    case 'plan': {
      const { config, resumeFrom, stored } = event;
      if (resumeFrom === 'latest') log(`continuing the stored run of these settings (${describeRun(config)})`);
      else if (resumeFrom !== null) log(`loading checkpoint ${resumeFrom} (${describeRun(config)})`);
      else if (stored && stored.dbName !== config.dbName) {
        log(
          `new settings (${describeRun(config)}): a fresh run in its own store. The last run (${describeRun(stored)}) keeps its checkpoints: start with its settings to continue it.`,
        );
      } else log(`a fresh run (${describeRun(config)})`);
      break;
    }
    case 'backend':
      demo.backend = event.selection;
      $('#backend-badge').textContent = `backend: ${describeBackend(event.selection, event.forced)}`;
      $('#backend-badge').dataset.backend = event.selection.backend;
      break;
    case 'status':
      setStatus(event.status, event.message);
      if (event.status === 'locked') log(`locked: ${event.message}`);
      else if (!['loading', 'ready', 'running', 'resetting'].includes(event.status)) {
        log(`${event.status} at epoch ${event.epoch}, iteration ${event.iteration}`);
      }
      if (['completed', 'stopped', 'paused'].includes(event.status)) void refreshCheckpoints();
      break;
    case 'iteration':
      progress = event;
      if (isProgressDrawn) {
        isProgressDrawn = false;
        requestAnimationFrame(drawProgress);
        setTimeout(drawProgress, 250); // hidden tabs get no frames
      }
      break;
    case 'epoch': {
      demo.epochs.push(event);
      const m = Object.entries(event.metrics)
        .map(([k, v]) => `${METRIC_LABELS[k] ?? k} ${v.toFixed(4)}`)
        .join('  ');
      log(`epoch ${event.epoch}: ${m}  (${event.seconds.toFixed(1)} s)${event.restored ? ' (restored)' : ''}`);
      break;
    }
    case 'evaluation': {
      demo.evaluation = { accuracy: event.accuracy, confusion: event.confusion };
      renderConfusionMatrix($<HTMLTableElement>('#confusion'), event.confusion);
      const pixels = new Float32Array(event.mistakes.length * NUM_PIXELS);
      event.mistakes.forEach((m, i) => {
        pixels.set(m.pixels, i * NUM_PIXELS);
      });
      drawDigitGrid($<HTMLCanvasElement>('#mistakes'), pixels, {
        columns: 12,
        scale: 5,
        captions: event.mistakes.map((m) => `${m.label}→${m.predicted}`),
        captionColors: event.mistakes.map(() => '#c0392b'),
      });
      $('#evaluation-summary').textContent =
        `validation accuracy ${(100 * event.accuracy).toFixed(1)}% · ${event.mistakes.length} mistakes shown`;
      break;
    }
    case 'checkpoint':
      demo.lastCheckpoint = { name: event.name, iteration: event.iteration, where: event.where };
      refreshCheckpointsSoon();
      break;
    case 'resumed': {
      demo.resumedFrom = { name: event.name, iteration: event.iteration, epoch: event.epoch };
      const note = $('#resume-note');
      note.hidden = false;
      note.textContent = `resumed from iteration ${event.iteration} (${event.epoch} epochs done, checkpoint ${event.name})`;
      log(note.textContent);
      if (event.finished || event.epoch >= demo.config.epochs) {
        log('this run had already finished: raise the epochs to train on, or reset to start over');
      }
      break;
    }
    case 'error':
      demo.errors.push(event.message);
      log(`error: ${event.message}`);
      break;
  }
  if (event.type !== 'iteration') history.push(event);
  for (const listener of listeners) listener(event);
}

let isRefreshPending = false;
/** Refreshes the checkpoint table at most twice a second while checkpoints are being written. */
function refreshCheckpointsSoon(): void {
  if (isRefreshPending) return;
  isRefreshPending = true;
  setTimeout(() => {
    isRefreshPending = false;
    void refreshCheckpoints();
  }, 500);
}

function refreshCheckpoints(): Promise<void> {
  return renderCheckpoints($('#checkpoints tbody'), demo.config.dbName, {
    isBusy: () => BUSY_STATUSES.includes(demo.status),
    load: (name) => void startRun(tableConfig(), name),
    remove: async (name) => {
      try {
        await session.deleteCheckpoint(demo.config.dbName, name);
      } catch (error) {
        onEvent({ type: 'error', message: String(error) });
      }
      await refreshCheckpoints();
    },
    accuracyAt: (iteration) => {
      // The validation accuracy of the last epoch finished by `iteration`, from the charts.
      const accuracy = session.charts.series['metric:accuracy'];
      const epochLength = progress?.epochLength;
      if (!accuracy || !epochLength) return null;
      const i = accuracy.x.findLastIndex((epoch) => epoch * epochLength <= iteration);
      return i < 0 ? null : accuracy.y[i]!.toFixed(4);
    },
  });
}

/** The settings of the run the checkpoint table shows: the form's, with its epochs when they share a store. */
function tableConfig(): RunConfig {
  const form = readConfig();
  return form.dbName === demo.config.dbName ? form : demo.config;
}

async function hasCheckpoints(dbName: string): Promise<boolean> {
  return (await tableSaver(dbName).list()).length > 0;
}

/** Starts `config`'s run: fresh, from its latest checkpoint (`'latest'`) or a named one. Does nothing while busy. */
async function startRun(config: RunConfig, resumeFrom: string | 'latest' | null): Promise<void> {
  if (BUSY_STATUSES.includes(demo.status)) return;
  const stored = readStoredRun()?.config ?? null;
  demo.epochs = [];
  demo.resumedFrom = null;
  $('#resume-note').hidden = true;
  writeConfig(config);
  demo.config = config;
  setStatus('loading'); // at once: a second click must not start twice
  onEvent({ type: 'plan', config, resumeFrom, stored });
  await session.start(config, backendParam, resumeFrom === 'latest' ? null : resumeFrom);
}

/** The LR finder cell: runs the range test on the current run's model (loading the run first when there is none). */
async function findLearningRate(): Promise<void> {
  if (BUSY_STATUSES.includes(demo.status)) return;
  const config = readConfig();
  if (session.actions === null || demo.config.dbName !== config.dbName) {
    demo.config = config;
    await session.open(config, backendParam);
  }
  const actions = session.actions;
  if (actions === null) return;
  $('#lr-summary').textContent = 'running a learning-rate range test…';
  const result = await actions.findLearningRate();
  drawLrCurve($('#lr-chart'), result);
  const apply = $<HTMLButtonElement>('#apply-lr');
  if (result.suggestion === null) {
    $('#lr-summary').textContent = 'no suggestion: the loss did not fall clearly over the range';
    apply.disabled = true;
    return;
  }
  const lr = roundRate(result.suggestion);
  $('#lr-summary').textContent = `suggested learning rate ${lr} (where the loss falls fastest)`;
  apply.disabled = false;
  apply.onclick = () => {
    writeConfig({ ...readConfig(), learningRate: lr });
    demo.config = readConfig();
    log(`learning rate ${lr} set for the next run (its own store: these settings are a new run)`);
    void refreshCheckpoints();
  };
}

/** Downloads the TensorBoard event file of the current run. */
async function downloadTensorboardLog(): Promise<void> {
  const { blob, fileName } = await session.actions!.tensorboardLog();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

const demo: KindlingDemo = {
  status: 'idle',
  mode: inWorker ? 'worker' : 'main',
  backend: null,
  get losses() {
    const loss = session.charts.series.loss;
    return Object.fromEntries((loss?.x ?? []).map((x, i) => [x, loss!.y[i]!]));
  },
  epochs: [],
  lastCheckpoint: null,
  resumedFrom: null,
  evaluation: null,
  errors: [],
  config: readConfig(),
  ready: Promise.resolve(),
  start: async (overrides = {}) => {
    writeConfig({ ...readConfig(), ...overrides });
    const config = readConfig();
    await startRun(config, (await hasCheckpoints(config.dbName)) ? 'latest' : null);
  },
  pause: () => session.pause(),
  resume: () => session.resume(),
  stop: () => void session.stop(),
  reset: async () => {
    const { dbName } = demo.config;
    await session.reset(dbName);
    if (demo.status !== 'idle') return; // locked by another tab, or failed: nothing was deleted
    if (readStoredRun()?.config.dbName === dbName) writeStoredRun(null);
    ownsRun = false;
    Object.assign(demo, {
      config: readConfig(),
      epochs: [],
      lastCheckpoint: null,
      resumedFrom: null,
      evaluation: null,
    });
    $('#resume-note').hidden = true;
    $('#log').textContent = '';
    $('#progress-fill').style.width = '0';
    $('#progress-text').textContent = 'not started';
    $('#confusion').replaceChildren();
    await refreshCheckpoints();
  },
  subscribe: (listener) => {
    for (const event of history) listener(event);
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};
(window as unknown as { kindlingDemo: KindlingDemo }).kindlingDemo = demo;

$('#start').onclick = () => void demo.start();
$('#pause').onclick = () => demo.pause();
$('#resume').onclick = () => void demo.resume();
$('#stop').onclick = () => demo.stop();
$('#reset').onclick = () => void demo.reset();
$('#find-lr').onclick = () =>
  void findLearningRate().catch((error: unknown) => onEvent({ type: 'error', message: String(error) }));
$('#tensorboard').onclick = () =>
  void downloadTensorboardLog().catch((error: unknown) => onEvent({ type: 'error', message: String(error) }));
$('#controls').addEventListener('change', (event) => {
  // The session lives on the main thread or in workers from the start: reload in the other mode, same settings.
  if ((event.target as HTMLInputElement).name === 'worker')
    location.assign(urlForMode((event.target as HTMLInputElement).checked));
  // Between runs, the checkpoint table follows the form: it lists the store of the settings "start" would use.
  else if (!BUSY_STATUSES.includes(demo.status) && demo.status !== 'paused') {
    demo.config = readConfig();
    void refreshCheckpoints();
  }
});

async function drawDataCell(): Promise<void> {
  const digits = await loadDigits();
  const shown = 40;
  drawDigitGrid($<HTMLCanvasElement>('#digits'), digits.pixels.subarray(0, shown * NUM_PIXELS), {
    columns: 20,
    scale: 4,
    captions: Array.from(digits.labels.subarray(0, shown), String),
  });
  const counts = new Array<number>(10).fill(0);
  for (const label of digits.labels) counts[label]! += 1;
  $('#data-summary').textContent = `${digits.count} images · per digit: ${counts.join(' ')}`;
}

async function boot(): Promise<void> {
  setStatus('idle'); // this tab owns no run yet: the shared record is left as it is
  await Promise.all([drawDataCell(), session.prepare(backendParam), session.charts.ready]);
  if (flag('fresh')) await demo.reset();
  await refreshCheckpoints();
  const stored: StoredRun | null = readStoredRun();
  // The run in the record was cut short (a reload, a closed tab), and the form (the record's settings, then the URL's)
  // still asks for it.
  const interrupted =
    stored && ['running', 'paused'].includes(stored.status) && stored.config.dbName === demo.config.dbName;
  if (flag('autostart')) void demo.start();
  else if (
    interrupted &&
    new URLSearchParams(location.search).get('autoresume') !== '0' &&
    (await hasCheckpoints(demo.config.dbName))
  ) {
    if (await isHeldElsewhere(demo.config.dbName)) {
      setStatus('locked', 'the checkpoint store is in use by another tab; training goes on there');
      log('another tab trains this run: close it, then press start here to continue it');
    } else void startRun(demo.config, 'latest'); // continue from the latest checkpoint
  }
}

demo.ready = boot();
demo.ready.catch((error: unknown) => onEvent({ type: 'error', message: String(error) }));
