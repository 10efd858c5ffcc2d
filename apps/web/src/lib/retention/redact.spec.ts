import { describe, expect, it } from 'vitest';
import type { ConversationRow, EventRow } from '../db/schema';
import { ERASED, eventsPastRetention, previewsPastRetention, retentionCutoff } from './redact';

const at = (iso: string) => Date.parse(iso);
/** Monday 7 December 2026, noon UTC. */
const NOW = at('2026-12-07T12:00:00Z');

function event(
  version: number,
  type: string,
  data: Record<string, unknown>,
  recordedAt: number,
  conversationId = 'c1',
): EventRow {
  return {
    streamId: conversationId === '' ? 'inbox-support' : `conversation-${conversationId}`,
    version,
    conversationId,
    id: `e${version}`,
    type,
    data,
    metadata: { actor: { kind: 'agent', id: 'ana' } },
    recordedAt,
    cursor: String(version),
    terms: ['kept'],
  };
}

describe('retentionCutoff', () => {
  it('[RT4] is the end of the newest week the server has swept: 30 days on 7 December leaves the week of 26 October unreadable, not the next', () => {
    expect(new Date(retentionCutoff(30, NOW)).toISOString()).toBe('2026-11-02T00:00:00.000Z');
    // A week later the next week goes.
    expect(new Date(retentionCutoff(30, NOW + 7 * 86_400_000)).toISOString()).toBe(
      '2026-11-09T00:00:00.000Z',
    );
  });
});

describe('eventsPastRetention', () => {
  const cutoff = retentionCutoff(30, NOW);
  const old = at('2026-11-01T23:59:59Z');
  const recent = at('2026-11-02T00:00:00Z');
  const media = {
    type: 'media',
    media: { kind: 'image', url: '/files/abc', mimeType: 'image/png' },
    caption: 'my passport',
  };

  it("redacts a message's, a reply's and a note's content recorded before the cutoff to the server's erased shape, and drops their search words", () => {
    const rows = [
      event(
        1,
        'InboundMessageReceived',
        { contact: { id: 'k1', name: 'Maria' }, content: media, sentAt: 5 },
        old,
      ),
      event(2, 'ReplyQueued', { content: { type: 'text', text: 'Your code is 1234' }, agentId: 'ana' }, old),
      event(3, 'NoteAdded', { noteId: 'n1', text: 'She called twice', agentId: 'ana' }, old),
    ];
    expect(eventsPastRetention(rows, cutoff)).toEqual([
      {
        ...rows[0],
        data: { contact: { id: 'k1', name: 'Maria' }, content: { type: 'text', text: ERASED }, sentAt: 5 },
        terms: [],
      },
      { ...rows[1], data: { content: { type: 'text', text: ERASED }, agentId: 'ana' }, terms: [] },
      { ...rows[2], data: { noteId: 'n1', text: ERASED, agentId: 'ana' }, terms: [] },
    ]);
  });

  it('leaves recent content, events without content, other streams and already redacted events alone', () => {
    const rows = [
      event(1, 'InboundMessageReceived', { content: { type: 'text', text: 'hello' } }, recent),
      event(2, 'ConversationAssigned', { assigneeId: 'ana' }, old),
      event(3, 'NoteAdded', { text: 'not a conversation' }, old, ''),
      event(4, 'NoteAdded', { text: ERASED }, old),
      event(5, 'ReplyQueued', { content: { type: 'text', text: ERASED } }, old),
    ];
    expect(eventsPastRetention(rows, cutoff)).toEqual([]);
  });

  it('is idempotent: its redacted events are past retention with nothing left to redact', () => {
    const rows = [event(1, 'ReplyQueued', { content: media }, old)];
    expect(eventsPastRetention(eventsPastRetention(rows, cutoff), cutoff)).toEqual([]);
  });
});

describe('previewsPastRetention', () => {
  const cutoff = at('2026-11-02T00:00:00Z');
  const row = (conversationId: string, previewAt: number, confirmed?: ConversationRow) =>
    ({
      conversationId,
      lastMessage: { preview: 'Your code is 1234', at: previewAt, from: 'agent', agentId: 'ana' },
      unreadCount: 2,
      ...(confirmed ? { confirmed } : {}),
    }) as unknown as ConversationRow;

  it("the list's preview of a message past the cutoff reads as erased, in the shown and the confirmed row; a recent one stays", () => {
    const old = row('c1', cutoff - 1, row('c1', cutoff - 1));
    const recent = row('c2', cutoff);
    const redacted = previewsPastRetention([old, recent], cutoff);
    expect(redacted).toHaveLength(1);
    expect(redacted[0]?.lastMessage).toEqual({
      preview: ERASED,
      at: cutoff - 1,
      from: 'agent',
      agentId: 'ana',
    });
    expect(redacted[0]?.confirmed?.lastMessage?.preview).toBe(ERASED);
    expect(redacted[0]?.unreadCount).toBe(2);
    expect(previewsPastRetention(redacted, cutoff)).toEqual([]);
  });
});
