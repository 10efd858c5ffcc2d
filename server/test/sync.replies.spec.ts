import { streamFor, tenantId, type TenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../src/auth/tenant-scope';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');
const HOUR = 3_600_000;

describe.each(API_BACKENDS)('reply sequence numbers on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ana: Caller;
  let conversations = 0;

  /** A fresh WhatsApp conversation whose customer last wrote `ago` ms before now. */
  async function conversation(ago = 60_000): Promise<string> {
    const id = `seq-${++conversations}`;
    await h.services.grains.conversation(demo, id).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: id,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `${id}-m1`,
        contact: { id: `${id}-c`, name: 'Sam', handle: '+1 555 0199' },
        content: { type: 'text', text: 'hello?' },
        sentAt: h.now() - ago,
      },
    });
    return id;
  }

  const text = (value: string) => ({ type: 'text' as const, text: value });

  async function lastSequence(clientId: string): Promise<number> {
    const rows = await withTenant(h.services.db.sql, demo, (tx) =>
      tx.query<{ n: string }>(
        "SELECT last_sequence::text AS n FROM client_sequences WHERE agent_id = 'ana' AND client_id = $1",
        [clientId],
      ),
    );
    return rows[0] ? Number(rows[0].n) : 0;
  }

  async function queued(tenant: TenantId, conversationId: string): Promise<string[]> {
    const events = await h.services.store.readStream(tenant, streamFor('conversation', conversationId));
    return events
      .filter((event) => event.type === 'ReplyQueued')
      .map((event) => event.data.clientMessageId as string);
  }

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ana = (await h.signIn('ana@demo.parley.test')).caller;
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    'applies the next number: the reply, its outbox row and the number commit together',
    async () => {
      const id = await conversation();
      const answer = await ana.conversations.reply({
        conversationId: id,
        clientId: 'phone-1',
        sequence: 1,
        clientMessageId: 'm-1',
        content: text('On it!'),
      });
      expect(answer).toMatchObject({
        kind: 'accepted',
        sequence: 1,
        clientMessageId: 'm-1',
        duplicate: false,
      });
      expect(await queued(demo, id)).toEqual(['m-1']);
      expect(await lastSequence('phone-1')).toBe(1);
      const outbox = await h.services.db.sql.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM channel_outbox WHERE tenant_id = 'demo' AND conversation_id = $1",
        [id],
      );
      expect(outbox[0]!.n).toBe(1);
    },
  );

  it.skipIf(!enabled)(
    'answers a number already applied with its original answer, writing nothing',
    async () => {
      const id = await conversation();
      const send = () =>
        ana.conversations.reply({
          conversationId: id,
          clientId: 'phone-2',
          sequence: 1,
          clientMessageId: 'm-dup',
          content: text('Once'),
        });
      const first = await send();
      const again = await send();
      expect(again).toEqual({ ...first, duplicate: true });
      expect(await queued(demo, id)).toEqual(['m-dup']);
      expect(await lastSequence('phone-2')).toBe(1);
    },
  );

  it.skipIf(!enabled)(
    'refuses a number that skips ahead, applying nothing, so the client resends in order',
    async () => {
      const id = await conversation();
      const base = { conversationId: id, clientId: 'phone-3', content: text('x') };
      await ana.conversations.reply({ ...base, sequence: 1, clientMessageId: 'g-1' });
      const gap = await ana.conversations.reply({ ...base, sequence: 3, clientMessageId: 'g-3' });
      expect(gap).toEqual({ kind: 'out-of-order', sequence: 3, expectedSequence: 2 });
      expect(await queued(demo, id)).toEqual(['g-1']);
      expect(await lastSequence('phone-3')).toBe(1);
      await ana.conversations.reply({ ...base, sequence: 2, clientMessageId: 'g-2' });
      await ana.conversations.reply({ ...base, sequence: 3, clientMessageId: 'g-3' });
      expect(await queued(demo, id)).toEqual(['g-1', 'g-2', 'g-3']);
    },
  );

  it.skipIf(!enabled)(
    '[WA2] advances past a reply refused for good and returns the reason, again on a resend',
    async () => {
      const closed = await conversation(25 * HOUR);
      const open = await conversation();
      const refused = await ana.conversations.reply({
        conversationId: closed,
        clientId: 'phone-4',
        sequence: 1,
        clientMessageId: 'late',
        content: text('Sorry for the wait'),
      });
      expect(refused).toMatchObject({
        kind: 'refused',
        code: 'WINDOW_CLOSED',
        rule: 'WA2',
        duplicate: false,
      });
      expect(refused.kind === 'refused' && refused.hint).toMatch(/template/);
      expect(await queued(demo, closed)).toEqual([]);
      expect(await lastSequence('phone-4')).toBe(1);
      const resent = await ana.conversations.reply({
        conversationId: closed,
        clientId: 'phone-4',
        sequence: 1,
        clientMessageId: 'late',
        content: text('Sorry for the wait'),
      });
      expect(resent).toEqual({ ...refused, duplicate: true });
      const next = await ana.conversations.reply({
        conversationId: open,
        clientId: 'phone-4',
        sequence: 2,
        clientMessageId: 'next',
        content: text('Hi'),
      });
      expect(next.kind).toBe('accepted');
    },
  );

  it.skipIf(!enabled)('refuses a number reused for another message', async () => {
    const id = await conversation();
    const base = { conversationId: id, clientId: 'phone-5', sequence: 1, content: text('x') };
    await ana.conversations.reply({ ...base, clientMessageId: 'first' });
    const error = await ana.conversations
      .reply({ ...base, clientMessageId: 'second' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: 'CONFLICT', cause: { code: 'SEQUENCE_REUSED' } });
    expect(await queued(demo, id)).toEqual(['first']);
  });

  it.skipIf(!enabled)('applies one of many concurrent sends of the same number exactly once', async () => {
    const id = await conversation();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        ana.conversations.reply({
          conversationId: id,
          clientId: 'phone-6',
          sequence: 1,
          clientMessageId: 'race',
          content: text('Only once'),
        }),
      ),
    );
    expect(answers.filter((answer) => answer.kind === 'accepted' && !answer.duplicate)).toHaveLength(1);
    expect(new Set(answers.map((answer) => answer.kind))).toEqual(new Set(['accepted']));
    expect(await queued(demo, id)).toEqual(['race']);
    expect(await lastSequence('phone-6')).toBe(1);
  });

  it.skipIf(!enabled)(
    'never commits a reply whose number another reply took: the append aborts with it',
    async () => {
      const [a, b] = [await conversation(), await conversation()];
      const send = (conversationId: string, clientMessageId: string) =>
        ana.conversations
          .reply({ conversationId, clientId: 'phone-7', sequence: 1, clientMessageId, content: text('?') })
          .then(
            (answer) => answer.kind,
            (error: unknown) => (error instanceof TRPCError ? error.code : 'other'),
          );
      const kinds = await Promise.all([send(a, 'on-a'), send(b, 'on-b')]);
      expect(kinds.sort()).toEqual(['CONFLICT', 'accepted']);
      const written = [...(await queued(demo, a)), ...(await queued(demo, b))];
      expect(written).toHaveLength(1);
      expect(await lastSequence('phone-7')).toBe(1);
    },
  );

  it.skipIf(!enabled)(
    'answers NOT_FOUND for a conversation that does not exist here, applying nothing',
    async () => {
      const error = await ana.conversations
        .reply({
          conversationId: 'globex-1',
          clientId: 'phone-8',
          sequence: 1,
          clientMessageId: 'x',
          content: text('x'),
        })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'NOT_FOUND' });
      expect(await lastSequence('phone-8')).toBe(0);
      expect(await queued(tenantId('globex'), 'globex-1')).toEqual([]);
    },
  );
});
