import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnstorableText, sanitizeJson } from './json';
import { characterCount, isStorableText, sanitizeText, utf8ByteLength } from './text';

/** UTF-8 length by another road: every %XX of encodeURIComponent is one byte. */
const viaUri = (text: string) => encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, '_').length;

describe('text length', () => {
  it('counts UTF-8 bytes by hand like an encoder would', () => {
    expect(utf8ByteLength('aé€😀')).toBe(1 + 2 + 3 + 4);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (text) => utf8ByteLength(text) === viaUri(text)));
  });

  it('counts a lone surrogate as the 3 bytes of its replacement character', () => {
    expect(utf8ByteLength('\uD800')).toBe(3);
  });

  it('counts characters as code points', () => {
    expect(characterCount('a😀é')).toBe(3);
    expect('a😀é'.length).toBe(4);
  });
});

/** Fixed, printed seed so a failure can be replayed. */
const SEED = 1313;

describe('storable text (TX1)', () => {
  it('[TX1] a NUL and lone surrogates become U+FFFD and the text says it was sanitized', () => {
    expect(sanitizeText('a\u0000b')).toEqual({ text: 'a\uFFFDb', sanitized: true });
    expect(sanitizeText('lone high \uD83D end')).toEqual({ text: 'lone high \uFFFD end', sanitized: true });
    expect(sanitizeText('\uDE00 lone low')).toEqual({ text: '\uFFFD lone low', sanitized: true });
    expect(sanitizeText('reversed \uDE00\uD83D')).toEqual({ text: 'reversed \uFFFD\uFFFD', sanitized: true });
    expect(isStorableText('a\u0000b')).toBe(false);
  });

  it('[TX1] other text, emoji included, is kept as it is', () => {
    for (const text of ['', 'hello', 'aé€😀', '👍🏽 family 👨‍👩‍👧', '\u0001\u001f tab\t']) {
      expect(sanitizeText(text)).toEqual({ text, sanitized: false });
      expect(isStorableText(text)).toBe(true);
    }
  });

  it(`[TX1] sanitised text is storable, keeps its length and changes only what it must (fast-check seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const { text: clean, sanitized } = sanitizeText(text);
        expect(isStorableText(clean)).toBe(true);
        expect(clean.length).toBe(text.length);
        expect(sanitized).toBe(!isStorableText(text));
        // Well-formed text survives UTF-8 both ways; NUL is the one storable-looking code point refused.
        expect(clean.includes('\u0000')).toBe(false);
        if (!sanitized) expect(clean).toBe(text);
      }),
      { seed: SEED },
    );
  });

  it('[TX1] every string of a JSON value is sanitised, keys too, and the rest kept', () => {
    const value = { text: 'a\u0000', list: ['\uD800', 1, null, true], 'k\u0000': { deep: 'ok' } };
    const { value: clean, sanitized } = sanitizeJson(value);
    expect(sanitized).toBe(true);
    expect(clean).toEqual({ text: 'a\uFFFD', list: ['\uFFFD', 1, null, true], 'k\uFFFD': { deep: 'ok' } });
    expect(findUnstorableText(value)).toBe('$.text');
    expect(findUnstorableText(clean)).toBeNull();
    const fine = { text: 'fine 😀', n: 1 };
    expect(sanitizeJson(fine)).toEqual({ value: fine, sanitized: false });
    expect(sanitizeJson(fine).value).toBe(fine);
  });
});
