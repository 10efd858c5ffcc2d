import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { streamId, tenantId, type JsonObject } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eraseContact } from '../../src/crypto/erasure';
import { ERASED } from '../../src/crypto/event-codec';
import { archiveBefore } from '../../src/store/archive';
import { START } from '../../src/store/checkpoint';
import { API_BACKENDS, openApiHarness, type ApiHarness } from '../api.support';
import { queueReply } from '../support/queue-reply';
import { BACKENDS, dumpAllTables, encryptedStore } from './support';

const demo = tenantId('demo');
const PHONE = '+4917612345987';
const NAME = 'Erika Erasable';
const TEXT = 'please call me back about invoice 99-4711';
const REPLY = 'we will call you at 17:30 sharp';
const NOTE = 'customer sounds upset about 99-4711';
const SECRETS = [PHONE, PHONE.slice(1), NAME, TEXT, REPLY, NOTE];

const found = (text: string) => SECRETS.filter((secret) => text.includes(secret));

describe.each(API_BACKENDS)('erasing a contact on %s', (kind, enabled) => {
  let h: ApiHarness;
  const conversationId = 'erase-me';
  let countsBefore: Record<string, number>;

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    const now = h.now();
    await h.services.grains.conversation(demo, conversationId).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: 'wamid.erase-1',
        contact: { id: PHONE.slice(1), name: NAME, handle: PHONE },
        content: { type: 'text', text: TEXT },
        sentAt: now - 60_000,
      },
    });
    await queueReply(h.services, demo, conversationId, {
      type: 'QueueReply',
      data: {
        clientMessageId: 'erase-reply-1',
        agentId: 'ada',
        content: { type: 'text', text: REPLY },
        tag: null,
        now,
        templates: [],
      },
    });
    await h.services.grains.conversation(demo, conversationId).ask({
      type: 'AddNote',
      data: { noteId: 'erase-note-1', agentId: 'ada', text: NOTE, mentions: [], at: now },
    });
    // What the channels keep beside the log for this contact: the route and a processed webhook.
    await h.services.db.sql.query(
      `INSERT INTO channel_contacts (tenant_id, conversation_id, channel_id, contact_id) VALUES ('demo', $1, 'wa-demo', $2)`,
      [conversationId, PHONE.slice(1)],
    );
    const body = JSON.stringify({
      contacts: [{ wa_id: PHONE.slice(1), profile: { name: NAME } }],
      text: TEXT,
    });
    await h.services.db.sql.query(
      `INSERT INTO webhook_inbox (tenant_id, app_id, kind, body, dedupe_key, status)
       VALUES ('demo', 'demo-wa', 'whatsapp', $1, 'erase-dedupe', 'processed')`,
      [body],
    );
    await h.settle();
    countsBefore = await countsOf(h, conversationId);
    expect(found(await dumpAllTables(h.services.db))).not.toEqual([]); // the scan finds them before
  });

  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[18-ER1] is for admins, and needs a reason: refused, nothing is destroyed',
    async () => {
      const agent = await h.signIn('ana@demo.parley.test');
      await expect(
        agent.caller.contacts.erase({ conversationId, reason: 'they asked' }),
      ).rejects.toMatchObject({ code: 'FORBIDDEN' });
      const admin = await h.signIn('ada@demo.parley.test');
      await expect(admin.caller.contacts.erase({ conversationId, reason: '  ' })).rejects.toMatchObject({
        code: 'BAD_REQUEST',
      });
      await expect(
        admin.caller.contacts.erase({ conversationId: 'nobody', reason: 'x' }),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      const conversation = JSON.stringify(await admin.caller.conversations.get({ conversationId }));
      expect(conversation).toContain(NAME);
    },
  );

  it.skipIf(!enabled)(
    '[18-ER2] after contacts.erase no table holds the phone number, name or any text in clear; the events stay, their counts unchanged',
    async () => {
      const admin = await h.signIn('ada@demo.parley.test');
      // Read once more so the grain, the hot tier and the projections all hold clear values.
      expect(JSON.stringify(await admin.caller.conversations.get({ conversationId }))).toContain(NAME);
      const result = await admin.caller.contacts.erase({ conversationId, reason: 'GDPR art. 17 request' });
      // Its long-lived key and its key of this week's content (decision 0031).
      expect(result).toEqual({ conversations: [conversationId], keysDestroyed: 2 });
      await h.settle();

      expect(found(await dumpAllTables(h.services.db))).toEqual([]);
      const after = await countsOf(h, conversationId);
      expect(after).toEqual(countsBefore);
      const erasures = await h.services.db.sql.query<{ data: JsonObject }>(
        `SELECT data FROM events WHERE tenant_id = 'demo' AND type = 'ContactErased'`,
      );
      expect(erasures.map((e) => e.data)).toEqual([
        expect.objectContaining({
          reason: 'GDPR art. 17 request',
          erasedBy: 'ada',
          conversations: [conversationId],
        }),
      ]);

      // What the API shows now: the conversation, its timeline and the inbox list say "erased".
      const shown = JSON.stringify([
        await admin.caller.conversations.get({ conversationId }),
        await admin.caller.conversations.list({ inboxId: 'support' }),
        (await h.services.store.readAll(demo, START, 10_000)).events,
      ]);
      expect(found(shown)).toEqual([]);
      expect(shown).toContain(ERASED);
      const events = await h.services.store.readStream(demo, streamId(`conversation-${conversationId}`));
      expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(Object.keys(countsBefore)));
      expect(events).toHaveLength(Object.values(countsBefore).reduce((a, b) => a + b, 0));
    },
  );
});

