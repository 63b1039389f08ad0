import { IMAGE_SIZE, NUM_PIXELS } from './data';

/** Draws images (64 pixels each, 0..1, white ink on dark) into a grid on a canvas, with optional captions. */
export function drawDigitGrid(
  canvas: HTMLCanvasElement,
  images: Float32Array,
  options: { columns: number; scale?: number; captions?: string[]; captionColors?: string[] },
): void {
  const scale = options.scale ?? 5;
  const count = images.length / NUM_PIXELS;
  const rows = Math.ceil(count / options.columns);
  const caption = options.captions ? 14 : 0;
  const cell = IMAGE_SIZE * scale + 6;
  canvas.width = options.columns * cell;
  canvas.height = rows * (cell + caption);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.textAlign = 'center';
  for (let k = 0; k < count; k++) {
    const x0 = (k % options.columns) * cell + 3;
    const y0 = Math.floor(k / options.columns) * (cell + caption) + 3;
    for (let p = 0; p < NUM_PIXELS; p++) {
      const v = Math.round(255 * (1 - images[k * NUM_PIXELS + p]!));
      ctx.fillStyle = `rgb(${v},${v},${v})`;
      ctx.fillRect(x0 + (p % IMAGE_SIZE) * scale, y0 + Math.floor(p / IMAGE_SIZE) * scale, scale, scale);
    }
    const text = options.captions?.[k];
    if (text) {
      ctx.fillStyle = options.captionColors?.[k] ?? '#333';
      ctx.fillText(text, x0 + (IMAGE_SIZE * scale) / 2, y0 + IMAGE_SIZE * scale + 12);
    }
  }
}

/** Renders a confusion matrix (rows: true label, columns: predicted) as an HTML table shaded by row share. */
export function renderConfusionMatrix(table: HTMLTableElement, matrix: number[][]): void {
  const n = matrix.length;
  const head = `<tr><th>true \\ pred</th>${matrix.map((_, j) => `<th>${j}</th>`).join('')}</tr>`;
  const body = matrix
    .map((row, i) => {
      const total = row.reduce((a, b) => a + b, 0) || 1;
      const cells = row
        .map((count, j) => {
          const share = count / total;
          const hue = i === j ? '34,139,34' : '200,40,40';
          return `<td style="background: rgba(${hue},${share.toFixed(3)})">${count}</td>`;
        })
        .join('');
      return `<tr><th>${i}</th>${cells}</tr>`;
    })
    .join('');
  table.innerHTML = n > 0 ? head + body : '';
}
