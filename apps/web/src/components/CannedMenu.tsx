import { useState, type KeyboardEvent } from 'react';
import type { CannedResponse } from '../lib/session';

/** The `/shortcut` being typed at the caret: a `/` at the start or after a space, then no space. */
export function cannedQuery(text: string, caret: number): { query: string; start: number } | null {
  const before = text.slice(0, caret);
  const match = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
  if (!match) return null;
  return { query: match[2]!.toLowerCase(), start: caret - match[2]!.length - 1 };
}

/** Canned responses whose shortcut starts with the query, then those that contain it. */
export function cannedMatches(items: readonly CannedResponse[], query: string): CannedResponse[] {
  const starts = items.filter((item) => item.shortcut.toLowerCase().startsWith(query));
  const contains = items.filter(
    (item) => !item.shortcut.toLowerCase().startsWith(query) && item.shortcut.toLowerCase().includes(query),
  );
  return [...starts, ...contains].slice(0, 8);
}

/** The text with the `/query` at `start` replaced by a canned response, and where the caret goes. */
export function insertCanned(
  text: string,
  at: { start: number; caret: number },
  canned: CannedResponse,
): { text: string; caret: number } {
  const next = `${text.slice(0, at.start)}${canned.text}${text.slice(at.caret)}`;
  return { text: next, caret: at.start + canned.text.length };
}

/**
 * The list `/` opens in the composer. The textarea keeps the focus and points at the active option
 * (`aria-activedescendant`); arrows move, Enter or Tab inserts, Escape closes.
 */
export function CannedMenu({
  id,
  items,
  active,
  onPick,
}: {
  id: string;
  items: readonly CannedResponse[];
  active: number;
  onPick: (item: CannedResponse) => void;
}) {
  if (items.length === 0) {
    return (
      <p className="canned-menu empty muted" role="status">
        No canned response starts with that shortcut.
      </p>
    );
  }
  return (
    <ul className="canned-menu" id={id} role="listbox" aria-label="Canned responses">
      {items.map((item, index) => (
        <li
          key={item.id}
          id={`${id}-${index}`}
          role="option"
          aria-selected={index === active}
          // The textarea keeps the focus: a press here must not move it.
          onMouseDown={(event) => event.preventDefault()}
          onClick={() => onPick(item)}
        >
          <strong>/{item.shortcut}</strong> <span dir="auto">{item.text}</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The composer's `/` menu state: what is typed at the caret, the matching responses, the active
 * one, and the keys that work it. `boxId` is the textarea's id (the caret goes back there).
 */
export function useCannedMenu(
  text: string,
  setText: (text: string) => void,
  canned: readonly CannedResponse[],
  boxId: string,
) {
  const [slash, setSlash] = useState<{ start: number; caret: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const items = slash ? cannedMatches(canned, slash.query) : [];

  function pick(item: CannedResponse) {
    if (!slash) return;
    const next = insertCanned(text, slash, item);
    setText(next.text);
    setSlash(null);
    const box = document.getElementById(boxId) as HTMLTextAreaElement | null;
    requestAnimationFrame(() => {
      box?.focus();
      box?.setSelectionRange(next.caret, next.caret);
    });
  }

  return {
    open: slash !== null,
    items,
    active,
    pick,
    /** The option the textarea points at (`aria-activedescendant`). */
    activeId: (menuId: string) => (slash && items.length > 0 ? `${menuId}-${active}` : undefined),
    close: () => setSlash(null),
    /** After each change of the text: opens, filters or closes the menu. */
    typed(value: string, caret: number | null) {
      const found = caret === null ? null : cannedQuery(value, caret);
      setSlash(found && caret !== null ? { ...found, caret } : null);
      setActive(0);
    },
    /** The same as typing `/` at the end. */
    start() {
      const next = text && !/\s$/.test(text) ? `${text} /` : `${text}/`;
      setText(next);
      setSlash({ start: next.length - 1, caret: next.length, query: '' });
      setActive(0);
      document.getElementById(boxId)?.focus();
    },
    /** Arrows, Enter, Tab and Escape while the menu is open; true when the key was the menu's. */
    key(event: KeyboardEvent<HTMLTextAreaElement>): boolean {
      if (!slash || items.length === 0) return false;
      const count = items.length;
      if (event.key === 'ArrowDown') setActive((index) => (index + 1) % count);
      else if (event.key === 'ArrowUp') setActive((index) => (index - 1 + count) % count);
      else if ((event.key === 'Enter' || event.key === 'Tab') && !event.ctrlKey && !event.metaKey)
        pick(items[Math.min(active, count - 1)]!);
      else if (event.key === 'Escape') {
        // Closes the list only, not the conversation.
        event.stopPropagation();
        setSlash(null);
      } else return false;
      event.preventDefault();
      return true;
    },
  };
}
