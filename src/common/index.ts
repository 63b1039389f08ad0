// The one-call setups of Ignite's contrib/engines/common.py, built on handlers/, metrics/ and the browser's ProgressBar.
export {
  type CommonTrainingHandlers,
  type CommonTrainingOptions,
  setupCommonTrainingHandlers,
} from './training-handlers';
export {
  addEarlyStoppingByValScore,
  type EarlyStoppingByValScoreOptions,
  type SaveBestModelOptions,
  saveBestModelByValScore,
} from './val-score';
