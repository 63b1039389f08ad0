import type * as tf from '@tensorflow/tfjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  Bleu,
  Frequency,
  GeometricAverage,
  MedianAbsoluteError,
  MetricGroup,
  type MetricUsage,
  PSNR,
  R2Score,
  Rouge,
  SSIM,
  VariableAccumulation,
} from './index';

describe('regression, vision, general and text metric types', () => {
  it('compute() results', () => {
    expectTypeOf(new R2Score().compute()).toEqualTypeOf<Promise<number>>();
    expectTypeOf(new Bleu().compute()).toEqualTypeOf<number>();
    expectTypeOf(new Rouge().compute()).toEqualTypeOf<Record<string, number>>();
    expectTypeOf(new GeometricAverage().compute()).toEqualTypeOf<Promise<number | number[] | number[][]>>();
    const [, count] = await_(new VariableAccumulation((a: tf.Tensor) => a).compute());
    expectTypeOf(count).toEqualTypeOf<number>();
  });

  it('a MetricGroup types its value by metric name', () => {
    const group = new MetricGroup({ r2: new R2Score(), median: new MedianAbsoluteError(), bleu: new Bleu() });
    expectTypeOf(group.compute()).toEqualTypeOf<Promise<{ r2: number; median: number; bleu: number }>>();
  });

  it('options are checked by type too', () => {
    // @ts-expect-error PSNR needs its dataRange
    new PSNR();
    // @ts-expect-error kernelSize is a number or [height, width]
    new SSIM({ dataRange: 1, kernelSize: [11] });
    // @ts-expect-error the reference's smoothing names
    new Bleu({ smooth: 'method1' });
    // @ts-expect-error variants are 'L' or numbers
    new Rouge({ variants: ['N'] });
    expectTypeOf(Frequency.usage).toEqualTypeOf<MetricUsage>();
  });
});

/** The resolved type of a promise, for type tests (never called). */
declare function await_<T>(promise: Promise<T>): T;
