/** What the engine knows about the run in progress. Handlers read it; users may set attributes of their own. */
export class State<Batch = unknown, Output = unknown> {
  /** Iterations done since the run started (not reset per epoch). */
  iteration = 0;
  /** The current epoch, counted from 1 once the first epoch starts. */
  epoch = 0;
  /** Iterations per epoch; null until known (data without a length learns it at the end of the first pass). */
  epochLength: number | null = null;
  /** The number of epochs to run, or null in `maxIters` mode. */
  maxEpochs: number | null = null;
  /** The number of iterations to run, or null in `maxEpochs` mode. */
  maxIters: number | null = null;
  /** What the process function returned for the current iteration. */
  output: Output | null = null;
  /** The current batch. */
  batch: Batch | null = null;
  /** Metric values, written by attached metrics: `state.metrics.accuracy`. */
  metrics: Record<string, any> = {};
  /** The data the run iterates over. */
  dataloader: Iterable<Batch> | AsyncIterable<Batch> | null = null;
  /** The seed of a deterministic run (set by DeterministicEngine). */
  seed: number | null = null;
  /** Seconds taken by the last epoch and by the whole run. */
  times: { EPOCH_COMPLETED: number | null; COMPLETED: number | null } = { EPOCH_COMPLETED: null, COMPLETED: null };
  /** Any other attribute a user or a handler sets. */
  [key: string]: any;
}
