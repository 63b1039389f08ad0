// Loggers: a small base that attaches logging handlers to engines, TensorBoard event files and CSV tables, and the
// handlers that log outputs, metrics, optimizer parameters, weights and gradients.

export type { LogStorage } from '../storage/log-file';
export { type AttachEvent, BaseLogger, type LogHandler, type LogHandlerFunction } from './base-logger';
export { CSVLogger, type CSVLoggerOptions } from './csv-logger';
export { GradsHistHandler } from './grads-hist-handler';
export { GradsScalarHandler } from './grads-scalar-handler';
export { OptimizerParamsHandler, type OptimizerParamsHandlerOptions } from './optimizer-params-handler';
export { OutputHandler, type OutputHandlerOptions } from './output-handler';
export { TensorboardLogger, type TensorboardLoggerOptions } from './tensorboard-logger';
export type {
  Reduction,
  WeightsHandlerOptions,
  WeightsScalarHandlerOptions,
  WeightsWhitelist,
} from './weights-common';
export { WeightsHistHandler } from './weights-hist-handler';
export { WeightsScalarHandler } from './weights-scalar-handler';
