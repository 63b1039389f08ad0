// The notebook page: wires the cells to a training session on this thread or in a worker.
import { type BackendName, type BackendSelection, type ChartFrame, describeBackend, IndexedDBSaver } from 'kindling';
import { TrainingCharts } from './charts';
import { loadDigits, NUM_PIXELS } from './data';
import { drawDigitGrid, renderConfusionMatrix } from './draw';
import { type Driver, LocalDriver, WorkerDriver } from './driver';
import {
  BUSY_STATUSES,
  DEFAULT_CONFIG,
  type RunConfig,
  SERIES,
  type SessionEvent,
  type SessionStatus,
} from './protocol';
import { throttleToFrame } from './throttle';

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const params = new URLSearchParams(location.search);
const RUN_KEY = 'kindling-demo:run';
/** The prefix of every checkpoint store of this page (`?db=` gives tests their own). */
const BASE_DB = params.get('db') ?? DEFAULT_CONFIG.dbName;
const FORM_KEYS = ['model', 'seed', 'epochs', 'learningRate', 'schedule', 'checkpointEvery'] as const;

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
  /**
   * Loss of each iteration, keyed by iteration (restored history included). Losses are read back a chunk at a time,
   * so they trail the progress by up to a chunk while running; they are complete once the status is no longer running.
   */
  losses: Record<number, number>;
  epochs: Array<{ epoch: number; iteration: number; metrics: Record<string, number>; seconds: number }>;
  lastCheckpoint: { name: string; iteration: number; where: string } | null;
  resumedFrom: { name: string; iteration: number; epoch: number } | null;
  evaluation: { accuracy: number; confusion: number[][] } | null;
  errors: string[];
  config: RunConfig;
  /** Resolves when the data cell is drawn and the backend is chosen. */
  ready: Promise<void>;
  /**
   * What the start button does: applies `overrides` to the form, then continues the latest checkpoint of these
   * settings if their store has one, and starts a fresh run otherwise.
   */
  start(overrides?: Partial<Omit<RunConfig, 'dbName'>>): Promise<void>;
  pause(): void;
  resume(): Promise<void>;
  stop(): void;
  reset(): Promise<void>;
  /**
   * Calls `listener` with every later event (the session's, and the page's 'plan' for each start), after replaying
   * the earlier ones (all but 'iteration' and 'chart').
   */
  subscribe(listener: (event: PageEvent) => void): () => void;
}

/**
 * The IndexedDB store of a configuration. Every setting that changes the run's numbers is in its name, so "start"
 * resumes only a run with the same settings, and other settings start a fresh run beside it (the earlier run keeps
 * its checkpoints). The epoch count is in it only with a learning-rate schedule, which spans the whole run: at a
 * constant rate, more epochs continue the same run.
 */
function storeName(config: Omit<RunConfig, 'dbName' | 'asyncCheckpoints'>): string {
  const { model, seed, learningRate, schedule, epochs, batchSize, checkpointEvery } = config;
  const span = schedule === 'constant' ? '' : `-e${epochs}`;
  return `${BASE_DB}/${model}-seed${seed}-lr${learningRate}-${schedule}${span}-b${batchSize}-every${checkpointEvery}`;
}

/** The form's settings, with the store they train into. */
function readConfig(): RunConfig {
  const form = $<HTMLFormElement>('#controls');
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  const config = {
    ...DEFAULT_CONFIG,
    ...(params.get('batch') ? { batchSize: Number(params.get('batch')) } : {}),
    ...(params.get('async') ? { asyncCheckpoints: params.get('async') === '1' } : {}),
    model: value('model') as RunConfig['model'],
    seed: Number(value('seed')),
    epochs: Number(value('epochs')),
    learningRate: Number(value('learningRate')),
    schedule: value('schedule') as RunConfig['schedule'],
    checkpointEvery: Number(value('checkpointEvery')),
  };
  return { ...config, dbName: storeName(config) };
}

