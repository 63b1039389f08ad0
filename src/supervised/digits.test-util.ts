// Test and benchmark support (a *.test-util.ts: not a test, not built, not in the package): the UCI digits in Node.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** The UCI handwritten digits as plain arrays: `pixels` row-major `[n, 64]` scaled to 0..1, `labels` 0..9. */
export interface Digits {
  n: number;
  pixels: Float32Array;
  labels: Int32Array;
}

const DIGITS_PATH = new URL('../../public/data/digits.csv.gz', import.meta.url);

/**
 * Reads `public/data/digits.csv.gz` (1797 rows, no header; 64 pixels 0..16, then the label) in Node.
 *
 * @returns the pixels divided by 16 and the labels.
 * @example
 * const { n, pixels, labels } = loadDigits();
 */
export function loadDigits(): Digits {
  const text = gunzipSync(readFileSync(DIGITS_PATH)).toString('utf8');
  const rows = text.split('\n').filter((line) => line.trim().length > 0);
  const pixels = new Float32Array(rows.length * 64);
  const labels = new Int32Array(rows.length);
  rows.forEach((line, row) => {
    const cells = line.split(',').map(Number);
    if (cells.length !== 65 || cells.some(Number.isNaN)) {
      throw new Error(`loadDigits: row ${row} should have 65 numbers, got '${line.slice(0, 60)}'.`);
    }
    for (let col = 0; col < 64; col++) pixels[row * 64 + col] = cells[col] / 16;
    labels[row] = cells[64];
  });
  return { n: rows.length, pixels, labels };
}

/**
 * Splits the digits into a shuffled training part and a held-out part, reproducibly (a seeded Fisher-Yates shuffle).
 *
 * @param digits - from {@link loadDigits}.
 * @param seed - the shuffle's seed.
 * @param testFraction - the held-out share, e.g. 0.2.
 * @returns `{ train, test }`, each a {@link Digits}.
 */
export function splitDigits(digits: Digits, seed: number, testFraction: number): { train: Digits; test: Digits } {
  const order = Array.from({ length: digits.n }, (_, i) => i);
  const random = mulberry32(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const nTest = Math.round(digits.n * testFraction);
  const pick = (indices: number[]): Digits => {
    const pixels = new Float32Array(indices.length * 64);
    const labels = new Int32Array(indices.length);
    indices.forEach((source, row) => {
      pixels.set(digits.pixels.subarray(source * 64, source * 64 + 64), row * 64);
      labels[row] = digits.labels[source];
    });
    return { n: indices.length, pixels, labels };
  };
  return { test: pick(order.slice(0, nTest)), train: pick(order.slice(nTest)) };
}

/** A small seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
