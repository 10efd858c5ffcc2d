import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Priority } from '../conversation/types';
import {
  compareKeys,
  isSnoozeDue,
  matchesContact,
  matchesListFilter,
  nextWake,
  sortKey,
  sortRows,
  waitingSince,
  type ListRow,
  type ListSort,
} from './list';

function row(id: string, fields: Partial<ListRow> = {}): ListRow {
  return {
    conversationId: id,
    inboxId: 'support',
    contact: { id: `c-${id}`, name: `Contact ${id}`, handle: '+34 600 111 222' },
    status: 'open',
    snoozedUntil: null,
    assigneeId: null,
    priority: 'none',
    unreadAt: [],
    lastActivityAt: 0,
    ...fields,
  };
}

const ids = (rows: readonly ListRow[]) => rows.map((r) => r.conversationId);

describe('list order', () => {
  const rows = [
    row('a', { lastActivityAt: 300, unreadAt: [250], priority: 'low' }),
    row('b', { lastActivityAt: 100, unreadAt: [90, 95], priority: 'urgent' }),
    row('c', { lastActivityAt: 200, unreadAt: [], priority: 'urgent' }),
    row('d', { lastActivityAt: 400, unreadAt: [50], priority: 'none' }),
  ];

  it('[LS1] newest and oldest go by last activity', () => {
    expect(ids(sortRows(rows, 'newest'))).toEqual(['d', 'a', 'c', 'b']);
    expect(ids(sortRows(rows, 'oldest'))).toEqual(['b', 'c', 'a', 'd']);
  });

  it('[LS1] waiting longest puts the oldest unanswered customer message first, nothing waiting last', () => {
    expect(waitingSince(rows[1]!)).toBe(90);
    expect(ids(sortRows(rows, 'waiting'))).toEqual(['d', 'b', 'a', 'c']);
  });

  it('[LS1] priority goes urgent first, then waiting longest, then newest', () => {
    expect(ids(sortRows(rows, 'priority'))).toEqual(['b', 'c', 'a', 'd']);
  });

  it('[LS1] every order is total: ties go by id, so the key and id of a page end place every row', () => {
    const arb = fc.array(
      fc.record({
        id: fc.string({ minLength: 1, maxLength: 3 }),
        at: fc.integer({ min: 0, max: 5 }),
        waits: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 2 }),
        priority: fc.constantFrom<Priority>('none', 'low', 'medium', 'high', 'urgent'),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(
        arb,
        fc.constantFrom<ListSort>('newest', 'oldest', 'waiting', 'priority'),
        (specs, sort) => {
          const unique = [...new Map(specs.map((s) => [s.id, s])).values()].map((s) =>
            row(s.id, { lastActivityAt: s.at, unreadAt: s.waits, priority: s.priority }),
          );
          const sorted = sortRows(unique, sort);
          // Everything after a row compares greater than it: a cursor at that row resumes exactly there.
          return sorted.every((r, i) =>
            sorted.every(
              (other, j) =>
                Math.sign(
                  compareKeys(sortKey(r, sort), r.conversationId, sortKey(other, sort), other.conversationId),
                ) === Math.sign(i - j),
            ),
          );
        },
      ),
    );
  });
});

describe('list filters', () => {
  it('[LS2] filters by inbox and by the members of a team, together', () => {
    const ana = row('x', { inboxId: 'billing', assigneeId: 'ana' });
    const ben = row('y', { inboxId: 'support', assigneeId: 'ben' });
    const none = row('z', { inboxId: 'billing' });
    const team = new Set(['ana']);
    expect(
      [ana, ben, none]
        .filter((r) => matchesListFilter(r, { inboxId: 'billing' }))
        .map((r) => r.conversationId),
    ).toEqual(['x', 'z']);
    expect(
      [ana, ben, none]
        .filter((r) => matchesListFilter(r, { teamMemberIds: team }))
        .map((r) => r.conversationId),
    ).toEqual(['x']);
    expect(matchesListFilter(ana, { inboxId: 'support', teamMemberIds: team })).toBe(false);
    expect(matchesListFilter(ben, {})).toBe(true);
  });

  it('[LS2] filters by contact name, words of it, or the phone number in any format', () => {
    const maria = row('m', { contact: { id: 'c', name: 'María López', handle: '+34 600 111 222' } });
    expect(matchesContact(maria.contact, 'lóp')).toBe(true);
    expect(matchesContact(maria.contact, 'lópez maría')).toBe(true);
    expect(matchesContact(maria.contact, '600111222')).toBe(true);
    expect(matchesContact(maria.contact, '+34600111222')).toBe(true);
    expect(matchesContact(maria.contact, 'tom')).toBe(false);
    expect(matchesListFilter(maria, { search: '600 111 222' })).toBe(true);
    expect(matchesListFilter(maria, { search: '700111222' })).toBe(false);
  });
});

describe('snooze wake-up', () => {
  it('[LS3] a snoozed conversation is due at its time, not before; other statuses never', () => {
    const snoozed = { status: 'snoozed' as const, snoozedUntil: 1_000 };
    expect(isSnoozeDue(snoozed, 999)).toBe(false);
    expect(isSnoozeDue(snoozed, 1_000)).toBe(true);
    expect(isSnoozeDue({ status: 'open', snoozedUntil: null }, 5_000)).toBe(false);
  });

  it('[LS3] the next wake-up is the earliest snooze time', () => {
    expect(
      nextWake([
        { status: 'snoozed', snoozedUntil: 3_000 },
        { status: 'open', snoozedUntil: null },
        { status: 'snoozed', snoozedUntil: 2_000 },
      ]),
    ).toBe(2_000);
    expect(nextWake([{ status: 'resolved', snoozedUntil: null }])).toBeNull();
  });
});
