// The LR finder cell: a learning-rate range test on the current model, its loss against the rate (log scale), the
// suggestion, and "apply", which makes it the learning rate of the next run.
import uPlot from 'uplot';

export interface LrResult {
  lr: number[];
  loss: number[];
  suggestion: number | null;
}

/** Draws a range test's curve into `target`, with the suggestion marked; replaces the previous one. */
export function drawLrCurve(target: HTMLElement, result: LrResult): void {
  target.replaceChildren();
  const width = Math.max(260, Math.min(540, target.clientWidth || 540));
  const suggestion = result.suggestion;
  new uPlot(
    {
      title: 'loss against the learning rate',
      width,
      height: 200,
      scales: { x: { time: false, distr: 3 } },
      axes: [
        {
          label: 'learning rate (log scale)',
          values: (_u, ticks) => ticks.map((t) => (t == null ? '' : t.toExponential(0))),
        },
        { label: 'smoothed loss', size: 56 },
      ],
      series: [
        { label: 'lr', value: (_u, v) => (v == null ? '--' : v.toExponential(2)) },
        { label: 'loss', stroke: '#2962a5', width: 2, value: (_u, v) => (v == null ? '--' : v.toFixed(4)) },
      ],
      hooks: {
        draw: [
          (u) => {
            if (suggestion === null) return;
            const x = u.valToPos(suggestion, 'x', true);
            const { ctx } = u;
            ctx.save();
            ctx.strokeStyle = '#c0392b';
            ctx.setLineDash([4, 4]);
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.restore();
          },
        ],
      },
    },
    [result.lr, result.loss],
    target,
  );
}

/** A suggested rate as the form's field takes it: 3 significant digits. */
export function roundRate(lr: number): number {
  return Number(lr.toPrecision(3));
}
