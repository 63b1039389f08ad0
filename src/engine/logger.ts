import { describeValue } from '../internal';
/** Where kindling writes its warnings and notes. Replace it with {@link setLogger}; silence it with `setLogger(silentLogger)`. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** The default: warnings and errors go to the console; debug and info notes are dropped. */
export const consoleLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn: (message: string) => console.warn(`kindling: ${message}`),
  error: (message: string) => console.error(`kindling: ${message}`),
});

let current: Logger = consoleLogger;

/** The logger kindling writes to now. */
export function getLogger(): Logger {
  return current;
}

/**
 * Replaces the logger kindling writes to; returns the previous one so it can be put back.
 *
 * @example
 * const previous = setLogger(silentLogger); // quiet tests
 * setLogger(previous);
 */
export function setLogger(logger: Logger): Logger {
  for (const method of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger?.[method] !== 'function') {
      throw new TypeError(
        `setLogger: the logger should have a ${method}(message) method, got ${describeValue(logger)}; pass e.g. silentLogger or console.`,
      );
    }
  }
  const previous = current;
  current = logger;
  return previous;
}
