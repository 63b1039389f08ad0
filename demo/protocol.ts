import type { BackendName, BackendSelection } from 'kindling';

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
   * IndexedDB database that holds the checkpoints. The page derives it from the settings (`storeName` in config.ts),
   * so each configuration has its own store and "start" resumes only a run with the same settings.
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

/** What the recipe gets (plain data: in worker mode it crosses to the Worker). */
export interface RecipeOptions {
  config: RunConfig;
  /** The backend asked for with `?backend=`, or null for the best available. */
  backend: BackendName | null;
  /** A checkpoint to load instead of the newest (the table's "load"), or null. */
  from: string | null;
}

/**
 * Where a session stands. `ready`: a run is loaded (for the LR finder) but not started. `resetting`: a reset waits
 * for the run to end, then deletes the checkpoints. `locked`: the checkpoint store is held by another tab (its Web
 * Lock), so this tab neither trains into it nor deletes from it.
 */
export type SessionStatus =
  | 'idle'
  | 'loading'
  | 'ready'
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

/** The evaluation cell: confusion matrix, accuracy and the first mistakes on the validation split. */
export interface Evaluation {
  confusion: number[][];
  mistakes: Mistake[];
  accuracy: number;
}

/** One line of the epoch log. */
export interface EpochEntry {
  epoch: number;
  iteration: number;
  metrics: Record<string, number>;
  seconds: number;
}

/** What a training session reports to the page (and, through the page, to scripts/train.mjs). */
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
  | ({ type: 'epoch'; restored?: boolean } & EpochEntry)
  | ({ type: 'evaluation' } & Evaluation)
  | { type: 'checkpoint'; name: string; iteration: number; where: string }
  | { type: 'resumed'; name: string; iteration: number; epoch: number; finished: boolean }
  | { type: 'error'; message: string };
