// kindling in a plain web app: WebGPU training, live charts, IndexedDB checkpoints, and a reload that resumes the run
// at the exact iteration; ?worker=1 trains in a Worker. The README's "Embedding kindling" quotes this file.
import { Events, IndexedDBSaver, LiveCharts, type ResumeReport } from 'kindling';
import { type Training, trainHere, trainInWorker } from 'kindling/worker';
import { irisRecipe } from './recipe';

const $ = (id: string) => document.getElementById(id)!;
const print = (line: string) => ($('out').textContent += `${line}\n`);
const options = { store: 'kindling-embed', epochs: 10 };
const charts = new LiveCharts($('charts'), { metrics: { left: ['accuracy'], leftLabel: 'accuracy' } });
let training: Training<{ numTensors: () => number }> | null = null;

/** Opens the run in the store (resuming its newest checkpoint) and trains it unless it finished; `fresh` clears it. */
async function train(fresh: boolean): Promise<void> {
  await training?.close();
  charts.remove();
  charts.clear();
  if (fresh) await clear(options.store);
  const shared = { shared: { charts } };
  training = new URLSearchParams(location.search).has('worker')
    ? await trainInWorker(
        new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' }),
        options,
        shared,
      )
    : await trainHere(irisRecipe, options, shared);
  const report = training.report as ResumeReport & { backend: string };
  $('backend').textContent = report.backend;
  print(report.summary);
  if (!fresh && (!report.resumed || report.finished)) return; // a reload continues only a run cut short
  const { trainer, engines } = training;
  charts.attach(trainer, { evaluator: engines.evaluator });
  engines.evaluator!.on(Events.COMPLETED, (e) =>
    print(`epoch ${trainer.state.epoch}: accuracy ${(e.state.metrics.accuracy as number).toFixed(3)}`),
  );
  await training.run();
  const accuracy = engines.evaluator!.state.metrics.accuracy as number;
  (window as unknown as { embedResult: unknown }).embedResult = {
    accuracy,
    numTensors: await training.actions.numTensors(),
  };
}

async function clear(store: string): Promise<void> {
  const saver = new IndexedDBSaver(store);
  for (const name of await saver.list()) await saver.remove(name);
  await saver.close();
}

const button = $('train') as HTMLButtonElement;
const run = (fresh: boolean) => {
  button.disabled = true;
  train(fresh)
    .catch((error: unknown) => print(`failed: ${error}`))
    .finally(() => (button.disabled = false));
};
button.onclick = () => run(true);
run(false); // on load: continue a run that a reload cut short
