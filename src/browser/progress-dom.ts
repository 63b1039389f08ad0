// The page's display of ProgressBar: a <progress> element and a line of text.
import { formatProgressText, type ProgressInfo, type ProgressSink } from '../handlers';
import { describeValue } from '../internal';

/** Where {@link DomProgressSink} draws: an existing `<progress>` (and text element), or a container to fill. */
export type DomProgressTarget =
  | { element: HTMLProgressElement; textElement?: HTMLElement; container?: undefined }
  | { container: HTMLElement; element?: undefined; textElement?: undefined };

/**
 * Draws a {@link ProgressBar} in the page: sets a `<progress>` element's `value`/`max` and writes counts, rate, ETA and
 * metrics to a text element. Given a `container`, it appends `<div class="kindling-progress"><progress></progress>
 * <span></span></div>` to it on the first update. With an unknown total the progress element is indeterminate.
 *
 * @example
 * new ProgressBar({ container: document.querySelector('#status') }).attach(trainer);
 */
export class DomProgressSink implements ProgressSink {
  #progress: HTMLProgressElement | null = null;
  #text: HTMLElement | null = null;
  readonly #target: DomProgressTarget;

  /** @param target - `{ element, textElement? }` or `{ container }`. */
  constructor(target: DomProgressTarget) {
    const element = target?.element;
    const container = target?.container;
    if ((element === undefined) === (container === undefined)) {
      throw new TypeError('DomProgressSink: give exactly one of element (a <progress> element) and container.');
    }
    const given = element ?? container;
    if (given === null || typeof given !== 'object' || typeof given.ownerDocument?.createElement !== 'function') {
      throw new TypeError(
        `DomProgressSink: the element or container should be a DOM element, got ${describeValue(given)}.`,
      );
    }
    this.#target = target;
  }

  /**
   * Sets the `<progress>` value and max (indeterminate when the total is unknown) and rewrites the text; builds the
   * elements on first use.
   */
  update(info: ProgressInfo): void {
    const { progress, text } = this.#elements();
    if (info.total === null) {
      progress.removeAttribute('value');
    } else {
      progress.max = Math.max(info.total, 1);
      progress.value = Math.min(info.n, progress.max);
    }
    text.textContent = formatProgressText(info);
  }

  /** Draws the final state, which stays on the page whatever `persist` says (the next bar overwrites it). */
  close(info: ProgressInfo, _persist: boolean): void {
    // The page keeps the final state in both cases; a new epoch's bar overwrites it.
    this.update(info);
  }

  /** Messages go to the browser console; the bar stays as it is. */
  message(text: string): void {
    console.log(text);
  }

  #elements(): { progress: HTMLProgressElement; text: HTMLElement } {
    if (this.#progress && this.#text) return { progress: this.#progress, text: this.#text };
    const target = this.#target;
    if (target.element) {
      const progress = target.element;
      let text = target.textElement ?? null;
      if (!text) {
        text = progress.ownerDocument.createElement('span');
        text.className = 'kindling-progress-text';
        progress.after(text);
      }
      this.#progress = progress;
      this.#text = text;
    } else {
      const doc = target.container.ownerDocument;
      const wrapper = doc.createElement('div');
      wrapper.className = 'kindling-progress';
      const progress = doc.createElement('progress');
      const text = doc.createElement('span');
      text.className = 'kindling-progress-text';
      wrapper.append(progress, ' ', text);
      target.container.append(wrapper);
      this.#progress = progress;
      this.#text = text;
    }
    return { progress: this.#progress, text: this.#text };
  }
}
