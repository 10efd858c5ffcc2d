import fc from 'fast-check';
import { generateKeyBetween } from 'fractional-indexing';
import { describe, expect, it } from 'vitest';
import { compareKeyed, isOrderKey, keyAt, type Keyed } from './order';

const sorted = (items: Keyed[]) => [...items].sort(compareKeyed);
const placeOf = (siblings: Keyed[], id: string, key: string) =>
  sorted([...siblings, { id, key }]).findIndex((item) => item.id === id);

describe('order keys', () => {
  it('sort by key, then by id, by code unit', () => {
    const items = [
      { id: 'b', key: 'a1' },
      { id: 'a', key: 'a1' },
      { id: 'Z', key: 'a0' },
    ];
    expect(sorted(items).map((item) => item.id)).toEqual(['Z', 'a', 'b']);
  });

  it('tell valid keys from what a faulty replica might send', () => {
    expect(isOrderKey('a0')).toBe(true);
    expect(isOrderKey('a0V')).toBe(true);
    for (const bad of ['', 'zzz', 'a0V0', '!!', 42, null]) expect(isOrderKey(bad)).toBe(false);
  });

  it('place exactly at the index when the neighbours differ', () => {
    const siblings = [
      { id: 'a', key: 'a0' },
      { id: 'b', key: 'a1' },
    ];
    for (const index of [0, 1, 2]) expect(placeOf(siblings, 'z', keyAt(siblings, index, 'z'))).toBe(index);
  });

  it('skip neighbours with invalid keys instead of failing', () => {
    const siblings = sorted([
      { id: 'a', key: 'a0' },
      { id: 'b', key: 'a0zz0' },
      { id: 'c', key: 'a2' },
    ]);
    expect(isOrderKey(keyAt(siblings, 2, 'z'))).toBe(true);
  });

  it('always give a valid key, and an exact place unless the drop falls inside a run of equal keys', () => {
    const keyed = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 })), { maxLength: 12 })
      .map((pairs) => {
        const keys = [generateKeyBetween(null, null)];
        while (keys.length < 6) keys.push(generateKeyBetween(keys[keys.length - 1], null));
        // Few distinct keys, so ties (as from concurrent inserts) are common.
        return sorted(pairs.map(([id, key], index) => ({ id: `c${id}-${index}`, key: keys[key]! })));
      });
    fc.assert(
      fc.property(keyed, fc.nat(14), fc.constantFrom('c', 'c3', 'd'), (siblings, index, id) => {
        const key = keyAt(siblings, index, id);
        expect(isOrderKey(key)).toBe(true);
        const target = Math.min(index, siblings.length);
        const below = siblings[target - 1];
        const above = siblings[target];
        if (below === undefined || above === undefined || below.key !== above.key) {
          expect(placeOf(siblings, id, key)).toBe(target);
        }
      }),
      { seed: 20_240_601, numRuns: 500 },
    );
  });
});
