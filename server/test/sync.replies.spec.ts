import { streamFor, tenantId, type TenantId } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTenant } from '../src/auth/tenant-scope';
import { MAX_REPLY_BATCH } from '../src/commands/client-commands';
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

  describe('a batch of replies (conversations.replyBatch)', () => {
    const reply = (
      conversationId: string,
      sequence: number,
      clientMessageId: string,
      value = clientMessageId,
    ) => ({
      conversationId,
      sequence,
      clientMessageId,
      content: text(value),
    });

    it.skipIf(!enabled)(
      'applies the replies in order, each with its own answer, as one at a time would',
      async () => {
        const [a, b] = [await conversation(), await conversation()];
        const { answers } = await ana.conversations.replyBatch({
          clientId: 'batch-1',
          replies: [reply(a, 1, 'b1-1'), reply(b, 2, 'b1-2'), reply(a, 3, 'b1-3')],
        });
        expect(answers.map((answer) => [answer.kind, answer.sequence])).toEqual([
          ['accepted', 1],
          ['accepted', 2],
          ['accepted', 3],
        ]);
        expect(answers.every((answer) => answer.kind === 'accepted' && !answer.duplicate)).toBe(true);
        expect(await queued(demo, a)).toEqual(['b1-1', 'b1-3']);
        expect(await queued(demo, b)).toEqual(['b1-2']);
        expect(await lastSequence('batch-1')).toBe(3);
        // The single mutation continues the same numbering.
        const next = await ana.conversations.reply({ ...reply(b, 4, 'b1-4'), clientId: 'batch-1' });
        expect(next).toMatchObject({ kind: 'accepted', sequence: 4 });
      },
    );

    it.skipIf(!enabled)(
      'answers a resent batch with the stored answers (duplicate: true) and applies only what is new',
      async () => {
        const id = await conversation();
        const first = await ana.conversations.replyBatch({
          clientId: 'batch-2',
          replies: [reply(id, 1, 'b2-1'), reply(id, 2, 'b2-2')],
        });
        const again = await ana.conversations.replyBatch({
          clientId: 'batch-2',
          replies: [reply(id, 1, 'b2-1'), reply(id, 2, 'b2-2'), reply(id, 3, 'b2-3')],
        });
        expect(again.answers.slice(0, 2)).toEqual(
          first.answers.map((answer) => ({ ...answer, duplicate: true })),
        );
        expect(again.answers[2]).toMatchObject({ kind: 'accepted', sequence: 3, duplicate: false });
        expect(await queued(demo, id)).toEqual(['b2-1', 'b2-2', 'b2-3']);
      },
    );

    it.skipIf(!enabled)(
      '[WA2] answers a refusal in the middle of a batch, uses its number, and carries on',
      async () => {
        const [open, closed] = [await conversation(), await conversation(25 * HOUR)];
        const { answers } = await ana.conversations.replyBatch({
          clientId: 'batch-3',
          replies: [reply(open, 1, 'b3-1'), reply(closed, 2, 'b3-late'), reply(open, 3, 'b3-3')],
        });
        expect(answers.map((answer) => answer.kind)).toEqual(['accepted', 'refused', 'accepted']);
        expect(answers[1]).toMatchObject({ code: 'WINDOW_CLOSED', rule: 'WA2', sequence: 2 });
        expect(await queued(demo, open)).toEqual(['b3-1', 'b3-3']);
        expect(await queued(demo, closed)).toEqual([]);
        expect(await lastSequence('batch-3')).toBe(3);
      },
    );

    it.skipIf(!enabled)('stops at the first out-of-order number: nothing after it is applied', async () => {
      const id = await conversation();
      const { answers } = await ana.conversations.replyBatch({
        clientId: 'batch-4',
        replies: [reply(id, 1, 'b4-1'), reply(id, 3, 'b4-3'), reply(id, 4, 'b4-4')],
      });
      expect(answers).toHaveLength(2);
      expect(answers[0]).toMatchObject({ kind: 'accepted', sequence: 1 });
      expect(answers[1]).toEqual({ kind: 'out-of-order', sequence: 3, expectedSequence: 2 });
      expect(await queued(demo, id)).toEqual(['b4-1']);
      expect(await lastSequence('batch-4')).toBe(1);
    });

    it.skipIf(!enabled)(
      "answers up to another tenant's conversation, and NOT_FOUND when the batch starts with it",
      async () => {
        const id = await conversation();
        const partial = await ana.conversations.replyBatch({
          clientId: 'batch-5',
          replies: [reply(id, 1, 'b5-1'), reply('globex-1', 2, 'b5-x'), reply(id, 3, 'b5-3')],
        });
        expect(partial.answers.map((answer) => [answer.kind, answer.sequence])).toEqual([['accepted', 1]]);
        const error = await ana.conversations
          .replyBatch({ clientId: 'batch-5', replies: [reply('globex-1', 2, 'b5-x'), reply(id, 3, 'b5-3')] })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(TRPCError);
        expect(error).toMatchObject({ code: 'NOT_FOUND', cause: { code: 'CONVERSATION_NOT_FOUND' } });
        expect(await queued(demo, id)).toEqual(['b5-1']);
        expect(await queued(tenantId('globex'), 'globex-1')).toEqual([]);
        expect(await lastSequence('batch-5')).toBe(1);
      },
    );

    it.skipIf(!enabled)('applies each reply once when a batch races a resend of itself', async () => {
      const [a, b] = [await conversation(), await conversation()];
      const batch = {
        clientId: 'batch-8',
        replies: [reply(a, 1, 'b8-1'), reply(b, 2, 'b8-2'), reply(a, 3, 'b8-3'), reply(b, 4, 'b8-4')],
      };
      const results = await Promise.all([
        ana.conversations.replyBatch(batch),
        ana.conversations.replyBatch(batch),
        ana.conversations.replyBatch(batch),
      ]);
      for (const { answers } of results) {
        expect(answers.map((answer) => [answer.kind, answer.sequence])).toEqual(
          [1, 2, 3, 4].map((sequence) => ['accepted', sequence]),
        );
      }
      const fresh = results.flatMap(({ answers }) =>
        answers.filter((answer) => answer.kind === 'accepted' && !answer.duplicate),
      );
      expect(fresh.map((answer) => answer.sequence).sort()).toEqual([1, 2, 3, 4]);
      expect(await queued(demo, a)).toEqual(['b8-1', 'b8-3']);
      expect(await queued(demo, b)).toEqual(['b8-2', 'b8-4']);
      expect(await lastSequence('batch-8')).toBe(4);
    });

    it.skipIf(!enabled)(
      "commits a batch's run in ONE transaction, outbox rows in each conversation's order",
      async () => {
        const [a, b, c] = [await conversation(), await conversation(), await conversation()];
        const replies = Array.from({ length: 12 }, (_, i) => reply([a, b, c][i % 3]!, i + 1, `b9-${i + 1}`));
        const { answers } = await ana.conversations.replyBatch({ clientId: 'batch-9', replies });
        expect(answers.map((answer) => [answer.kind, answer.sequence])).toEqual(
          replies.map((r) => ['accepted', r.sequence]),
        );
        const events = (
          await Promise.all(
            [a, b, c].map((id) => h.services.store.readStream(demo, streamFor('conversation', id))),
          )
        )
          .flat()
          .filter((event) => event.type === 'ReplyQueued');
        expect(events).toHaveLength(12);
        // A checkpoint is `<transaction id>:<position>`: one transaction id for the whole run.
        expect(new Set(events.map((event) => event.checkpoint.split(':')[0])).size).toBe(1);
        // Each answer points at its own event.
        for (const answer of answers) {
          if (answer.kind !== 'accepted') continue;
          const event = events.find((e) => e.data.clientMessageId === answer.clientMessageId)!;
          expect(answer.version).toBe(event.version);
        }
        const rows = await withTenant(h.services.db.sql, demo, (tx) =>
          tx.query<{ conversation_id: string; client_message_id: string }>(
            `SELECT conversation_id, client_message_id FROM channel_outbox
              WHERE client_message_id LIKE 'b9-%' ORDER BY id`,
          ),
        );
        for (const id of [a, b, c]) {
          expect(
            rows.filter((row) => row.conversation_id === id).map((row) => row.client_message_id),
          ).toEqual(replies.filter((r) => r.conversationId === id).map((r) => r.clientMessageId));
        }
      },
    );

    it.skipIf(!enabled)(
      'answers any mix of replies exactly as sending them one at a time would (property)',
      async () => {
        // A step: a reply to one of three conversations (one with its window closed), a resend of
        // an earlier message id under a new number, or a number that skips ahead.
        const step = fc.oneof(
          {
            weight: 6,
            arbitrary: fc.record({ kind: fc.constant('reply' as const), to: fc.integer({ min: 0, max: 2 }) }),
          },
          { weight: 1, arbitrary: fc.record({ kind: fc.constant('resend' as const), of: fc.nat() }) },
          { weight: 1, arbitrary: fc.constant({ kind: 'gap' as const }) },
        );
        let run = 0;
        await fc.assert(
          fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), async (steps) => {
            run += 1;
            // The same script twice, on conversations of its own: once in one batch, once reply by reply.
            const outcome = async (mode: 'batch' | 'single') => {
              const targets = [await conversation(), await conversation(), await conversation(25 * HOUR)];
              const messages: { id: string; to: number }[] = [];
              let gaps = 0;
              const replies = steps.map((s, i) => {
                let message = { id: `p${run}-${mode}-${i}`, to: s.kind === 'reply' ? s.to : 0 };
                // A resend keeps its conversation: the same message id to another one is another message.
                if (s.kind === 'resend' && messages.length > 0) message = messages[s.of % messages.length]!;
                messages.push(message);
                if (s.kind === 'gap') gaps += 1;
                return reply(targets[message.to]!, i + 1 + gaps, message.id);
              });
              const clientId = `prop-${run}-${mode}`;
              const answers: unknown[] = [];
              if (mode === 'batch') {
                const result = await ana.conversations.replyBatch({ clientId, replies });
                answers.push(...result.answers);
              } else {
                for (const r of replies) {
                  const answer = await ana.conversations.reply({ ...r, clientId });
                  answers.push(answer);
                  if (answer.kind === 'out-of-order') break;
                }
              }
              const normalise = (answer: unknown) => {
                const a = answer as Record<string, unknown>;
                const name = (id: unknown) => (typeof id === 'string' ? id.replace(`-${mode}-`, '-') : id);
                return {
                  kind: a.kind,
                  sequence: a.sequence,
                  code: a.code,
                  duplicate: a.duplicate,
                  clientMessageId: name(a.clientMessageId),
                  conversation: targets.indexOf(a.conversationId as string),
                  queuedBefore: a.kind === 'accepted' ? a.cursor === null : undefined,
                };
              };
              const stored = await Promise.all(
                targets.map(async (id) => (await queued(demo, id)).map((m) => m.replace(`-${mode}-`, '-'))),
              );
              return { answers: answers.map(normalise), stored, last: await lastSequence(clientId) };
            };
            expect(await outcome('batch')).toEqual(await outcome('single'));
          }),
          { numRuns: 12 },
        );
      },
    );

    it.skipIf(!enabled)('refuses a batch over the size limit, applying nothing', async () => {
      const id = await conversation();
      const replies = Array.from({ length: MAX_REPLY_BATCH + 1 }, (_, i) => reply(id, i + 1, `b6-${i + 1}`));
      const error = await ana.conversations
        .replyBatch({ clientId: 'batch-6', replies })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TRPCError);
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
      expect(String((error as Error).message)).toContain(`at most ${MAX_REPLY_BATCH} replies`);
      expect(await queued(demo, id)).toEqual([]);
      expect(await lastSequence('batch-6')).toBe(0);
    });

    it.skipIf(!enabled)(
      'refuses a batch whose sequence numbers do not increase, applying nothing',
      async () => {
        const id = await conversation();
        const error = await ana.conversations
          .replyBatch({ clientId: 'batch-7', replies: [reply(id, 2, 'b7-2'), reply(id, 1, 'b7-1')] })
          .catch((e: unknown) => e);
        expect(error).toMatchObject({ code: 'BAD_REQUEST' });
        expect(await queued(demo, id)).toEqual([]);
      },
    );
  });
});
