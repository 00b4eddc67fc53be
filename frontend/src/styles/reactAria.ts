import './react-aria.css';

/**
 * react-aria's usePress adds a `<style>` element to the page (touch-action for pressable
 * elements) unless an element with this ID is already there. The pages' Content-Security-Policy
 * (style-src 'self') blocks inline styles, and the browser reports each block as an error, so the
 * rule ships in react-aria.css instead and this marker tells react-aria it is present.
 */
export const PRESSABLE_STYLE_ID = 'react-aria-pressable-style';

export function markPressableStyle(doc: Document = document): void {
  if (doc.getElementById(PRESSABLE_STYLE_ID)) return;
  const marker = doc.createElement('meta');
  marker.id = PRESSABLE_STYLE_ID;
  doc.head.append(marker);
}

markPressableStyle();
