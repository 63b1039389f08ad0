import { checkFunction, checkPlainObject, checkString, describeValue } from '../internal';
import type { Engine } from './engine';

/** Decides, from the engine and the event's counter value (epoch, iteration...), whether a handler runs. */
export type EventFilter = (engine: Engine<any, any>, value: number) => boolean;

type EveryFilter = { every: number; before?: number; after?: number; once?: never; eventFilter?: never };
type BeforeFilter = { before: number; after?: number; every?: number; once?: never; eventFilter?: never };
type AfterFilter = { after: number; before?: number; every?: number; once?: never; eventFilter?: never };
type OnceFilter = {
  once: number | readonly number[];
  every?: never;
  before?: never;
  after?: never;
  eventFilter?: never;
};
type CustomFilter = { eventFilter: EventFilter; every?: never; once?: never; before?: never; after?: never };

/**
 * The argument of a callable event: exactly one of `eventFilter`, `once`, or any of `every` / `before` / `after`.
 * Mixing groups (`{ every: 5, once: 3 }`) is a compile error and a runtime `TypeError`.
 */
export type FilterOptions = EveryFilter | BeforeFilter | AfterFilter | OnceFilter | CustomFilter;

/** An event with a filter: built by calling an event, e.g. `Events.ITERATION_COMPLETED({ every: 50 })`. */
export class FilteredEvent {
  /** The event this filter applies to. */
  readonly event: CallableEvent;
  /** Decides whether a handler registered through this filtered event runs. */
  readonly filter: EventFilter;

  constructor(event: CallableEvent, filter: EventFilter) {
    this.event = event;
    this.filter = filter;
  }

  /** The underlying event's name, e.g. `'iteration_completed'`. */
  get name(): string {
    return this.event.name;
  }

  /** An event list of this event and `other`: a handler added on it runs on both. */
  or(other: EventLike | EventList): EventList {
    return new EventList([this]).or(other);
  }

  /** A readable name for messages, e.g. `Events.ITERATION_COMPLETED(filtered)`. */
  toString(): string {
    return `Events.${this.name.toUpperCase()}(filtered)`;
  }
}

/**
 * An event: a constant such as `Events.EPOCH_COMPLETED` that can also be called with a filter to get a
 * {@link FilteredEvent}: `Events.ITERATION_COMPLETED({ every: 50 })`. The base event is never changed by a call.
 */
export interface CallableEvent {
  (options: FilterOptions): FilteredEvent;
  /** The event's name, e.g. `'iteration_completed'`. */
  readonly name: string;
  /** An event list of this event and `other`: a handler added on it runs on both. */
  or(other: EventLike | EventList): EventList;
}

/** What names an event where the engine takes one: a callable event, a filtered event, or a custom event's name. */
export type EventLike = CallableEvent | FilteredEvent | string;

/** Several events; a handler added on the list is registered on each member in order. Built with `a.or(b)`. */
export class EventList {
  /** The events, in the order handlers are registered on them. */
  readonly events: readonly (CallableEvent | FilteredEvent | string)[];

  constructor(events: readonly EventLike[]) {
    this.events = [...events];
  }

  /** A new list with `other` (an event or another list) appended. */
  or(other: EventLike | EventList): EventList {
    if (other instanceof EventList) return new EventList([...this.events, ...other.events]);
    if (!isEventLike(other)) {
      throw new TypeError(
        `EventList.or: argument should be an event, a filtered event or an EventList, got ${describeValue(other)}.`,
      );
    }
    return new EventList([...this.events, other]);
  }

  /** Iterates the events in order, e.g. `for (const e of Events.STARTED.or(Events.COMPLETED))`. */
  [Symbol.iterator](): Iterator<EventLike> {
    return this.events[Symbol.iterator]();
  }

  /** The number of events in the list. */
  get length(): number {
    return this.events.length;
  }
}

/** True for the things the engine accepts as a single event. */
export function isEventLike(value: unknown): value is EventLike {
  return typeof value === 'string' || value instanceof FilteredEvent || isCallableEvent(value);
}

/** True for an event made by {@link defineEvents} or one of the built-in {@link Events}. */
export function isCallableEvent(value: unknown): value is CallableEvent {
  return typeof value === 'function' && callableEvents.has(value as CallableEvent);
}

/** The name of an event, a filtered event, or a custom event given as a string. */
export function eventName(event: EventLike): string {
  if (typeof event === 'string') return event;
  if (!isEventLike(event)) {
    throw new TypeError(
      `eventName: argument event should be an event (e.g. Events.EPOCH_COMPLETED), a filtered event or a custom event's name, got ${describeValue(event)}.`,
    );
  }
  return event.name;
}

const callableEvents = new WeakSet<CallableEvent>();

function createEvent(name: string): CallableEvent {
  const event = ((options: FilterOptions) => new FilteredEvent(event, buildFilter(name, options))) as CallableEvent & {
    or: CallableEvent['or'];
  };
  Object.defineProperty(event, 'name', { value: name });
  event.or = (other) => new EventList([event]).or(other);
  Object.defineProperty(event, 'toString', { value: () => `Events.${name.toUpperCase()}` });
  callableEvents.add(event);
  return Object.freeze(event);
}

const isPositiveInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) > 0;
const isNonNegativeInteger = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 0;

