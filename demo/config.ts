// The page's settings: the form, the URL parameters that override it, and the store each configuration trains into.
import type { BackendName } from 'kindling';
import { DEFAULT_CONFIG, type RunConfig, type SessionStatus } from './protocol';

const params = new URLSearchParams(location.search);
const RUN_KEY = 'kindling-demo:run';
/** The prefix of every checkpoint store of this page (`?db=` gives tests their own). */
const BASE_DB = params.get('db') ?? DEFAULT_CONFIG.dbName;
const FORM_KEYS = ['model', 'seed', 'epochs', 'learningRate', 'schedule', 'checkpointEvery'] as const;
/** URL parameters override the form: `?seed=1&epochs=3&model=cnn&every=5&lr=0.01&schedule=cosine`. */
export const PARAM_FIELDS = {
  seed: 'seed',
  epochs: 'epochs',
  model: 'model',
  every: 'checkpointEvery',
  lr: 'learningRate',
  schedule: 'schedule',
} as const satisfies Record<string, (typeof FORM_KEYS)[number]>;

/** `?backend=`: where tfjs starts (webgpu, webgl or cpu), or null for the best available. */
export const backendParam = (() => {
  const value = params.get('backend');
  if (value !== null && !['webgpu', 'webgl', 'cpu'].includes(value)) {
    throw new TypeError(`?backend should be webgpu, webgl or cpu, got '${value}'.`);
  }
  return value as BackendName | null;
})();

export const flag = (name: string): boolean => params.get(name) === '1';
const form = () => document.querySelector<HTMLFormElement>('#controls')!;
const field = (name: string) => form().elements.namedItem(name) as HTMLInputElement;

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
export function readConfig(): RunConfig {
  const config = {
    ...DEFAULT_CONFIG,
    ...(params.get('batch') ? { batchSize: Number(params.get('batch')) } : {}),
    ...(params.get('async') ? { asyncCheckpoints: params.get('async') === '1' } : {}),
    model: field('model').value as RunConfig['model'],
    seed: Number(field('seed').value),
    epochs: Number(field('epochs').value),
    learningRate: Number(field('learningRate').value),
    schedule: field('schedule').value as RunConfig['schedule'],
    checkpointEvery: Number(field('checkpointEvery').value),
  };
  return { ...config, dbName: storeName(config) };
}

export function writeConfig(config: Omit<RunConfig, 'dbName'>): void {
  for (const key of FORM_KEYS) field(key).value = String(config[key]);
}

/** `mlp, seed 42, lr 0.01 constant, 5 epochs, checkpoint every 10`: the settings in one line. */
export function describeRun(config: RunConfig): string {
  return (
    `${config.model}, seed ${config.seed}, lr ${config.learningRate} ${config.schedule}, ${config.epochs} epochs, ` +
    `checkpoint every ${config.checkpointEvery}`
  );
}

/** The run this browser trained last (its settings and how it stood), kept so that a reload continues it. */
export interface StoredRun {
  config: RunConfig;
  status: SessionStatus;
}

export function readStoredRun(): StoredRun | null {
  const text = localStorage.getItem(RUN_KEY);
  return text ? (JSON.parse(text) as StoredRun) : null;
}

export function writeStoredRun(run: StoredRun | null): void {
  if (run === null) localStorage.removeItem(RUN_KEY);
  else localStorage.setItem(RUN_KEY, JSON.stringify(run));
}

/** Opens the form on the last run of this page's stores (so a reload shows it), then applies the URL's parameters. */
export function initForm(): { inWorker: boolean } {
  const last = readStoredRun();
  if (last?.config.dbName.startsWith(`${BASE_DB}/`)) writeConfig(last.config);
  for (const [param, key] of Object.entries(PARAM_FIELDS)) {
    const value = params.get(param);
    if (value !== null) field(key).value = value;
  }
  if (flag('worker')) field('worker').checked = true;
  return { inWorker: field('worker').checked };
}

/** The URL of this page in the other mode (main thread / Worker) with the form's settings. */
export function urlForMode(inWorker: boolean): URL {
  const url = new URL(location.href);
  const config = readConfig();
  url.searchParams.set('worker', inWorker ? '1' : '0');
  for (const [param, key] of Object.entries(PARAM_FIELDS)) url.searchParams.set(param, String(config[key]));
  return url;
}
