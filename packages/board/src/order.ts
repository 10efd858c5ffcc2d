import { generateKeyBetween } from 'fractional-indexing';

/** Something placed in an ordered list: by `key`, then by `id` when keys tie. */
export interface Keyed {
  readonly id: string;
  readonly key: string;
}

/**
 * Orders by key, then id, comparing UTF-16 code units: every replica sorts the same way, whatever
 * its locale. Ties happen when two replicas insert at the same spot at the same moment.
 */
export function compareKeyed(a: Keyed, b: Keyed): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** True for a key `fractional-indexing` can generate around (remote replicas may send anything). */
export function isOrderKey(value: unknown): value is string {
  if (typeof value !== 'string' || value === '') return false;
  try {
    generateKeyBetween(value, null);
    return true;
  } catch {
    return false;
  }
}

/**
 * A key that puts `id` at `index` among `siblings` (sorted by `compareKeyed`, without `id`), as close
 * to `index` as possible without changing any sibling's key.
 *
 * Re-keying siblings would make a tie exact, but a sibling's placement is one value, so writing it
 * could undo a concurrent move of that sibling to another column. Only a drop between two cards
 * that share a key can land off by one: the new key must then equal theirs, and the id decides.
 */
export function keyAt(siblings: readonly Keyed[], index: number, id: string): string {
  const target = Math.min(Math.max(0, Math.trunc(index)), siblings.length);
  const below = validKeyBelow(siblings, target);
  const above = validKeyAbove(siblings, target);
  if (below === null || above === null || below !== above) return generateKeyBetween(below, above);

  const tie = below;
  const runStart = siblings.findIndex((sibling) => sibling.key === tie);
  const runEnd = runStart + siblings.filter((sibling) => sibling.key === tie).length;
  const inRun = runStart + siblings.slice(runStart, runEnd).filter((sibling) => sibling.id < id).length;
  const candidates: [number, () => string][] = [
    [inRun, () => tie],
    [runStart, () => generateKeyBetween(validKeyBelow(siblings, runStart), tie)],
    [runEnd, () => generateKeyBetween(tie, validKeyAbove(siblings, runEnd))],
  ];
  const [, best] = candidates.reduce((closest, candidate) =>
    Math.abs(candidate[0] - target) < Math.abs(closest[0] - target) ? candidate : closest,
  );
  return best();
}

/** The nearest valid key before position `index`, or null for the start. */
function validKeyBelow(siblings: readonly Keyed[], index: number): string | null {
  for (let i = index - 1; i >= 0; i--) {
    const key = siblings[i]!.key;
    if (isOrderKey(key)) return key;
  }
  return null;
}

/** The nearest valid key at or after position `index`, or null for the end. */
function validKeyAbove(siblings: readonly Keyed[], index: number): string | null {
  for (let i = index; i < siblings.length; i++) {
    const key = siblings[i]!.key;
    if (isOrderKey(key)) return key;
  }
  return null;
}
