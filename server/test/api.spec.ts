import { tenantId } from '@parley/domain';
import {
  BoardPermissionErrorCode,
  CardErrorCode,
  ConversationErrorCode,
  InboxErrorCode,
  ReplyRefusalCode,
  WorkflowErrorCode,
} from '@parley/domain';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAPPED_CODES } from '../src/api/errors';
import { appRouter } from '../src/api/router';
import { AccountErrorCode } from '../src/auth/accounts';
import { AuthErrorCode } from '../src/auth/service';
import { ReplyErrorCode } from '../src/commands/client-commands';
import { ListErrorCode } from '../src/api/conversation-list';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from './api.support';

const demo = tenantId('demo');

/** What a rejected call carries: its tRPC code, and the shape the client would see. */
async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(error)}`);
  const shape = appRouter._def._config.errorFormatter({
    error,
    type: 'mutation',
    path: 'x',
    input: undefined,
    ctx: undefined,
    shape: {
      message: error.message,
      code: -32600,
      data: { code: error.code, httpStatus: 400, stack: error.stack },
    },
  });
  return { code: error.code, shape };
}

describe('error mapping', () => {
  it('maps every refusal code Parley defines to a tRPC code explicitly', () => {
    const all = [
      ConversationErrorCode,
      InboxErrorCode,
      WorkflowErrorCode,
      CardErrorCode,
      BoardPermissionErrorCode,
      ReplyRefusalCode,
      AccountErrorCode,
      AuthErrorCode,
      ReplyErrorCode,
      ListErrorCode,
    ].flatMap((codes) => Object.values(codes));
    expect(all.filter((code) => !MAPPED_CODES.includes(code))).toEqual([]);
  });

  it('hides an internal error’s message and every stack from the wire', () => {
    const error = new TRPCError({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'relation "secret" does not exist',
    });
    const shape = appRouter._def._config.errorFormatter({
      error,
      type: 'query',
      path: 'x',
      input: undefined,
      ctx: undefined,
      shape: {
        message: error.message,
        code: -32603,
        data: { code: error.code, httpStatus: 500, stack: 'at x' },
      },
    });
    expect(shape.message).toBe('internal server error');
    expect(JSON.stringify(shape)).not.toMatch(/secret|stack/);
  });
});

describe.each(API_BACKENDS)('the API through createCaller on %s', (kind, enabled) => {
  let h: ApiHarness;
  let ada: Caller;
  let ana: Caller;
  let ben: Caller;

  /** A fresh conversation in the demo's support inbox, its customer named as given. */
  async function conversation(id: string, contact: { name: string; handle: string }, agoMs = 60_000) {
    await h.services.grains.conversation(demo, id).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId: id,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `${id}-1`,
        contact: { id: `${id}-contact`, ...contact },
        content: { type: 'text', text: 'hi' },
        sentAt: h.now() - agoMs,
      },
    });
  }

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ada = (await h.signIn('ada@demo.parley.test')).caller;
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    ben = (await h.signIn('ben@demo.parley.test')).caller;
    await h.settle();
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)('answers health to anyone and everything else only to a session', async () => {
    const anonymous = h.client().caller;
    expect((await anonymous.health()).status).toBe('ok');
    expect((await refusal(anonymous.conversations.list({}))).code).toBe('UNAUTHORIZED');
    expect((await refusal(anonymous.auth.me())).code).toBe('UNAUTHORIZED');
  });

  it.skipIf(!enabled)('validates input with zod and says which field is wrong', async () => {
    const { code, shape } = await refusal(ana.conversations.list({ filter: 'team' }));
    expect(code).toBe('BAD_REQUEST');
    expect(shape.data.issues).toEqual([{ path: 'teamId', message: 'the team filter needs a teamId' }]);
    expect((await refusal(ana.conversations.get({ conversationId: '../etc/passwd' }))).code).toBe(
      'BAD_REQUEST',
    );
    expect((await refusal(ana.conversations.list({ cursor: 'bm90IGEgY3Vyc29y' }))).code).toBe('BAD_REQUEST');
  });

  it.skipIf(!enabled)(
    'lists the demo inbox with every conversation assigned by the workflow engine',
    async () => {
      const page = await ana.conversations.list({ filter: 'all' });
      expect(page.items.map((item) => item.conversationId).sort()).toEqual([
        'demo-1',
        'demo-2',
        'demo-3',
        'demo-4',
      ]);
      expect(page.items.find((item) => item.conversationId === 'demo-1')).toMatchObject({
        assigneeId: 'ana',
        labels: ['shipping'],
        contact: { name: 'Maria Lopez' },
        platform: 'whatsapp',
      });
      expect(page.items.every((item) => item.assigneeId !== null)).toBe(true);
      const times = page.items.map((item) => item.lastActivityAt);
      expect([...times].sort((a, b) => b - a)).toEqual(times);
    },
  );

  it.skipIf(!enabled)(
    'filters by whose, status, inbox and contact, and pages without gaps or repeats',
    async () => {
      await conversation('list-1', { name: 'Zoë Unassigned', handle: '+49 151 000 0001' });
      await h.settle();
      await ana.conversations.assign({ conversationId: 'list-1', agentId: null });
      const unassigned = await ana.conversations.list({ filter: 'unassigned' });
      expect(unassigned.items.map((item) => item.conversationId)).toEqual(['list-1']);
      const mine = await ana.conversations.list({ filter: 'mine' });
      expect(mine.items.every((item) => item.assigneeId === 'ana')).toBe(true);
      expect(mine.items.map((item) => item.conversationId)).toContain('demo-1');
      const team = await ana.conversations.list({ filter: 'team', teamId: 'frontline' });
      expect(team.items.every((item) => ['ana', 'ben'].includes(item.assigneeId ?? ''))).toBe(true);
      expect((await ana.conversations.list({ search: 'zoË' })).items.map((i) => i.conversationId)).toEqual([
        'list-1',
      ]);
      expect(
        (await ana.conversations.list({ search: '151 000' })).items.map((i) => i.conversationId),
      ).toEqual(['list-1']);
      expect((await ana.conversations.list({ status: 'resolved' })).items).toEqual([]);
      expect((await ana.conversations.list({ inboxId: 'support' })).items.length).toBeGreaterThanOrEqual(5);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: Awaited<ReturnType<typeof ana.conversations.list>> = await ana.conversations.list({
          limit: 2,
          cursor,
        });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((item) => item.conversationId));
        cursor = page.nextCursor;
      } while (cursor !== null);
      const all = (await ana.conversations.list({ limit: 100 })).items.map((item) => item.conversationId);
      expect(seen).toEqual(all);
      expect((await refusal(ana.conversations.list({ filter: 'team', teamId: 'nope' }))).code).toBe(
        'NOT_FOUND',
      );
      expect((await refusal(ana.conversations.list({ inboxId: 'nope' }))).code).toBe('NOT_FOUND');
    },
  );

  it.skipIf(!enabled)(
    'shows one conversation with its events, and only the newer ones on request',
    async () => {
      const { conversation: view, events } = await ana.conversations.get({ conversationId: 'demo-2' });
      expect(view).toMatchObject({
        conversationId: 'demo-2',
        platform: 'whatsapp',
        status: { kind: 'open' },
      });
      expect(view.windowClosesAt).toBe(view.lastCustomerMessageAt + 24 * 3_600_000);
      expect(view.capabilities.templates).toBe(true);
      expect(events.slice(0, 3).map((event) => event.type)).toEqual([
        'ConversationStarted',
        'CycleStarted',
        'InboundMessageReceived',
      ]);
      expect(events.map((event) => event.version)).toEqual(events.map((_, i) => i + 1));
      const newer = await ana.conversations.get({ conversationId: 'demo-2', afterVersion: 2 });
      expect(newer.events[0]?.version).toBe(3);
    },
  );

  it.skipIf(!enabled)('assigns, resolves, reopens, snoozes, labels, prioritises and notes', async () => {
    await conversation('cmd-1', { name: 'Ivy', handle: '+1 555 0111' });
    await h.settle();
    const id = { conversationId: 'cmd-1' };
    expect(await ana.conversations.assign({ ...id, agentId: 'chloe' })).toMatchObject({ changed: true });
    expect(await ana.conversations.assign({ ...id, agentId: 'chloe' })).toMatchObject({ changed: false });
    expect((await refusal(ana.conversations.assign({ ...id, agentId: 'gina' }))).code).toBe('NOT_FOUND');
    await ana.conversations.resolve(id);
    expect((await ana.conversations.get(id)).conversation.status).toEqual({ kind: 'resolved' });
    await ana.conversations.reopen(id);
    const snoozeUntil = h.now() + 3_600_000;
    await ana.conversations.snooze({ ...id, until: snoozeUntil });
    expect((await ana.conversations.get(id)).conversation.status).toEqual({
      kind: 'snoozed',
      until: snoozeUntil,
    });
    const past = await refusal(ana.conversations.snooze({ ...id, until: h.now() - 1 }));
    expect(past.code).toBe('PRECONDITION_FAILED');
    expect(past.shape.data).toMatchObject({ domainCode: 'SNOOZE_NOT_IN_FUTURE', rule: 'CV10' });
    await ana.conversations.label({ ...id, label: ' vip ', action: 'add' });
    await ana.conversations.setPriority({ ...id, priority: 'high' });
    const withLabel = (await ana.conversations.get(id)).conversation;
    expect(withLabel).toMatchObject({ labels: ['vip'], priority: 'high' });
    await ana.conversations.label({ ...id, label: 'vip', action: 'remove' });
    expect((await ana.conversations.get(id)).conversation.labels).toEqual([]);
    await ana.conversations.note({ ...id, noteId: 'n1', text: 'Ask @ben', mentions: ['ben', 'ben'] });
    const noted = (await ana.conversations.get(id)).events.find((event) => event.type === 'NoteAdded');
    expect(noted?.data).toMatchObject({ agentId: 'ana', mentions: ['ben'] });
    expect(noted?.metadata).toEqual({ actor: { kind: 'agent', id: 'ana' } });
    const empty = await refusal(ana.conversations.note({ ...id, noteId: 'n2', text: '  ' }));
    expect(empty.code).toBe('BAD_REQUEST');
    expect(empty.shape.data).toMatchObject({ domainCode: 'NOTE_EMPTY', rule: 'CV7' });
    expect(
      (await refusal(ana.conversations.note({ ...id, noteId: 'n3', text: 'x', mentions: ['gus'] }))).code,
    ).toBe('NOT_FOUND');
  });

  it.skipIf(!enabled)('makes a retried command with the same commandId change nothing', async () => {
    const id = { conversationId: 'demo-4' };
    await ana.conversations.label({ ...id, label: 'retry', action: 'add', commandId: 'k-1' });
    await ana.conversations.label({ ...id, label: 'retry', action: 'remove' });
    const again = await ana.conversations.label({ ...id, label: 'retry', action: 'add', commandId: 'k-1' });
    expect(again.changed).toBe(true);
    expect((await ana.conversations.get(id)).conversation.labels).not.toContain('retry');
  });

  it.skipIf(!enabled)('shows agents with their load, and presence reaches the inboxes', async () => {
    const before = await ana.agents.list();
    expect(before.map((agent) => agent.id)).toEqual(['ada', 'ana', 'ben', 'chloe']);
    // The load projection follows the log, which shows a commit once every older transaction on
    // the server has ended (decision 0003): wait for it to agree with the list.
    await vi.waitFor(
      async () => {
        const loads = await ana.conversations.list({ limit: 100, filter: 'all' });
        const expected = loads.items.filter(
          (item) => item.assigneeId === 'ben' && item.status !== 'resolved',
        ).length;
        expect((await ana.agents.list()).find((agent) => agent.id === 'ben')?.load).toBe(expected);
      },
      { timeout: 20_000, interval: 50 },
    );
    await ben.agents.setPresence({ presence: 'busy' });
    expect((await ana.agents.list()).find((agent) => agent.id === 'ben')?.presence).toBe('busy');
    const [support] = await ana.boards.inboxes();
    expect(support?.members.find((member) => member.agentId === 'ben')?.presence).toBe('busy');
    await ben.agents.setPresence({ presence: 'online' });
    expect(await ana.agents.teams()).toEqual([
      { id: 'frontline', name: 'Frontline', memberIds: ['ana', 'ben'] },
    ]);
  });

  it.skipIf(!enabled)('shows workflows and boards, and moves cards within the rules', async () => {
    const [workflow] = await ana.boards.workflows();
    expect(workflow?.stages.map((stage) => stage.id)).toEqual(['new', 'working', 'waiting', 'done']);
    const board = await ana.boards.board({ workflowId: 'support' });
    expect(board.cards.map((card) => card.conversationId)).toEqual(
      expect.arrayContaining(['demo-1', 'demo-4']),
    );
    await ana.boards.moveCard({
      conversationId: 'demo-3',
      toStageId: 'working',
      orderKey: 'a0',
      targetStageCount: 0,
    });
    const moved = await ana.boards.board({ workflowId: 'support' });
    expect(moved.cards.find((card) => card.conversationId === 'demo-3')?.stageId).toBe('working');
    const full = await refusal(
      ana.boards.moveCard({
        conversationId: 'demo-4',
        toStageId: 'working',
        orderKey: 'a1',
        targetStageCount: 5,
      }),
    );
    expect(full.code).toBe('PRECONDITION_FAILED');
    expect(full.shape.data.domainCode).toBe('WIP_LIMIT_REACHED');
    await ana.boards.moveCard({
      conversationId: 'demo-4',
      toStageId: 'working',
      orderKey: 'a1',
      targetStageCount: 5,
      force: true,
    });
    expect(
      (
        await refusal(
          ana.boards.moveCard({
            conversationId: 'demo-4',
            toStageId: 'nowhere',
            orderKey: 'a2',
            targetStageCount: 0,
          }),
        )
      ).code,
    ).toBe('NOT_FOUND');
  });

  it.skipIf(!enabled)('lists templates and canned responses', async () => {
    const templates = await ana.catalog.templates();
    expect(templates.find((t) => t.name === 'order_update')).toMatchObject({ approved: true, paramCount: 2 });
    expect((await ana.catalog.cannedResponses()).map((c) => c.shortcut)).toEqual(['greet', 'thanks']);
  });

  it.skipIf(!enabled)(
    'lets admins, and only admins, manage inboxes, workflows, agents and teams',
    async () => {
      expect(
        (
          await refusal(
            ana.admin.inboxes.create({ name: 'x', channel: { platform: 'telegram', channelId: 'tg' } }),
          )
        ).code,
      ).toBe('FORBIDDEN');
      const { inboxId } = await ada.admin.inboxes.create({
        name: 'Telegram',
        channel: { platform: 'telegram', channelId: 'tg' },
      });
      await ada.admin.inboxes.addMember({ inboxId, agentId: 'chloe', capacity: 3 });
      await ada.admin.inboxes.setPolicy({ inboxId, policy: 'least-busy' });
      await ada.admin.inboxes.setWeight({ inboxId, agentId: 'chloe', weight: 2 });
      const bad = await refusal(ada.admin.inboxes.setCapacity({ inboxId, agentId: 'chloe', capacity: -1 }));
      expect(bad.shape.data).toMatchObject({
        code: 'BAD_REQUEST',
        domainCode: 'CAPACITY_INVALID',
        rule: 'AS10',
      });
      expect((await refusal(ada.admin.inboxes.addMember({ inboxId, agentId: 'chloe' }))).code).toBe(
        'CONFLICT',
      );
      // An admin sees every inbox; Ana, no member of this one, does not (decision 0015).
      expect((await ana.boards.inboxes()).map((inbox) => inbox.inboxId)).not.toContain(inboxId);
      const created = (await ada.boards.inboxes()).find((inbox) => inbox.inboxId === inboxId);
      expect(created).toMatchObject({
        policy: 'least-busy',
        members: [{ agentId: 'chloe', capacity: 3, weight: 2 }],
      });
      await ada.admin.inboxes.removeMember({ inboxId, agentId: 'chloe' });

      const definition = {
        workflowId: 'sales-demo',
        name: 'Sales',
        stages: [{ id: 'lead', name: 'Lead', wipLimit: null, entryActions: [] }],
        transitions: [],
      };
      await ada.admin.workflows.create({ definition });
      await ada.admin.workflows.revise({ definition: { ...definition, name: 'Sales 2' } });
      const invalid = await refusal(
        ada.admin.workflows.create({ definition: { ...definition, workflowId: 'empty', stages: [] } }),
      );
      expect(invalid.shape.data).toMatchObject({
        code: 'BAD_REQUEST',
        domainCode: 'WORKFLOW_INVALID',
        rule: 'WF1',
      });

      const dora = await ada.admin.people.createAgent({
        email: 'dora@demo.parley.test',
        name: 'Dora',
        password: 'a fine long password',
      });
      expect(dora.role).toBe('agent');
      const signIn = h.client(undefined, '10.9.9.9').caller;
      await signIn.auth.signIn({
        tenantId: 'demo',
        email: 'dora@demo.parley.test',
        password: 'a fine long password',
      });
      const short = await refusal(
        ada.admin.people.createAgent({ email: 'e@demo.parley.test', name: 'E', password: 'short' }),
      );
      expect(short.shape.data.domainCode).toBe('PASSWORD_TOO_SHORT');
      expect(
        (
          await refusal(
            ada.admin.people.createAgent({
              email: 'dora@demo.parley.test',
              name: 'D',
              password: 'another long one',
            }),
          )
        ).code,
      ).toBe('CONFLICT');
      const team = await ada.admin.people.createTeam({ name: 'Night shift' });
      await ada.admin.people.addTeamMember({ teamId: team.id, agentId: dora.id });
      expect((await ana.agents.teams()).find((t) => t.id === team.id)?.memberIds).toEqual([dora.id]);
    },
  );
});
