import type { NoteDelta, NoteEdit } from '@parley/board';

/**
 * The one edit that turns `before` into `after` (common prefix and suffix kept), or null when they
 * are equal. Sent as a delta, so a concurrent edit elsewhere in the note survives the merge.
 */
export function noteEditBetween(before: string, after: string): NoteEdit | null {
  if (before === after) return null;
  let start = 0;
  const shorter = Math.min(before.length, after.length);
  while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let end = 0;
  while (
    end < shorter - start &&
    before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)
  ) {
    end++;
  }
  return {
    index: start,
    delete: before.length - start - end,
    insert: after.slice(start, after.length - end),
  };
}

/** The text after `delta`. */
export function applyNoteDelta(text: string, delta: NoteDelta): string {
  let at = 0;
  let out = '';
  for (const op of delta) {
    if ('retain' in op) {
      out += text.slice(at, at + op.retain);
      at += op.retain;
    } else if ('insert' in op) out += op.insert;
    else at += op.delete;
  }
  return out + text.slice(at);
}

/** Where a cursor at `position` is after `delta`: text inserted before it pushes it on, deleted text pulls it back. */
export function moveThroughDelta(position: number, delta: NoteDelta): number {
  let at = 0;
  let moved = position;
  for (const op of delta) {
    if (at > position) break;
    if ('retain' in op) at += op.retain;
    else if ('insert' in op) {
      // Text inserted exactly at the cursor goes before it: the other agent typed there first.
      if (at <= position) moved += op.insert.length;
    } else {
      moved -= Math.min(op.delete, Math.max(0, position - at));
      at += op.delete;
    }
  }
  return Math.max(0, moved);
}
