// The notebook page: wires the cells to a training session on this thread or in a worker.
import { type BackendName, type BackendSelection, type ChartFrame, describeBackend, IndexedDBSaver } from 'kindling';
import { TrainingCharts } from './charts';
import { loadDigits, NUM_PIXELS } from './data';
import { drawDigitGrid, renderConfusionMatrix } from './draw';
import { type Driver, LocalDriver, WorkerDriver } from './driver';
import { DEFAULT_CONFIG, type RunConfig, SERIES, type SessionEvent, type SessionStatus } from './protocol';
import { throttleToFrame } from './throttle';

const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const params = new URLSearchParams(location.search);
const RUN_KEY = 'kindling-demo:run';

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
  start(overrides?: Partial<RunConfig>): Promise<void>;
  pause(): void;
  resume(): Promise<void>;
  stop(): void;
  reset(): Promise<void>;
  /** Calls `listener` with every later event, after replaying the earlier ones (all but 'iteration' and 'chart'). */
  subscribe(listener: (event: SessionEvent) => void): () => void;
}

function readConfig(): RunConfig {
  const form = $<HTMLFormElement>('#controls');
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement).value;
  return {
    ...DEFAULT_CONFIG,
    ...(params.get('db') ? { dbName: params.get('db')! } : {}),
    ...(params.get('batch') ? { batchSize: Number(params.get('batch')) } : {}),
    model: value('model') as RunConfig['model'],
    seed: Number(value('seed')),
    epochs: Number(value('epochs')),
    learningRate: Number(value('learningRate')),
    schedule: value('schedule') as RunConfig['schedule'],
    checkpointEvery: Number(value('checkpointEvery')),
  };
}

function writeConfig(config: RunConfig): void {
  const form = $<HTMLFormElement>('#controls');
  for (const key of ['model', 'seed', 'epochs', 'learningRate', 'schedule', 'checkpointEvery'] as const) {
    (form.elements.namedItem(key) as HTMLInputElement).value = String(config[key]);
  }
}

/** URL parameters override the form: `?seed=1&epochs=3&model=cnn&every=5&lr=0.01&schedule=cosine`. */
function applyParams(): void {
  const form = $<HTMLFormElement>('#controls');
  const map: Record<string, string> = {
    seed: 'seed',
    epochs: 'epochs',
    model: 'model',
    every: 'checkpointEvery',
    lr: 'learningRate',
    schedule: 'schedule',
  };
  for (const [param, field] of Object.entries(map)) {
    const v = params.get(param);
    if (v !== null) (form.elements.namedItem(field) as HTMLInputElement).value = v;
  }
  if (params.get('worker') === '1') (form.elements.namedItem('worker') as HTMLInputElement).checked = true;
}

const backendParam = params.get('backend') as BackendName | null;
if (backendParam !== null && !['webgpu', 'webgl', 'cpu'].includes(backendParam)) {
  throw new TypeError(`?backend should be webgpu, webgl or cpu, got '${backendParam}'.`);
}
applyParams();
const workerMode = ($<HTMLFormElement>('#controls').elements.namedItem('worker') as HTMLInputElement).checked;
$('#mode-badge').textContent = workerMode ? 'mode: Web Worker' : 'mode: main thread';
$('#mode-badge').dataset.mode = workerMode ? 'worker' : 'main';

const charts = new TrainingCharts($('#loss-chart'), $('#val-chart'));
const series: Record<string, { x: number[]; y: number[] }> = {};
const listeners = new Set<(event: SessionEvent) => void>();
const history: SessionEvent[] = [];
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

function setStatus(status: SessionStatus, message?: string): void {
  demo.status = status;
  const badge = $('#status');
  badge.textContent = message ? `${status}: ${message}` : status;
  badge.dataset.status = status;
  const busy = status === 'running' || status === 'loading';
  $<HTMLButtonElement>('#start').disabled = busy || status === 'paused';
  $<HTMLButtonElement>('#pause').disabled = status !== 'running';
  $<HTMLButtonElement>('#resume').disabled = status !== 'paused';
  $<HTMLButtonElement>('#stop').disabled = !(status === 'running' || status === 'paused');
  const stored = readStoredRun();
  if (stored && status !== 'loading') localStorage.setItem(RUN_KEY, JSON.stringify({ ...stored, status }));
}

function onEvent(event: SessionEvent): void {
  switch (event.type) {
    case 'backend':
      demo.backend = event.selection;
      $('#backend-badge').textContent = `backend: ${describeBackend(event.selection, event.forced)}`;
      $('#backend-badge').dataset.backend = event.selection.backend;
      break;
    case 'status':
      setStatus(event.status, event.message);
      if (event.status !== 'loading' && event.status !== 'running') {
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
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
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
  const body = $('#checkpoints tbody');
  body.replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.dataset.name = row.name;
      const size = row.size === null ? '?' : `${(row.size / 1024).toFixed(1)} KiB`;
      tr.innerHTML = `<td>${row.name}</td><td>${row.iteration ?? '?'}</td><td>${row.score ?? ''}</td><td>${size}</td><td></td>`;
      const load = document.createElement('button');
      load.textContent = 'load';
      load.onclick = () => void startRun(row.name);
      const remove = document.createElement('button');
      remove.textContent = 'delete';
      remove.onclick = async () => {
        await driver.deleteCheckpoint(demo.config.dbName, row.name);
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
  if (iteration === null || !accuracy || !epochLength) return null;
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

async function startRun(resumeFrom: string | 'latest' | null, overrides: Partial<RunConfig> = {}): Promise<void> {
  const stored = readStoredRun();
  // A run continued from a checkpoint keeps the settings it was started with; only the epoch count may grow.
  const formConfig = { ...readConfig(), ...overrides };
  const config = resumeFrom && stored ? { ...stored.config, epochs: formConfig.epochs } : formConfig;
  if (!resumeFrom) {
    demo.epochs = [];
    demo.resumedFrom = null;
    $('#resume-note').hidden = true;
  }
  writeConfig(config);
  demo.config = config;
  localStorage.setItem(RUN_KEY, JSON.stringify({ config, status: 'loading' } satisfies StoredRun));
  await driver.start(config, backendParam, resumeFrom);
}

async function hasCheckpoints(): Promise<boolean> {
  return (await tableSaver(demo.config.dbName).list()).length > 0;
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
    const resume = !overrides || Object.keys(overrides).length === 0 ? await hasCheckpoints() : false;
    await startRun(resume ? 'latest' : null, overrides);
  },
  pause: () => driver.pause(),
  resume: () => driver.resume(),
  stop: () => driver.stop(),
  reset: async () => {
    await driver.reset(demo.config.dbName);
    localStorage.removeItem(RUN_KEY);
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
  const stored = readStoredRun(); // before setStatus overwrites its status
  setStatus('idle');
  await Promise.all([drawDataCell(), driver.prepare(backendParam)]);
  if (params.get('fresh') === '1') await demo.reset();
  await refreshCheckpoints();
  const interrupted = stored && ['running', 'loading', 'paused'].includes(stored.status);
  if (params.get('autostart') === '1') {
    void startRun((await hasCheckpoints()) ? 'latest' : null);
  } else if (interrupted && params.get('autoresume') !== '0' && (await hasCheckpoints())) {
    // The page was reloaded (or the tab closed) mid-run: continue from the latest checkpoint.
    void startRun('latest');
  }
}

demo.ready = boot();
demo.ready.catch((error: unknown) => onEvent({ type: 'error', message: String(error) }));
