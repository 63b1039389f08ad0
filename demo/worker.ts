/// <reference lib="webworker" />
// Training in a module worker: the same TrainingSession, its events posted to the page.
import type { BackendName } from 'kindling';
import type { SessionCommand, SessionEvent } from './protocol';
import { TrainingSession } from './session';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const session = new TrainingSession((event: SessionEvent) => scope.postMessage(event));

type Message = SessionCommand | { type: 'prepare'; backend: BackendName | null };

scope.onmessage = async (message: MessageEvent<Message>) => {
  const command = message.data;
  try {
    switch (command.type) {
      case 'prepare':
        await session.ensureBackend(command.backend);
        break;
      case 'start':
        await session.start(command.config, command.backend, command.resumeFrom);
        break;
      case 'pause':
        session.pause();
        break;
      case 'resume':
        await session.resume();
        break;
      case 'stop':
        await session.stop();
        break;
      case 'reset':
        await session.reset(command.dbName);
        break;
      case 'delete':
        await session.deleteCheckpoint(command.dbName, command.name);
        scope.postMessage({ type: 'deleted', name: command.name } satisfies SessionEvent);
        break;
    }
  } catch (error) {
    scope.postMessage({ type: 'error', message: String(error) } satisfies SessionEvent);
  }
};