function writeConfig(config: Omit<RunConfig, 'dbName'>): void {
  const form = $<HTMLFormElement>('#controls');
  for (const key of FORM_KEYS) {
    (form.elements.namedItem(key) as HTMLInputElement).value = String(config[key]);
  }
}

/** `mlp, seed 42, lr 0.01 constant, 5 epochs, checkpoint every 10`: the settings in one line. */
function describeRun(config: RunConfig): string {
  return (
    `${config.model}, seed ${config.seed}, lr ${config.learningRate} ${config.schedule}, ${config.epochs} epochs, ` +
    `checkpoint every ${config.checkpointEvery}`
  );
}

/** URL parameters override the form: `?seed=1&epochs=3&model=cnn&every=5&lr=0.01&schedule=cosine`. */
const PARAM_FIELDS = {
  seed: 'seed',
  epochs: 'epochs',
  model: 'model',
  every: 'checkpointEvery',
  lr: 'learningRate',
  schedule: 'schedule',
} as const satisfies Record<string, (typeof FORM_KEYS)[number]>;

function applyParams(): void {
  const form = $<HTMLFormElement>('#controls');
  for (const [param, field] of Object.entries(PARAM_FIELDS)) {
    const v = params.get(param);
    if (v !== null) (form.elements.namedItem(field) as HTMLInputElement).value = v;
  }
  if (params.get('worker') === '1') (form.elements.namedItem('worker') as HTMLInputElement).checked = true;
}

const backendParam = params.get('backend') as BackendName | null;
if (backendParam !== null && !['webgpu', 'webgl', 'cpu'].includes(backendParam)) {
  throw new TypeError(`?backend should be webgpu, webgl or cpu, got '${backendParam}'.`);
}
// The form opens on the settings of the last run of this page's stores (so a reload shows them), then the URL's.
const lastRun = readStoredRun();
if (lastRun?.config.dbName.startsWith(`${BASE_DB}/`)) writeConfig(lastRun.config);
applyParams();
const workerMode = ($<HTMLFormElement>('#controls').elements.namedItem('worker') as HTMLInputElement).checked;
$('#mode-badge').textContent = workerMode ? 'mode: Web Worker' : 'mode: main thread';
$('#mode-badge').dataset.mode = workerMode ? 'worker' : 'main';

const charts = new TrainingCharts($('#loss-chart'), $('#val-chart'));
const series: Record<string, { x: number[]; y: number[] }> = {};
const listeners = new Set<(event: PageEvent) => void>();
const history: PageEvent[] = [];
const log = (line: string) => {
  const pre = $('#log');
  pre.textContent += `${line}\n`;
  pre.scrollTop = pre.scrollHeight;
};

let progress: Extract<SessionEvent, { type: 'iteration' }> | null = null;
const drawProgress = throttleToFrame(() => {
  if (!progress) return;
  const { iteration, epoch, epochIteration, epochLength, maxEpochs, rate } = progress;
  const total = epochLength * maxEpochs;
  const eta = rate > 0 ? (total - iteration) / rate : Number.NaN;
  $('#progress-fill').style.width = `${((100 * iteration) / total).toFixed(1)}%`;
  $('#progress-text').textContent =
    `epoch ${epoch}/${maxEpochs} · iteration ${iteration}/${total} (${epochIteration}/${epochLength} in epoch) · ` +
    `${rate.toFixed(1)} it/s · ETA ${Number.isFinite(eta) ? `${eta.toFixed(1)} s` : '…'}`;
});

/** Whether this tab trained the run in the shared record: only that tab writes the record (never a second tab). */
let ownsRun = false;

