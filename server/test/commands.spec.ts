import { streamFor, tenantId, type ClientCommand } from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withTenant } from '../src/auth/tenant-scope';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');
const HOUR = 3_600_000;
const text = (value: string) => ({ type: 'text' as const, text: value });

/** `conversations.commandBatch` (issue #14): every agent command through one numbered ledger. */
describe.each(API_BACKENDS)('#14 client commands on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let ana: Caller;
  let conversations = 0;

  /** A fresh WhatsApp conversation of `inboxId` whose customer last wrote `ago` ms before now. */
  async function conversation(ago = 60_000, inboxId = 'support'): Promise<string> {
    const id = `cmd-${++conversations}`;
    await h.services.grains.conversation(demo, id).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: id,
        inboxId,
        platform: 'whatsapp',
        externalMessageId: `${id}-m1`,
        contact: { id: `${id}-c`, name: 'Sam', handle: '+1 555 0199' },
        content: { type: 'text', text: 'hello?' },
        sentAt: h.now() - ago,
      },
    });
    return id;
  }

  /**
   * The conversation's events that agents' commands recorded: not the dispatcher's (it tries to
   * send every queued reply) nor the workflow engine's (it reacts to new conversations).
   */
  const events = async (id: string) =>
    (await h.services.store.readStream(demo, streamFor('conversation', id))).filter(
      (event) => (event.metadata.actor as { kind?: string } | undefined)?.kind === 'agent',
    );
  const state = async (id: string) => (await h.services.grains.conversation(demo, id).read()).state!;
  const numbered = (conversationId: string, sequence: number, command: ClientCommand) => ({
    conversationId,
    sequence,
    command,
  });
  const reply = (clientMessageId: string, content = text('on it')): ClientCommand => ({
    type: 'QueueReply',
    clientMessageId,
    content,
    tag: null,
  });

  async function refusedWith(call: Promise<unknown>): Promise<string> {
    try {
      await call;
    } catch (error) {
      if (error instanceof TRPCError) return error.code;
      throw error;
    }
    return 'ok';
  }

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    // A second inbox that Ben works in and Ana does not (decision 0015).
    await ada.admin.inboxes.create({
      inboxId: 'vip',
      name: 'VIP (WhatsApp)',
      channel: { platform: 'webchat', channelId: 'vip-commands' },
    });
    await ada.admin.inboxes.addMember({ inboxId: 'vip', agentId: 'ben' });
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    'two devices of one agent flush contradicting commands (resolve, reply): both are kept in server order and the reply reopens',
    async () => {
      const id = await conversation();
      // Queued offline on two devices, flushed one after the other: the phone's resolve first.
      const phone = await ana.conversations.commandBatch({
        clientId: 'two-phone',
        commands: [numbered(id, 1, { type: 'SetStatus', status: 'resolved' })],
      });
      const laptop = await ana.conversations.commandBatch({
        clientId: 'two-laptop',
        commands: [numbered(id, 1, reply('two-r1'))],
      });
      expect(phone.answers).toMatchObject([{ status: 'accepted', sequence: 1, duplicate: false }]);
      expect(laptop.answers).toMatchObject([{ status: 'accepted', sequence: 1, duplicate: false }]);
      const log = (await events(id)).map((event) => event.type);
      expect(log.slice(-5)).toEqual([
        'StatusChanged',
        'CycleEnded',
        'StatusChanged',
        'CycleStarted',
        'ReplyQueued',
      ]);
      expect(await state(id)).toMatchObject({ status: { kind: 'open' }, cycle: 2 });
      // Each answer names the events it recorded, at their versions: what both devices fold.
      const recorded = laptop.answers[0]!.status === 'accepted' ? laptop.answers[0]!.events : [];
      expect(recorded.map((event) => event.type)).toEqual(['StatusChanged', 'CycleStarted', 'ReplyQueued']);
      expect(recorded.at(-1)!.version).toBe((await events(id)).at(-1)!.version);

      // The other server order: the reply first, then the resolve, which stands.
      const other = await conversation();
      await ana.conversations.commandBatch({
        clientId: 'two-laptop',
        commands: [numbered(other, 2, reply('two-r2'))],
      });
      await ana.conversations.commandBatch({
        clientId: 'two-phone',
        commands: [numbered(other, 2, { type: 'SetStatus', status: 'resolved' })],
      });
      expect((await events(other)).map((event) => event.type).slice(-3)).toEqual([
        'ReplyQueued',
        'StatusChanged',
        'CycleEnded',
      ]);
      expect((await state(other)).status).toEqual({ kind: 'resolved' });
    },
  );

  it.skipIf(!enabled)(
    'a queued command whose conversation changed meanwhile is decided again: refused with its rule, or applied; never a 500, never lost',
    async () => {
      const id = await conversation(23 * HOUR);
      // Meanwhile, someone else resolved it and assigned it to Ben.
      await ada.conversations.resolve({ conversationId: id });
      await ada.conversations.assign({ conversationId: id, agentId: 'ben' });
      h.advance(2 * HOUR); // the 24-hour window closes while the device is offline
      const queuedAt = h.now() - 3 * HOUR;
      const { answers } = await ana.conversations.commandBatch({
        clientId: 'changed-1',
        commands: [
          numbered(id, 1, { type: 'SetStatus', status: 'resolved' }),
          numbered(id, 2, reply('changed-r1')),
          numbered(id, 3, { type: 'SnoozeConversation', until: queuedAt + HOUR }),
          numbered(id, 4, { type: 'AssignConversation', agentId: 'gina' }),
          numbered(id, 5, { type: 'AssignConversation', agentId: 'ana' }),
          numbered(id, 6, { type: 'AddLabel', label: 'late' }),
        ],
      });
      expect(answers.map((answer) => [answer.sequence, answer.status])).toEqual([
        [1, 'accepted'],
        [2, 'refused'],
        [3, 'refused'],
        [4, 'refused'],
        [5, 'accepted'],
        [6, 'accepted'],
      ]);
      // Already resolved: applied, and it changed nothing.
      expect(answers[0]).toMatchObject({ events: [] });
      expect(answers[1]).toMatchObject({
        code: 'WINDOW_CLOSED',
        rule: 'WA2',
        // The server cannot know whether the device was offline: it says what is so (CC3).
        message: 'The 24-hour window has closed',
        nextStep: 'Send a template instead',
      });
      expect(answers[2]).toMatchObject({
        code: 'SNOOZE_NOT_IN_FUTURE',
        rule: 'CV10',
        nextStep: 'Pick a later time',
      });
      // Gina is not in this tenant, let alone this inbox: a rule refuses her.
      expect(answers[3]).toMatchObject({ code: 'ASSIGNEE_NOT_MEMBER', rule: 'CV16' });
      const after = await state(id);
      expect(after).toMatchObject({ status: { kind: 'resolved' }, assigneeId: 'ana', labels: ['late'] });
      expect(after.replies.has('changed-r1')).toBe(false);
      // Every refusal is stored: the resend gets the same answers, and nothing more is applied.
      const again = await ana.conversations.commandBatch({
        clientId: 'changed-1',
        commands: [
          numbered(id, 2, reply('changed-r1')),
          numbered(id, 4, { type: 'AssignConversation', agentId: 'gina' }),
        ],
      });
      // Sequences 2 and 4 with nothing between are not consecutive, but both were applied: stored answers.
      expect(again.answers).toMatchObject([
        { status: 'refused', sequence: 2, code: 'WINDOW_CLOSED', duplicate: true },
        { status: 'refused', sequence: 4, code: 'ASSIGNEE_NOT_MEMBER', duplicate: true },
      ]);
    },
  );

  it.skipIf(!enabled)("an assignee outside the conversation's inbox is refused by rule CV16", async () => {
    const id = await conversation();
    const { answers } = await ana.conversations.commandBatch({
      clientId: 'outside-1',
      commands: [numbered(id, 1, { type: 'AssignConversation', agentId: 'chloe' })],
    });
    // Every demo agent works in support (the seed).
    expect(answers).toMatchObject([{ status: 'accepted' }]);
    const vip = await conversation(60_000, 'vip');
    const byAdmin = await ada.conversations.commandBatch({
      clientId: 'outside-admin',
      commands: [
        numbered(vip, 1, { type: 'AssignConversation', agentId: 'ana' }),
        numbered(vip, 2, { type: 'AssignConversation', agentId: 'ben' }),
        numbered(vip, 3, { type: 'AssignConversation', agentId: 'ada' }),
      ],
    });
    expect(byAdmin.answers).toMatchObject([
      { status: 'refused', code: 'ASSIGNEE_NOT_MEMBER', rule: 'CV16' },
      { status: 'accepted' },
      { status: 'accepted' }, // an admin works in every inbox
    ]);
    expect((await state(vip)).assigneeId).toBe('ada');
  });

  it.skipIf(!enabled)(
    "a batch's assignments reach their inbox, in order, with their command's number (AS9)",
    async () => {
      const [a, b, c] = [await conversation(), await conversation(), await conversation()];
      await h.settle(); // the workflow engine's own assignments of the new conversations
      const inbox = h.services.grains.inbox(demo, 'support');
      const before = (await inbox.read()).version;
      const { answers } = await ana.conversations.commandBatch({
        clientId: 'inbox-notices',
        commands: [
          numbered(a, 1, { type: 'AssignConversation', agentId: 'ben' }),
          numbered(b, 2, { type: 'AssignConversation', agentId: 'ana' }),
          numbered(c, 3, { type: 'AssignConversation', agentId: 'ana' }),
          numbered(b, 4, { type: 'UnassignConversation' }),
          numbered(c, 5, { type: 'AssignConversation', agentId: 'ben' }),
        ],
      });
      expect(answers.map((answer) => answer.status)).toEqual(Array(5).fill('accepted'));
      const { state } = await inbox.read();
      expect(state!.assignments.get(a)).toBe('ben');
      expect(state!.assignments.has(b)).toBe(false);
      expect(state!.assignments.get(c)).toBe('ben');
      const notices = await h.services.store.readStream(demo, streamFor('inbox', 'support'), {
        fromVersion: before + 1,
      });
      const numbers = notices.map(
        (event) => (event.metadata.command as { sequence?: number } | undefined)?.sequence,
      );
      // One notice per command that changed the assignee (one the engine made already changes nothing).
      const changed = answers.flatMap((answer) =>
        answer.status === 'accepted' &&
        answer.events.some((event) => /^Conversation(Un)?[Aa]ssigned$/.test(event.type))
          ? [answer.sequence]
          : [],
      );
      expect(changed.length).toBeGreaterThanOrEqual(3);
      // (a reassignment is two inbox events, the release and the assignment, under one number)
      expect([...new Set(numbers.filter((n) => n !== undefined))]).toEqual(changed);
    },
  );

  it.skipIf(!enabled)(
    "another tenant's or another inbox's conversation is NOT_FOUND, and nothing is applied",
    async () => {
      const vip = await conversation(60_000, 'vip');
      const before = (await events(vip)).length;
      for (const [clientId, conversationId] of [
        ['foreign-1', 'globex-1'],
        ['foreign-2', vip],
      ] as const) {
        for (const command of [
          reply(`${clientId}-r`),
          { type: 'AddLabel', label: 'spy' } as const,
          { type: 'MarkConversationRead', upTo: h.now() } as const,
        ]) {
          expect(
            await refusedWith(
              ana.conversations.commandBatch({ clientId, commands: [numbered(conversationId, 1, command)] }),
            ),
          ).toBe('NOT_FOUND');
        }
      }
      expect(await events(vip)).toHaveLength(before);
      const sequences = await withTenant(h.services.db.sql, demo, (tx) =>
        tx.query("SELECT 1 FROM client_sequences WHERE client_id LIKE 'foreign-%'"),
      );
      expect(sequences).toHaveLength(0);
    },
  );

  it.skipIf(!enabled)(
    'a repeated sequence is applied exactly once (its stored answer, duplicate); another command under it is refused',
    async () => {
      const id = await conversation();
      const upTo = h.now() - 1_000;
      const batch = {
        clientId: 'once-1',
        commands: [
          numbered(id, 1, { type: 'AddNote', noteId: 'once-n1', text: 'check @ben', mentions: ['ben'] }),
          numbered(id, 2, { type: 'AddLabel', label: 'vip' }),
          numbered(id, 3, reply('once-r1')),
          numbered(id, 4, { type: 'MarkConversationRead', upTo }),
        ],
      };
      const first = await ana.conversations.commandBatch(batch);
      const count = (await events(id)).length;
      const second = await ana.conversations.commandBatch(batch);
      expect(second.answers).toEqual(first.answers.map((answer) => ({ ...answer, duplicate: true })));
      expect(await events(id)).toHaveLength(count);
      expect((await state(id)).readUpTo.get('ana')).toBe(upTo);
      // A reply and a label share the client's numbers: sequence 2 was the label.
      expect(
        await refusedWith(
          ana.conversations.commandBatch({
            clientId: 'once-1',
            commands: [numbered(id, 2, { type: 'AddLabel', label: 'other' })],
          }),
        ),
      ).toBe('CONFLICT');
      // The reply paths share the ledger: `reply` sees sequence 3 as the same reply.
      expect(
        await ana.conversations.reply({
          clientId: 'once-1',
          sequence: 3,
          conversationId: id,
          clientMessageId: 'once-r1',
          content: text('on it'),
        }),
      ).toMatchObject({ kind: 'accepted', duplicate: true });
    },
  );

  it.skipIf(!enabled)(
    'a batch that skips ahead is answered out-of-order, and nothing after the gap is applied',
    async () => {
      const id = await conversation();
      await ana.conversations.commandBatch({
        clientId: 'gap-1',
        commands: [numbered(id, 1, { type: 'SetPriority', priority: 'high' })],
      });
      const { answers } = await ana.conversations.commandBatch({
        clientId: 'gap-1',
        commands: [
          numbered(id, 3, { type: 'AddLabel', label: 'gap' }),
          numbered(id, 4, { type: 'SetPriority', priority: 'low' }),
        ],
      });
      expect(answers).toEqual([{ status: 'out-of-order', sequence: 3, expected: 2 }]);
      expect(await state(id)).toMatchObject({ labels: [], priority: 'high' });
      // Resent from the expected number, in order: applied.
      const resent = await ana.conversations.commandBatch({
        clientId: 'gap-1',
        commands: [
          numbered(id, 2, { type: 'UnassignConversation' }),
          numbered(id, 3, { type: 'AddLabel', label: 'gap' }),
          numbered(id, 4, { type: 'SetPriority', priority: 'low' }),
        ],
      });
      expect(resent.answers.map((answer) => answer.status)).toEqual(['accepted', 'accepted', 'accepted']);
      expect(await state(id)).toMatchObject({ labels: ['gap'], priority: 'low' });
    },
  );

  it.skipIf(!enabled)('a mixed batch of 100 commands commits as ONE unit', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await conversation());
    const kinds = (i: number, id: string): ClientCommand => {
      switch (i % 8) {
        case 0:
        case 1:
        case 2:
        case 3:
          return reply(`mix-r${i}`, text(`reply ${i}`));
        case 4:
          return { type: 'AddNote', noteId: `mix-n${i}`, text: `note ${i}`, mentions: [] };
        case 5:
          return { type: 'AddLabel', label: `l${i}` };
        case 6:
          return { type: 'AssignConversation', agentId: i % 16 === 6 ? 'ana' : 'ben' };
        default:
          return {
            type: 'SetStatus',
            status: id.endsWith('1') ? 'pending' : i % 16 === 7 ? 'pending' : 'open',
          };
      }
    };
    const commands = Array.from({ length: 100 }, (_, i) =>
      numbered(ids[i % 5]!, i + 1, kinds(i, ids[i % 5]!)),
    );
    const before = new Map<string, number>();
    for (const id of ids) before.set(id, (await events(id)).length);
    const { answers } = await ana.conversations.commandBatch({ clientId: 'mix-1', commands });
    expect(answers).toHaveLength(100);
    expect(answers.every((answer) => answer.status === 'accepted')).toBe(true);
    const written = (
      await Promise.all(ids.map(async (id) => (await events(id)).slice(before.get(id))))
    ).flat();
    expect(written.filter((event) => event.type === 'ReplyQueued')).toHaveLength(52);
    expect(written.filter((event) => event.type === 'NoteAdded')).toHaveLength(12);
    // A checkpoint is `<transaction id>:<position>`: one transaction for the whole batch.
    expect(new Set(written.map((event) => event.checkpoint.split(':')[0])).size).toBe(1);
    const rows = await withTenant(h.services.db.sql, demo, (tx) =>
      tx.query<{ n: string }>(
        "SELECT count(*)::text AS n FROM channel_outbox WHERE client_message_id LIKE 'mix-r%'",
      ),
    );
    expect(Number(rows[0]!.n)).toBe(52);
    const ledger = await withTenant(h.services.db.sql, demo, (tx) =>
      tx.query<{ n: string }>(
        "SELECT last_sequence::text AS n FROM client_sequences WHERE client_id = 'mix-1'",
      ),
    );
    expect(ledger[0]!.n).toBe('100');
  });

  it.skipIf(!enabled)(
    'every event an accepted command appends names it in its metadata ({ clientId, sequence }), alone or in a batch, and sync carries it',
    async () => {
      const id = await conversation();
      const before = (await events(id)).length;
      // One command alone (one at a time), then a run of three (committed as one unit).
      await ana.conversations.commandBatch({
        clientId: 'meta-1',
        commands: [numbered(id, 1, { type: 'AddLabel', label: 'vip' })],
      });
      await ana.conversations.commandBatch({
        clientId: 'meta-1',
        commands: [
          numbered(id, 2, { type: 'SetStatus', status: 'resolved' }),
          numbered(id, 3, reply('meta-r1')),
          numbered(id, 4, { type: 'AddNote', noteId: 'meta-n1', text: 'called back', mentions: [] }),
        ],
      });
      const recorded = (await events(id)).slice(before);
      expect(recorded.map((event) => [event.type, event.metadata.command])).toEqual([
        ['LabelAdded', { clientId: 'meta-1', sequence: 1 }],
        ['StatusChanged', { clientId: 'meta-1', sequence: 2 }],
        ['CycleEnded', { clientId: 'meta-1', sequence: 2 }],
        ['StatusChanged', { clientId: 'meta-1', sequence: 3 }],
        ['CycleStarted', { clientId: 'meta-1', sequence: 3 }],
        ['ReplyQueued', { clientId: 'meta-1', sequence: 3 }],
        ['NoteAdded', { clientId: 'meta-1', sequence: 4 }],
      ]);
      // Who acted is still there beside it.
      expect(recorded.every((event) => (event.metadata.actor as { id?: string }).id === 'ana')).toBe(true);
      // The wire carries the metadata as stored: the device sees which of its commands made an event.
      // The log shows a commit once every older transaction of the server has ended (decision
      // 0003), and other suites share this PostgreSQL server: read until the events are there.
      let cursor: string | null = null;
      const synced: { streamId: string; type: string; metadata: Record<string, unknown> }[] = [];
      const mine = () =>
        synced.filter(
          (event) =>
            event.streamId === streamFor('conversation', id) &&
            (event.metadata.command as { clientId?: string } | undefined)?.clientId === 'meta-1',
        );
      await vi.waitFor(
        async () => {
          for (;;) {
            const page = await ana.sync.catchUp({ cursor });
            if (page.kind !== 'events') throw new Error(`unexpected ${page.kind}`);
            synced.push(...page.events);
            cursor = page.cursor;
            if (!page.hasMore) break;
          }
          expect(mine().length).toBeGreaterThanOrEqual(recorded.length);
        },
        { timeout: 20_000, interval: 50 },
      );
      expect(mine().map((event) => [event.type, event.metadata.command])).toEqual(
        recorded.map((event) => [event.type, event.metadata.command]),
      );
    },
  );

  it.skipIf(!enabled)(
    'refuses a malformed command (NUL in a note, an unknown type) with BAD_REQUEST, applying nothing',
    async () => {
      const id = await conversation();
      const before = (await events(id)).length;
      expect(
        await refusedWith(
          ana.conversations.commandBatch({
            clientId: 'bad-1',
            commands: [numbered(id, 1, { type: 'AddNote', noteId: 'bad-n', text: 'a\u0000b', mentions: [] })],
          }),
        ),
      ).toBe('BAD_REQUEST');
      expect(
        await refusedWith(
          ana.conversations.commandBatch({
            clientId: 'bad-1',
            commands: [
              { conversationId: id, sequence: 1, command: { type: 'Erase' } as unknown as ClientCommand },
            ],
          }),
        ),
      ).toBe('BAD_REQUEST');
      expect(await events(id)).toHaveLength(before);
    },
  );
});
