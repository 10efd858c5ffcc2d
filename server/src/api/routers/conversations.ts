import { z } from 'zod';
import {
  DomainError,
  isDomainError,
  requireActive,
  ConversationErrorCode,
  InboxErrorCode,
  streamFor,
  StreamCategory,
  LIST_SORTS,
  type ConversationCommand,
  type TenantId,
} from '@parley/domain';
import { AccountErrorCode, listAgents, requireAgent, requireTeam } from '../../auth/accounts';
import { inboxScope, requireConversationInScope, type InboxScope } from '../../auth/inbox-scope';
import type { InboxListState } from '../../projections/inbox-list';
import { withTenant } from '../../auth/tenant-scope';
import { toSyncEvent } from '../../sync/events';
import {
  MAX_COMMAND_BATCH,
  MAX_REPLY_BATCH,
  sendCommandBatch,
  sendReply,
  sendReplyBatch,
} from '../../commands/client-commands';
import { tenantCursors } from '../../sync/cursor';
import { searchConversations } from '../../search/search';
import { createSealedSnapshotStore } from '../../crypto/sealed-snapshots';
import { conversationGrain } from '../../grains';
import { stateAt } from '../../history/time-travel';
import { listConversations } from '../conversation-list';
import {
  agentText,
  clientCommand,
  commandId,
  conversationStatus,
  epochMs,
  id,
  label,
  replyContent,
} from '../schemas';
import { authedProcedure, router, type AuthedContext as Authed } from '../trpc';
import { actorMetadata, commandResult, conversationView, timelineView } from '../views';

/** The inboxes the signed-in agent works in (decision 0015): an agent's other conversations are NOT_FOUND. */
const scopeOf = (ctx: Authed) => inboxScope(ctx.services, ctx.tenantId, ctx.agent);

/** Sends one command to a conversation as the signed-in agent; a repeated `commandId` changes nothing. */
async function ask(ctx: Authed, conversationId: string, command: ConversationCommand, key?: string) {
  await requireConversationInScope(scopeOf(ctx), conversationId);
  const result = await ctx.services.grains.conversation(ctx.tenantId, conversationId).ask(command, {
    metadata: actorMetadata(ctx.agent),
    ...(key === undefined ? {} : { idempotencyKey: `${ctx.agent.id}:${key}` }),
  });
  return commandResult(result);
}

const target = { conversationId: id, commandId };
const now = (ctx: Authed) => ctx.auth.clock();

/** One numbered reply of the outbox, alone (`reply`) or in a batch (`replyBatch`). */
const numberedReply = {
  conversationId: id,
  sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  clientMessageId: id,
  content: replyContent,
  tag: z.literal('HUMAN_AGENT').nullable().default(null),
};

/** Who sends a reply, and when, as the reply path records it. */
const replier = (ctx: Authed) => ({
  tenantId: ctx.tenantId,
  agentId: ctx.agent.id,
  now: now(ctx),
  metadata: actorMetadata(ctx.agent),
  inScope: (conversationId: string) => scopeOf(ctx).hasConversation(conversationId),
});