function setStatus(status: SessionStatus, message?: string): void {
  demo.status = status;
  const badge = $('#status');
  badge.textContent = message ? `${status}: ${message}` : status;
  badge.dataset.status = status;
  const busy = BUSY_STATUSES.includes(status);
  $<HTMLButtonElement>('#start').disabled = busy || status === 'paused';
  $<HTMLButtonElement>('#pause').disabled = status !== 'running';
  $<HTMLButtonElement>('#resume').disabled = status !== 'paused';
  $<HTMLButtonElement>('#stop').disabled = !(status === 'running' || status === 'paused');
  $<HTMLButtonElement>('#reset').disabled = status === 'resetting';
  enableRowButtons();
  if (status === 'running') ownsRun = true; // the session holds the store's Web Lock once it runs
  if (ownsRun && !['loading', 'resetting', 'locked'].includes(status)) {
    localStorage.setItem(RUN_KEY, JSON.stringify({ config: demo.config, status } satisfies StoredRun));
  }
}

/** The table's load and delete buttons work only while no run (or reset) is under way. */
function enableRowButtons(): void {
  const busy = BUSY_STATUSES.includes(demo.status);
  for (const button of document.querySelectorAll<HTMLButtonElement>('#checkpoints tbody button')) {
    button.disabled = busy;
  }
}

