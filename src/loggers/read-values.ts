import * as tf from '@tensorflow/tfjs';

/**
 * Starts one read of several tensors: flattened and concatenated on the device into one float32 tensor, read with
 * `await data()` and disposed; resolves with each tensor's values in order. Nothing is awaited here.
 */
export function readTensors(tensors: readonly tf.Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return Promise.resolve([]);
  const packed = tf.tidy(() =>
    tensors.length === 1
      ? tensors[0]!.cast('float32').reshape([-1])
      : tf.concat(tensors.map((t) => t.cast('float32').reshape([-1]))),
  );
  return packed.data().then(
    (data) => {
      packed.dispose();
      const values = data as Float32Array;
      const parts: Float32Array[] = [];
      let offset = 0;
      for (const tensor of tensors) {
        parts.push(values.subarray(offset, offset + tensor.size));
        offset += tensor.size;
      }
      return parts;
    },
    (error: unknown) => {
      packed.dispose();
      throw error;
    },
  );
}
