import { tenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASED } from '../../src/crypto/event-codec';
import { SETTINGS_STREAM } from '../../src/crypto/retention';
import { START } from '../../src/store/checkpoint';
import { isSynced } from '../../src/sync/events';
import { API_BACKENDS, openApiHarness, type ApiHarness } from '../api.support';

const demo = tenantId('demo');
const globex = tenantId('globex');

describe.each(API_BACKENDS)('admin.settings.setRetention on %s', (kind, enabled) => {
  let h: ApiHarness;

  beforeAll(async () => {
    if (enabled) h = await openApiHarness(kind);
  });

  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  const recorded = async (tenant: typeof demo) =>
    (await h.services.store.readStream(tenant, SETTINGS_STREAM)).map((e) => ({
      data: e.data,
      metadata: e.metadata,
    }));

  it.skipIf(!enabled)(
    '[18-RT4] is for admins, takes whole days from 1 to 3650 or null; anything else is refused and records nothing',
    async () => {
      const agent = await h.signIn('ana@demo.parley.test');
      await expect(agent.caller.admin.settings.setRetention({ days: 90 })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(agent.caller.admin.settings.get()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      const admin = await h.signIn('ada@demo.parley.test');
      expect(await admin.caller.admin.settings.get()).toEqual({ retentionDays: null });
      for (const days of [0, -1, 1.5, 3651, '90', undefined])
        await expect(
          admin.caller.admin.settings.setRetention({ days } as unknown as { days: number }),
        ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      await expect(
        admin.caller.admin.settings.setRetention({ days: 90, tenantId: 'globex' } as unknown as {
          days: number;
        }),
      ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
      expect(await recorded(demo)).toEqual([]);
      expect(await admin.caller.admin.settings.get()).toEqual({ retentionDays: null });
    },
  );

  it.skipIf(!enabled)(
    '[18-RT5] a change is audited (RetentionSet, the admin as actor), the same value again records nothing, and it stays in its tenant',
    async () => {
      const admin = await h.signIn('ada@demo.parley.test');
      expect(await admin.caller.admin.settings.setRetention({ days: 90 })).toEqual({
        retentionDays: 90,
        changed: true,
      });
      expect(await admin.caller.admin.settings.setRetention({ days: 90 })).toEqual({
        retentionDays: 90,
        changed: false,
      });
      expect(await admin.caller.admin.settings.get()).toEqual({ retentionDays: 90 });
      const audit = await recorded(demo);
      expect(audit).toHaveLength(1);
      expect(audit).toMatchObject([
        {
          data: { days: 90, previous: null, changedBy: 'ada' },
          metadata: { actor: { kind: 'agent', id: 'ada' } },
        },
      ]);
      // Another tenant's admin sees and changes only their own.
      const gus = await h.signIn('gus@globex.parley.test');
      expect(await gus.caller.admin.settings.get()).toEqual({ retentionDays: null });
      await gus.caller.admin.settings.setRetention({ days: 30 });
      expect(await admin.caller.admin.settings.get()).toEqual({ retentionDays: 90 });
      expect(await recorded(globex)).toHaveLength(1);
      // The settings stream is the server's own: agents' devices are not sent it.
      const events = (await h.services.store.readAll(demo, START, 10_000)).events;
      const set = events.filter((e) => e.type === 'RetentionSet');
      expect(set).toHaveLength(1);
      expect(set.filter(isSynced)).toEqual([]);
      // The running server's sweeper: the seeded conversations are recent, so nothing is past 90 days.
      const swept = await h.services.retentionSweeper.sweep();
      expect(swept.find((s) => s.tenantId === demo)).toMatchObject({ days: 90, keysDestroyed: 0 });
    },
  );

  it.skipIf(!enabled)(
    "[18-RT6] after the server's sweep the API shows the old weeks' messages erased (conversation, list, search) and the contact still named",
    async () => {
      const conversationId = 'retained-api';
      const text = 'zanzibar invoice 77-1234 please';
      const stream = `conversation-${conversationId}`;
      const now = h.now();
      await h.services.grains.conversation(demo, conversationId).ask({
        type: 'ReceiveInboundMessage',
        data: {
          conversationId,
          inboxId: 'support',
          platform: 'whatsapp',
          externalMessageId: 'wamid.retained-api',
          contact: { id: '4917600001111', name: 'Olga Oldmessage', handle: '+4917600001111' },
          content: { type: 'text', text },
          sentAt: now,
        },
      });
      await h.settle();
      const admin = await h.signIn('ada@demo.parley.test');
      expect(JSON.stringify(await admin.caller.conversations.get({ conversationId }))).toContain(text);
      expect(JSON.stringify(await admin.caller.conversations.search({ query: 'zanzibar' }))).toContain(
        conversationId,
      );
      // The week this content was sealed in is made 20 weeks old, as if time had passed.
      await h.services.db.sql.query(
        `UPDATE contact_keys SET period = period - 140 WHERE tenant_id = 'demo' AND stream_id = $1 AND period IS NOT NULL`,
        [stream],
      );
      await h.services.db.sql.query(
        `UPDATE search_messages SET at = at - interval '140 days' WHERE tenant_id = 'demo' AND conversation_id = $1`,
        [conversationId],
      );
      await admin.caller.admin.settings.setRetention({ days: 90 });
      const swept = await h.services.retentionSweeper.sweep();
      expect(swept.find((s) => s.tenantId === demo)).toMatchObject({ keysDestroyed: 1, conversations: 1 });

      const shown = JSON.stringify([
        await admin.caller.conversations.get({ conversationId }),
        await admin.caller.conversations.list({ inboxId: 'support' }),
      ]);
      expect(shown).not.toContain(text);
      expect(shown).toContain(ERASED);
      expect(shown).toContain('Olga Oldmessage');
      expect(JSON.stringify(await admin.caller.conversations.search({ query: 'zanzibar' }))).not.toContain(
        conversationId,
      );
      expect(await admin.caller.admin.settings.setRetention({ days: null })).toEqual({
        retentionDays: null,
        changed: true,
      });
    },
  );
});
