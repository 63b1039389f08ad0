// `kindling/worker`: training in a dedicated module Worker, watched and controlled from the page through engine
// mirrors; and the same handle for training on the page's own thread.
export { transfer } from 'comlink';
export { EngineMirror, type MirrorLink } from './mirror';
export type {
  EngineSnapshot,
  ForwardedEvent,
  RunOutcome,
  SharedState,
  TrainingActions,
  TrainingRecipe,
  TrainingSetup,
} from './protocol';
export { type SharedLink, type StartReply, serveTraining, TrainingServer, type TrainingWorkerApi } from './serve';
export { type RemoteActions, type Training, type TrainingConnectOptions, trainHere, trainInWorker } from './training';
