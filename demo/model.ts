import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, NUM_CLASSES, NUM_PIXELS } from './data';
import type { RunConfig } from './protocol';

/** Builds the chosen model; it outputs logits (no softmax), which the loss turns into probabilities. */
export function buildModel(kind: RunConfig['model']): tf.Sequential {
  const model = tf.sequential({ name: `digits_${kind}` });
  if (kind === 'mlp') {
    model.add(tf.layers.dense({ inputShape: [NUM_PIXELS], units: 64, activation: 'relu', name: 'hidden' }));
    model.add(tf.layers.dropout({ rate: 0.1, name: 'dropout' }));
    model.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits' }));
  } else {
    model.add(tf.layers.reshape({ inputShape: [NUM_PIXELS], targetShape: [IMAGE_SIZE, IMAGE_SIZE, 1], name: 'image' }));
    model.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', name: 'conv' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2, name: 'pool' }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(tf.layers.dense({ units: NUM_CLASSES, name: 'logits' }));
  }
  return model;
}

/** Softmax cross-entropy between logits and integer labels. */
export function lossFn(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () => tf.losses.softmaxCrossEntropy(tf.oneHot(labels as tf.Tensor1D, NUM_CLASSES), logits) as tf.Scalar,
  );
}
