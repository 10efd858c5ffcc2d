import { useState } from 'react';

/**
 * Up to two initials of a name, in any script: the first letter of the first and of the last word
 * ("Maria Lopez" → "ML", "أحمد علي" → "أع"). A name with no letters (a phone number) has none.
 */
export function initials(name: string): string {
  const words = name
    .normalize('NFC')
    .split(/\s+/)
    .filter((word) => /^\p{L}/u.test(word));
  const first = words[0];
  if (!first) return '';
  const last = words.length > 1 ? words[words.length - 1] : undefined;
  const letter = (word: string) => Array.from(word)[0]!.toLocaleUpperCase();
  return last ? letter(first) + letter(last) : letter(first);
}

/** Backgrounds with at least 4.5:1 against white text, in both colour schemes. */
const COLOURS = ['#b91c1c', '#c2410c', '#a16207', '#15803d', '#0f766e', '#1d4ed8', '#6d28d9', '#be185d'];

/** A stable colour per person, from their id. */
export function avatarColour(id: string): string {
  let hash = 0;
  for (let i = 0; i < id.length; i += 1) hash = (hash * 31 + id.charCodeAt(i)) | 0;
  return COLOURS[Math.abs(hash) % COLOURS.length]!;
}

/**
 * A person's picture, or their initials on a colour of their own when there is none (or it fails
 * to load). Decorative: the name is always written beside it.
 */
export function Avatar({
  name,
  id,
  src,
  size = 40,
}: {
  name: string;
  id: string;
  src?: string | null;
  size?: number;
}) {
  const [failed, setFailed] = useState(false);
  const style = { width: size, height: size, fontSize: Math.round(size * 0.4) };
  if (src && !failed) {
    return (
      <img
        className="avatar"
        src={src}
        alt=""
        aria-hidden="true"
        style={style}
        onError={() => setFailed(true)}
      />
    );
  }
  const letters = initials(name);
  return (
    <span className="avatar" aria-hidden="true" style={{ ...style, background: avatarColour(id) }}>
      {letters || (
        <svg viewBox="0 0 24 24" width="60%" height="60%" fill="currentColor">
          <circle cx="12" cy="8" r="4" />
          <path d="M4 21a8 8 0 0 1 16 0z" />
        </svg>
      )}
    </span>
  );
}
