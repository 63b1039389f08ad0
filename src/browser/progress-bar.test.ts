import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine, Events } from '../engine';
import type { ProgressInfo } from '../handlers';
import { ProgressBar } from './progress-bar';
import { DomProgressSink } from './progress-dom';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function fakeClock() {
  let t = 5000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** A trainer whose iterations take `ms` on the fake clock and output `losses[iteration - 1]`. */
function timedTrainer(clock: ReturnType<typeof fakeClock>, ms: number, losses: number[]) {
  return new Engine((engine) => {
    clock.advance(ms);
    return losses[engine.state.iteration - 1];
  });
}

/** Just enough of the DOM for DomProgressSink. */
class FakeElement {
  readonly children: Array<FakeElement | string> = [];
  readonly attributes = new Set<string>(['value']);
  className = '';
  textContent = '';
  max = 1;
  #value = 0;
  constructor(
    readonly tagName: string,
    readonly ownerDocument: { createElement(tag: string): FakeElement },
  ) {}
  get value(): number {
    return this.#value;
  }
  set value(v: number) {
    this.attributes.add('value');
    this.#value = v;
  }
  append(...nodes: Array<FakeElement | string>) {
    this.children.push(...nodes);
  }
  removeAttribute(name: string) {
    this.attributes.delete(name);
  }
}

function fakeDocument() {
  const doc = { createElement: (tag: string): FakeElement => new FakeElement(tag, doc) };
  return doc;
}

describe('ProgressBar in the page (DomProgressSink)', () => {
  it('fills a container with a <progress> and a text line', async () => {
    const clock = fakeClock();
    const container = new FakeElement('div', fakeDocument());
    const trainer = timedTrainer(clock, 100, [0.5, 0.25, 0.125]);
    new ProgressBar({ container: container as unknown as HTMLElement, now: clock.now }).attach(trainer, {
      outputTransform: (loss: number) => ({ loss }),
    });
    const seen: Array<[number, number, string]> = [];
    trainer.on(Events.ITERATION_COMPLETED, () => {
      const wrapper = container.children[0] as FakeElement;
      const [progress, , text] = wrapper.children as FakeElement[];
      seen.push([progress.value, progress.max, text.textContent]);
    });
    await trainer.run([0, 0, 0], { maxEpochs: 1 });
    expect(container.children).toHaveLength(1);
    const wrapper = container.children[0] as FakeElement;
    expect(wrapper.className).toBe('kindling-progress');
    expect((wrapper.children[0] as FakeElement).tagName).toBe('progress');
    expect(seen).toEqual([
      [1, 3, 'Iteration: [1/3] 33%, loss=0.5 [00:00<?, ?it/s]'],
      [2, 3, 'Iteration: [2/3] 66%, loss=0.25 [00:00<00:00, 10.00it/s]'],
      [3, 3, 'Iteration: [3/3] 100%, loss=0.125 [00:00<00:00, 10.00it/s]'],
    ]);
  });

  it('updates a given <progress> element and text element; unknown totals are indeterminate', () => {
    const doc = fakeDocument();
    const element = doc.createElement('progress');
    const textElement = doc.createElement('span');
    const sink = new DomProgressSink({
      element: element as unknown as HTMLProgressElement,
      textElement: textElement as unknown as HTMLElement,
    });
    const info: ProgressInfo = { desc: 'Epoch', n: 7, total: null, elapsed: 65, rate: 0.5, eta: null, postfix: [] };
    sink.update(info);
    expect(element.attributes.has('value')).toBe(false);
    expect(textElement.textContent).toBe('Epoch: [7/?] [01:05, 2.00s/it]');
    expect(() => new DomProgressSink({} as any)).toThrow(/exactly one of element/);
  });
});
