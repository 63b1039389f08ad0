// The README's way to read the loss compiles under strict, and readLoss refuses engines whose output is not the loss.
import * as tf from '@tensorflow/tfjs';
import { describe, expectTypeOf, it } from 'vitest';
import { Engine, Events } from '../engine';
import { createSupervisedEvaluator } from './evaluator';
import { readLoss } from './read-loss';
import { createSupervisedTbpttTrainer } from './tbptt';
import { createSupervisedTrainer } from './trainer';

declare const model: tf.LayersModel;
const lossFn = (yPred: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, yPred) as tf.Scalar;

describe('readLoss types', () => {
  it('reads a trainer’s loss as a number inside a handler', () => {
    const trainer = createSupervisedTrainer(model, tf.train.adam(1e-3), lossFn);
    trainer.on(Events.ITERATION_COMPLETED({ every: 100 }), async (engine) => {
      expectTypeOf(await readLoss(engine)).toEqualTypeOf<number>();
    });
    expectTypeOf(readLoss(trainer)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(
      readLoss(createSupervisedTrainer(model, tf.train.sgd(0.1), lossFn, { deterministic: true })),
    ).toEqualTypeOf<Promise<number>>();
    const tbptt = createSupervisedTbpttTrainer(model, tf.train.sgd(0.1), lossFn, { tbpttStep: 5 });
    expectTypeOf(readLoss(tbptt)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(readLoss(new Engine((): tf.Scalar => tf.scalar(0)))).toEqualTypeOf<Promise<number>>();
  });

  it('rejects engines whose output is not the loss', () => {
    const evaluator = createSupervisedEvaluator(model);
    // @ts-expect-error the evaluator's output is [yPred, y]
    void readLoss(evaluator);
    const custom = createSupervisedTrainer(model, tf.train.sgd(0.1), lossFn, {
      outputTransform: (_x, _y, _yPred, loss) => ({ loss }),
    });
    // @ts-expect-error an outputTransform output is read by its owner
    void readLoss(custom);
    // @ts-expect-error a number output needs no reading back
    void readLoss(new Engine((): number => 0));
  });

  it('state.output itself stays nullable: the loss is absent before the first step and after the run', () => {
    const trainer = createSupervisedTrainer(model, tf.train.adam(1e-3), lossFn);
    expectTypeOf(trainer.state.output).toEqualTypeOf<tf.Scalar | null>();
  });
});
