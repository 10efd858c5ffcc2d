import type { MessageKind } from './message';
/** A piece of a snippet: text, and whether it is a word the search matched. */
export interface SnippetPart {
  readonly text: string;
  readonly match: boolean;
}

/** Most terms a query keeps; the rest are ignored. */
export const MAX_QUERY_TERMS = 8;

const WORD = /[\p{L}\p{N}]+/gu;

/**
 * The words of a text as search compares them (SR2): runs of letters and digits, lower-cased, in
 * order, repeats kept. The same split as PostgreSQL's `simple` configuration for plain words.
 */
export function searchTerms(text: string): string[] {
  return [...text.toLowerCase().matchAll(WORD)].map((match) => match[0]);
}

/** A query's distinct terms (SR2), at most `MAX_QUERY_TERMS`. */
export function queryTerms(query: string): string[] {
  return [...new Set(searchTerms(query))].slice(0, MAX_QUERY_TERMS);
}

/** True when every query term starts a word of the text (SR2: prefixes, any order). */
export function matchesTerms(text: string, terms: readonly string[]): boolean {
  if (terms.length === 0) return false;
  const words = searchTerms(text);
  return terms.every((term) => words.some((word) => word.startsWith(term)));
}

/**
 * The text around the first matched word, cut to about `width` characters at word edges, with
 * every word a query term starts marked (SR3). Null when no word matches.
 */
export function snippet(text: string, terms: readonly string[], width = 80): SnippetPart[] | null {
  const words = [...text.matchAll(WORD)].filter((match) => {
    const word = match[0].toLowerCase();
    return terms.some((term) => word.startsWith(term));
  });
  const first = words[0];
  if (first === undefined) return null;
  let start = Math.max(0, first.index - Math.floor(width / 3));
  let end = Math.min(text.length, start + width);
  start = Math.max(0, Math.min(start, end - width));
  if (start > 0) start = edge(text, start, 1);
  if (end < text.length) end = edge(text, end, -1);
  const parts: SnippetPart[] = [];
  const push = (part: string, match: boolean) => {
    if (part !== '') parts.push({ text: part, match });
  };
  if (start > 0) push('…', false);
  let at = start;
  for (const word of words) {
    const from = word.index;
    const to = from + word[0].length;
    if (to <= start || from >= end) continue;
    push(text.slice(at, Math.max(at, from)), false);
    push(text.slice(Math.max(at, from), Math.min(to, end)), true);
    at = Math.min(to, end);
  }
  push(text.slice(at, end), false);
  if (end < text.length) push('…', false);
  return parts;
}

/** The nearest whitespace from `at` in a direction, so a snippet never cuts a word in half. */
function edge(text: string, at: number, direction: 1 | -1): number {
  for (let i = at, steps = 0; i > 0 && i < text.length && steps < 20; i += direction, steps++) {
    if (/\s/.test(text[i]!)) return direction === 1 ? i + 1 : i;
  }
  return at;
}

/** Marks the matched words of a short text (a name, a handle) whole, for highlighting (SR3). */
export function highlight(text: string, terms: readonly string[]): SnippetPart[] {
  return snippet(text, terms, Math.max(text.length, 1)) ?? [{ text, match: false }];
}

/** What matched in a search result, on the server and on the device: the contact's name or handle, or a message (with its kind and time). */
export type SearchMatch =
  | { readonly field: 'name' | 'handle'; readonly parts: readonly SnippetPart[] }
  | {
      readonly field: 'message';
      readonly kind: MessageKind;
      readonly at: number;
      readonly parts: readonly SnippetPart[];
    };
