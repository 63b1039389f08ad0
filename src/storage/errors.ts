/** What went wrong, for code that wants to react to a {@link CheckpointError} without parsing its message. */
export type CheckpointErrorCode =
  /** The store has no checkpoint of that name. */
  | 'NOT_FOUND'
  /** A stored checkpoint is damaged (missing or malformed records); other checkpoints are unaffected. */
  | 'CORRUPT'
  /** The browser refused the write for lack of space, or the disk is full (DiskSaver); older checkpoints are intact. */
  | 'QUOTA_EXCEEDED'
  /** Another tab or window holds the store's write lock, or another process the directory's lock file (DiskSaver). */
  | 'LOCKED'
  /** Loaded data does not fit the object it is loaded into (missing key, shape, dtype or kind mismatch). */
  | 'MISMATCH'
  /** Loaded data contains a key such as `__proto__` that plain data never has. */
  | 'UNSAFE_KEY'
  /** Anything else: a failed write or read, or an object whose `loadStateDict` threw (see `cause`). */
  | 'FAILED';

/**
 * Raised when a checkpoint cannot be saved or loaded: storage full, store locked by another tab, a damaged record,
 * or data that does not fit the objects it is loaded into. The message says what happened and what to do;
 * `code` classifies it and `cause` holds the underlying error when there is one.
 *
 * @example
 * try {
 *   await saver.save(data, 'model_10.ckpt');
 * } catch (error) {
 *   if (error instanceof CheckpointError && error.code === 'QUOTA_EXCEEDED') showStorageWarning(error.message);
 *   else throw error;
 * }
 */
export class CheckpointError extends Error {
  /** What kind of failure this is. */
  readonly code: CheckpointErrorCode;

  /**
   * @param message what was wrong, what was given, and the fix.
   * @param options `code` (default `'FAILED'`) and the underlying `cause`, if any.
   */
  constructor(message: string, options: { code?: CheckpointErrorCode; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CheckpointError';
    this.code = options.code ?? 'FAILED';
  }
}
