/**
 * react-aria's press handling adds a <style> element (touch-action for pressable elements) the
 * first time a pressable renders, unless an element with its ID is already in the document. The
 * server's Content-Security-Policy allows style sheets from 'self' only, so that inline style
 * element would be refused (and reported): the rule lives in base.css instead, and this marks it
 * as present. Run before the first render.
 */
export const PRESSABLE_STYLE_ID = 'react-aria-pressable-style';

export function markAriaStylesPresent(doc: Document = document) {
  if (doc.getElementById(PRESSABLE_STYLE_ID)) return;
  const marker = doc.createElement('template');
  marker.id = PRESSABLE_STYLE_ID;
  doc.head.append(marker);
}
