export {
  defaultPrepareBatch,
  type ModelFn,
  type PrepareBatch,
  type SupervisedModel,
} from './common';
export { type AttachableMetric, createSupervisedEvaluator, type SupervisedEvaluatorOptions } from './evaluator';
export { type GradientWatch, watchGradients } from './gradients';
export { readLoss } from './read-loss';
export {
  createSupervisedTbpttTrainer,
  type RecurrentModelFn,
  type SupervisedTbpttTrainerOptions,
  TbpttEvents,
} from './tbptt';
export { createSupervisedTrainer, type LossFn, type SupervisedTrainerOptions } from './trainer';
