// run() misused. An options key it does not know (`{ epochs: 5 }`) is a TypeError naming the one meant. And Ignite's
// `evaluator.run(loader)` inside a trainer's handler, written without the `await` JavaScript needs: the
// evaluator's metrics are not there when the handler reads them, and its next run() finds it still running. The
// engine says so at the first occurrence (a warning naming the event and the fix), and the second run() rejects with
// a message that names the missing await.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Engine } from './engine';
import { Events } from './events';
import { type Logger, setLogger } from './logger';

let warnings: string[];
let previous: Logger;

beforeEach(() => {
  warnings = [];
  previous = setLogger({ debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} });
});

afterEach(() => {
  setLogger(previous);
});

/** An evaluator-like engine: its metric is computed asynchronously at COMPLETED, as Metric.compute reads back. */
function makeEvaluator() {
  const evaluator = new Engine((_e, batch: number) => batch);
  evaluator.on(Events.COMPLETED, async (engine) => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    engine.state.metrics.accuracy = 0.5;
  });
  return evaluator;
}

const FIX =
  'Make the handler async and await the run: engine.on(Events.EPOCH_COMPLETED, async () => { await evaluator.run(valLoader); }).';

describe('a run started in a handler and not awaited', () => {
  it('a synchronous handler: warns once, naming the event and the fix, when the metrics are still missing', async () => {
    const evaluator = makeEvaluator();
    const trainer = new Engine((_e, batch: number) => batch);
    const seen: unknown[] = [];
    trainer.on(Events.EPOCH_COMPLETED, () => {
      void evaluator.run([1, 2, 3]);
      seen.push(evaluator.state.metrics.accuracy);
    });
    await trainer.run([1, 2], { maxEpochs: 1 });
    expect(seen).toEqual([undefined]);
    expect(warnings).toEqual([
      "Engine: a handler of Events.EPOCH_COMPLETED started another engine's run() and returned before that run " +
        'finished: nothing awaits it, so its results (state.metrics) are not there when the handler reads them, and ' +
        `its errors go unhandled. ${FIX}`,
    ]);
  });

  it('an async handler that forgets the await inside: warns once it has settled', async () => {
    const evaluator = makeEvaluator();
    const trainer = new Engine((_e, batch: number) => batch);
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      void evaluator.run([1, 2, 3]);
      await Promise.resolve();
    });
    await trainer.run([1, 2], { maxEpochs: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Engine: a handler of Events\.EPOCH_COMPLETED started another engine's run\(\)/);
  });

  it('a custom event is named as it was defined', async () => {
    const evaluator = makeEvaluator();
    const trainer = new Engine((_e, batch: number) => batch);
    trainer.registerEvents(['validate']);
    trainer.on(Events.EPOCH_COMPLETED, (engine) => engine.fireEvent('validate'));
    trainer.on('validate', () => {
      void evaluator.run([1]);
    });
    await trainer.run([1], { maxEpochs: 1 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^Engine: a handler of 'validate' started another engine's run\(\)/);
  });

  it('stays quiet when the handler awaits the run, and the metrics are then there', async () => {
    const evaluator = makeEvaluator();
    const trainer = new Engine((_e, batch: number) => batch);
    const seen: unknown[] = [];
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await evaluator.run([1, 2, 3]);
      seen.push(evaluator.state.metrics.accuracy);
    });
    await trainer.run([1, 2], { maxEpochs: 3 });
    expect(seen).toEqual([0.5, 0.5, 0.5]);
    expect(warnings).toEqual([]);
  });

  it('stays quiet for a run that is interrupted (suspended) before the handler returns', async () => {
    const other = new Engine((_e, batch: number) => batch);
    other.on(Events.STARTED, (engine) => engine.interrupt());
    const trainer = new Engine((_e, batch: number) => batch);
    trainer.on(Events.EPOCH_COMPLETED, async () => {
      await other.run([1, 2]);
    });
    await trainer.run([1], { maxEpochs: 1 });
    expect(warnings).toEqual([]);
  });

  it("the evaluator's next run() rejects with a message that names the missing await", async () => {
    const evaluator = makeEvaluator();
    const first = evaluator.run([1, 2, 3]);
    await expect(evaluator.run([1, 2, 3])).rejects.toThrow(
      new Error(
        'Engine.run: this engine is already running: run() was called again before the previous run() finished. ' +
          "Await each run: `await engine.run(data)`. A run started from another engine's handler needs an async " +
          'handler that awaits it: `trainer.on(Events.EPOCH_COMPLETED, async () => { await evaluator.run(valLoader); })`.',
      ),
    );
    await first;
    expect(evaluator.state.metrics.accuracy).toBe(0.5);
  });
});

describe('Engine.run options', () => {
  it('rejects a key it does not know instead of running one epoch', async () => {
    const engine = new Engine((_e, batch: number) => batch);
    await expect(engine.run([1, 2], { epochs: 5 } as never)).rejects.toThrow(
      new TypeError(
        "Engine.run: unknown option 'epochs'. Did you mean 'maxEpochs'? Known options: maxEpochs, maxIters, epochLength.",
      ),
    );
    await expect(engine.run([1, 2], 5 as never)).rejects.toThrow(
      new TypeError(
        'Engine.run: argument options should be an object with some of the keys maxEpochs, maxIters, epochLength, got 5.',
      ),
    );
    expect(engine.state.iteration).toBe(0);
  });
});
