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
