import { randomBytes } from 'node:crypto';
import {
  DomainError,
  type Presence as DomainPresence,
  type Role as DomainRole,
  type TenantId,
} from '@parley/domain';
import type { SqlDriver, SqlQueryable } from '../db/driver';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';
import { withTenant } from './tenant-scope';

/** What an account may do: admin, supervisor or agent (rule PE1). */
export type Role = DomainRole;
/** Whether an agent takes conversations now: online, busy or offline (only online is assigned). */
export type Presence = DomainPresence;

/** Refusals of account operations, mapped to API errors like the domain's codes. */
export const AccountErrorCode = {
  TENANT_ALREADY_EXISTS: 'TENANT_ALREADY_EXISTS',
  TENANT_NOT_FOUND: 'TENANT_NOT_FOUND',
  EMAIL_ALREADY_EXISTS: 'EMAIL_ALREADY_EXISTS',
  AGENT_NOT_FOUND: 'AGENT_NOT_FOUND',
  TEAM_NOT_FOUND: 'TEAM_NOT_FOUND',
  TEAM_ALREADY_EXISTS: 'TEAM_ALREADY_EXISTS',
  PASSWORD_TOO_SHORT: 'PASSWORD_TOO_SHORT',
  PASSWORD_TOO_LONG: 'PASSWORD_TOO_LONG',
} as const;
/** One of `AccountErrorCode`. */
export type AccountErrorCode = (typeof AccountErrorCode)[keyof typeof AccountErrorCode];

/** An agent as the API shows it: never the password hash. */
export interface AgentRecord {
  readonly tenantId: TenantId;
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly presence: Presence;
  /** False once an admin deactivated them: no sign-in, never assigned, name kept (decision 0035). */
  readonly active: boolean;
}

/** A team and who is in it. */
export interface TeamRecord {
  readonly id: string;
  readonly name: string;
  readonly memberIds: readonly string[];
}

interface AgentRow {
  tenant_id: string;
  id: string;
  email: string;
  name: string;
  role: Role;
  presence: Presence;
  active: boolean;
}

const AGENT_COLUMNS = 'tenant_id, id, email, name, role, presence, deactivated_at IS NULL AS active';

/** Emails compare trimmed and lowercased: `Ana@Example.com ` is `ana@example.com`. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A short random id for agents and teams, safe inside stream ids and URLs. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** Creates a tenant; refuses an id already taken. */
export async function createTenant(
  sql: SqlDriver,
  tenantId: TenantId,
  name: string,
): Promise<{ readonly id: TenantId; readonly name: string }> {
  const rows = await withTenant(sql, tenantId, (tx) =>
    tx.query<{ id: string }>(
      'INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING id',
      [tenantId, name.trim()],
    ),
  );
  if (rows.length === 0) {
    throw new DomainError(AccountErrorCode.TENANT_ALREADY_EXISTS, `tenant ${tenantId} already exists`);
  }
  return { id: tenantId, name: name.trim() };
}

/** The tenant's display name, or undefined when there is no such tenant. */
export async function findTenant(tx: SqlQueryable): Promise<{ id: TenantId; name: string } | undefined> {
  const rows = await tx.query<{ id: TenantId; name: string }>('SELECT id, name FROM tenants');
  return rows[0];
}

/** What `createAgent` needs; the id is generated unless given (the seed uses readable ones). */
export interface NewAgent {
  readonly email: string;
  readonly name: string;
  readonly role: Role;
  readonly password: string;
  readonly id?: string;
  readonly presence?: Presence;
}

/** Creates an agent with an Argon2id password hash; refuses an email the tenant already has. */
export async function createAgent(sql: SqlDriver, tenantId: TenantId, agent: NewAgent): Promise<AgentRecord> {
  checkPassword(agent.password);
  const passwordHash = await hashPassword(agent.password);
  return withTenant(sql, tenantId, async (tx) => {
    if (!(await findTenant(tx))) {
      throw new DomainError(AccountErrorCode.TENANT_NOT_FOUND, `there is no tenant ${tenantId}`);
    }
    const rows = await tx.query<AgentRow>(
      `INSERT INTO agents (tenant_id, id, email, name, role, password_hash, presence)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING ${AGENT_COLUMNS}`,
      [
        tenantId,
        agent.id ?? newId('ag'),
        normaliseEmail(agent.email),
        agent.name.trim(),
        agent.role,
        passwordHash,
        agent.presence ?? 'offline',
      ],
    );
    const row = rows[0];
    if (!row) {
      throw new DomainError(
        AccountErrorCode.EMAIL_ALREADY_EXISTS,
        `tenant ${tenantId} already has an agent with that email or id`,
      );
    }
    return toAgent(row);
  });
}

