import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { queued, received, started, T0, text } from '../testing/fixtures';
import type { ConversationEvent } from '../conversation/types';
import { phoneDigits, phoneMatches } from './phone';
import { searchableText } from './message';
import { highlight, matchesTerms, queryTerms, searchTerms, snippet, type SnippetPart } from './terms';

const joined = (parts: readonly SnippetPart[] | null) => parts?.map((p) => p.text).join('') ?? null;
const marked = (parts: readonly SnippetPart[] | null) =>
  parts?.filter((p) => p.match).map((p) => p.text) ?? [];

describe('phone numbers', () => {
  it('[SR1] reads the digits of a number typed in any format', () => {
    expect(phoneDigits('600111222')).toBe('600111222');
    expect(phoneDigits('+34 600 111 222')).toBe('34600111222');
    expect(phoneDigits('+34600111222')).toBe('34600111222');
    expect(phoneDigits('(600) 111-222')).toBe('600111222');
    expect(phoneDigits('0034 600.111.222')).toBe('34600111222');
  });

  it('[SR1] is no phone number with a letter in it or too few digits', () => {
    expect(phoneDigits('maria 600111222')).toBeNull();
    expect(phoneDigits('12345')).toBeNull();
    expect(phoneDigits('')).toBeNull();
  });

  it('[SR1] matches one handle whichever way the number is typed', () => {
    for (const query of ['600111222', '+34 600 111 222', '+34600111222', '600 111 222', '0034600111222']) {
      expect(phoneMatches('+34 600 111 222', query)).toBe(true);
    }
    expect(phoneMatches('600111222', '+34 600 111 222')).toBe(true);
    expect(phoneMatches('+34 600 111 222', '600111223')).toBe(false);
    expect(phoneMatches('+44 7700 900123', '600111222')).toBe(false);
  });

  it('[SR1] any separators between the same digits match the same handle', () => {
    fc.assert(
      fc.property(
        // A national number (no leading 0: `00` is the international prefix).
        fc.integer({ min: 1, max: 9 }),
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 5, maxLength: 11 }),
        fc.array(fc.constantFrom('', ' ', '-', '.'), { minLength: 12, maxLength: 12 }),
        (lead, rest, separators) => {
          const digits = [lead, ...rest];
          const plain = digits.join('');
          const typed = digits.map((d, i) => `${d}${separators[i]}`).join('');
          return phoneMatches(`+1 ${plain}`, typed) && phoneDigits(typed) === plain;
        },
      ),
    );
  });
});

describe('terms', () => {
  it('[SR2] splits text into lower-cased words of letters and digits', () => {
    expect(searchTerms('¿Dónde está mi pedido #1042?')).toEqual(['dónde', 'está', 'mi', 'pedido', '1042']);
    expect(searchTerms('مرحبا بك')).toEqual(['مرحبا', 'بك']);
    expect(queryTerms('Refund refund ORDER')).toEqual(['refund', 'order']);
  });

  it('[SR2] matches when every term starts a word, in any order', () => {
    expect(matchesTerms('The parcel arrived broken', ['broke', 'parc'])).toBe(true);
    expect(matchesTerms('The parcel arrived broken', ['roken'])).toBe(false);
    expect(matchesTerms('The parcel arrived broken', ['parcel', 'refund'])).toBe(false);
    expect(matchesTerms('anything', [])).toBe(false);
  });
});

describe('snippets', () => {
  it('[SR3] marks every matched word of a short text and keeps the text whole', () => {
    const parts = snippet('My parcel arrived broken, the parcel box too', ['parcel']);
    expect(joined(parts)).toBe('My parcel arrived broken, the parcel box too');
    expect(marked(parts)).toEqual(['parcel', 'parcel']);
    expect(snippet('nothing here', ['parcel'])).toBeNull();
  });

  it('[SR3] cuts a long text around the first match at word edges', () => {
    const long = `${'lorem ipsum '.repeat(20)}the refund was never paid ${'dolor sit '.repeat(20)}`;
    const parts = snippet(long, ['refund'])!;
    const shown = joined(parts)!;
    expect(shown.startsWith('…')).toBe(true);
    expect(shown.endsWith('…')).toBe(true);
    expect(shown).toContain('the refund was never paid');
    expect(shown.length).toBeLessThan(100);
    expect(
      shown
        .slice(1, -1)
        .trim()
        .split(' ')
        .every((w) => /^(lorem|ipsum|the|refund|was|never|paid|dolor|sit)$/.test(w)),
    ).toBe(true);
    expect(marked(parts)).toEqual(['refund']);
  });

  it('[SR3] highlights the matched words of a name', () => {
    expect(highlight('Maria Lopez', ['lop'])).toEqual([
      { text: 'Maria ', match: false },
      { text: 'Lopez', match: true },
    ]);
    expect(highlight('Maria Lopez', ['zed'])).toEqual([{ text: 'Maria Lopez', match: false }]);
  });
});

describe('searchable text', () => {
  const [conversationStarted] = started();
  it('[SR4] takes the words of messages, replies and notes, and nothing of other events', () => {
    const note: ConversationEvent = {
      type: 'NoteAdded',
      data: { noteId: 'n1', agentId: 'ana', text: 'VIP customer', mentions: [], at: T0 },
    };
    expect(searchableText(received('m1', T0, text('Where is my parcel?')))).toEqual({
      kind: 'customer',
      text: 'Where is my parcel?',
    });
    expect(searchableText(queued('r1', T0, text('On its way')))).toEqual({
      kind: 'reply',
      text: 'On its way',
    });
    expect(searchableText(note)).toEqual({ kind: 'note', text: 'VIP customer' });
    expect(searchableText(conversationStarted!)).toBeNull();
    expect(searchableText(received('m2', T0, { type: 'reaction', emoji: '👍', messageId: 'm1' }))).toBeNull();
  });
});
