import type { BackendName } from 'kindling';
import type { RunConfig, SessionCommand, SessionEvent } from './protocol';
import { TrainingSession } from './session';

/** How the page talks to a training session, wherever it runs. */
export interface Driver {
  prepare(backend: BackendName | null): Promise<void>;
  start(config: RunConfig, backend: BackendName | null, resumeFrom: string | null): Promise<void>;
  pause(): void;
  resume(): Promise<void>;
  /** Asks the run to end; the status events say when it has. */
  stop(): void;
  /** Waits for the run to end, then deletes the store's checkpoints; resolves at status idle, locked or failed. */
  reset(dbName: string): Promise<void>;
  /** Deletes one checkpoint (a run under way is stopped first); rejects, or reports an error event, on failure. */
  deleteCheckpoint(dbName: string, name: string): Promise<void>;
}

/** Trains on the page's own thread; the session yields to the event loop so the page stays responsive. */
export class LocalDriver implements Driver {
  readonly #session: TrainingSession;

  constructor(onEvent: (event: SessionEvent) => void) {
    this.#session = new TrainingSession(onEvent);
  }
  prepare(backend: BackendName | null) {
    return this.#session.ensureBackend(backend);
  }
  start(config: RunConfig, backend: BackendName | null, resumeFrom: string | null) {
    return this.#session.start(config, backend, resumeFrom);
  }
  pause() {
    this.#session.pause();
  }
  resume() {
    return this.#session.resume();
  }
  stop() {
    void this.#session.stop();
  }
  reset(dbName: string) {
    return this.#session.reset(dbName);
  }
  deleteCheckpoint(dbName: string, name: string) {
    return this.#session.deleteCheckpoint(dbName, name);
  }
}

/** Trains in a module worker; events come back with postMessage and the page charts them. */
export class WorkerDriver implements Driver {
  readonly #worker: Worker;
  readonly #waiting: Array<{ until: (e: SessionEvent) => boolean; resolve: () => void }> = [];

  constructor(onEvent: (event: SessionEvent) => void) {
    this.#worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'kindling-training' });
    this.#worker.onmessage = (message: MessageEvent<SessionEvent>) => {
      onEvent(message.data);
      for (const w of [...this.#waiting]) {
        if (w.until(message.data)) {
          this.#waiting.splice(this.#waiting.indexOf(w), 1);
          w.resolve();
        }
      }
    };
    this.#worker.onerror = (event) => onEvent({ type: 'error', message: `worker: ${event.message}` });
  }

  #send(command: SessionCommand | { type: 'prepare'; backend: BackendName | null }): void {
    this.#worker.postMessage(command);
  }

  #until(test: (e: SessionEvent) => boolean): Promise<void> {
    return new Promise((resolve) => this.#waiting.push({ until: test, resolve }));
  }

  prepare(backend: BackendName | null) {
    const ready = this.#until((e) => e.type === 'backend' || e.type === 'error');
    this.#send({ type: 'prepare', backend });
    return ready;
  }
  start(config: RunConfig, backend: BackendName | null, resumeFrom: string | null) {
    const settled = this.#until((e) => e.type === 'status' && e.status !== 'loading' && e.status !== 'running');
    this.#send({ type: 'start', config, backend, resumeFrom });
    return settled;
  }
  pause() {
    this.#send({ type: 'pause' });
  }
  resume() {
    const settled = this.#until((e) => e.type === 'status' && e.status !== 'running');
    this.#send({ type: 'resume' });
    return settled;
  }
  stop() {
    this.#send({ type: 'stop' });
  }
  reset(dbName: string) {
    const done = this.#until((e) => e.type === 'status' && ['idle', 'locked', 'failed'].includes(e.status));
    this.#send({ type: 'reset', dbName });
    return done;
  }
  deleteCheckpoint(dbName: string, name: string) {
    // The worker reports a failed delete as an error event (the page logs it).
    const done = this.#until((e) => (e.type === 'deleted' && e.name === name) || e.type === 'error');
    this.#send({ type: 'delete', dbName, name });
    return done;
  }
}
