// Checkpoint and what goes with it: file naming, loading, resuming, and the state of tfjs models and optimizers.
export type { Stateful } from '../../engine';
export type { CheckpointErrorCode, LatestOptions, SaveMetadata, Saver, StoredCheckpoint } from '../../storage';
export { CheckpointError } from '../../storage';
export { Checkpoint, CheckpointEvents, type CheckpointOptions, type ScoreFunction } from './checkpoint';
export { formatScore, type GlobalStepTransform, globalStepFromEngine } from './filename';
export type { Checkpointable, LoadObjectsOptions, LoadReport } from './load-objects';
export { type ResumeInfo, type ResumeOptions, resumeOrStart } from './resume';
export type { LayersModelState, LoadIssue, OptimizerState, TensorRecord } from './tf-state';
