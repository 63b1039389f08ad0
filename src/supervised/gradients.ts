import * as tf from '@tensorflow/tfjs';
import type { RemovableEventHandle } from '../engine';
import { failType } from '../internal';
import type { SupervisedModel } from './common';

/** Returned by {@link watchGradients}: the last training step's gradients of a model, while watched. */
export interface GradientWatch extends RemovableEventHandle {
  /**
   * The gradients of the last step of a supervised trainer of the model, by weight name (a LayersModel's
   * `originalName`, e.g. `dense/kernel`; a function model's variable name), before any accumulation. Null before the
   * first step, after the run ended, and once removed. Valid until the next step; the trainer owns them: do not
   * dispose them, `tf.clone` one to keep it.
   */
  readonly latest: Readonly<Record<string, tf.Tensor>> | null;
}

/** The gradients published for one model and how many watches want them. */
class GradientSlot {
  watchers = 0;
  latest: Record<string, tf.Tensor> | null = null;

  /** Keeps clones of `grads` (named by weight) in place of the previous step's. */
  publish(grads: tf.NamedTensorMap, model: SupervisedModel): void {
    this.release();
    const names = new Map<string, string>();
    if (model instanceof tf.LayersModel) {
      for (const weight of model.trainableWeights) names.set((weight.read() as tf.Variable).name, weight.originalName);
    }
    const latest: Record<string, tf.Tensor> = {};
    for (const [name, grad] of Object.entries(grads)) latest[names.get(name) ?? name] = tf.keep(tf.clone(grad));
    this.latest = latest;
  }

  /** Disposes the kept gradients. */
  release(): void {
    if (this.latest !== null) tf.dispose(Object.values(this.latest));
    this.latest = null;
  }
}

const slots = new WeakMap<object, GradientSlot>();

/**
 * Asks the supervised trainers of `model` (`createSupervisedTrainer`) to keep each step's gradients, for loggers
 * such as `GradsScalarHandler`. Until a watch exists the trainer keeps nothing and costs nothing extra; while one
 * exists, each step keeps one clone per gradient (no copy of the data, no read back), disposed at the next step, at the
 * end of the run, or when the last watch is removed. The training itself is the same either way.
 *
 * @example
 * using grads = watchGradients(model);
 * trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), async () => {
 *   const norm = tf.norm(grads.latest!['dense/kernel']);
 *   console.log((await norm.data())[0]);
 *   norm.dispose();
 * });
 */
export function watchGradients(model: SupervisedModel): GradientWatch {
  if (!(model instanceof tf.LayersModel) && typeof model !== 'function') {
    failType('watchGradients', 'argument model', 'a tf.LayersModel or a function (x) => yPred', model);
  }
  let slot = slots.get(model);
  if (slot === undefined) {
    slot = new GradientSlot();
    slots.set(model, slot);
  }
  const watched = slot;
  watched.watchers += 1;
  let isRemoved = false;
  const remove = () => {
    if (isRemoved) return;
    isRemoved = true;
    watched.watchers -= 1;
    if (watched.watchers === 0) {
      watched.release();
      slots.delete(model);
    }
  };
  return {
    get latest() {
      return isRemoved ? null : watched.latest;
    },
    remove,
    [Symbol.dispose]: remove,
  };
}

/** The trainer's side: where to publish `model`'s gradients, or null when nobody watches them. */
export function gradientSlotOf(model: SupervisedModel): GradientSlot | null {
  return slots.get(model) ?? null;
}
