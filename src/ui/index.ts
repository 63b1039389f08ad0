// The browser-facing helpers: backend choice, chart feeds, yielding. The only library code that touches the DOM.
export type { AdapterInfo, BackendName, BackendSelection, SelectBackendOptions } from './backend';
export { describeBackend, selectBackend } from './backend';
export type { ChartFeedOptions, ChartFrame, ChartSeries, FrameScheduler } from './chart-feed';
export { animationFrameScheduler, ChartFeed } from './chart-feed';
export type { EventLoopYielderOptions } from './yield';
export { EventLoopYielder, yieldToEventLoop } from './yield';
