import { MeanSquaredError } from './mean-squared-error';

/**
 * Root mean squared error: the square root of {@link MeanSquaredError}.
 *
 * @example
 * new RootMeanSquaredError().attach(evaluator, 'rmse');
 */
export class RootMeanSquaredError extends MeanSquaredError {
  protected override get metricName(): string {
    return 'RootMeanSquaredError';
  }

  /** The square root of the mean squared error (one readback); throws NotComputableError before any update. */
  override async compute(): Promise<number> {
    return Math.sqrt(await super.compute());
  }
}
