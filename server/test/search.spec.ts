import { tenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildSearchIndex } from '../src/search/search-index';
import { startSnoozeSweeper } from '../src/snooze-sweeper';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');

/** The text a result shows, and the words it marks. */
const shown = (parts: readonly { text: string; match: boolean }[]) => ({
  text: parts.map((p) => p.text).join(''),
  marked: parts.filter((p) => p.match).map((p) => p.text),
});

describe.each(API_BACKENDS)('search and the list on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let ana: Caller;
  let gus: Caller;

  async function customerWrites(
    id: string,
    text: string,
    contact = { name: `Customer ${id}`, handle: '+49 151 000 0000' },
  ) {
    await h.services.grains.conversation(demo, id).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: id,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `${id}-${text.length}-${h.now()}`,
        contact: { id: `${id}-contact`, ...contact },
        content: { type: 'text', text },
        sentAt: h.now(),
      },
    });
  }

  async function statusOf(id: string) {
    const page = await ada.conversations.list({ filter: 'all', search: undefined, limit: 100 });
    return page.items.find((item) => item.conversationId === id)?.status;
  }

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    gus = (await h.signIn('gus@globex.parley.test')).caller;
    await h.settle();
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    'finds a conversation by a word of a customer message, a prefix of it, and marks it',
    async () => {
      for (const query of ['arrived', 'ARRIV', 'order arrived']) {
        const results = await ana.conversations.search({ query });
        expect(results.map((r) => r.conversation.conversationId)).toEqual(['demo-1']);
        const match = results[0]!.match;
        expect(match.field).toBe('message');
        expect(shown(match.parts).text).toBe('Hi! My order #1042 has not arrived yet.');
        expect(shown(match.parts).marked.map((w) => w.toLowerCase())).toContain('arrived');
      }
      expect(await ana.conversations.search({ query: 'arrivals' })).toEqual([]);
    },
  );

  it.skipIf(!enabled)('finds a contact by a phone number typed in any format', async () => {
    for (const query of ['600111222', '+34 600 111 222', '+34600111222', '600-111-222']) {
      const results = await ana.conversations.search({ query });
      expect(results.map((r) => [r.conversation.conversationId, r.match.field])).toEqual([
        ['demo-1', 'handle'],
      ]);
    }
    const list = await ana.conversations.list({ filter: 'all', search: '600111222' });
    expect(list.items.map((item) => item.conversationId)).toEqual(['demo-1']);
  });

  it.skipIf(!enabled)(
    'finds words of replies and notes, and new messages once they are written',
    async () => {
      await customerWrites('search-1', 'Die Rechnung ist doppelt gekommen');
      await ada.conversations.note({
        conversationId: 'search-1',
        noteId: 'n-search-1',
        text: 'escalated to finance',
      });
      await ada.conversations.commandBatch({
        clientId: 'search-client-1',
        commands: [
          {
            sequence: 1,
            conversationId: 'search-1',
            command: {
              type: 'QueueReply',
              clientMessageId: 'r-search-1',
              content: { type: 'text', text: 'Wir erstatten den Betrag' },
              tag: null,
            },
          },
        ],
      });
      const first = (query: string) => ada.conversations.search({ query }).then((r) => r[0]);
      expect(await first('rechnung')).toMatchObject({
        conversation: { conversationId: 'search-1' },
        match: { kind: 'customer' },
      });
      expect(await first('finance')).toMatchObject({
        conversation: { conversationId: 'search-1' },
        match: { kind: 'note' },
      });
      expect(await first('erstatten')).toMatchObject({
        conversation: { conversationId: 'search-1' },
        match: { kind: 'reply' },
      });
    },
  );

  it.skipIf(!enabled)(
    'keeps to the tenant: another tenant’s words, names and numbers are not found',
    async () => {
      for (const query of ['licences', 'Hank', '5550100', '+1 555 0100']) {
        expect(await ada.conversations.search({ query })).toEqual([]);
      }
      expect(
        (await gus.conversations.search({ query: 'licences' })).map((r) => r.conversation.conversationId),
      ).toEqual(['globex-1']);
      expect(await gus.conversations.search({ query: 'arrived' })).toEqual([]);
      await expect(ada.conversations.search({ query: 'licences', inboxId: 'sales' })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      // Row-level security answers the same: a tenant session sees its own rows only.
      const rows = await h.services.db.sql.transaction(async (tx) => {
        await tx.query(`SELECT set_config('parley.tenant_id', 'globex', true)`);
        await tx.query('SET LOCAL ROLE parley_app');
        return tx.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM search_messages');
      });
      expect(rows).toEqual([{ tenant_id: 'globex' }]);
    },
  );

  it.skipIf(!enabled)('refuses an empty query with a sentence, and leaves everything as it was', async () => {
    await expect(ana.conversations.search({ query: '   ' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it.skipIf(!enabled)(
    'forgets an erased contact’s words: not found, no rows, and a rebuild adds none back',
    async () => {
      await customerWrites('search-erase', 'my secret zanzibar plan', {
        name: 'Erin Erased',
        handle: '+49 170 555 1234',
      });
      expect(await ada.conversations.search({ query: 'zanzibar' })).toHaveLength(1);
      await ada.contacts.erase({ conversationId: 'search-erase', reason: 'asked to be forgotten' });
      const rows = () =>
        h.services.db.sql.query(
          `SELECT 1 FROM search_messages WHERE tenant_id = 'demo' AND conversation_id = 'search-erase'`,
        );
      expect(await rows()).toEqual([]);
      expect(await ada.conversations.search({ query: 'zanzibar' })).toEqual([]);
      expect(await ada.conversations.search({ query: '+49 170 555 1234' })).toEqual([]);
      await rebuildSearchIndex({ store: h.services.store, db: h.services.db, tenantId: demo });
      expect(await rows()).toEqual([]);
      expect(await ada.conversations.search({ query: 'arrived' })).toHaveLength(1); // others are back
    },
  );

  it.skipIf(!enabled)('[LS3] wakes a snoozed conversation at its time, not before', async () => {
    await customerWrites('search-snooze', 'ping');
    const until = h.now() + 60_000;
    await ana.conversations.snooze({ conversationId: 'search-snooze', until });
    let now = until - 1;
    const sweeper = startSnoozeSweeper({
      grains: h.services.grains,
      inboxList: h.services.projections.inboxList,
      clock: () => now,
      intervalMs: 60_000,
    });
    try {
      await sweeper.sweep();
      expect(await statusOf('search-snooze')).toBe('snoozed');
      now = until;
      await sweeper.sweep();
      expect(await statusOf('search-snooze')).toBe('open');
      const events = await ada.conversations.get({ conversationId: 'search-snooze' });
      const woke = events.events.filter((e) => e.type === 'StatusChanged').at(-1);
      expect(woke?.data).toMatchObject({ reason: 'snooze-ended' });
      // A second sweep (or another process's) changes nothing.
      const version = events.conversation.version;
      await sweeper.sweep();
      expect((await ada.conversations.get({ conversationId: 'search-snooze' })).conversation.version).toBe(
        version,
      );
    } finally {
      await sweeper.stop();
    }
  });

  it.skipIf(!enabled)(
    '[LS3] the running sweeper wakes a conversation on its own once the time passes',
    async () => {
      await customerWrites('search-snooze-2', 'ping');
      const sweeper = startSnoozeSweeper({
        grains: h.services.grains,
        inboxList: h.services.projections.inboxList,
        intervalMs: 100,
      });
      try {
        await ana.conversations.snooze({ conversationId: 'search-snooze-2', until: Date.now() + 2_000 });
        // The list is a projection: it shows the snooze once it has applied the event.
        await h.settle();
        expect(await statusOf('search-snooze-2')).toBe('snoozed');
        await expect.poll(() => statusOf('search-snooze-2'), { timeout: 10_000, interval: 100 }).toBe('open');
      } finally {
        await sweeper.stop();
      }
    },
  );

  it.skipIf(!enabled)('[LS1] lists in each order and pages through it without skipping a row', async () => {
    await ada.conversations.setPriority({ conversationId: 'demo-2', priority: 'urgent' });
    await ada.conversations.setPriority({ conversationId: 'demo-3', priority: 'high' });
    const all = async (sort: 'newest' | 'oldest' | 'waiting' | 'priority') => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { items: readonly { conversationId: string }[]; nextCursor: string | null } =
          await ada.conversations.list({ filter: 'all', status: 'open', sort, limit: 2, cursor });
        ids.push(...page.items.map((item) => item.conversationId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      return ids;
    };
    const newest = await all('newest');
    expect(new Set(newest).size).toBe(newest.length);
    expect(await all('oldest')).toEqual([...newest].reverse());
    expect((await all('priority')).slice(0, 2)).toEqual(['demo-2', 'demo-3']);
    expect((await all('waiting')).sort()).toEqual([...newest].sort());
    const page = await ada.conversations.list({ filter: 'all', sort: 'newest', limit: 1 });
    await expect(
      ada.conversations.list({ filter: 'all', sort: 'oldest', limit: 1, cursor: page.nextCursor }),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it.skipIf(!enabled)('[LS2] filters by team and inbox on the server', async () => {
    const team = await ada.conversations.list({ filter: 'team', teamId: 'frontline', status: 'open' });
    expect(team.items.every((item) => item.assigneeId === 'ana' || item.assigneeId === 'ben')).toBe(true);
    expect(team.items.length).toBeGreaterThan(0);
    const inbox = await ada.conversations.list({ filter: 'all', inboxId: 'support' });
    expect(inbox.items.every((item) => item.inboxId === 'support')).toBe(true);
  });
});
