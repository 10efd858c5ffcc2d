import { useEffect } from 'react';

/** Less than this much of the tallest height seen, with a text field focused: the keyboard is up. */
const KEYBOARD_SHARE = 0.8;

function isTextField(element: Element | null): boolean {
  return (
    element instanceof HTMLTextAreaElement ||
    (element instanceof HTMLInputElement &&
      !/^(checkbox|radio|button|submit|range|color)$/.test(element.type))
  );
}

/**
 * Keeps the app inside what the on-screen keyboard leaves visible. `--app-height` follows the
 * visual viewport (browsers that overlay the keyboard instead of resizing the page, as iOS does),
 * and `data-keyboard="open"` on <html> lets the layout hide the bottom navigation while typing, so
 * the composer sits right above the keyboard.
 */
export function useVisualViewport(): void {
  useEffect(() => {
    const viewport = window.visualViewport;
    const root = document.documentElement;
    let tallest = 0;
    let width = window.innerWidth;
    const update = () => {
      // Pinch-zoom shrinks the visual viewport too; scaled back, only the keyboard does.
      const height = viewport ? viewport.height * viewport.scale : window.innerHeight;
      // A rotation changes the tallest height there is.
      if (window.innerWidth !== width) {
        width = window.innerWidth;
        tallest = 0;
      }
      tallest = Math.max(tallest, height);
      root.style.setProperty('--app-height', `${Math.round(height)}px`);
      const open = isTextField(document.activeElement) && height < tallest * KEYBOARD_SHARE;
      root.dataset.keyboard = open ? 'open' : 'closed';
    };
    update();
    const target = viewport ?? window;
    target.addEventListener('resize', update);
    document.addEventListener('focusin', update);
    document.addEventListener('focusout', update);
    return () => {
      target.removeEventListener('resize', update);
      document.removeEventListener('focusin', update);
      document.removeEventListener('focusout', update);
      root.style.removeProperty('--app-height');
      delete root.dataset.keyboard;
    };
  }, []);
}
