import * as tf from '@tensorflow/tfjs';
import { describeValue } from '../internal';

/**
 * The trainer's loss as a number: reads `engine.state.output` (the loss as a `tf.Scalar` on the device) back with
 * `await data()`. Call it in a handler between ITERATION_COMPLETED and the next step (EPOCH_COMPLETED and COMPLETED
 * included): the loss lives until the next step starts, and `state.output` is null after the run ends.
 *
 * Every call waits for the device to finish the step, so on WebGPU read every N iterations (or keep a per-iteration
 * curve with `ScalarHistory`). Works for `createSupervisedTrainer` and `createSupervisedTbpttTrainer` without an
 * `outputTransform`; with one, read your own output.
 *
 * @param engine - a trainer (any engine whose `state.output` is the loss tensor, or null).
 * @returns the loss.
 * @throws Error when `state.output` is null or already disposed; TypeError when it is not a one-element tensor.
 * @example
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), async (engine) => {
 *   console.log(engine.state.iteration, await readLoss(engine));
 * });
 */
export async function readLoss(engine: { readonly state: { readonly output: tf.Tensor | null } }): Promise<number> {
  const output: unknown = engine?.state?.output;
  if (output === null || output === undefined) {
    throw new Error(
      `readLoss: engine.state.output is ${output}, so there is no loss to read. The trainer's loss exists from ` +
        'ITERATION_COMPLETED until the next step starts: call readLoss in an ITERATION_COMPLETED or EPOCH_COMPLETED ' +
        'handler (after the run ends, state.output is null).',
    );
  }
  if (!(output instanceof tf.Tensor) || output.size !== 1) {
    throw new TypeError(
      `readLoss: engine.state.output should be the loss as a tf.Scalar, got ${describeValue(output)}. ` +
        'With an outputTransform, read your own output, e.g. (await output.loss.data())[0].',
    );
  }
  if (output.isDisposed) {
    throw new Error(
      'readLoss: engine.state.output is already disposed: the loss lives until the next step starts. Await readLoss ' +
        'in the handler itself, or tf.clone(engine.state.output) there to keep it longer.',
    );
  }
  return (await output.data())[0]!;
}
