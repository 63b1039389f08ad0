// Checkpoint's NaN guard: what, in the state about to be saved, holds NaN or Inf. A checkpoint of such a state would
// replace the last finite one (with nSaved: 1, the only one kept) by weights that cannot be trained on.
import * as tf from '@tensorflow/tfjs';
import type { Engine } from '../../engine';
import { yieldWithinJob } from '../../internal';
import { anyNonFinite, visitFloats } from '../non-finite';
import type { Checkpointable, Kind } from './load-objects';
import type { LayersModelState } from './tf-state';

/**
 * Names what holds NaN or Inf among the engine's output (the loss, for a trainer: a NaN loss means the update just
 * applied was NaN too) and the float weights of the models in `toSave`; null when all of it is finite. Checked on the
 * device and read back as one small tensor of flags. The check is dispatched at the call, on the state of the call
 * (later steps do not change its outcome); only the read of the flags is awaited.
 */
export function findNonFinite(
  engine: Engine<any, any>,
  toSave: Readonly<Record<string, Checkpointable>>,
  kinds: ReadonlyMap<string, Kind>,
): Promise<string | null> {
  const parts: { what: string; tensors: tf.Tensor[] }[] = [];
  const output: tf.Tensor[] = [];
  let badNumber = false;
  visitFloats(engine.state.output, (value) => {
    if (typeof value !== 'number') output.push(value);
    else if (!Number.isFinite(value)) badNumber = true;
  });
  const outputName = `the engine's output (state.output) at iteration ${engine.state.iteration}`;
  if (badNumber) return Promise.resolve(outputName);
  if (output.length > 0) parts.push({ what: outputName, tensors: output });
  for (const [key, kind] of kinds) {
    if (kind !== 'model') continue;
    const weights = (toSave[key] as tf.LayersModel).weights.map((w) => w.read()).filter((t) => t.dtype === 'float32');
    if (weights.length > 0) parts.push({ what: `the weights of model '${key}'`, tensors: weights });
  }
  if (parts.length === 0) return Promise.resolve(null);
  const flags = tf.tidy(() => tf.stack(parts.map((part) => anyNonFinite(part.tensors))));
  return flags.data().then(
    (values) => {
      flags.dispose();
      const index = values.findIndex((flag) => flag !== 0);
      return index < 0 ? null : parts[index]!.what;
    },
    (error: unknown) => {
      flags.dispose();
      throw error;
    },
  );
}

/** Values checked between two looks at the clock in {@link findNonFiniteWeights}. */
const SCAN_SLICE = 1 << 18;
/** ...and the time after which it yields to the event loop, so that no task of the page runs long. */
const SCAN_BUDGET_MS = 8;

/**
 * The host half of the NaN guard for background saves: names the first model among `states` (the states read back,
 * by key) whose float32 weights hold NaN or Inf, as {@link findNonFinite} does; null when all are finite. Scans the
 * typed arrays in slices, yielding to the event loop every few milliseconds.
 */
export async function findNonFiniteWeights(
  states: Readonly<Record<string, unknown>>,
  kinds: ReadonlyMap<string, Kind>,
): Promise<string | null> {
  let since = performance.now();
  for (const [key, kind] of kinds) {
    if (kind !== 'model') continue;
    for (const { dtype, data } of (states[key] as LayersModelState).weights) {
      if (dtype !== 'float32') continue;
      for (let start = 0; start < data.length; start += SCAN_SLICE) {
        const end = Math.min(data.length, start + SCAN_SLICE);
        for (let i = start; i < end; i++) {
          // x - x is 0 for every finite x, NaN for NaN and the infinities.
          if (data[i]! - data[i]! !== 0) return `the weights of model '${key}'`;
        }
        if (performance.now() - since > SCAN_BUDGET_MS) {
          await yieldWithinJob();
          since = performance.now();
        }
      }
    }
  }
  return null;
}
