import { useEffect, useRef, type RefObject } from 'react';
import { historyDepth } from '../lib/router';

/**
 * What a drawer over the screen (the contact panel on a phone or tablet) needs to close as people
 * expect: Esc closes the drawer only (or first a dialog opened from it), never the screen beneath;
 * the back button or gesture closes it (a history entry of its own while open); focus goes to its
 * close button and comes back to what opened it. Tapping beside it is the `DrawerBackdrop`.
 */
export function useDrawer(
  open: boolean,
  onClose: () => void,
  closeButton: RefObject<HTMLButtonElement | null>,
): void {
  const close = useRef(onClose);
  close.current = onClose;
  useEffect(() => {
    if (!open) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    window.history.pushState({ depth: historyDepth() + 1, drawer: true }, '', window.location.href);
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'Escape') return;
      // A modal dialog opened from the drawer (erasing a contact) closes first, the drawer stays.
      if (event.target instanceof Element && event.target.closest('dialog[open]')) return;
      event.preventDefault();
      event.stopPropagation();
      close.current();
    };
    const onPop = () => close.current();
    window.addEventListener('keydown', onKey, true);
    window.addEventListener('popstate', onPop);
    closeButton.current?.focus();
    return () => {
      window.removeEventListener('keydown', onKey, true);
      window.removeEventListener('popstate', onPop);
      // Closed by its button, Esc or a tap: take back the entry it added (not after a back gesture).
      if ((window.history.state as { drawer?: boolean } | null)?.drawer) window.history.back();
      if (opener?.isConnected) opener.focus();
    };
  }, [open, closeButton]);
}

/** The dimmed screen beside an open drawer: a tap there closes it (keyboards have Esc and the button). */
export function DrawerBackdrop({ onClose, className }: { onClose: () => void; className?: string }) {
  return (
    <div
      className={className ? `drawer-backdrop ${className}` : 'drawer-backdrop'}
      aria-hidden="true"
      onClick={onClose}
    />
  );
}

/** The drawer's close button, 44 px, named for assistive technology. */
export function DrawerClose({
  onClose,
  label,
  buttonRef,
}: {
  onClose: () => void;
  label: string;
  buttonRef: RefObject<HTMLButtonElement | null>;
}) {
  return (
    <button ref={buttonRef} type="button" className="ghost drawer-close" aria-label={label} onClick={onClose}>
      <svg
        viewBox="0 0 24 24"
        width="20"
        height="20"
        aria-hidden="true"
        stroke="currentColor"
        strokeWidth="2"
      >
        <path d="M6 6l12 12M18 6 6 18" />
      </svg>
    </button>
  );
}
