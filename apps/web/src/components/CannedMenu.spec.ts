import { describe, expect, it } from 'vitest';
import { cannedMatches, cannedQuery, insertCanned } from './CannedMenu';

const canned = [
  { id: 'greet', shortcut: 'greet', text: 'Hello! Thanks for reaching out.' },
  { id: 'thanks', shortcut: 'thanks', text: 'Thank you for your patience.' },
  { id: 'refund', shortcut: 'refund-thanks', text: 'Your refund is on its way.' },
];

describe('the / canned shortcut', () => {
  it('opens on a / at the start or after a space, and reads the shortcut typed after it', () => {
    expect(cannedQuery('/', 1)).toEqual({ query: '', start: 0 });
    expect(cannedQuery('Hi! /th', 7)).toEqual({ query: 'th', start: 4 });
    expect(cannedQuery('Hi! /th and more', 7)).toEqual({ query: 'th', start: 4 });
  });

  it('does not open inside a word, a URL or after a space ends the shortcut', () => {
    expect(cannedQuery('and/or', 6)).toBeNull();
    expect(cannedQuery('see https://x.example/th', 24)).toBeNull();
    expect(cannedQuery('/thanks ', 8)).toBeNull();
  });

  it('lists shortcuts that start with the query first, then those containing it', () => {
    expect(cannedMatches(canned, 'th').map((c) => c.id)).toEqual(['thanks', 'refund']);
    expect(cannedMatches(canned, '').map((c) => c.id)).toEqual(['greet', 'thanks', 'refund']);
    expect(cannedMatches(canned, 'zzz')).toEqual([]);
  });

  it('replaces the /query with the response and puts the caret after it', () => {
    expect(insertCanned('Hi! /th and more', { start: 4, caret: 7 }, canned[1]!)).toEqual({
      text: 'Hi! Thank you for your patience. and more',
      caret: 32,
    });
  });
});
