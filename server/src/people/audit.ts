import type { JsonObject, TenantId } from '@parley/domain';
import { newId, type AgentRecord } from '../auth/accounts';
import type { TenantPrisma } from '../auth/tenant-scope';

/** What an audit entry says was done. */
export type AuditAction =
  | 'agent.invited'
  | 'invitation.revoked'
  | 'invitation.accepted'
  | 'agent.role-changed'
  | 'agent.deactivated'
  | 'agent.reactivated';

/** One line of the audit view: who did what to whom, when. */
export interface AuditView {
  readonly id: string;
  readonly at: number;
  readonly actor: { readonly id: string; readonly name: string };
  readonly action: AuditAction;
  readonly subject: { readonly type: string; readonly id: string; readonly name: string };
  readonly details: JsonObject;
}

/** Records a change with its actor, in the transaction that makes the change. */
export async function recordAudit(
  tx: TenantPrisma,
  tenantId: TenantId,
  entry: {
    readonly at: number;
    readonly actor: Pick<AgentRecord, 'id' | 'name'>;
    readonly action: AuditAction;
    readonly subject: { readonly type: 'agent' | 'invitation'; readonly id: string; readonly name: string };
    readonly details?: JsonObject;
  },
): Promise<void> {
  await tx.auditEntry.create({
    data: {
      tenantId,
      id: newId('au'),
      at: new Date(entry.at),
      actorId: entry.actor.id,
      actorName: entry.actor.name,
      action: entry.action,
      subjectType: entry.subject.type,
      subjectId: entry.subject.id,
      subjectName: entry.subject.name,
      details: entry.details ?? {},
    },
  });
}

/** The tenant's newest audit entries first (at most `limit`, before `before` when given). */
export async function listAudit(
  tx: TenantPrisma,
  options: { readonly limit: number; readonly before?: number | undefined },
): Promise<AuditView[]> {
  const rows = await tx.auditEntry.findMany({
    where: options.before === undefined ? {} : { at: { lt: new Date(options.before) } },
    orderBy: [{ at: 'desc' }, { id: 'desc' }],
    take: options.limit,
  });
  return rows.map((row) => ({
    id: row.id,
    at: row.at.getTime(),
    actor: { id: row.actorId, name: row.actorName },
    action: row.action as AuditAction,
    subject: { type: row.subjectType, id: row.subjectId, name: row.subjectName },
    details: row.details as JsonObject,
  }));
}