async function countsOf(h: ApiHarness, conversationId: string): Promise<Record<string, number>> {
  const rows = await h.services.db.sql.query<{ type: string; n: number }>(
    `SELECT type, count(*)::int AS n FROM events WHERE tenant_id = 'demo' AND stream_id = $1 GROUP BY type ORDER BY type`,
    [`conversation-${conversationId}`],
  );
  return Object.fromEntries(rows.map((r) => [r.type, r.n]));
}

describe.each(BACKENDS)('an archived day after an erasure on %s', (_name, create, enabled) => {
  it.skipIf(!enabled)(
    '[18-ER3] the archive files hold only ciphertext: after the erasure nothing in them reads in clear, no file rewritten',
    async () => {
      const yesterday = Date.now() - 86_400_000;
      let now = yesterday;
      const h = await encryptedStore(create, () => now);
      try {
        const conversation = streamId('conversation-wa_archived');
        const contact = { id: PHONE.slice(1), name: NAME, handle: PHONE };
        await h.store.append(
          demo,
          conversation,
          [
            {
              type: 'ConversationStarted',
              data: {
                conversationId: 'wa_archived',
                inboxId: 'support',
                platform: 'whatsapp',
                contact,
                at: now,
              },
            },
            {
              type: 'InboundMessageReceived',
              data: { externalMessageId: 'm1', contact, content: { type: 'text', text: TEXT }, sentAt: now },
            },
          ],
          { expectedVersion: 'no_stream' },
        );
        now = Date.now();
        const dir = join(h.test.dataDir, 'archive');
        const days = await archiveBefore(h.test.db, {
          before: new Date(now).toISOString().slice(0, 10),
          dir,
        });
        expect(days).toHaveLength(1);
        const files = readdirSync(dir).filter((f) => f.endsWith('.gz'));
        const archived = () =>
          files.map((f) => gunzipSync(readFileSync(join(dir, f))).toString('utf8')).join('\n');
        const before = archived();
        expect(before).toContain('ConversationStarted');
        expect(found(before)).toEqual([]); // sealed before it was ever archived
        h.store.hot.invalidate(`${demo}/${conversation}`);
        expect((await h.store.readStream(demo, conversation))[1]!.data.content).toEqual({
          type: 'text',
          text: TEXT,
        });

        await eraseContact(
          { db: h.test.db, store: h.store, keys: h.keys },
          {
            tenantId: demo,
            contact: { contactId: PHONE.slice(1) },
            reason: 'request',
            erasedBy: 'test',
            at: now,
          },
        );
        expect(archived()).toBe(before); // nothing rewritten
        const read = await h.store.readStream(demo, conversation);
        expect(read.map((e) => e.type)).toEqual(['ConversationStarted', 'InboundMessageReceived']);
        expect(read[1]!.data.content).toEqual({ type: 'text', text: ERASED });
        expect(found(await dumpAllTables(h.test.db))).toEqual([]);
      } finally {
        await h.dispose();
      }
    },
  );
});
