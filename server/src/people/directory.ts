import { DomainError, requireAnAdminRemains, type TenantId } from '@parley/domain';
import { AccountErrorCode, type AgentRecord, type Presence, type Role } from '../auth/accounts';
import type { TenantPrisma } from '../auth/tenant-scope';
import { recordAudit } from './audit';

/** Someone of the workspace as the People screen shows them. */
export interface PersonView extends Omit<AgentRecord, 'tenantId'> {
  readonly deactivatedAt: number | null;
  readonly createdAt: number;
}

/**
 * One change at a time per tenant: the last-admin rule (PE2) reads every admin and then writes, so
 * two admins demoting each other at once must not both pass. A transaction-scoped advisory lock is
 * the one thing here Prisma's models cannot say.
 */
export async function lockPeople(tx: TenantPrisma, tenantId: TenantId): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`parley.people:${tenantId}`}))`;
}

/** Everyone of the scoped tenant, active first, then by name. */
export async function listPeople(tx: TenantPrisma, tenantId: TenantId): Promise<PersonView[]> {
  const rows = await tx.agent.findMany({
    where: { tenantId },
    select: {
      id: true,
      email: true,
      name: true,
      role: true,
      presence: true,
      deactivatedAt: true,
      createdAt: true,
    },
    orderBy: [{ name: 'asc' }, { id: 'asc' }],
  });
  return rows
    .map((row) => ({
      id: row.id,
      email: row.email,
      name: row.name,
      role: row.role as Role,
      presence: row.presence as Presence,
      active: row.deactivatedAt === null,
      deactivatedAt: row.deactivatedAt?.getTime() ?? null,
      createdAt: row.createdAt.getTime(),
    }))
    .sort((a, b) => Number(b.active) - Number(a.active));
}

async function standings(tx: TenantPrisma, tenantId: TenantId, agentId: string) {
  const people = await tx.agent.findMany({
    where: { tenantId },
    select: { id: true, name: true, role: true, deactivatedAt: true },
  });
  const target = people.find((person) => person.id === agentId);
  if (!target) throw new DomainError(AccountErrorCode.AGENT_NOT_FOUND, `there is no agent ${agentId}`);
  return {
    target,
    standing: people.map((person) => ({
      id: person.id,
      role: person.role as Role,
      active: person.deactivatedAt === null,
    })),
  };
}

/** What a change did: `changed` is false when the person already was so (nothing recorded). */
export interface PersonChange {
  readonly agentId: string;
  readonly changed: boolean;
}

/** Gives someone another role, keeping an active admin (PE2); recorded with its actor. */
export async function changeRole(
  tx: TenantPrisma,
  tenantId: TenantId,
  change: { readonly agentId: string; readonly role: Role; readonly actor: AgentRecord; readonly at: number },
): Promise<PersonChange> {
  await lockPeople(tx, tenantId);
  const { target, standing } = await standings(tx, tenantId, change.agentId);
  if (target.role === change.role) return { agentId: target.id, changed: false };
  requireAnAdminRemains(standing, { agentId: target.id, role: change.role });
  await tx.agent.update({
    where: { tenantId_id: { tenantId, id: target.id } },
    data: { role: change.role, updatedAt: new Date(change.at) },
  });
  await recordAudit(tx, tenantId, {
    at: change.at,
    actor: change.actor,
    action: 'agent.role-changed',
    subject: { type: 'agent', id: target.id, name: target.name },
    details: { from: target.role, to: change.role },
  });
  return { agentId: target.id, changed: true };
}

/**
 * Deactivates someone, keeping an active admin (PE2): they are offline, their sessions end in the
 * same transaction, and their row stays so history keeps their name. Or reactivates them (offline,
 * until they sign in and say otherwise). Recorded with its actor.
 */
export async function setActive(
  tx: TenantPrisma,
  tenantId: TenantId,
  change: {
    readonly agentId: string;
    readonly active: boolean;
    readonly actor: AgentRecord;
    readonly at: number;
  },
): Promise<PersonChange & { readonly sessionsEnded: number }> {
  await lockPeople(tx, tenantId);
  const { target, standing } = await standings(tx, tenantId, change.agentId);
  if ((target.deactivatedAt === null) === change.active) {
    return { agentId: target.id, changed: false, sessionsEnded: 0 };
  }
  if (!change.active) requireAnAdminRemains(standing, { agentId: target.id, active: false });
  await tx.agent.update({
    where: { tenantId_id: { tenantId, id: target.id } },
    data: {
      deactivatedAt: change.active ? null : new Date(change.at),
      presence: 'offline',
      updatedAt: new Date(change.at),
    },
  });
  const ended = change.active
    ? { count: 0 }
    : await tx.session.deleteMany({ where: { tenantId, agentId: target.id } });
  await recordAudit(tx, tenantId, {
    at: change.at,
    actor: change.actor,
    action: change.active ? 'agent.reactivated' : 'agent.deactivated',
    subject: { type: 'agent', id: target.id, name: target.name },
    details: change.active ? {} : { sessionsEnded: ended.count },
  });
  return { agentId: target.id, changed: true, sessionsEnded: ended.count };
}