function buildFilter(name: string, options: FilterOptions | undefined): EventFilter {
  const where = `Events.${name.toUpperCase()}(...)`;
  if (options === null || typeof options !== 'object') {
    throw new TypeError(
      `${where}: expected one filter object such as { every: 10 }, { once: 3 }, { before: 10, after: 2 } or { eventFilter }, got ${describeValue(options)}.`,
    );
  }
  const { every, once, before, after, eventFilter } = options as Partial<EveryFilter & OnceFilter & CustomFilter>;
  const known = new Set(['every', 'once', 'before', 'after', 'eventFilter']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new TypeError(
        `${where}: unknown filter option '${key}'. Use one of every, once, before, after or eventFilter.`,
      );
    }
  }
  const groups =
    Number(eventFilter !== undefined) +
    Number(once !== undefined) +
    Number(every !== undefined || before !== undefined || after !== undefined);
  if (groups !== 1) {
    throw new TypeError(
      `${where}: only one of the input arguments should be specified, except before, after and every: ` +
        `pass exactly one of eventFilter, once, or every/before/after; got ${describeValue(options)}.`,
    );
  }
  if (eventFilter !== undefined) {
    return checkFunction<EventFilter>(where, 'argument eventFilter', eventFilter, '(engine, value) => boolean');
  }
  if (once !== undefined) {
    const values = typeof once === 'number' ? [once] : once;
    if (!Array.isArray(values) || values.length === 0 || !values.every(isPositiveInteger)) {
      throw new RangeError(
        `${where}: argument once should either be a positive integer or a list of positive integers, got ${describeValue(once)}.`,
      );
    }
    const wanted = new Set<number>(values as readonly number[]);
    return (_engine, value) => wanted.has(value);
  }
  if (every !== undefined && !isPositiveInteger(every)) {
    throw new RangeError(
      `${where}: argument every should be integer and greater than zero, got ${describeValue(every)}.`,
    );
  }
  if (before !== undefined && !isNonNegativeInteger(before)) {
    throw new RangeError(
      `${where}: argument before should be integer and greater or equal to zero, got ${describeValue(before)}.`,
    );
  }
  if (after !== undefined && !isNonNegativeInteger(after)) {
    throw new RangeError(
      `${where}: argument after should be integer and greater or equal to zero, got ${describeValue(after)}.`,
    );
  }
  if (before === undefined && after === undefined) {
    const step = every as number;
    return (_engine, value) => value % step === 0;
  }
  const upper = before ?? Number.POSITIVE_INFINITY;
  const lower = after ?? 0;
  if (upper <= lower + 1) {
    throw new RangeError(
      `${where}: arguments before and after leave no value to fire on: it fires when after < value < before, and ` +
        `no integer lies strictly between after ${lower} and before ${upper}, so it would never fire, got ${describeValue(options)}. ` +
        'Widen the range (before > after + 1), or use { once: n } for a single value.',
    );
  }
  if (every === undefined) return (_engine, value) => value > lower && value < upper;
  return (_engine, value) => value > lower && value < upper && (value - lower - 1) % every === 0;
}

/**
 * Defines custom events, e.g. for a handler that fires its own events. Register them on an engine with
 * `engine.registerEvents(Object.values(events))` and fire them with `engine.fireEvent(events.X)`.
 *
 * @example
 * const BackpropEvents = defineEvents({ BACKWARD_STARTED: 'backward_started', BACKWARD_COMPLETED: 'backward_completed' });
 * engine.registerEvents(Object.values(BackpropEvents), { eventToAttr: { backward_started: 'backwardCount' } });
 */
export function defineEvents<const T extends Record<string, string>>(
  names: T,
): { readonly [K in keyof T]: CallableEvent } {
  checkPlainObject('defineEvents', 'argument names', names, "an object of { KEY: 'event_name' }");
  const events: Record<string, CallableEvent> = {};
  for (const [key, name] of Object.entries(names)) {
    events[key] = createEvent(checkString('defineEvents', `the name of event ${key}`, name));
  }
  return Object.freeze(events) as { readonly [K in keyof T]: CallableEvent };
}

/** The engine's built-in events, fired by `run()`. Names are the lower-case keys: `Events.STARTED.name === 'started'`. */
export const Events = defineEvents({
  STARTED: 'started',
  EPOCH_STARTED: 'epoch_started',
  GET_BATCH_STARTED: 'get_batch_started',
  GET_BATCH_COMPLETED: 'get_batch_completed',
  ITERATION_STARTED: 'iteration_started',
  ITERATION_COMPLETED: 'iteration_completed',
  DATALOADER_STOP_ITERATION: 'dataloader_stop_iteration',
  EXCEPTION_RAISED: 'exception_raised',
  TERMINATE: 'terminate',
  TERMINATE_SINGLE_EPOCH: 'terminate_single_epoch',
  INTERRUPT: 'interrupt',
  EPOCH_COMPLETED: 'epoch_completed',
  COMPLETED: 'completed',
});

/** Which state attribute each built-in event's filters test. Events not listed here cannot be filtered. */
export const defaultEventToAttr: Readonly<Record<string, string>> = Object.freeze({
  started: 'epoch',
  epoch_started: 'epoch',
  epoch_completed: 'epoch',
  completed: 'epoch',
  get_batch_started: 'iteration',
  get_batch_completed: 'iteration',
  iteration_started: 'iteration',
  iteration_completed: 'iteration',
});
