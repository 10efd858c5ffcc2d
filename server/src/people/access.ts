import { StreamCategory, type JsonObject, type TenantId } from '@parley/domain';
import type { Presence } from '../auth/accounts';
import type { SignalChannel } from '../broadcast';
import { aggregateIds } from '../api/tenant-streams';
import type { Services } from '../services';

/** The signal that an agent's access changed (deactivated): their open streams and sockets ask again now. */
const ACCESS_CHANGED = 'agent-access-changed';

/** Tells every node that the agent's sessions ended or their role changed (decision 0035). */
export function signalAccessChanged(signals: SignalChannel, tenantId: TenantId, agentId: string): void {
  signals.signal({ kind: 'tenant', tenantId }, { type: ACCESS_CHANGED, agentId });
}

/** Calls `onChange` when the agent's access changes; returns the function that stops listening. */
export function onAccessChanged(
  signals: SignalChannel,
  tenantId: TenantId,
  agentId: string,
  onChange: () => void,
): () => void {
  return signals.listen([{ kind: 'tenant', tenantId }], (_topic, message) => {
    if (message.type === ACCESS_CHANGED && message.agentId === agentId) onChange();
  });
}

/** Calls `onChange(tenantId, agentId)` for every agent whose access changes, in every tenant. */
export function onAnyAccessChanged(
  signals: SignalChannel,
  onChange: (tenantId: TenantId, agentId: string) => void,
): () => void {
  return signals.listen('all', (topic, message) => {
    if (message.type === ACCESS_CHANGED && typeof message.agentId === 'string')
      onChange(topic.tenantId, message.agentId);
  });
}

/**
 * Sets the agent's presence in every inbox they are a member of, where assignment reads it (AS1):
 * what they say themselves, or offline when they are deactivated.
 */
export async function spreadPresence(
  services: Pick<Services, 'db' | 'grains'>,
  tenantId: TenantId,
  agentId: string,
  presence: Presence,
  options: { readonly at: number; readonly metadata: JsonObject },
): Promise<void> {
  for (const inboxId of await aggregateIds(services.db.sql, tenantId, StreamCategory.inbox)) {
    const inbox = services.grains.inbox(tenantId, inboxId);
    const { state } = await inbox.read();
    if (!state?.members.some((member) => member.agentId === agentId)) continue;
    await inbox.ask(
      { type: 'SetPresence', data: { agentId, presence, at: options.at } },
      { metadata: options.metadata },
    );
  }
}