/** The inbox list, one conversation, and the commands agents give conversations. */
export const conversationsRouter = router({
  /** The inbox list: filtered by whose, team, status, inbox and contact; in the asked order (LS1); paged. */
  list: authedProcedure
    .input(
      z
        .object({
          filter: z.enum(['mine', 'unassigned', 'team', 'all']).default('all'),
          teamId: id.optional(),
          inboxId: id.optional(),
          status: conversationStatus.optional(),
          search: agentText(100).trim().optional(),
          sort: z.enum(LIST_SORTS).default('newest'),
          cursor: z.string().max(500).nullish(),
          limit: z.number().int().min(1).max(100).default(50),
        })
        .refine((input) => input.filter !== 'team' || input.teamId !== undefined, {
          message: 'the team filter needs a teamId',
          path: ['teamId'],
        }),
    )
    .query(async ({ ctx, input }) => {
      const { services, tenantId } = ctx;
      const scope = scopeOf(ctx);
      if (input.inboxId !== undefined) await requireInbox(ctx, scope, input.inboxId);
      const team =
        input.filter === 'team' && input.teamId !== undefined
          ? await withTenant(services.db.sql, tenantId, (tx) => requireTeam(tx, input.teamId!))
          : undefined;
      // Read-your-writes: fold in whatever committed before this query.
      await services.projections.inboxList.catchUp();
      const state = services.projections.inboxList.state;
      return listConversations(state, tenantId, input, {
        agentId: ctx.agent.id,
        ...(team ? { teamMemberIds: new Set(team.memberIds) } : {}),
        ...(scope.all ? {} : { inboxIds: await inboxesIn(scope, state, tenantId) }),
      });
    }),

  /**
   * Searches the agent's conversations (decision 0025): contacts by name, handle or phone number in
   * any format, and the words of messages, replies and notes, with the matched words marked.
   */
  search: authedProcedure
    .input(
      z.object({
        query: agentText(100).trim().min(1, 'type something to search for'),
        inboxId: id.optional(),
        limit: z.number().int().min(1).max(50).default(20),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { services, tenantId } = ctx;
      const scope = scopeOf(ctx);
      if (input.inboxId !== undefined) await requireInbox(ctx, scope, input.inboxId);
      await services.projections.inboxList.catchUp();
      await services.search.settled();
      const state = services.projections.inboxList.state;
      return searchConversations({ db: services.db, store: services.store, state }, tenantId, input, {
        agentId: ctx.agent.id,
        ...(scope.all ? {} : { inboxIds: await inboxesIn(scope, state, tenantId) }),
      });
    }),

  /** One conversation: its state and its events (after `afterVersion`, at most 500 per call). */
  get: authedProcedure
    .input(z.object({ conversationId: id, afterVersion: z.number().int().min(0).default(0) }))
    .query(async ({ ctx, input }) => {
      const { services, tenantId } = ctx;
      const view = await services.grains.conversation(tenantId, input.conversationId).read();
      if (view.state === null) {
        throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
      }
      await requireConversationInScope(scopeOf(ctx), input.conversationId);
      const streamId = streamFor(StreamCategory.conversation, input.conversationId);
      const events = await services.store.readStream(tenantId, streamId, {
        fromVersion: input.afterVersion + 1,
        limit: 500,
      });
      const cursors = await tenantCursors(services.db, tenantId);
      return {
        conversation: conversationView(view.state, view.version),
        events: events.map((event) => toSyncEvent(cursors, event)),
      };
    }),

  /**
   * One conversation's messages, replies and notes in timeline order (rule CV14): a customer
   * message at the platform's timestamp however its webhook arrived, ours at their own time.
   * `get` gives the same events in log (arrival) order.
   */
  timeline: authedProcedure.input(z.object({ conversationId: id })).query(async ({ ctx, input }) => {
    const { services, tenantId } = ctx;
    const view = await services.grains.conversation(tenantId, input.conversationId).read();
    if (view.state === null) {
      throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
    }
    await requireConversationInScope(scopeOf(ctx), input.conversationId);
    const streamId = streamFor(StreamCategory.conversation, input.conversationId);
    // Up to the version the state was read at, so the items and their reply statuses agree.
    const events = await services.store.readStream(tenantId, streamId, { limit: view.version });
    return timelineView(view.state, view.version, events);
  }),

  /**
   * The conversation as it was at a time (ISO 8601) or a version (issue #16, decision 0032): its
   * state folded with the domain's `evolve` from its events up to then (from its snapshot when that
   * lies at or below), archived days included, each of those events' type, version, time and
   * actor, and its timeline then (rule CV14). `conversation` is null at a point before it started;
   * an erased contact's fields and messages read "[erased]" at every point.
   */
  at: authedProcedure
    .input(
      z.object({
        conversationId: id,
        at: z.union([
          z.iso.datetime({ offset: true }),
          z.object({ version: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }),
        ]),
      }),
    )
    .query(async ({ ctx, input }) => {
      const { services, tenantId } = ctx;
      const view = await services.grains.conversation(tenantId, input.conversationId).read();
      if (view.state === null) {
        throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
      }
      await requireConversationInScope(scopeOf(ctx), input.conversationId);
      const past = await stateAt(
        { store: services.store, snapshots: createSealedSnapshotStore(services.db, services.keys) },
        conversationGrain,
        tenantId,
        streamFor(StreamCategory.conversation, input.conversationId),
        typeof input.at === 'string' ? { time: Date.parse(input.at) } : input.at,
      );
      return {
        conversation: past.state === null ? null : conversationView(past.state, past.version),
        version: past.version,
        fromSnapshot: past.fromSnapshot,
        events: past.events,
        timeline: past.state === null ? [] : timelineView(past.state, past.version, past.recorded).items,
      };
    }),

  /**
   * Queues a reply from the PWA's outbox. `clientId` and `sequence` number the client's replies:
   * see docs/sync-protocol.md for the answers (accepted, refused, out-of-order) and what to do.
   */
  reply: authedProcedure
    .input(z.object({ clientId: id, ...numberedReply }))
    .mutation(({ ctx, input }) => sendReply(ctx.services, { ...input, ...replier(ctx) })),

  /**
   * Queues a run of the outbox's replies (at most `MAX_REPLY_BATCH`, sequence numbers increasing),
   * each with the same rules and answer as `reply`, in order; the answers stop at the first
   * out-of-order answer or error (docs/sync-protocol.md, "Replies").
   */
  replyBatch: authedProcedure
    .input(
      z.object({
        clientId: id,
        replies: z
          .array(z.object(numberedReply))
          .min(1)
          .max(MAX_REPLY_BATCH, `a batch carries at most ${MAX_REPLY_BATCH} replies`)
          .refine(
            (replies) => replies.every((reply, i) => i === 0 || reply.sequence > replies[i - 1]!.sequence),
            {
              message: 'the sequence numbers of a batch must increase',
            },
          ),
      }),
    )
    .mutation(({ ctx, input }) =>
      sendReplyBatch(ctx.services, { ...input, ...replier(ctx) }, (error, reply) => {
        // The client resends this reply first in its next request, where the error reaches it.
        ctx.services.logger.warn({ err: error, sequence: reply.sequence }, 'a reply batch stopped early');
      }),
    ),

  /**
   * Applies a run of the device's numbered commands (issue #14; at most `MAX_COMMAND_BATCH`,
   * sequence numbers increasing): one ledger per client for every kind of command, each decided by
   * the domain and committed with its ledger entry, exactly once. The answers (accepted, refused
   * with the rule and a next step, out-of-order) stop at the first out-of-order answer or error
   * (docs/sync-protocol.md, "Commands").
   */
  commandBatch: authedProcedure
    .input(
      z.object({
        clientId: id,
        commands: z
          .array(
            z.object({
              sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
              conversationId: id,
              command: clientCommand,
            }),
          )
          .min(1)
          .max(MAX_COMMAND_BATCH, `a batch carries at most ${MAX_COMMAND_BATCH} commands`)
          .refine((commands) => commands.every((c, i) => i === 0 || c.sequence > commands[i - 1]!.sequence), {
            message: 'the sequence numbers of a batch must increase',
          }),
      }),
    )
    .mutation(({ ctx, input }) =>
      sendCommandBatch(
        ctx.services,
        { ...replier(ctx), clientId: input.clientId },
        input.commands,
        (error, command) => {
          // The client resends this command first in its next request, where the error reaches it.
          ctx.services.logger.warn(
            { err: error, sequence: command.sequence },
            'a command batch stopped early',
          );
        },
      ),
    ),

  /**
   * Assigns the conversation to an agent of this tenant, or unassigns it (`agentId: null`). The
   * inbox hears it too (a manual assignment, rule AS9, or a release), so its agents' loads stay right.
   */
  assign: authedProcedure
    .input(z.object({ ...target, agentId: id.nullable() }))
    .mutation(async ({ ctx, input }) => {
      const { services, tenantId } = ctx;
      const at = now(ctx);
      const { state } = await services.grains.conversation(tenantId, input.conversationId).read();
      if (state === null) {
        throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
      }
      await requireConversationInScope(scopeOf(ctx), input.conversationId);
      const agent =
        input.agentId === null
          ? null
          : await withTenant(services.db.sql, tenantId, (tx) => requireAgent(tx, input.agentId!));
      if (agent) requireActive(agent); // PE6
      const inbox = services.grains.inbox(tenantId, state.inboxId);
      const conversationId = input.conversationId;
      await inbox
        .ask(
          agent
            ? { type: 'AssignManually', data: { conversationId, agentId: agent.id, at } }
            : { type: 'ReleaseConversation', data: { conversationId, at } },
          { metadata: actorMetadata(ctx.agent) },
        )
        .catch((error: unknown) => {
          // An agent outside the inbox's pool (or an inbox without an aggregate) can still be assigned:
          // the inbox only counts the conversations it assigns.
          const code = isDomainError(error) ? error.code : undefined;
          if (code !== InboxErrorCode.MEMBER_NOT_FOUND && code !== InboxErrorCode.INBOX_NOT_FOUND)
            throw error;
        });
      return ask(
        ctx,
        conversationId,
        agent
          ? { type: 'AssignConversation', data: { agentId: agent.id, at } }
          : { type: 'UnassignConversation', data: { at } },
        input.commandId,
      );
    }),

  /** Marks the conversation resolved, ending its cycle. */
  resolve: authedProcedure
    .input(z.object(target))
    .mutation(({ ctx, input }) =>
      ask(
        ctx,
        input.conversationId,
        { type: 'SetStatus', data: { status: 'resolved', at: now(ctx) } },
        input.commandId,
      ),
    ),

  /** Opens the conversation again (from resolved, pending or snoozed). */
  reopen: authedProcedure
    .input(z.object(target))
    .mutation(({ ctx, input }) =>
      ask(
        ctx,
        input.conversationId,
        { type: 'SetStatus', data: { status: 'open', at: now(ctx) } },
        input.commandId,
      ),
    ),

  /** Snoozes the conversation until a later time; a customer message wakes it earlier. */
  snooze: authedProcedure
    .input(z.object({ ...target, until: epochMs }))
    .mutation(({ ctx, input }) =>
      ask(
        ctx,
        input.conversationId,
        { type: 'SnoozeConversation', data: { until: input.until, now: now(ctx) } },
        input.commandId,
      ),
    ),

  /** Adds or removes a label. */
  label: authedProcedure
    .input(z.object({ ...target, label, action: z.enum(['add', 'remove']) }))
    .mutation(({ ctx, input }) =>
      ask(
        ctx,
        input.conversationId,
        {
          type: input.action === 'add' ? 'AddLabel' : 'RemoveLabel',
          data: { label: input.label, at: now(ctx) },
        },
        input.commandId,
      ),
    ),

  /** Sets the priority. */
  setPriority: authedProcedure
    .input(z.object({ ...target, priority: z.enum(['none', 'low', 'medium', 'high', 'urgent']) }))
    .mutation(({ ctx, input }) =>
      ask(
        ctx,
        input.conversationId,
        { type: 'SetPriority', data: { priority: input.priority, at: now(ctx) } },
        input.commandId,
      ),
    ),

  /** Adds a private note; `noteId` (client-made) makes a resend harmless; mentions name agents. */
  note: authedProcedure
    .input(
      z.object({
        conversationId: id,
        noteId: id,
        text: agentText(10_000),
        mentions: z.array(id).max(50).default([]),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      if (input.mentions.length > 0) {
        const agents = await withTenant(ctx.services.db.sql, ctx.tenantId, listAgents);
        const known = new Set(agents.map((agent) => agent.id));
        const unknown = input.mentions.find((mention) => !known.has(mention));
        if (unknown !== undefined) {
          throw new DomainError(AccountErrorCode.AGENT_NOT_FOUND, `there is no agent ${unknown} to mention`);
        }
      }
      return ask(ctx, input.conversationId, {
        type: 'AddNote',
        data: {
          noteId: input.noteId,
          agentId: ctx.agent.id,
          text: input.text,
          mentions: input.mentions,
          at: now(ctx),
        },
      });
    }),
});

/** An inbox of this tenant that the agent works in (0015); any other is one that does not exist. */
async function requireInbox(ctx: Authed, scope: InboxScope, inboxId: string): Promise<void> {
  const inbox = await ctx.services.grains.inbox(ctx.tenantId, inboxId).read();
  if (inbox.state === null || !(await scope.hasInbox(inboxId))) {
    throw new DomainError(InboxErrorCode.INBOX_NOT_FOUND, `there is no inbox ${inboxId}`);
  }
}

/** The tenant's inboxes (those the inbox list knows) that the agent works in. */
async function inboxesIn(
  scope: InboxScope,
  state: InboxListState,
  tenantId: TenantId,
): Promise<ReadonlySet<string>> {
  const prefix = `${tenantId}/`;
  const mine = new Set<string>();
  for (const key of state.inboxes.keys()) {
    if (!key.startsWith(prefix)) continue;
    const inboxId = key.slice(prefix.length);
    if (await scope.hasInbox(inboxId)) mine.add(inboxId);
  }
  return mine;
}
