import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { structuredJsonCodec } from './codec';

describe('structured JSON snapshot codec', () => {
  it('round-trips states made of JSON, maps and sets through JSON text', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
    const value = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => !k.startsWith('$')),
          tie('node'),
          { maxKeys: 4 },
        ),
        fc.array(fc.tuple(fc.string(), tie('node')), { maxLength: 4 }).map((entries) => new Map(entries)),
        fc.array(fc.string(), { maxLength: 4 }).map((items) => new Set(items)),
      ),
    })).node;
    fc.assert(
      fc.property(value, (state) => {
        const stored = JSON.parse(JSON.stringify(structuredJsonCodec.encode(state))) as never;
        expect(structuredJsonCodec.decode(stored)).toEqual(state);
      }),
    );
  });

  it('keeps a key named __proto__ as data, never as the prototype', () => {
    const state = new Map([['', JSON.parse('{"__proto__": false}') as unknown]]);
    const stored = JSON.parse(JSON.stringify(structuredJsonCodec.encode(state))) as never;
    const decoded = structuredJsonCodec.decode(stored) as Map<string, object>;
    expect(Object.getPrototypeOf(decoded.get(''))).toBe(Object.prototype);
    expect(Object.keys(decoded.get('')!)).toEqual(['__proto__']);
  });
});