function onEvent(event: PageEvent): void {
  switch (event.type) {
    case 'plan': {
      const { config, resumeFrom, stored } = event;
      if (resumeFrom === 'latest') log(`continuing the stored run of these settings (${describeRun(config)})`);
      else if (resumeFrom !== null) log(`loading checkpoint ${resumeFrom} (${describeRun(config)})`);
      else if (stored && stored.dbName !== config.dbName) {
        log(
          `new settings (${describeRun(config)}): a fresh run in its own store. The last run (${describeRun(stored)}) ` +
            'keeps its checkpoints: start with its settings to continue it.',
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
      else if (!['loading', 'running', 'resetting'].includes(event.status)) {
        log(`${event.status} at epoch ${event.epoch}, iteration ${event.iteration}`);
      }
      if (event.status === 'completed' || event.status === 'stopped' || event.status === 'paused') {
        void refreshCheckpoints();
      }
      break;
    case 'iteration':
      progress = event;
      drawProgress();
      break;
    case 'chart':
      drawChart(event.frame);
      break;
    case 'epoch': {
      demo.epochs.push({
        epoch: event.epoch,
        iteration: event.iteration,
        metrics: event.metrics,
        seconds: event.seconds,
      });
      const m = Object.entries(event.metrics)
        .map(([k, v]) => `${METRIC_LABELS[k] ?? k} ${v.toFixed(4)}`)
        .join('  ');
      log(`epoch ${event.epoch}: ${m}  (${event.seconds.toFixed(1)} s)`);
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
      void refreshCheckpointsSoon();
      break;
    case 'resumed': {
      demo.resumedFrom = { name: event.name, iteration: event.iteration, epoch: event.epoch };
      const note = $('#resume-note');
      note.hidden = false;
      note.textContent = `resumed from iteration ${event.iteration} (${event.epoch} epochs done, checkpoint ${event.name})`;
      log(note.textContent);
      if (event.epoch >= demo.config.epochs) {
        log('this run had already finished: raise the epochs to train on, or reset to start over');
      }
      break;
    }
    case 'error':
      demo.errors.push(event.message);
      log(`error: ${event.message}`);
      break;
  }
  if (event.type !== 'iteration' && event.type !== 'chart') history.push(event);
  for (const listener of listeners) listener(event);
}

/** The epoch log's names: the evaluator's metrics are on the validation split, the running loss on training batches. */
const METRIC_LABELS: Record<string, string> = {
  accuracy: 'val_accuracy',
  loss: 'val_loss',
  runningLoss: 'running_train_loss',
};

function drawChart(frame: ChartFrame): void {
  for (const name of frame.changed) {
    const s = frame.series[name];
    if (s) series[name] = { x: [...s.x], y: [...s.y] };
    else delete series[name];
  }
  if (frame.changed.includes(SERIES.loss)) {
    for (const key of Object.keys(demo.losses)) delete demo.losses[Number(key)];
    const loss = series[SERIES.loss];
    loss?.x.forEach((x, i) => {
      demo.losses[x] = loss.y[i]!;
    });
  }
  charts.draw({ series, changed: frame.changed });
}

interface StoredRun {
  config: RunConfig;
  status: SessionStatus;
}

function readStoredRun(): StoredRun | null {
  const text = localStorage.getItem(RUN_KEY);
  return text ? (JSON.parse(text) as StoredRun) : null;
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

async function refreshCheckpoints(): Promise<void> {
  const rows = await listCheckpoints(tableSaver(demo.config.dbName));
  const busy = BUSY_STATUSES.includes(demo.status);
  const body = $('#checkpoints tbody');
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.name = row.name;
      const size = row.size === null ? '?' : `${(row.size / 1024).toFixed(1)} KiB`;
      tr.innerHTML = `<td>${row.name}</td><td>${row.iteration ?? '?'}</td><td>${row.score ?? ''}</td><td>${size}</td><td></td>`;
      const load = document.createElement('button');
      load.textContent = 'load';
      load.disabled = busy;
      load.onclick = () => void startRun(tableConfig(), row.name);
      const remove = document.createElement('button');
      remove.textContent = 'delete';
      remove.disabled = busy;
      remove.onclick = async () => {
        try {
          await driver.deleteCheckpoint(demo.config.dbName, row.name);
        } catch (error) {
          onEvent({ type: 'error', message: String(error) });
        }
        await refreshCheckpoints();
      };
      tr.lastElementChild!.append(load, ' ', remove);
      return tr;
    }),
  );
}

/** Lists the stored checkpoints from the saver's metadata only (no weights are loaded), newest first. */
async function listCheckpoints(saver: IndexedDBSaver) {
  return (await saver.listInfo()).reverse().map((info) => {
    // Checkpoint ranks the demo's checkpoints by global step: the priority is the iteration.
    const iteration = typeof info.metadata?.priority === 'number' ? info.metadata.priority : null;
    return { name: info.filename, iteration, score: accuracyAt(iteration), size: info.bytes };
  });
}

/** The validation accuracy of the last epoch finished by `iteration`, from the chart history (null if unknown). */
function accuracyAt(iteration: number | null): string | null {
  const accuracy = series[SERIES.valAccuracy];
  const epochLength = progress?.epochLength;
  if (iteration === null || !accuracy || !epochLength || chartedStore !== demo.config.dbName) return null;
  let value: number | undefined;
  accuracy.x.forEach((epoch, i) => {
    if (epoch * epochLength <= iteration) value = accuracy.y[i];
  });
  return value === undefined ? null : value.toFixed(4);
}

/** One read-only saver per database for the table (listing needs no lock, and one connection is enough). */
const tableSavers = new Map<string, IndexedDBSaver>();
function tableSaver(dbName: string): IndexedDBSaver {
  let saver = tableSavers.get(dbName);
  if (!saver) {
    saver = new IndexedDBSaver(dbName);
    tableSavers.set(dbName, saver);
  }
  return saver;
}

const driver: Driver = workerMode ? new WorkerDriver(onEvent) : new LocalDriver(onEvent);

/** The store whose run the charts show (the score column reads their validation accuracy). */
let chartedStore: string | null = null;

/**
 * Starts `config`'s run: fresh (`resumeFrom` null), from its store's latest checkpoint (`'latest'`), or from a named
 * checkpoint. Does nothing while a run or a reset is under way (the buttons are disabled then).
 */
async function startRun(config: RunConfig, resumeFrom: string | 'latest' | null): Promise<void> {
  if (BUSY_STATUSES.includes(demo.status)) return;
  const stored = readStoredRun()?.config ?? null;
  if (!resumeFrom) {
    demo.epochs = [];
    demo.resumedFrom = null;
    $('#resume-note').hidden = true;
  }
  writeConfig(config);
  demo.config = config;
  chartedStore = config.dbName;
  setStatus('loading'); // at once: a second click must not start twice (the worker answers later)
  onEvent({ type: 'plan', config, resumeFrom, stored });
  await driver.start(config, backendParam, resumeFrom);
}

/** The settings of the run the checkpoint table shows: the form's, with its epochs when they share a store. */
function tableConfig(): RunConfig {
  const form = readConfig();
  return form.dbName === demo.config.dbName ? form : demo.config;
}

async function hasCheckpoints(dbName: string): Promise<boolean> {
  return (await tableSaver(dbName).list()).length > 0;
}

/**
 * Whether another tab holds the store's Web Lock (it trains into it). A page just reloaded waits up to about 2 s
 * for its previous document to let go of the lock.
 */
async function isHeldElsewhere(dbName: string): Promise<boolean> {
  const locks = navigator.locks as LockManager | undefined;
  if (!locks) return false;
  const lockName = tableSaver(dbName).lockName;
  for (let attempt = 0; attempt < 20; attempt++) {
    const { held = [] } = await locks.query();
    if (!held.some((lock) => lock.name === lockName)) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

const demo: KindlingDemo = {
  status: 'idle',
  mode: workerMode ? 'worker' : 'main',
  backend: null,
  losses: {},
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
  pause: () => driver.pause(),
  resume: () => driver.resume(),
  stop: () => driver.stop(),
  reset: async () => {
    const { dbName } = demo.config;
    await driver.reset(dbName);
    if (demo.status !== 'idle') return; // locked by another tab, or failed: nothing was deleted
    if (readStoredRun()?.config.dbName === dbName) localStorage.removeItem(RUN_KEY);
    ownsRun = false;
    chartedStore = null;
    demo.config = readConfig();
    demo.losses = {};
    demo.epochs = [];
    demo.lastCheckpoint = null;
    demo.resumedFrom = null;
    demo.evaluation = null;
    $('#resume-note').hidden = true;
    $('#log').textContent = '';
    $('#progress-fill').style.width = '0';
    $('#progress-text').textContent = 'not started';
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
$('#controls').addEventListener('change', (event) => {
  const field = event.target as HTMLInputElement;
  if (field.name === 'worker') {
    // The session lives on the main thread or in a worker from the start: reload in the other mode, same settings.
    const url = new URL(location.href);
    const config = readConfig();
    url.searchParams.set('worker', field.checked ? '1' : '0');
    for (const [param, key] of Object.entries(PARAM_FIELDS)) url.searchParams.set(param, String(config[key]));
    location.assign(url);
    return;
  }
  // Between runs, the checkpoint table follows the form: it lists the store of the settings "start" would use.
  if (!BUSY_STATUSES.includes(demo.status) && demo.status !== 'paused') {
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
  await Promise.all([drawDataCell(), driver.prepare(backendParam)]);
  if (params.get('fresh') === '1') await demo.reset();
  await refreshCheckpoints();
  const stored = readStoredRun();
  // The run in the record was cut short (a reload, a closed tab), and the form (the record's settings, then the URL's)
  // still asks for it.
  const interrupted =
    stored && ['running', 'paused'].includes(stored.status) && stored.config.dbName === demo.config.dbName;
  if (params.get('autostart') === '1') {
    void demo.start();
  } else if (interrupted && params.get('autoresume') !== '0' && (await hasCheckpoints(demo.config.dbName))) {
    if (await isHeldElsewhere(demo.config.dbName)) {
      setStatus('locked', 'the checkpoint store is in use by another tab; training goes on there');
      log('another tab trains this run: close it, then press start here to continue it');
    } else {
      void startRun(demo.config, 'latest'); // continue from the latest checkpoint
    }
  }
}

demo.ready = boot();
demo.ready.catch((error: unknown) => onEvent({ type: 'error', message: String(error) }));
