// Test API of e2e/metrics.spec.ts: each function runs one scenario in this page on the given backend and returns
// plain results. `window.metricParts` holds them; `window.ready` is true once the module has loaded.
import * as tf from '@tensorflow/tfjs';
import {
  Accuracy,
  AveragePrecision,
  CohenKappa,
  ConfusionMatrix,
  Engine,
  MultiLabelConfusionMatrix,
  Precision,
  PrecisionRecallCurve,
  RocAuc,
  RocCurve,
  selectBackend,
  TopKCategoricalAccuracy,
} from 'kindling';

type BackendName = 'cpu' | 'webgpu';

async function useBackend(name: BackendName): Promise<string> {
  const selection = await selectBackend({ prefer: name });
  if (selection.backend !== name) throw new Error(`asked for backend ${name}, got ${selection.backend}`);
  // tfjs-webgpu runs some kernels (concat, cast, binary ops...) on the CPU for tiny tensors still in host memory,
  // reading that host memory with readSync: no GPU stall, but the spy below cannot tell it from one. Off, every
  // kernel runs on the GPU, so any readSync seen is a real synchronous GPU read.
  if (name === 'webgpu') tf.env().set('WEBGPU_CPU_FORWARD', false);
  return selection.backend;
}

/** Runs `fn` with Tensor.dataSync/arraySync/bufferSync (and a GPU backend's readSync) throwing; lists the attempts. */
async function withoutSyncReads<T>(fn: () => Promise<T>): Promise<{ value: T; syncReads: string[] }> {
  const syncReads: string[] = [];
  const proto = tf.Tensor.prototype as unknown as Record<string, unknown>;
  const backend = tf.backend() as unknown as Record<string, unknown>;
  const originals: [Record<string, unknown>, string, unknown][] = [];
  const spy = (owner: Record<string, unknown>, name: string) => {
    originals.push([owner, name, owner[name]]);
    owner[name] = () => {
      syncReads.push(name);
      throw new Error(`${name}() was called during a run that must not read back synchronously`);
    };
  };
  for (const name of ['dataSync', 'arraySync', 'bufferSync']) spy(proto, name);
  if (tf.getBackend() !== 'cpu') spy(backend, 'readSync');
  try {
    return { value: await fn(), syncReads };
  } finally {
    for (const [owner, name, original] of originals) owner[name] = original;
  }
}

/** Plain batches: binary scores with 0/1 labels, class labels, and 0/1 multilabel rows. */
export interface PlainBatch {
  scores: number[];
  binary: number[];
  predicted: number[];
  labels: number[];
  multiPred: number[][];
  multi: number[][];
}

/** RocAuc, RocCurve, AveragePrecision, PrecisionRecallCurve, CohenKappa, MultiLabelConfusionMatrix over an engine run. */
async function classification(backend: BackendName, batches: PlainBatch[]) {
  const used = await useBackend(backend);
  const before = tf.memory().numTensors;
  let held: tf.Tensor[] = [];
  const engine = new Engine((_e, b: PlainBatch) => {
    tf.dispose(held);
    held = [
      tf.tensor1d(b.scores),
      tf.tensor1d(b.binary, 'int32'),
      tf.tensor1d(b.predicted, 'int32'),
      tf.tensor1d(b.labels, 'int32'),
      tf.tensor2d(b.multiPred, undefined, 'int32'),
      tf.tensor2d(b.multi, undefined, 'int32'),
    ];
    return held;
  });
  const binary = (o: tf.Tensor[]) => [o[0]!, o[1]!] as [tf.Tensor, tf.Tensor];
  new RocAuc({ outputTransform: binary }).attach(engine, 'auc');
  new RocCurve({ outputTransform: binary }).attach(engine, 'roc');
  new AveragePrecision({ outputTransform: binary }).attach(engine, 'ap');
  new PrecisionRecallCurve({ outputTransform: binary }).attach(engine, 'pr');
  new CohenKappa({ weights: 'quadratic', numClasses: 3, outputTransform: (o) => [o[2], o[3]] }).attach(engine, 'qwk');
  new MultiLabelConfusionMatrix({ numClasses: 3, outputTransform: (o) => [o[4], o[5]] }).attach(engine, 'mlcm');
  const { value: state, syncReads } = await withoutSyncReads(() => engine.run(batches));
  tf.dispose(held);
  const { auc, roc, ap, pr, qwk, mlcm } = state.metrics;
  return { backend: used, auc, roc, ap, pr, qwk, mlcm, syncReads, leaked: tf.memory().numTensors - before };
}

