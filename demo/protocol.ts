import type { BackendName, BackendSelection, ChartFrame } from 'kindling';

/**
 * The settings of one training run. The page keeps the last run's settings in localStorage (`kindling-demo:run`) so
 * that a reload continues it; its checkpoints live in IndexedDB, in a store named after the settings (see `dbName`).
 */
export interface RunConfig {
  seed: number;
  epochs: number;
  model: 'mlp' | 'cnn';
  learningRate: number;
  schedule: 'constant' | 'cosine' | 'warmup-cosine';
  batchSize: number;
  /** Save a checkpoint every this many iterations (and at the end of each epoch). */
  checkpointEvery: number;
  /**
   * Write checkpoints in the background while training goes on (`Checkpoint({ async: true })`); the files are the
   * same either way, so this is not part of the store's name. `?async=1` / `?async=0` set it.
   */
  asyncCheckpoints: boolean;
  /**
   * IndexedDB database that holds the checkpoints. The page derives it from the settings (`storeName` in main.ts), so
   * each configuration has its own store and "start" resumes only a run with the same settings.
   */
  dbName: string;
}

export const DEFAULT_CONFIG: RunConfig = {
  seed: 42,
  epochs: 5,
  model: 'mlp',
  learningRate: 0.01,
  schedule: 'constant',
  batchSize: 32,
  checkpointEvery: 10,
  asyncCheckpoints: false,
  dbName: 'kindling-demo',
};

/** Series names the session pushes into its ChartFeed. */
export const SERIES = {
  loss: 'loss',
  avgLoss: 'avgLoss',
  valAccuracy: 'valAccuracy',
  valLoss: 'valLoss',
} as const;

/**
 * Where a session stands. `resetting`: a reset waits for the run to end, then deletes the checkpoints. `locked`: the
 * checkpoint store is held by another tab (its Web Lock), so this tab neither trains into it nor deletes from it.
 */
export type SessionStatus =
  | 'idle'
  | 'loading'
  | 'running'
  | 'paused'
  | 'stopped'
  | 'completed'
  | 'failed'
  | 'resetting'
  | 'locked';

/** Statuses during which a run (or a reset) is under way: start, load and delete wait for the next status. */
export const BUSY_STATUSES: readonly SessionStatus[] = ['loading', 'running', 'resetting'];

/** One misclassified validation digit. */
export interface Mistake {
  pixels: number[];
  label: number;
  predicted: number;
}

/** What a training session reports; the same messages travel from a worker with postMessage. */
export type SessionEvent =
  | { type: 'backend'; selection: BackendSelection; forced: boolean }
  | { type: 'status'; status: SessionStatus; iteration: number; epoch: number; message?: string }
  | {
      type: 'iteration';
      iteration: number;
      epoch: number;
      epochIteration: number;
      epochLength: number;
      maxEpochs: number;
      /** Iterations per second over the current run() call. */
      rate: number;
    }
  | { type: 'chart'; frame: ChartFrame }
  | { type: 'epoch'; epoch: number; iteration: number; metrics: Record<string, number>; seconds: number }
  | { type: 'evaluation'; confusion: number[][]; mistakes: Mistake[]; accuracy: number }
  | { type: 'checkpoint'; name: string; iteration: number; where: string }
  | { type: 'resumed'; name: string; iteration: number; epoch: number }
  | { type: 'deleted'; name: string }
  | { type: 'error'; message: string };

/** What the page asks a session to do (in worker mode, sent with postMessage). */
export type SessionCommand =
  | { type: 'start'; config: RunConfig; backend: BackendName | null; resumeFrom: string | 'latest' | null }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  | { type: 'reset'; dbName: string }
  | { type: 'delete'; dbName: string; name: string };
