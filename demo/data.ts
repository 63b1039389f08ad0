/** The UCI digits: 8x8 grey images (pixels 0..16) and labels 0..9, as loaded from public/data/digits.csv.gz. */
export interface Digits {
  /** Row-major pixels, 64 per image, scaled to 0..1. */
  pixels: Float32Array;
  labels: Int32Array;
  count: number;
}

/** The demo's train/validation split: indices into {@link Digits}. */
export interface Split {
  train: Int32Array;
  val: Int32Array;
}

export const IMAGE_SIZE = 8;
export const NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const NUM_CLASSES = 10;

/**
 * Fetches the gzip CSV and parses it; decompression uses the browser's DecompressionStream, so this works on the
 * main thread and in a worker alike. Some servers (Vite's among them) send `.gz` files with `Content-Encoding: gzip`,
 * and then the browser has already inflated them: the gzip magic bytes tell which case this is.
 */
export async function loadDigits(url = '/data/digits.csv.gz'): Promise<Digits> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`loadDigits: GET ${url} answered ${response.status} ${response.statusText}.`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const text = isGzip
    ? await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'))).text()
    : new TextDecoder().decode(bytes);
  const rows = text.trim().split('\n');
  const pixels = new Float32Array(rows.length * NUM_PIXELS);
  const labels = new Int32Array(rows.length);
  rows.forEach((row, i) => {
    const cells = row.split(',');
    if (cells.length !== NUM_PIXELS + 1) {
      throw new Error(`loadDigits: row ${i + 1} of ${url} has ${cells.length} columns, expected ${NUM_PIXELS + 1}.`);
    }
    for (let j = 0; j < NUM_PIXELS; j++) pixels[i * NUM_PIXELS + j] = Number(cells[j]) / 16;
    labels[i] = Number(cells[NUM_PIXELS]);
  });
  return { pixels, labels, count: rows.length };
}

/**
 * A fixed split that does not depend on any RNG: 20% of the images go to validation, the rest to training. The file
 * cycles through the labels 0..9, so the chosen position shifts by one every ten rows to give each digit an even share.
 */
export function splitDigits(data: Digits): Split {
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < data.count; i++) ((i + Math.floor(i / 10)) % 5 === 0 ? val : train).push(i);
  return { train: Int32Array.from(train), val: Int32Array.from(val) };
}

/** Gathers the chosen rows' pixels and labels. */
export function take(data: Digits, indices: Int32Array): { pixels: Float32Array; labels: Int32Array } {
  const pixels = new Float32Array(indices.length * NUM_PIXELS);
  const labels = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    pixels.set(data.pixels.subarray(row * NUM_PIXELS, (row + 1) * NUM_PIXELS), i * NUM_PIXELS);
    labels[i] = data.labels[row]!;
  });
  return { pixels, labels };
}