/** Refuses a password too short to resist guessing or too long to hash cheaply. */
export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new DomainError(
      AccountErrorCode.PASSWORD_TOO_SHORT,
      `a password needs at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new DomainError(
      AccountErrorCode.PASSWORD_TOO_LONG,
      `a password has at most ${MAX_PASSWORD_LENGTH} characters`,
    );
  }
}

/** The active agent with this email and their password hash, for sign-in (a deactivated one is nobody). */
export async function findAgentForSignIn(
  tx: SqlQueryable,
  email: string,
): Promise<{ agent: AgentRecord; passwordHash: string } | undefined> {
  const rows = await tx.query<AgentRow & { password_hash: string }>(
    `SELECT ${AGENT_COLUMNS}, password_hash FROM agents WHERE email = $1 AND deactivated_at IS NULL`,
    [normaliseEmail(email)],
  );
  const row = rows[0];
  return row ? { agent: toAgent(row), passwordHash: row.password_hash } : undefined;
}

/** One agent of the scoped tenant, or undefined. */
export async function findAgent(tx: SqlQueryable, agentId: string): Promise<AgentRecord | undefined> {
  const rows = await tx.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents WHERE id = $1`, [agentId]);
  return rows[0] ? toAgent(rows[0]) : undefined;
}

/** One agent of the scoped tenant; `AGENT_NOT_FOUND` when another tenant's or nobody's. */
export async function requireAgent(tx: SqlQueryable, agentId: string): Promise<AgentRecord> {
  const agent = await findAgent(tx, agentId);
  if (!agent) throw new DomainError(AccountErrorCode.AGENT_NOT_FOUND, `there is no agent ${agentId}`);
  return agent;
}

/** Every agent of the scoped tenant, by name. */
export async function listAgents(tx: SqlQueryable): Promise<AgentRecord[]> {
  const rows = await tx.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM agents ORDER BY name, id`);
  return rows.map(toAgent);
}

/** Records an agent's presence; false when there is no such agent. */
export async function setAgentPresence(
  tx: SqlQueryable,
  agentId: string,
  presence: Presence,
): Promise<boolean> {
  const rows = await tx.query(
    'UPDATE agents SET presence = $2, updated_at = now() WHERE id = $1 RETURNING id',
    [agentId, presence],
  );
  return rows.length > 0;
}

/** Creates a team in the scoped tenant. */
export async function createTeam(
  tx: SqlQueryable,
  tenantId: TenantId,
  team: { readonly id: string; readonly name: string },
): Promise<TeamRecord> {
  const rows = await tx.query(
    'INSERT INTO teams (tenant_id, id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING id',
    [tenantId, team.id, team.name.trim()],
  );
  if (rows.length === 0) {
    throw new DomainError(AccountErrorCode.TEAM_ALREADY_EXISTS, `team ${team.id} already exists`);
  }
  return { id: team.id, name: team.name.trim(), memberIds: [] };
}

/** Adds an agent to a team; adding a member twice changes nothing. */
export async function addTeamMember(
  tx: SqlQueryable,
  tenantId: TenantId,
  teamId: string,
  agentId: string,
): Promise<void> {
  await requireTeam(tx, teamId);
  await requireAgent(tx, agentId);
  await tx.query(
    'INSERT INTO team_members (tenant_id, team_id, agent_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [tenantId, teamId, agentId],
  );
}

/** The scoped tenant's teams with their members, or only the team `teamId`. */
export async function listTeams(tx: SqlQueryable, teamId?: string): Promise<TeamRecord[]> {
  const rows = await tx.query<{ id: string; name: string; members: string[] | null }>(
    `SELECT t.id, t.name, array_remove(array_agg(m.agent_id ORDER BY m.agent_id), NULL) AS members
       FROM teams t LEFT JOIN team_members m ON m.tenant_id = t.tenant_id AND m.team_id = t.id
      WHERE $1::text IS NULL OR t.id = $1
      GROUP BY t.id, t.name ORDER BY t.name, t.id`,
    [teamId ?? null],
  );
  return rows.map((row) => ({ id: row.id, name: row.name, memberIds: row.members ?? [] }));
}

/** One team of the scoped tenant; `TEAM_NOT_FOUND` when another tenant's or nobody's. */
export async function requireTeam(tx: SqlQueryable, teamId: string): Promise<TeamRecord> {
  const [team] = await listTeams(tx, teamId);
  if (!team) throw new DomainError(AccountErrorCode.TEAM_NOT_FOUND, `there is no team ${teamId}`);
  return team;
}

function toAgent(row: AgentRow): AgentRecord {
  return {
    tenantId: row.tenant_id as TenantId,
    id: row.id,
    email: row.email,
    name: row.name,
    role: row.role,
    presence: row.presence,
    active: row.active,
  };
}
