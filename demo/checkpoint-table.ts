// The checkpoints cell: the stores' checkpoints from the saver's metadata (no weights loaded), with load and delete.
import { IndexedDBSaver } from 'kindling';

export interface TableActions {
  /** Whether a run is under way: load and delete wait until none is. */
  isBusy(): boolean;
  load(name: string): void;
  remove(name: string): Promise<void>;
  /** The validation accuracy charted at or before `iteration`, if known. */
  accuracyAt(iteration: number): string | null;
}

/** One read-only saver per database (listing needs no lock, and one connection is enough). */
const savers = new Map<string, IndexedDBSaver>();
export function tableSaver(dbName: string): IndexedDBSaver {
  let saver = savers.get(dbName);
  if (!saver) {
    saver = new IndexedDBSaver(dbName, { lock: false });
    savers.set(dbName, saver);
  }
  return saver;
}

/** Fills `#checkpoints tbody` with the store's checkpoints, newest first. */
export async function renderCheckpoints(body: HTMLElement, dbName: string, actions: TableActions): Promise<void> {
  const infos = (await tableSaver(dbName).listInfo()).reverse();
  body.replaceChildren(
    ...infos.map((info) => {
      // The demo's checkpoints are ranked by step: the priority is the iteration.
      const iteration = typeof info.metadata?.priority === 'number' ? info.metadata.priority : null;
      const tr = document.createElement('tr');
      tr.dataset.name = info.filename;
      const score = iteration === null ? '' : (actions.accuracyAt(iteration) ?? '');
      tr.innerHTML = `<td>${info.filename}</td><td>${iteration ?? '?'}</td><td>${score}</td><td>${(info.bytes / 1024).toFixed(1)} KiB</td><td></td>`;
      const load = button('load', () => actions.load(info.filename));
      const remove = button('delete', () => void actions.remove(info.filename));
      for (const b of [load, remove]) b.disabled = actions.isBusy();
      tr.lastElementChild!.append(load, ' ', remove);
      return tr;
    }),
  );
}

/** The table's buttons work only while no run (or reset) is under way. */
export function enableRowButtons(body: HTMLElement, isBusy: boolean): void {
  for (const b of body.querySelectorAll('button')) b.disabled = isBusy;
}

/**
 * Whether another tab holds the store's Web Lock (it trains into it). A page just reloaded waits up to about 2 s
 * for its previous document to let go of the lock.
 */
export async function isHeldElsewhere(dbName: string): Promise<boolean> {
  const locks = navigator.locks as LockManager | undefined;
  if (!locks) return false;
  const lockName = tableSaver(dbName).lockName;
  for (let attempt = 0; attempt < 20; attempt++) {
    const { held = [] } = await locks.query();
    if (!held.some((lock) => lock.name === lockName)) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

function button(text: string, onclick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = text;
  b.onclick = onclick;
  return b;
}
