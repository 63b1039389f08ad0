import type * as tf from '@tensorflow/tfjs';
import { CosineAnnealingScheduler, createLrSchedulerWithWarmup, type ParamScheduler } from 'kindling';
import type { RunConfig } from './protocol';

/**
 * The learning-rate schedule the form asks for, as a kindling scheduler to attach at ITERATION_STARTED (its state
 * goes into the checkpoint), or null for a constant rate. Cosine: from the rate down to 1% over the whole run.
 */
export function makeLrSchedule(config: RunConfig, optimizer: tf.Optimizer, epochLength: number): ParamScheduler | null {
  if (config.schedule === 'constant') return null;
  const total = epochLength * config.epochs;
  const cosine = new CosineAnnealingScheduler(optimizer, {
    startValue: config.learningRate,
    endValue: config.learningRate / 100,
    cycleSize: Math.max(2, total),
  });
  if (config.schedule === 'cosine') return cosine;
  return createLrSchedulerWithWarmup(cosine, {
    warmupStartValue: config.learningRate / 10,
    warmupDuration: epochLength,
  });
}
