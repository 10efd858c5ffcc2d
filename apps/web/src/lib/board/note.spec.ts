import { describe, expect, it } from 'vitest';
import { applyNoteDelta, moveThroughDelta, noteEditBetween } from './note';

describe('the note editor’s edits', () => {
  it('sends only what changed between two versions of the text', () => {
    expect(noteEditBetween('hello world', 'hello brave world')).toEqual({
      index: 6,
      delete: 0,
      insert: 'brave ',
    });
    expect(noteEditBetween('hello world', 'hello')).toEqual({ index: 5, delete: 6, insert: '' });
    expect(noteEditBetween('aaa', 'aaaa')).toEqual({ index: 3, delete: 0, insert: 'a' });
    expect(noteEditBetween('same', 'same')).toBeNull();
  });

  it('applies another agent’s delta to the text it shows', () => {
    expect(applyNoteDelta('hello world', [{ retain: 6 }, { delete: 5 }, { insert: 'there' }])).toBe(
      'hello there',
    );
  });

  it('keeps the cursor on the same character when another agent edits before or after it', () => {
    // "hello |world": the cursor before "world"
    expect(moveThroughDelta(6, [{ insert: '> ' }])).toBe(8);
    expect(moveThroughDelta(6, [{ retain: 8 }, { insert: '!' }])).toBe(6);
    expect(moveThroughDelta(6, [{ delete: 3 }])).toBe(3);
    expect(moveThroughDelta(6, [{ retain: 4 }, { delete: 4 }])).toBe(4);
  });
});
