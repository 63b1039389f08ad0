// npm run bench:engine — the Engine's per-iteration overhead against a hand-written loop that calls the same
// process function and handlers directly. Prints nanoseconds per iteration and their ratio.
import { Engine, Events } from '../src/engine';

const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 1_000_000);
const EPOCH_LENGTH = 1_000;
const REPEATS = 5;

const data = Array.from({ length: EPOCH_LENGTH }, (_, i) => i);
let sink = 0;
const processFunction = (_engine: unknown, batch: number) => batch + 1;
const onIteration = (engine: { state: { output: unknown } }) => {
  sink += engine.state.output as number;
};
const onHundred = () => {
  sink += 1;
};
const onEpoch = () => {
  sink += 2;
};

async function runEngine(): Promise<number> {
  const engine = new Engine(processFunction);
  engine.on(Events.ITERATION_COMPLETED, onIteration);
  engine.on(Events.ITERATION_COMPLETED({ every: 100 }), onHundred);
  engine.on(Events.EPOCH_COMPLETED, onEpoch);
  const start = performance.now();
  await engine.run(data, { maxEpochs: ITERATIONS / EPOCH_LENGTH });
  return performance.now() - start;
}

function runHandWritten(): number {
  const state = { output: 0 as unknown, iteration: 0, epoch: 0 };
  const engine = { state };
  const start = performance.now();
  for (let epoch = 1; epoch <= ITERATIONS / EPOCH_LENGTH; epoch++) {
    state.epoch = epoch;
    for (let i = 0; i < data.length; i++) {
      state.iteration += 1;
      state.output = processFunction(engine, data[i]!);
      onIteration(engine);
      if (state.iteration % 100 === 0) onHundred();
    }
    onEpoch();
  }
  return performance.now() - start;
}

const best = (times: number[]) => Math.min(...times);
const engineTimes: number[] = [];
const loopTimes: number[] = [];
await runEngine(); // warm-up
runHandWritten();
for (let r = 0; r < REPEATS; r++) {
  engineTimes.push(await runEngine());
  loopTimes.push(runHandWritten());
}
const nsEngine = (best(engineTimes) * 1e6) / ITERATIONS;
const nsLoop = (best(loopTimes) * 1e6) / ITERATIONS;
console.log(`kindling bench:engine — ${ITERATIONS.toLocaleString('en')} iterations, 3 handlers, best of ${REPEATS}`);
console.log(`  Engine.run            ${nsEngine.toFixed(1).padStart(8)} ns/iteration`);
console.log(`  hand-written for-loop ${nsLoop.toFixed(1).padStart(8)} ns/iteration`);
console.log(`  engine overhead       ${(nsEngine - nsLoop).toFixed(1).padStart(8)} ns/iteration (target < 1000)`);
console.log(`  ratio engine / loop   ${(nsEngine / nsLoop).toFixed(1).padStart(8)}x`);
if (sink === 42) console.log(''); // keep the work observable
