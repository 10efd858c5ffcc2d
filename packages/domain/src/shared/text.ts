/** Characters as the platforms count them: Unicode code points, so an emoji counts once. */
export function characterCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The length of a string encoded as UTF-8, counted by hand because the domain has no `TextEncoder`. */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const codePoint = char.codePointAt(0) ?? 0;
    bytes += codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** What a NUL or a lone UTF-16 surrogate becomes (rule TX1). */
export const REPLACEMENT_CHARACTER = '\uFFFD';

/**
 * Rule TX1: whether text can be stored as it is. PostgreSQL's `jsonb` (and `text`) refuse a NUL,
 * and a UTF-16 surrogate without its partner is no character at all.
 */
export function isStorableText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 0) return false;
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++; // the pair's low half
    } else if (unit >= 0xdc00 && unit <= 0xdfff) return false;
  }
  return true;
}

/**
 * Rule TX1: `text` with each NUL and each lone UTF-16 surrogate replaced by U+FFFD, and whether any
 * was. Everything else, paired surrogates (emoji) included, is kept as it is.
 */
export function sanitizeText(text: string): { readonly text: string; readonly sanitized: boolean } {
  if (isStorableText(text)) return { text, sanitized: false };
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += text[i]! + text[i + 1]!;
        i++;
      } else out += REPLACEMENT_CHARACTER;
    } else if (unit === 0 || (unit >= 0xdc00 && unit <= 0xdfff)) out += REPLACEMENT_CHARACTER;
    else out += text[i]!;
  }
  return { text: out, sanitized: true };
}
