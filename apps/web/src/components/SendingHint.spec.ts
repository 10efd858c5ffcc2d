import { describe, expect, it } from 'vitest';
import type { TimelineItem } from '../lib/timeline';
import { SLOW_SEND_MS, slowSends } from './SendingHint';

function reply(clientMessageId: string, state: 'sending' | 'sent' | 'queued'): TimelineItem {
  return {
    kind: 'reply',
    key: `reply-${clientMessageId}`,
    clientMessageId,
    agentId: 'ana',
    text: 'hello',
    at: 0,
    state,
    reason: null,
    refusal: null,
    local: false,
    attempts: 0,
  };
}

describe('slowSends', () => {
  it('names a reply the server has had on its way for a few seconds, timed by this device', () => {
    const since = new Map<string, number>();
    expect(slowSends([reply('r1', 'sending')], since, 1_000, new Set())).toEqual([]);
    expect(slowSends([reply('r1', 'sending')], since, 1_000 + SLOW_SEND_MS - 1, new Set())).toEqual([]);
    expect(slowSends([reply('r1', 'sending')], since, 1_000 + SLOW_SEND_MS, new Set())).toEqual(['r1']);
  });

  it('forgets a reply once it is sent, so the hint goes away', () => {
    const since = new Map<string, number>();
    slowSends([reply('r1', 'sending')], since, 0, new Set());
    expect(slowSends([reply('r1', 'sent')], since, SLOW_SEND_MS * 2, new Set())).toEqual([]);
    expect(since.size).toBe(0);
  });

  it('leaves out replies still in this device outbox (the connection banner covers those)', () => {
    const since = new Map<string, number>();
    slowSends([reply('r1', 'sending')], since, 0, new Set(['r1']));
    expect(slowSends([reply('r1', 'sending')], since, SLOW_SEND_MS * 2, new Set(['r1']))).toEqual([]);
  });
});
