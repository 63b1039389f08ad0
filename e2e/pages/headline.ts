// Test page of e2e/headline.spec.ts: an app built on the public API only ('kindling', 'kindling/worker'). It trains
// headline-recipe.ts on this thread or in a Worker (?worker=1), with LiveCharts checkpointed beside everything else,
// and on load resumes from the newest IndexedDB checkpoint.
//
// URL: headline.html?backend=cpu|webgpu&db=NAME[&worker=1][&epochs=3&every=5][&hangAt=N][&mode=leak|charts]
// `window.progress` says where the run is (the recipe's own iteration, asked through an action); `window.result`
// resolves with the report, the charts' series, the long tasks seen during training, and for mode=leak the tensor
// counts after two runs.
import * as tf from '@tensorflow/tfjs';
import { type BackendName, LiveCharts } from 'kindling';
import { type Training, trainHere, trainInWorker } from 'kindling/worker';
import { type HeadlineOptions, headlineRecipe } from './headline-recipe';

const params = new URLSearchParams(location.search);
const options: HeadlineOptions = {
  backend: (params.get('backend') ?? 'cpu') as BackendName,
  db: params.get('db') ?? 'headline',
  epochs: Number(params.get('epochs') ?? 3),
  every: Number(params.get('every') ?? 5),
  hangAt: params.has('hangAt') ? Number(params.get('hangAt')) : null,
};
const inWorker = params.get('worker') === '1';
const progress = { phase: 'loading', iteration: 0, saved: null as string | null, error: null as string | null };
const win = window as unknown as { progress: typeof progress; result: Promise<unknown>; charts: LiveCharts };
win.progress = progress;

type Actions = Awaited<ReturnType<typeof headlineRecipe>>['actions'];

async function open(db: string, charts: LiveCharts): Promise<Training<Actions>> {
  const given = { ...options, db };
  const shared = { shared: { charts } };
  return inWorker
    ? trainInWorker<Actions>(
        new Worker(new URL('./headline.worker.ts', import.meta.url), { type: 'module' }),
        given,
        shared,
      )
    : trainHere(headlineRecipe, given, shared);
}

function newCharts(): LiveCharts {
  return new LiveCharts(document.querySelector<HTMLElement>('#charts')!, {
    metrics: { left: ['accuracy'], right: ['loss'], leftLabel: 'accuracy', rightLabel: 'validation loss' },
    learningRate: (engine) => engine.state.lr,
  });
}

async function train() {
  const charts = newCharts();
  win.charts = charts;
  const training = await open(options.db, charts);
  charts.attach(training.trainer, { evaluator: training.engines.evaluator });
  await charts.ready;
  charts.flush();
  const restored = { loss: [...(charts.series.loss?.x ?? [])] };
  const poll = setInterval(async () => {
    const { iteration, saved } = await training.actions.progress();
    Object.assign(progress, { iteration, saved });
  }, 50);
  // Long tasks on this page while it trains (not the module loading before).
  const longTasks: number[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) longTasks.push(Math.round(entry.duration));
  }).observe({ type: 'longtask' });
  progress.phase = 'training';
  performance.mark('headline:training-start'); // the spec's trace measures the page's own work between the marks
  const outcome = await training.run();
  performance.mark('headline:training-end');
  await charts.settle();
  charts.flush();
  await new Promise((resolve) => setTimeout(resolve, 100)); // let the observer deliver
  clearInterval(poll);
  progress.iteration = outcome.iteration;
  return {
    where: training.where,
    backend: await training.actions.backend(),
    report: training.report,
    outcome,
    restored,
    series: structuredClone(charts.series),
    legend: [...document.querySelectorAll('.u-legend .u-value')].map((e) => e.textContent),
    longTasks,
  };
}

/** Two full runs in fresh stores, each closed afterwards: the page's tensor count is the same after each. */
async function leakCheck() {
  const counts: number[] = [];
  for (const round of [1, 2]) {
    const charts = newCharts();
    const training = await open(`${options.db}-${round}`, charts);
    charts.attach(training.trainer, { evaluator: training.engines.evaluator });
    await training.run();
    await charts.settle();
    charts.dispose();
    await training.close();
    counts.push(tf.memory().numTensors);
  }
  return { counts };
}

/** Only makes the charts and reports whether uPlot loaded (e2e: without uplot, the error says what to install). */
async function chartsOnly() {
  try {
    await newCharts().ready;
    return { charts: 'loaded' };
  } catch (error) {
    return { charts: (error as Error).message };
  }
}

const modes = { leak: leakCheck, charts: chartsOnly, train };
win.result = modes[(params.get('mode') ?? 'train') as keyof typeof modes]().then(
  (result) => {
    progress.phase = 'done';
    document.getElementById('out')!.textContent = JSON.stringify({ ...result, series: undefined }, null, 2);
    return result;
  },
  (error: unknown) => {
    progress.phase = 'error';
    progress.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    document.getElementById('out')!.textContent = progress.error;
    throw error;
  },
);
