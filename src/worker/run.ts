// What trainHere and serveTraining share: the check of a recipe's setup, and a run that reports how it ended.
import { Engine, Events } from '../engine';
import { checkFunction, checkPlainObject, describeValue, failType, isPlainObject } from '../internal';
import type { RunOutcome, TrainingSetup } from './protocol';

const SETUP_KEYS = ['trainer', 'engines', 'run', 'report', 'actions', 'outputTransform', 'dispose'];

/** Checks what a recipe returned: `{ trainer, run, engines?, report?, actions?, outputTransform?, dispose? }`. */
export function checkSetup(where: string, setup: unknown): TrainingSetup<any> {
  const given = checkPlainObject(
    where,
    'what the recipe returned',
    setup,
    '{ trainer, run, engines?, report?, actions?, dispose? }',
  );
  for (const key of Object.keys(given)) {
    if (!SETUP_KEYS.includes(key)) {
      throw new TypeError(
        `${where}: the recipe returned an unknown key '${key}'; known keys: ${SETUP_KEYS.join(', ')}.`,
      );
    }
  }
  if (!(given.trainer instanceof Engine)) failType(where, "the recipe's trainer", 'an Engine', given.trainer);
  checkFunction(where, "the recipe's run", given.run, '() => Promise');
  if (given.engines !== undefined) {
    const engines = checkPlainObject(where, "the recipe's engines", given.engines, 'an object of named Engines');
    for (const [name, engine] of Object.entries(engines)) {
      if (name === 'trainer')
        throw new RangeError(`${where}: the recipe's engines may not use the name 'trainer' (the trainer has it).`);
      if (!(engine instanceof Engine)) failType(where, `the recipe's engines.${name}`, 'an Engine', engine);
    }
  }
  if (given.actions !== undefined) {
    const actions = checkPlainObject(where, "the recipe's actions", given.actions, 'an object of functions');
    for (const [name, action] of Object.entries(actions))
      checkFunction(where, `the recipe's actions.${name}`, action, '(...args) => result');
  }
  if (given.outputTransform !== undefined)
    checkFunction(where, "the recipe's outputTransform", given.outputTransform, '(output) => number');
  if (given.dispose !== undefined) checkFunction(where, "the recipe's dispose", given.dispose, '() => void');
  if (
    given.report !== undefined &&
    given.report !== null &&
    !isPlainObject(given.report) &&
    typeof given.report === 'object'
  ) {
    failType(
      where,
      "the recipe's report",
      'plain data',
      given.report,
      `It crosses to the page by structured clone; got ${describeValue(given.report)}.`,
    );
  }
  return given as unknown as TrainingSetup<any>;
}

/** Runs the setup's `run()` and says how the trainer's run ended (completed, interrupted, terminated, untouched). */
export async function runTracked(setup: TrainingSetup<any>): Promise<RunOutcome> {
  const { trainer } = setup;
  let end: RunOutcome['end'] = 'untouched';
  const handles = [
    trainer.on(Events.COMPLETED, () => {
      if (end !== 'terminated') end = 'completed';
    }),
    trainer.on(Events.TERMINATE, () => {
      end = 'terminated';
    }),
    trainer.on(Events.INTERRUPT, () => {
      end = 'interrupted';
    }),
  ];
  try {
    await setup.run();
  } finally {
    for (const handle of handles) handle.remove();
  }
  return { end, iteration: trainer.state.iteration, epoch: trainer.state.epoch };
}

/** Draws from the platform's own generator, never from the seeded one `manualSeed` installs as `Math.random`. */
const unseededRandom = (): number => crypto.getRandomValues(new Uint32Array(1))[0]! / 2 ** 32;

/**
 * Makes a Comlink call (`send`) without drawing from the training's random numbers: Comlink names each request with
 * `Math.random()`, which `manualSeed` made the training's seeded generator, so a call between two steps would change
 * the next dropout mask or shuffle. While the request is posted (the part that draws), `Math.random` is the platform's.
 */
export function keepingRandomState<T>(send: () => T): T {
  const seeded = Math.random;
  Math.random = unseededRandom;
  try {
    return send();
  } finally {
    Math.random = seeded;
  }
}
