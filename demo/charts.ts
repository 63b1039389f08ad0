import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartFrame } from 'kindling';
import { SERIES } from './protocol';

/** The two live charts of the training cell: loss per iteration, validation metrics per epoch. */
export class TrainingCharts {
  readonly #loss: uPlot;
  readonly #val: uPlot;

  constructor(lossTarget: HTMLElement, valTarget: HTMLElement) {
    const width = Math.max(320, Math.min(560, lossTarget.clientWidth || 560));
    this.#loss = new uPlot(
      {
        title: 'training loss per iteration',
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: 'iteration' }, { label: 'loss' }],
        series: [
          { label: 'iteration' },
          { label: 'loss', stroke: 'rgba(80,120,200,0.35)', width: 1 },
          { label: 'running avg', stroke: '#c0392b', width: 2 },
        ],
      },
      [[], [], []],
      lossTarget,
    );
    this.#val = new uPlot(
      {
        title: 'validation per epoch',
        width,
        height: 220,
        scales: { x: { time: false }, acc: { range: [0, 1] } },
        axes: [
          { label: 'epoch' },
          { scale: 'acc', label: 'accuracy' },
          { scale: 'loss', side: 1, grid: { show: false } },
        ],
        series: [
          { label: 'epoch' },
          { label: 'accuracy', scale: 'acc', stroke: '#27ae60', width: 2, points: { show: true } },
          { label: 'loss', scale: 'loss', stroke: '#8e44ad', width: 2, points: { show: true } },
        ],
      },
      [[], [], []],
      valTarget,
    );
  }

  /** A ChartFeed sink: redraws the charts whose series changed. */
  draw(frame: ChartFrame): void {
    const s = frame.series;
    const changed = new Set(frame.changed);
    if (changed.has(SERIES.loss) || changed.has(SERIES.avgLoss)) {
      const loss = s[SERIES.loss] ?? { x: [], y: [] };
      const avg = s[SERIES.avgLoss] ?? { x: [], y: [] };
      this.#loss.setData([loss.x, loss.y, alignTo(loss.x, avg)]);
    }
    if (changed.has(SERIES.valAccuracy) || changed.has(SERIES.valLoss)) {
      const acc = s[SERIES.valAccuracy] ?? { x: [], y: [] };
      const vl = s[SERIES.valLoss] ?? { x: [], y: [] };
      this.#val.setData([acc.x, acc.y, alignTo(acc.x, vl)]);
    }
  }
}

/** uPlot wants one shared x array: look up the other series' y at each x (null where it has none). */
function alignTo(xs: readonly number[], other: { x: readonly number[]; y: readonly number[] }): (number | null)[] {
  if (other.x.length === xs.length && other.x.every((x, i) => x === xs[i])) return [...other.y];
  const byX = new Map<number, number>();
  other.x.forEach((x, i) => {
    byX.set(x, other.y[i]!);
  });
  return xs.map((x) => byX.get(x) ?? null);
}
