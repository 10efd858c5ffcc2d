import { createHash, randomBytes } from 'node:crypto';
import {
  DomainError,
  INVITATION_TTL_MS,
  invitationStatus,
  isTenantId,
  PeopleErrorCode,
  requireAcceptable,
  requireInvitable,
  type InvitationStatus,
  type TenantId,
} from '@parley/domain';
import type { Prisma } from '../generated/prisma/client';
import { newId, normaliseEmail, type AgentRecord, type Role } from '../auth/accounts';
import type { TenantPrisma } from '../auth/tenant-scope';
import { recordAudit } from './audit';
import { lockPeople } from './directory';

/** An invitation as the admin sees it (never its token: only its hash is stored). */
export interface InvitationView {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly status: InvitationStatus;
  readonly invitedBy: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly agentId: string | null;
}

/**
 * The secret part of an invitation link, `<tenant>.<token>`: it names the tenant (so finding the
 * invitation runs under that tenant's row-level security, as a session cookie does) and a 256-bit
 * secret of which only the SHA-256 is stored. The PWA puts it after `#` in `/invite#…`, so it never
 * reaches a server log or a Referer.
 */
export type InvitationKey = string;

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** The tenant and token hash a key names, or `INVITATION_NOT_FOUND` for anything malformed. */
export function parseInvitationKey(key: string): { readonly tenantId: TenantId; readonly tokenHash: string } {
  const at = key.indexOf('.');
  const tenantId = key.slice(0, at);
  const token = key.slice(at + 1);
  if (at <= 0 || !isTenantId(tenantId) || !TOKEN.test(token)) throw notFound();
  return { tenantId, tokenHash: hashToken(token) };
}

function notFound(): DomainError {
  return new DomainError(PeopleErrorCode.INVITATION_NOT_FOUND, 'this invitation link is not valid', {
    hint: 'copy the whole link from the message, or ask an admin for a new invitation',
  });
}

type InvitationRow = Prisma.InvitationGetPayload<object>;

function toView(row: InvitationRow, now: number): InvitationView {
  return {
    id: row.id,
    email: row.email,
    role: row.role as Role,
    status: invitationStatus(timesOf(row), now),
    invitedBy: row.invitedBy,
    createdAt: row.createdAt.getTime(),
    expiresAt: row.expiresAt.getTime(),
    agentId: row.agentId,
  };
}

function timesOf(row: InvitationRow) {
  return {
    expiresAt: row.expiresAt.getTime(),
    acceptedAt: row.acceptedAt?.getTime() ?? null,
    revokedAt: row.revokedAt?.getTime() ?? null,
  };
}

/**
 * Invites an email to the workspace with a role (PE5: not a member's, not one already invited):
 * returns the invitation and the key of its link, shown once to the admin. Recorded with its actor.
 */
export async function invite(
  tx: TenantPrisma,
  tenantId: TenantId,
  request: { readonly email: string; readonly role: Role; readonly actor: AgentRecord; readonly now: number },
): Promise<{ readonly invitation: InvitationView; readonly key: InvitationKey }> {
  const email = normaliseEmail(request.email);
  await lockPeople(tx, tenantId);
  const [agents, invitations] = await Promise.all([
    tx.agent.findMany({ where: { tenantId, email }, select: { email: true } }),
    tx.invitation.findMany({ where: { tenantId, email } }),
  ]);
  requireInvitable(
    email,
    {
      agentEmails: agents.map((agent) => agent.email),
      invitations: invitations.map((row) => ({ email: row.email, ...timesOf(row) })),
    },
    request.now,
  );
  const token = randomBytes(32).toString('base64url');
  const row = await tx.invitation.create({
    data: {
      tenantId,
      id: newId('iv'),
      email,
      role: request.role,
      tokenHash: hashToken(token),
      invitedBy: request.actor.id,
      createdAt: new Date(request.now),
      expiresAt: new Date(request.now + INVITATION_TTL_MS),
    },
  });
  await recordAudit(tx, tenantId, {
    at: request.now,
    actor: request.actor,
    action: 'agent.invited',
    subject: { type: 'invitation', id: row.id, name: email },
    details: { role: request.role, expiresAt: row.expiresAt.getTime() },
  });
  return { invitation: toView(row, request.now), key: `${tenantId}.${token}` };
}

