import { boardPermission, type BoardPermission, type TenantId } from '@parley/domain';
import type { AgentRecord } from '../auth/accounts';
import type { Services } from '../services';

/**
 * The agent's permission on a board (rules BA1/BA2), or null when the tenant has no board of that
 * id or the board is not the agent's to see. A board is a workflow, fed by the inbox of the same id. The one check behind the board
 * socket (at the upgrade and at every recheck) and the API's card moves (BA3).
 */
export async function boardPermissionOf(
  grains: Pick<Services['grains'], 'workflow' | 'inbox'>,
  tenantId: TenantId,
  agent: Pick<AgentRecord, 'id' | 'role'>,
  boardId: string,
): Promise<BoardPermission | null> {
  const workflow = await grains.workflow(tenantId, boardId).read();
  if (workflow.state === null) return null;
  const inbox = await grains.inbox(tenantId, boardId).read();
  // BA2 / 0015: the board of an inbox the agent does not work in does not exist for them (404).
  const access = boardPermission({
    role: agent.role,
    agentId: agent.id,
    inboxMembers: inbox.state?.members.map((member) => member.agentId) ?? null,
  });
  return access === 'none' ? null : access;
}
