// Bench page of `npm run bench:resume`: the headline app (public API only: the recipe of headline-recipe.ts, LiveCharts
// checkpointed with it, trainHere) opened on its store. `window.benchResult` resolves at the end of the first training
// step of this page load with the time since navigation started: a fresh run's first step in a new store, or after a
// reload, the first step resumed from the store's newest checkpoint (loading it, the charts' history included).
// `window.iteration` follows the run, which hangs at `hangAt` (the bench reloads the page then).
//
// URL: bench-resume.html?backend=cpu|webgpu&db=NAME&hangAt=N&every=5
import { type BackendName, Events, LiveCharts } from 'kindling';
import { trainHere } from 'kindling/worker';
import { headlineRecipe } from './headline-recipe';

const params = new URLSearchParams(location.search);
const win = window as unknown as { benchResult?: unknown; iteration: number };
win.iteration = 0;
const charts = new LiveCharts(document.querySelector<HTMLElement>('#charts')!, {
  metrics: { left: ['accuracy'], right: ['loss'] },
  learningRate: (engine) => engine.state.lr,
});
const training = await trainHere(
  headlineRecipe,
  {
    backend: (params.get('backend') ?? 'cpu') as BackendName,
    db: params.get('db') ?? 'bench-resume',
    epochs: 3,
    every: Number(params.get('every') ?? 5),
    hangAt: Number(params.get('hangAt') ?? 20),
  },
  { shared: { charts } },
);
charts.attach(training.trainer, { evaluator: training.engines.evaluator });
const report = training.report as { resumed: boolean; iteration: number };
training.trainer.on(Events.ITERATION_COMPLETED({ once: report.iteration + 1 }), () => {
  win.benchResult = { firstStepMs: performance.now(), resumed: report.resumed, from: report.iteration };
});
training.trainer.on(Events.ITERATION_COMPLETED, (engine) => {
  win.iteration = engine.state.iteration;
});
document.getElementById('out')!.textContent = 'training';
void training.run();
