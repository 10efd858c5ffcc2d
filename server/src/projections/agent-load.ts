import type { TenantId } from '@parley/domain';
import { applyConversationEvent, isConversationEvent } from './conversation-events';
import type { ConversationSummary } from './conversation-events';
import type { Projection } from './projection';

/** Unresolved conversations per agent, per tenant. */
export interface AgentLoadState {
  /** By `<tenant>/<stream>`: what each conversation last counted towards. */
  readonly conversations: Map<string, ConversationSummary>;
  /** Unresolved assigned conversations by tenant, then by agent; an agent with none has no entry. */
  readonly load: Map<TenantId, Map<string, number>>;
}

/**
 * Agent load: per tenant, how many conversations each agent is assigned that are not resolved
 * (open, pending or snoozed all count: the agent still owns them). Tenants never share counts,
 * even for agents with the same id.
 */
export const agentLoadProjection: Projection<AgentLoadState> = {
  name: 'agent-load',
  initialState: () => ({ conversations: new Map(), load: new Map() }),
  apply(state, event) {
    if (!isConversationEvent(event)) return;
    const key = `${event.tenantId}/${event.streamId}`;
    const before = state.conversations.get(key);
    const after = applyConversationEvent(before, event);
    if (!after) return;
    state.conversations.set(key, after);
    const was = countedAgent(before);
    const now = countedAgent(after);
    if (was === now) return;
    if (was !== null) adjust(state, after.tenantId, was, -1);
    if (now !== null) adjust(state, after.tenantId, now, +1);
  },
};

/** One tenant's agents and how many unresolved conversations each is assigned. */
export function agentLoad(state: AgentLoadState, tenantId: TenantId): ReadonlyMap<string, number> {
  return state.load.get(tenantId) ?? new Map<string, number>();
}

function countedAgent(summary: ConversationSummary | undefined): string | null {
  return summary && summary.status !== 'resolved' ? summary.assigneeId : null;
}

function adjust(state: AgentLoadState, tenantId: TenantId, agentId: string, delta: number): void {
  const agents = state.load.get(tenantId) ?? new Map<string, number>();
  const count = (agents.get(agentId) ?? 0) + delta;
  // Zero entries are removed, so a rebuilt model equals a live one however it got there.
  if (count === 0) agents.delete(agentId);
  else agents.set(agentId, count);
  if (agents.size === 0) state.load.delete(tenantId);
  else state.load.set(tenantId, agents);
}