/** The scoped tenant's invitations, newest first. */
export async function listInvitations(
  tx: TenantPrisma,
  tenantId: TenantId,
  now: number,
): Promise<InvitationView[]> {
  const rows = await tx.invitation.findMany({
    where: { tenantId },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
  });
  return rows.map((row) => toView(row, now));
}

/** Withdraws a pending invitation: its link stops working. Recorded with its actor. */
export async function revokeInvitation(
  tx: TenantPrisma,
  tenantId: TenantId,
  request: { readonly invitationId: string; readonly actor: AgentRecord; readonly now: number },
): Promise<InvitationView> {
  const row = await tx.invitation.findUnique({
    where: { tenantId_id: { tenantId, id: request.invitationId } },
  });
  if (!row) throw notFound();
  requireAcceptable(timesOf(row), request.now); // a used or expired one has nothing to withdraw
  const revoked = await tx.invitation.update({
    where: { tenantId_id: { tenantId, id: row.id } },
    data: { revokedAt: new Date(request.now) },
  });
  await recordAudit(tx, tenantId, {
    at: request.now,
    actor: request.actor,
    action: 'invitation.revoked',
    subject: { type: 'invitation', id: row.id, name: row.email },
  });
  return toView(revoked, request.now);
}

/** What the invitee sees before accepting: whose workspace, which email and role; refusals per PE4. */
export async function openInvitation(
  tx: TenantPrisma,
  tenantId: TenantId,
  tokenHash: string,
  now: number,
): Promise<{
  readonly workspace: string;
  readonly email: string;
  readonly role: Role;
  readonly expiresAt: number;
}> {
  const row = await tx.invitation.findUnique({ where: { tenantId_tokenHash: { tenantId, tokenHash } } });
  if (!row) throw notFound();
  requireAcceptable(timesOf(row), now);
  const tenant = await tx.tenant.findUnique({ where: { id: tenantId }, select: { name: true } });
  return {
    workspace: tenant?.name ?? tenantId,
    email: row.email,
    role: row.role as Role,
    expiresAt: row.expiresAt.getTime(),
  };
}

/**
 * Accepts an invitation once (PE4): creates the agent with the name and the password hash given and
 * marks the invitation used, in one transaction, so a second use, or two at once, finds it used.
 * Recorded with the new agent as its actor.
 */
export async function acceptInvitation(
  tx: TenantPrisma,
  tenantId: TenantId,
  request: {
    readonly tokenHash: string;
    readonly name: string;
    readonly passwordHash: string;
    readonly now: number;
  },
): Promise<AgentRecord> {
  await lockPeople(tx, tenantId);
  const row = await tx.invitation.findUnique({
    where: { tenantId_tokenHash: { tenantId, tokenHash: request.tokenHash } },
  });
  if (!row) throw notFound();
  requireAcceptable(timesOf(row), request.now);
  const taken = await tx.agent.findFirst({ where: { tenantId, email: row.email }, select: { id: true } });
  if (taken) {
    throw new DomainError(
      PeopleErrorCode.AGENT_ALREADY_EXISTS,
      `someone with ${row.email} is already a member of this workspace`,
      {
        rule: 'PE5',
        hint: 'sign in instead',
      },
    );
  }
  const agent = await tx.agent.create({
    data: {
      tenantId,
      id: newId('ag'),
      email: row.email,
      name: request.name.trim(),
      role: row.role,
      passwordHash: request.passwordHash,
      presence: 'offline',
      createdAt: new Date(request.now),
      updatedAt: new Date(request.now),
    },
  });
  await tx.invitation.update({
    where: { tenantId_id: { tenantId, id: row.id } },
    data: { acceptedAt: new Date(request.now), agentId: agent.id },
  });
  await recordAudit(tx, tenantId, {
    at: request.now,
    actor: { id: agent.id, name: agent.name },
    action: 'invitation.accepted',
    subject: { type: 'agent', id: agent.id, name: agent.name },
    details: { invitationId: row.id, role: row.role, invitedBy: row.invitedBy },
  });
  return {
    tenantId,
    id: agent.id,
    email: agent.email,
    name: agent.name,
    role: agent.role as Role,
    presence: 'offline',
    active: true,
  };
}
