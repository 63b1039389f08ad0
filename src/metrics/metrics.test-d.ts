import { describe, expectTypeOf, it } from 'vitest';
import {
  Accuracy,
  BatchWise,
  ConfusionMatrix,
  type Metric,
  MetricsLambda,
  type MetricUsage,
  mIoU,
  Precision,
  Recall,
  RunningAverage,
} from './index';

describe('metric types', () => {
  it('MetricsLambda infers its function arguments from the metrics', () => {
    const lambda = new MetricsLambda(
      (p, r, k) => {
        expectTypeOf(p).toEqualTypeOf<number | number[]>();
        expectTypeOf(k).toEqualTypeOf<number>();
        return typeof p === 'number' && typeof r === 'number' ? p * r * k : 0;
      },
      new Precision({ average: true }),
      new Recall(),
      2,
    );
    expectTypeOf(lambda.compute()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(mIoU(new ConfusionMatrix({ numClasses: 3 })).compute()).toEqualTypeOf<Promise<number>>();
  });

  it('arithmetic keeps the output type; usages are values', () => {
    expectTypeOf(new Accuracy().mul(100)).toMatchTypeOf<Metric<unknown, number>>();
    expectTypeOf(BatchWise).toEqualTypeOf<MetricUsage>();
    // @ts-expect-error usages are the exported values, not strings
    new Accuracy().attach(null as never, 'acc', 'batch_wise');
    // @ts-expect-error RunningAverage takes one options object
    new RunningAverage(new Accuracy());
  });
});