/** Bad labels on `backend`: each metric's compute() error message (or 'no error'), read back without sync reads. */
async function badLabels(backend: BackendName) {
  const used = await useBackend(backend);
  const before = tf.memory().numTensors;
  const scores = tf.tensor2d([
    [0.9, 0.1],
    [0.2, 0.8],
  ]);
  const cases: [string, () => { update(o: unknown): unknown; compute(): unknown }, tf.Tensor, tf.Tensor][] = [
    ['accuracy y=[2,3]', () => new Accuracy(), scores, tf.tensor1d([2, 3], 'int32')],
    ['accuracy NaN', () => new Accuracy(), scores, tf.tensor1d([Number.NaN, 1])],
    ['accuracy binary 0.5', () => new Accuracy(), tf.tensor1d([0.2, 0.7]), tf.tensor1d([0.5, 1])],
    ['precision -1', () => new Precision({ average: true }), scores, tf.tensor1d([-1, 1], 'int32')],
    ['topk 2', () => new TopKCategoricalAccuracy({ k: 1 }), scores, tf.tensor1d([0, 2], 'int32')],
    ['cm 5', () => new ConfusionMatrix({ numClasses: 2 }), scores, tf.tensor1d([5, 0], 'int32')],
    ['cm valid', () => new ConfusionMatrix({ numClasses: 2 }), scores, tf.tensor1d([0, 1], 'int32')],
    [
      'mlcm 3',
      () => new MultiLabelConfusionMatrix({ numClasses: 2 }),
      tf.tensor2d([
        [0, 1],
        [1, 1],
      ]),
      tf.tensor2d([
        [0, 3],
        [1, 1],
      ]),
    ],
  ];
  const messages: Record<string, string> = {};
  const { syncReads } = await withoutSyncReads(async () => {
    for (const [name, make, yPred, y] of cases) {
      const metric = make();
      metric.update([yPred, y]);
      try {
        await metric.compute();
        messages[name] = 'no error';
      } catch (error) {
        messages[name] = (error as Error).message;
      }
      (metric as unknown as { reset(): void }).reset();
    }
  });
  tf.dispose([scores, ...cases.flatMap(([, , p, y]) => [p, y])]);
  return { backend: used, messages, syncReads, leaked: tf.memory().numTensors - before };
}

/** A mid-epoch state dict on `backend`: Accuracy and RocAuc saved after 2 of 4 batches and loaded into fresh ones. */
async function stateRoundTrip(backend: BackendName, batches: PlainBatch[]) {
  const used = await useBackend(backend);
  const before = tf.memory().numTensors;
  const tensors = batches.map((b) =>
    tf.tidy(
      () => [tf.add(tf.tensor1d(b.scores), 0), tf.add(tf.tensor1d(b.binary, 'int32'), 0)] as [tf.Tensor, tf.Tensor],
    ),
  );
  const { value, syncReads } = await withoutSyncReads(async () => {
    const out: Record<string, number> = {};
    for (const [name, make] of [
      ['accuracy', () => new Accuracy()],
      ['auc', () => new RocAuc()],
    ] as const) {
      const whole = make();
      for (const t of tensors) whole.update(t);
      const first = make();
      for (const t of tensors.slice(0, 2)) first.update(t);
      const saved = JSON.parse(JSON.stringify(await first.stateDict()));
      const resumed = make();
      resumed.loadStateDict(saved);
      for (const t of tensors.slice(2)) resumed.update(t);
      out[`${name} whole`] = await whole.compute();
      out[`${name} resumed`] = await resumed.compute();
      for (const m of [whole, first, resumed]) m.reset();
    }
    return out;
  });
  tf.dispose(tensors.flat());
  return { backend: used, value, syncReads, leaked: tf.memory().numTensors - before };
}

const win = window as unknown as { metricParts: unknown; ready: boolean };
win.metricParts = { classification, badLabels, stateRoundTrip };
win.ready = true;
