import { describe, expect, it } from 'vitest';
import { avatarColour, initials } from './Avatar';

describe('initials', () => {
  it('takes the first letters of the first and last words', () => {
    expect(initials('Maria Lopez')).toBe('ML');
    expect(initials('ana maría de la Cruz')).toBe('AC');
    expect(initials('Ben')).toBe('B');
  });

  it('works in other scripts, Arabic included', () => {
    expect(initials('أحمد علي')).toBe('أع');
    expect(initials('Ōsaka Ümit')).toBe('ŌÜ');
  });

  it('skips words that do not start with a letter, and gives none for a number', () => {
    expect(initials('+34 600 111 222')).toBe('');
    expect(initials('Visitor 7f3a')).toBe('V');
    expect(initials('  ')).toBe('');
  });
});

describe('avatarColour', () => {
  it('gives one person the same colour every time, and spreads people over the palette', () => {
    expect(avatarColour('contact-1')).toBe(avatarColour('contact-1'));
    const colours = new Set(Array.from({ length: 40 }, (_, i) => avatarColour(`contact-${i}`)));
    expect(colours.size).toBeGreaterThan(4);
  });
});
