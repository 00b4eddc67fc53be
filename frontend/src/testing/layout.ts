/**
 * happy-dom does no layout, so every element measures 0×0 and a virtualised list would render
 * nothing. Tests give the transcript's scroll area a 600 px viewport and each of its rows 60 px.
 */
export const TRANSCRIPT_VIEWPORT = { width: 800, height: 600 };
export const TRANSCRIPT_ROW_HEIGHT = 60;

function size(el: Element, axis: 'width' | 'height'): number | null {
  if (el.classList?.contains('transcript__scroll')) return TRANSCRIPT_VIEWPORT[axis];
  if (el.classList?.contains('transcript__row'))
    return axis === 'height' ? TRANSCRIPT_ROW_HEIGHT : TRANSCRIPT_VIEWPORT.width;
  return null;
}

export function fakeTranscriptLayout() {
  for (const [property, axis] of [
    ['offsetHeight', 'height'],
    ['offsetWidth', 'width'],
    ['clientHeight', 'height'],
    ['clientWidth', 'width'],
  ] as const) {
    const proto = HTMLElement.prototype;
    const original = Object.getOwnPropertyDescriptor(proto, property);
    Object.defineProperty(proto, property, {
      configurable: true,
      get(this: HTMLElement) {
        return size(this, axis) ?? original?.get?.call(this) ?? 0;
      },
    });
  }
  // The scroll area's content is the virtual list's full height, as in a browser.
  const scrollHeight = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'scrollHeight')
    ?? Object.getOwnPropertyDescriptor(Element.prototype, 'scrollHeight');
  Object.defineProperty(HTMLElement.prototype, 'scrollHeight', {
    configurable: true,
    get(this: HTMLElement) {
      if (this.classList?.contains('transcript__scroll')) {
        const rows = this.querySelector<HTMLElement>('.transcript__rows');
        return Math.max(parseFloat(rows?.style.height ?? '') || 0, TRANSCRIPT_VIEWPORT.height);
      }
      return scrollHeight?.get?.call(this) ?? 0;
    },
  });
  const original = Element.prototype.getBoundingClientRect;
  Element.prototype.getBoundingClientRect = function (this: Element) {
    const height = size(this, 'height');
    if (height !== null) return new DOMRect(0, 0, size(this, 'width')!, height);
    return original.call(this);
  };
}
