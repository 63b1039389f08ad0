// A module Worker for e2e/loggers.spec.ts: logs scalars with TensorboardLogger to OPFS (a sync access handle here),
// then posts the file's bytes back.
import { TensorboardLogger } from 'kindling';

const logger = new TensorboardLogger({ logDir: 'runs/worker', maxQueue: 2 });
for (let step = 1; step <= 5; step++) logger.addScalar('worker/x', step / 2, step);
await logger.flush();
logger.addHistogram('worker/h', [1, 2, 3], 6);
await logger.close();
const bytes = Array.from(new Uint8Array(await (await logger.toBlob()).arrayBuffer()));
const hasSyncHandles =
  typeof (FileSystemFileHandle.prototype as { createSyncAccessHandle?: unknown }).createSyncAccessHandle === 'function';
postMessage({ location: await logger.location(), bytes, hasSyncHandles });
