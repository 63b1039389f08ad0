// The browser-facing parts: backend choice, chart feeds, yielding, and the package's ProgressBar with its page
// display. The only library code that touches the DOM.
export type { AdapterInfo, BackendName, BackendSelection, SelectBackendOptions } from './backend';
export { describeBackend, selectBackend } from './backend';
export type { ChartFeedOptions, ChartFrame, ChartSeries, FrameScheduler } from './chart-feed';
export { animationFrameScheduler, ChartFeed } from './chart-feed';
export type { ChartsStateDict } from './chart-recorder';
export { LiveCharts, type LiveChartsOptions, type LossChartOptions, type MetricsChartOptions } from './live-charts';
export { ProgressBar, type ProgressBarOptions } from './progress-bar';
export { DomProgressSink, type DomProgressTarget } from './progress-dom';
export type { EventLoopYielderOptions } from './yield';
export { EventLoopYielder, yieldToEventLoop } from './yield';
