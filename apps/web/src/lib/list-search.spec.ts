import type { ClientCommand, ConversationSummary } from '@parley/domain';
import { afterEach, describe, expect, it } from 'vitest';
import { applyToEach, describeOutcome } from '../components/BulkBar';
import { queryConversations } from '../components/InboxList';
import { ParleyDb, withKeys, type ConversationRow } from './db/schema';
import { mergeHits, searchDevice } from './list-search';
import type { CommandResult, CommandTarget } from './outbox/queue';

let dbs: ParleyDb[] = [];
afterEach(async () => {
  for (const db of dbs) {
    db.close();
    await db.delete();
  }
  dbs = [];
});

function openDb(): ParleyDb {
  const db = new ParleyDb(`list-search-${Math.random()}`);
  dbs.push(db);
  return db;
}

function summary(id: string, fields: Partial<ConversationSummary> = {}): ConversationRow {
  return withKeys({
    conversationId: id,
    inboxId: 'support',
    platform: 'whatsapp',
    contact: { id: `c-${id}`, name: `Contact ${id}`, handle: '+44 7700 900123' },
    status: 'open',
    snoozedUntil: null,
    assigneeId: null,
    labels: [],
    priority: 'none',
    cycle: 1,
    unreadCount: 0,
    unreadAt: [],
    readMarks: {},
    lastMessage: null,
    lastCustomerMessageAt: 0,
    windowClosesAt: null,
    lastActivityAt: 0,
    version: 1,
    ...fields,
  });
}

function message(conversationId: string, version: number, type: string, data: Record<string, unknown>) {
  return {
    streamId: `conversation-${conversationId}`,
    version,
    conversationId,
    id: `${conversationId}-${version}`,
    type,
    data,
    metadata: {},
    recordedAt: version * 1000,
    cursor: `${conversationId}-${version}`,
  };
}

async function seed(db: ParleyDb) {
  await db.conversations.bulkPut([
    summary('maria', {
      contact: { id: 'k1', name: 'Maria Lopez', handle: '+34 600 111 222' },
      lastActivityAt: 30,
    }),
    summary('tom', { lastActivityAt: 20, priority: 'urgent', assigneeId: 'ben', inboxId: 'billing' }),
    summary('yuki', { lastActivityAt: 10, unreadAt: [5], assigneeId: 'ana' }),
  ]);
  await db.events.bulkPut([
    message('tom', 2, 'InboundMessageReceived', {
      content: { type: 'text', text: 'My parcel arrived broken' },
    }),
    message('yuki', 4, 'NoteAdded', { text: 'Refund approved for the broken parcel' }),
    message('yuki', 3, 'LabelAdded', { label: 'parcel' }),
  ]);
}

const ids = (hits: readonly { conversation: { conversationId: string } }[]) =>
  hits.map((hit) => hit.conversation.conversationId);

describe('offline search', () => {
  it('[SR1] finds a contact on the device by a phone number typed in any format', async () => {
    const db = openDb();
    await seed(db);
    for (const query of ['600111222', '+34 600 111 222', '+34600111222']) {
      const hits = await searchDevice(db, query);
      expect(ids(hits)).toEqual(['maria']);
      expect(hits[0]!.match).toEqual({ field: 'handle', parts: [{ text: '+34 600 111 222', match: true }] });
    }
  });

  it('[SR2] finds stored messages and notes by words and prefixes, latest first, with the words marked', async () => {
    const db = openDb();
    await seed(db);
    const hits = await searchDevice(db, 'broke parc');
    expect(ids(hits)).toEqual(['yuki', 'tom']);
    expect(hits[0]!.match).toMatchObject({ field: 'message', kind: 'note' });
    expect(hits[1]!.match.parts.filter((part) => part.match).map((part) => part.text)).toEqual([
      'parcel',
      'broken',
    ]);
    expect(await searchDevice(db, 'parcel refund')).toHaveLength(1);
    expect(await searchDevice(db, 'zebra')).toEqual([]);
  });

  it('keeps the device’s results first and adds the server’s for other conversations', () => {
    const hit = (conversationId: string, text: string) => ({
      conversation: { conversationId },
      match: { field: 'name' as const, parts: [{ text, match: true }] },
    });
    expect(mergeHits([hit('a', 'device')], [hit('a', 'server'), hit('b', 'server')])).toEqual([
      hit('a', 'device'),
      hit('b', 'server'),
    ]);
  });
});

describe('the list on the device', () => {
  it('[LS1] sorts by priority and by waiting longest', async () => {
    const db = openDb();
    await seed(db);
    const base = { whose: 'all', status: 'open', search: '', agentId: 'ana' } as const;
    expect((await queryConversations(db, base)).map((r) => r.conversationId)).toEqual([
      'maria',
      'tom',
      'yuki',
    ]);
    expect(
      (await queryConversations(db, { ...base, sort: 'priority' })).map((r) => r.conversationId)[0],
    ).toBe('tom');
    expect((await queryConversations(db, { ...base, sort: 'waiting' })).map((r) => r.conversationId)[0]).toBe(
      'yuki',
    );
    expect((await queryConversations(db, { ...base, sort: 'oldest' })).map((r) => r.conversationId)).toEqual([
      'yuki',
      'tom',
      'maria',
    ]);
  });

  it('[LS2] filters by inbox, team and contact', async () => {
    const db = openDb();
    await seed(db);
    const base = { whose: 'all', status: 'open', search: '', agentId: 'ana' } as const;
    const list = (extra: object) =>
      queryConversations(db, { ...base, ...extra }).then((rows) => rows.map((r) => r.conversationId));
    expect(await list({ inboxId: 'billing' })).toEqual(['tom']);
    expect(await list({ teamMemberIds: new Set(['ana']) })).toEqual(['yuki']);
    expect(await list({ search: '600 111 222' })).toEqual(['maria']);
  });
});

describe('bulk actions', () => {
  it('queue one command per conversation and say what was applied, already so, and refused', async () => {
    const sent: [string, ClientCommand][] = [];
    const answers: Record<string, CommandResult> = {
      a: { ok: true, row: {} as never },
      b: { ok: true, row: null },
      c: { ok: false, code: 'ASSIGNEE_NOT_MEMBER', rule: 'CV16', message: 'x', hint: null },
    };
    const session = {
      command: (target: CommandTarget, command: ClientCommand) => {
        sent.push([target.conversationId, command]);
        return Promise.resolve(answers[target.conversationId]!);
      },
    };
    const rows = ['a', 'b', 'c'].map((id) =>
      summary(id, { contact: { id, name: `Name ${id}`, handle: '' } }),
    );
    const outcome = await applyToEach(
      session,
      rows,
      { type: 'SetStatus', status: 'resolved' },
      'Resolved',
      true,
    );
    expect(sent.map(([id]) => id)).toEqual(['a', 'b', 'c']);
    expect(sent.every(([, command]) => command.type === 'SetStatus')).toBe(true);
    expect(outcome).toMatchObject({ queued: 1, unchanged: 1, offline: true });
    expect(outcome.refused).toHaveLength(1);
    expect(outcome.refused[0]).toMatch(/^Name c: /);
    expect(describeOutcome(outcome)).toMatch(
      /^Resolved: 1 conversation \(queued, sent when you are back online\); 1 already so; 1 refused: Name c: .+\.$/,
    );
  });
});
