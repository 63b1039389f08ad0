// What the weight and gradient handlers share: choosing weights, checking the reduction, reading gradients.
import * as tf from '@tensorflow/tfjs';
import { checkFunction, checkString, failType } from '../internal';
import type { GradientWatch } from '../supervised';

/** Which weights to log: name prefixes (`['dense']`), or a test `(name, weight) => boolean`. Default: all trainable. */
export type WeightsWhitelist = readonly string[] | ((name: string, weight: tf.LayerVariable) => boolean);

/** Reduces a tensor to one number on the device, e.g. `tf.norm` (the default) or `(t) => tf.mean(tf.abs(t))`. */
export type Reduction = (tensor: tf.Tensor) => tf.Tensor | number;

/** Options of the weight and gradient handlers. */
export interface WeightsHandlerOptions {
  /** A prefix for the tags, e.g. `'generator'`. */
  tag?: string;
  /** Which weights to log (default: all trainable weights). */
  whitelist?: WeightsWhitelist;
}

/** Options of {@link WeightsScalarHandler} and {@link GradsScalarHandler}. */
export interface WeightsScalarHandlerOptions extends WeightsHandlerOptions {
  /** Reduces each weight to one number (default `tf.norm`, the L2 norm); its name goes in the tag. */
  reduction?: Reduction;
}

/** The model's trainable weights the whitelist keeps, by name (`originalName`, e.g. `dense/kernel`). */
export function selectWeights(where: string, model: unknown, whitelist: unknown): tf.LayerVariable[] {
  if (!(model instanceof tf.LayersModel)) failType(where, 'argument model', 'a tf.LayersModel', model);
  const weights = model.trainableWeights;
  if (whitelist === undefined) return weights;
  if (typeof whitelist === 'function') return weights.filter((w) => whitelist(w.originalName, w) === true);
  if (Array.isArray(whitelist) && whitelist.every((prefix) => typeof prefix === 'string')) {
    return weights.filter((w) => whitelist.some((prefix: string) => w.originalName.startsWith(prefix)));
  }
  return failType(
    where,
    'option whitelist',
    'an array of name prefixes or a function (name, weight) => boolean',
    whitelist,
  );
}

/** The tag prefix: `'tag/'`, or `''`. */
export function tagPrefix(where: string, tag: unknown): string {
  return tag === undefined ? '' : `${checkString(where, 'option tag', tag)}/`;
}

/** Checks that `reduction` turns a tensor into a scalar (tried once on `tf.ones([4, 2])`); returns its name for tags. */
export function checkReduction(where: string, reduction: unknown): { reduce: Reduction; name: string } {
  const reduce = checkFunction<Reduction>(where, 'option reduction', reduction, '(tensor) => scalar tensor or number');
  const probe = tf.tidy(() => {
    const out = reduce(tf.ones([4, 2]));
    return typeof out === 'number' ? 0 : out instanceof tf.Tensor ? out.rank : -1;
  });
  if (probe !== 0) {
    failType(
      where,
      'option reduction',
      'a function returning a scalar tensor or a number',
      reduction,
      'Reduce to one value, e.g. tf.norm.',
    );
  }
  // tfjs names its ops `norm__op`; the tag shows `norm`, as the reference shows `torch.norm`'s name.
  return { reduce, name: (reduce.name || 'reduction').replace(/__op$/, '') };
}

/** Reduces each tensor to one value on the device, stacked into one tensor (the caller owns it). */
export function reduceAll(reduce: Reduction, tensors: readonly tf.Tensor[]): tf.Tensor {
  return tf.tidy(() =>
    tf.stack(
      tensors.map((t) => {
        const out = reduce(t);
        return typeof out === 'number' ? tf.scalar(out) : out.reshape([]);
      }),
    ),
  );
}

/** Watches the model's gradients and returns the latest ones for `names`, or throws saying how to get them. */
export function gradientsOf(
  where: string,
  watch: GradientWatch,
  model: tf.LayersModel,
  names: readonly string[],
): tf.Tensor[] {
  const latest = watch.latest;
  const missing = latest === null ? names : names.filter((name) => latest[name] === undefined);
  if (latest === null || missing.length > 0) {
    throw new Error(
      `${where}: no gradients of model '${model.name}' to log${latest === null ? '' : ` for ${missing.join(', ')}`}; log them from a trainer made by createSupervisedTrainer(model, ...), on an event after a step (e.g. Events.ITERATION_COMPLETED).`,
    );
  }
  return names.map((name) => latest[name]!);
}
