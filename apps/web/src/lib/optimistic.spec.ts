import { unreadFor } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import type { ConversationRow, OutboxRow } from './db/schema';
import { withReadMark } from './optimistic';

const row = {
  conversationId: 'c1',
  unreadCount: 2,
  unreadAt: [10, 20],
  readMarks: { ben: 10 },
} as unknown as ConversationRow;

const read = (upTo: number) =>
  ({ conversationId: 'c1', command: { type: 'MarkConversationRead', upTo } }) as unknown as OutboxRow;

describe('withReadMark', () => {
  it('[#15 item 1] a waiting MarkConversationRead clears the badge for the signed-in agent only', () => {
    const ana = withReadMark(row, [read(20)], 'ana');
    expect(unreadFor(ana, 'ana')).toBe(0);
    expect(unreadFor(ana, 'ben')).toBe(1);
    // An older waiting mark never moves the agent's mark back.
    const ben = withReadMark(row, [read(5)], 'ben');
    expect(ben).toBe(row);
    expect(unreadFor(ben, 'ben')).toBe(1);
  });
});
