import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { characterCount, utf8ByteLength } from './text';

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
