import * as tf from '@tensorflow/tfjs';
import { checkBoolean, checkOneOf, checkOptions, checkPlainObject } from '../internal';

/** A tfjs backend that {@link selectBackend} knows how to set up. */
export type BackendName = 'webgpu' | 'webgl' | 'cpu';

/** What the browser says about the GPU behind WebGPU (`GPUAdapter.info`). Empty strings where it stays silent. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
}

/** The outcome of {@link selectBackend}. */
export interface BackendSelection {
  /** The backend tfjs now runs on (`tf.getBackend()`). */
  backend: BackendName;
  /** The WebGPU adapter's description when `backend` is `'webgpu'`, else `null`. */
  adapter: AdapterInfo | null;
  /** The first backend that was tried and failed, or `null` when the first choice worked. */
  fellBackFrom: BackendName | null;
  /** Why each failed backend was passed over (`'webgpu: navigator.gpu is missing; webgl: ...'`), or `null`. */
  reason: string | null;
}

/** Options of {@link selectBackend}. Any other key is a TypeError. */
export interface SelectBackendOptions {
  /**
   * Where to start in the order webgpu → webgl → cpu (default `'webgpu'`): `'webgl'` skips WebGPU, `'cpu'` forces the
   * CPU backend. A backend that fails still falls back to the next one, and says why.
   */
  prefer?: BackendName;
}

const ORDER: readonly BackendName[] = ['webgpu', 'webgl', 'cpu'];

/** The optional peer dependency that holds tfjs's WebGPU backend. */
const WEBGPU_PACKAGE = '@tensorflow/tfjs-backend-webgpu';

/**
 * Picks the fastest tfjs backend this browser offers and makes it current: WebGPU when `navigator.gpu` gives an adapter
 * (loading `@tensorflow/tfjs-backend-webgpu` on demand: install that optional peer dependency to use WebGPU), else
 * WebGL, else CPU. It never throws for a missing backend; it falls back and says why, so a page can show a badge such
 * as "webgl — fell back: webgpu: navigator.gpu.requestAdapter() found no adapter" (see {@link describeBackend}).
 * Works on the main thread and in module workers.
 *
 * @param options - `{ prefer }`: where to start in the order webgpu → webgl → cpu (default `'webgpu'`); see
 *   {@link SelectBackendOptions}. Unknown keys are a TypeError (`preferred` → "Did you mean 'prefer'?").
 * @returns the backend in use, the WebGPU adapter's info, and the first backend that failed with the reasons.
 * @throws TypeError for an unknown option, RangeError for an unknown backend name, Error when no backend starts.
 * @example
 * const { backend, adapter, fellBackFrom, reason } = await selectBackend();
 * // `reason` names each backend that failed: 'webgpu: navigator.gpu is missing (...); webgl: ...'
 * badge.textContent = fellBackFrom ? `${backend} (${reason})` : `${backend} ${adapter?.vendor ?? ''}`;
 * await selectBackend({ prefer: 'cpu' }); // the CPU backend, e.g. for exact comparisons in tests
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const checked = checkOptions('selectBackend', options, ['prefer'], {
    backend: "selectBackend chooses the backend itself: pass prefer: 'webgl' (or 'cpu') to start the search there.",
  });
  const prefer = checkOneOf('selectBackend', 'option prefer', checked.prefer ?? 'webgpu', ORDER);
  const start = ORDER.indexOf(prefer);
  const failures: string[] = [];
  let fellBackFrom: BackendName | null = null;
  for (const name of ORDER.slice(start)) {
    let adapter: AdapterInfo | null = null;
    try {
      if (name === 'webgpu') adapter = await prepareWebGpu();
      if (!(await tf.setBackend(name))) throw new Error('tf.setBackend returned false');
      await tf.ready();
      return { backend: name, adapter, fellBackFrom, reason: failures.length > 0 ? failures.join('; ') : null };
    } catch (error) {
      fellBackFrom ??= name;
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`selectBackend: no tfjs backend could be started (${failures.join('; ')}).`);
}

/** Checks that WebGPU has an adapter, registers tfjs's WebGPU backend, and returns the adapter's info. */
async function prepareWebGpu(): Promise<AdapterInfo> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new Error('navigator.gpu is missing (WebGPU not offered by this browser)');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('navigator.gpu.requestAdapter() found no adapter');
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new Error(
      `the optional package ${WEBGPU_PACKAGE} did not load (${why}); to train on WebGPU, install it beside ` +
        `@tensorflow/tfjs: npm install ${WEBGPU_PACKAGE}@${tf.version.tfjs}`,
    );
  }
  return readAdapterInfo(adapter);
}

function readAdapterInfo(adapter: GPUAdapter): AdapterInfo {
  const info = (adapter as { info?: Partial<GPUAdapterInfo> }).info ?? {};
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    device: info.device ?? '',
  };
}

/**
 * A one-line label for a badge: `"webgpu · google swiftshader"`, or `"cpu (forced)"`, or, after a fallback,
 * the backend then the reasons as {@link selectBackend} gave them (each failed backend names itself):
 * `"webgl — fell back: webgpu: navigator.gpu is missing (WebGPU not offered by this browser)"`.
 *
 * @param selection what {@link selectBackend} returned.
 * @param forced whether the user asked for this backend (e.g. `?backend=cpu`).
 * @example badge.textContent = describeBackend(await selectBackend({ prefer: 'cpu' }), true);
 */
export function describeBackend(selection: BackendSelection, forced = false): string {
  checkPlainObject('describeBackend', 'argument selection', selection, 'what selectBackend() returned');
  checkBoolean('describeBackend', 'argument forced', forced);
  const { backend, adapter, fellBackFrom, reason } = selection;
  const gpu = adapter ? [adapter.vendor, adapter.architecture, adapter.description].filter(Boolean).join(' ') : '';
  let text = gpu ? `${backend} · ${gpu}` : backend;
  if (forced) text += ' (forced)';
  if (fellBackFrom) text += ` — fell back: ${reason ?? fellBackFrom}`;
  return text;
}
