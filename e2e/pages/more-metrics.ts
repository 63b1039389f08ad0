// Test API of e2e/more-metrics.spec.ts: runs the tensor metrics of issue 15 over the same plain-data batches on a
// chosen backend and returns their values. `window.moreMetrics` holds it; `window.ready` is true once loaded.
import * as tf from '@tensorflow/tfjs';
import {
  CosineSimilarity,
  Engine,
  Entropy,
  GeometricAverage,
  JSDivergence,
  KLDivergence,
  MaximumAbsoluteError,
  MeanAbsoluteRelativeError,
  MedianAbsoluteError,
  type Metric,
  PearsonCorrelation,
  PSNR,
  R2Score,
  SSIM,
  selectBackend,
  VariableAccumulation,
} from 'kindling';

/** One batch as plain data. */
export interface PlainBatch {
  /** (N) predictions and targets for the regression metrics (targets in [1, 2]). */
  yPred: number[];
  y: number[];
  /** (N, C) logits. */
  logitsPred: number[][];
  logits: number[][];
  /** (N, H, W, C) images in [0, 1]. */
  imagePred: number[][][][];
  image: number[][][][];
}

interface Batch {
  pair: [tf.Tensor, tf.Tensor];
  logits: [tf.Tensor, tf.Tensor];
  images: [tf.Tensor, tf.Tensor];
}

/** Runs every metric over `batches` on `backend` (EpochWise, one epoch); returns the values and what was left over. */
async function run(backend: 'cpu' | 'webgpu', batches: PlainBatch[]) {
  const selection = await selectBackend({ prefer: backend });
  if (selection.backend !== backend) throw new Error(`asked for backend ${backend}, got ${selection.backend}`);
  const data: Batch[] = batches.map((b) => ({
    pair: [tf.tensor1d(b.yPred), tf.tensor1d(b.y)],
    logits: [tf.tensor2d(b.logitsPred), tf.tensor2d(b.logits)],
    images: [tf.tensor4d(b.imagePred), tf.tensor4d(b.image)],
  }));
  const pair = (b: Batch) => b.pair;
  const logits = (b: Batch) => b.logits;
  const images = (b: Batch) => b.images;
  const metrics: Record<string, Metric<any, any>> = {
    r2: new R2Score({ outputTransform: pair }),
    pearson: new PearsonCorrelation({ outputTransform: pair }),
    median: new MedianAbsoluteError({ outputTransform: pair }),
    max: new MaximumAbsoluteError({ outputTransform: pair }),
    mare: new MeanAbsoluteRelativeError({ outputTransform: pair }),
    cosine: new CosineSimilarity({ outputTransform: logits }),
    kl: new KLDivergence({ outputTransform: logits }),
    js: new JSDivergence({ outputTransform: logits }),
    entropy: new Entropy({ outputTransform: logits }),
    psnr: new PSNR({ dataRange: 1, outputTransform: images }),
    ssim: new SSIM({ dataRange: 1, outputTransform: images }),
    ssimUniform: new SSIM({ dataRange: 1, kernelSize: [7, 5], gaussian: false, outputTransform: images }),
    geometric: new GeometricAverage({ outputTransform: (b: Batch) => b.pair[1] }),
    sum: new VariableAccumulation((acc, x) => tf.add(acc, tf.sum(x)), { outputTransform: (b: Batch) => b.pair[1] }),
  };
  const engine = new Engine<Batch, Batch>((_e, batch) => batch);
  for (const [name, metric] of Object.entries(metrics)) metric.attach(engine, name);
  const before = tf.memory().numTensors;
  const syncReads: string[] = [];
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const originals = ['dataSync', 'arraySync', 'bufferSync'].map((name) => [name, proto[name]] as const);
  for (const [name] of originals) {
    proto[name] = () => {
      syncReads.push(name);
      throw new Error(`${name}() was called during a run that must not read back synchronously`);
    };
  }
  try {
    const state = await engine.run(data);
    return { backend, values: state.metrics, syncReads, leaked: tf.memory().numTensors - before };
  } finally {
    for (const [name, original] of originals) proto[name] = original;
    tf.dispose(data.flatMap((b) => [...b.pair, ...b.logits, ...b.images]));
  }
}

const win = window as unknown as { moreMetrics: unknown; ready: boolean };
win.moreMetrics = run;
win.ready = true;
