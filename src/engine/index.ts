export {
  Engine,
  type EventSpec,
  type Handler,
  type HandlerCallObserver,
  type ProcessFunction,
  type RemovableEventHandle,
  type RunData,
  type RunOptions,
} from './engine';
export {
  type CallableEvent,
  defineEvents,
  type EventFilter,
  type EventLike,
  EventList,
  Events,
  eventName,
  FilteredEvent,
  type FilterOptions,
  isCallableEvent,
  isEventLike,
} from './events';
export { consoleLogger, getLogger, type Logger, setLogger, silentLogger } from './logger';
export { State } from './state';
export type { Stateful } from './stateful';
