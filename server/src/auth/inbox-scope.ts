import {
  DomainError,
  ConversationErrorCode,
  seesAllInboxes,
  StreamCategory,
  streamCategory,
  streamEntityId,
  type RecordedEvent,
  type TenantId,
} from '@parley/domain';
import type { Services } from '../services';
import type { AgentRecord } from './accounts';

/** What the inbox scope reads: the inbox and conversation grains, and the inbox list's summaries. */
export type ScopeSources = Pick<Services, 'grains'> & {
  readonly projections?: Pick<Services['projections'], 'inboxList'>;
};

/**
 * The inboxes a signed-in agent works in (docs/decisions/0015-agents-scoped-to-their-inboxes.md):
 * an admin works in every inbox of their tenant, an agent only in the inboxes they are a member
 * of. A conversation belongs to the inbox it started in (it never moves); a card to its
 * conversation's inbox; a workflow (a board) to the inbox of the same id, the engine's default, or
 * to nobody when no inbox has its id. Answers are remembered for the life of the scope (one
 * request, or one live stream, which forgets an inbox when its members change).
 */
export interface InboxScope {
  /** True for an admin: nothing is filtered. */
  readonly all: boolean;
  /** The agent works in this inbox. */
  hasInbox(inboxId: string): Promise<boolean>;
  /** The conversation exists in this tenant and the agent works in its inbox. */
  hasConversation(conversationId: string): Promise<boolean>;
  /** The workflow's board is one the agent may see: its inbox's, or a board no inbox feeds. */
  hasWorkflow(workflowId: string): Promise<boolean>;
  /** Whether a synced event of this tenant may reach the agent. */
  shows(event: RecordedEvent): Promise<boolean>;
  /** Forgets what it knew of an inbox (its members changed). */
  forgetInbox(inboxId: string): void;
}

const everything: InboxScope = {
  all: true,
  hasInbox: () => Promise.resolve(true),
  hasConversation: () => Promise.resolve(true),
  hasWorkflow: () => Promise.resolve(true),
  shows: () => Promise.resolve(true),
  forgetInbox: () => undefined,
};

/** The scope of one signed-in agent of a tenant. */
export function inboxScope(
  sources: ScopeSources,
  tenantId: TenantId,
  agent: Pick<AgentRecord, 'id' | 'role'>,
): InboxScope {
  if (seesAllInboxes(agent.role)) return everything; // admins and supervisors (PE1)
  const { grains } = sources;
  /** Inbox id -> its members (null: no such inbox). */
  const inboxes = new Map<string, Promise<ReadonlySet<string> | null>>();
  /** Conversation id -> its inbox (null: no such conversation). */
  const conversations = new Map<string, Promise<string | null>>();

  const membersOf = (inboxId: string) => {
    let members = inboxes.get(inboxId);
    if (!members) {
      members = grains
        .inbox(tenantId, inboxId)
        .read()
        .then(({ state }) => (state ? new Set(state.members.map((member) => member.agentId)) : null));
      members.catch(() => inboxes.delete(inboxId));
      inboxes.set(inboxId, members);
    }
    return members;
  };
  const inboxOf = (conversationId: string) => {
    let inbox = conversations.get(conversationId);
    if (!inbox) {
      // The inbox list holds every conversation's inbox in memory; a conversation it has not
      // folded yet (just started) is read from its grain.
      const summary = sources.projections?.inboxList.state.conversations.get(
        `${tenantId}/${StreamCategory.conversation}-${conversationId}`,
      );
      inbox = summary
        ? Promise.resolve(summary.inboxId)
        : grains
            .conversation(tenantId, conversationId)
            .read()
            .then(({ state }) => state?.inboxId ?? null);
      inbox.catch(() => conversations.delete(conversationId));
      conversations.set(conversationId, inbox);
    }
    return inbox;
  };
  const scope: InboxScope = {
    all: false,
    async hasInbox(inboxId) {
      return (await membersOf(inboxId))?.has(agent.id) ?? false;
    },
    async hasConversation(conversationId) {
      const inboxId = await inboxOf(conversationId);
      return inboxId !== null && (await scope.hasInbox(inboxId));
    },
    async hasWorkflow(workflowId) {
      const members = await membersOf(workflowId);
      return members === null || members.has(agent.id);
    },
    async shows(event) {
      const id = streamEntityId(event.streamId);
      switch (streamCategory(event.streamId)) {
        case StreamCategory.conversation:
          if (
            event.type === 'ConversationStarted' &&
            typeof event.data.inboxId === 'string' &&
            !conversations.has(id)
          ) {
            conversations.set(id, Promise.resolve(event.data.inboxId));
          }
          return scope.hasConversation(id);
        case StreamCategory.card:
          return scope.hasConversation(id);
        case StreamCategory.inbox:
          return scope.hasInbox(id);
        case StreamCategory.workflow:
          return scope.hasWorkflow(id);
        default:
          return false;
      }
    },
    forgetInbox(inboxId) {
      inboxes.delete(inboxId);
    },
  };
  return scope;
}

/** NOT_FOUND, as for a conversation that does not exist, when the agent does not work in its inbox. */
export async function requireConversationInScope(scope: InboxScope, conversationId: string): Promise<void> {
  if (scope.all || (await scope.hasConversation(conversationId))) return;
  throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
}

/** True for an inbox event that adds this agent to an inbox or removes them from one. */
export function changesMembershipOf(event: RecordedEvent, agentId: string): boolean {
  return (
    streamCategory(event.streamId) === StreamCategory.inbox &&
    (event.type === 'MemberAdded' || event.type === 'MemberRemoved') &&
    event.data.agentId === agentId
  );
}
