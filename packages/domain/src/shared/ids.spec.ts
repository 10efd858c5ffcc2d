import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { streamCategory, streamEntityId, streamFor } from './ids';

describe('stream ids', () => {
  it('streamEntityId and streamCategory take apart what streamFor put together, dashes in the id included', () => {
    expect(streamEntityId(streamFor('conversation', 'wa-demo-42'))).toBe('wa-demo-42');
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9]{0,31}$/),
        fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:~-]{0,63}$/),
        (category, id) => {
          const stream = streamFor(category, id);
          expect(streamCategory(stream)).toBe(category);
          expect(streamEntityId(stream)).toBe(id);
        },
      ),
    );
  });
});
