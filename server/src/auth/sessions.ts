import { createHash, randomBytes } from 'node:crypto';
import { isTenantId, type TenantId } from '@parley/domain';
import type { SqlDriver, SqlQueryable } from '../db/driver';
import type { AgentRecord, Presence, Role } from './accounts';
import { withTenant } from './tenant-scope';

/** How long sessions last. */
export interface SessionPolicy {
  /** A session ends this long after sign-in, however busy. */
  readonly ttlMs: number;
  /** A session unused this long ends early. */
  readonly idleMs: number;
  /** `last_seen_at` is written at most this often, so requests do not each cost a write. */
  readonly touchEveryMs: number;
}

/** 30 days at most, 7 days idle: an agent's PWA stays signed in over a holiday, not for ever. */
export const DEFAULT_SESSION_POLICY: SessionPolicy = {
  ttlMs: 30 * 86_400_000,
  idleMs: 7 * 86_400_000,
  touchEveryMs: 60_000,
};

/** A signed-in agent: who, in which tenant, until when. */
export interface Session {
  readonly tenantId: TenantId;
  /** SHA-256 of the cookie's secret: the session's key in the database. */
  readonly tokenHash: string;
  /** The agent as of this request: role and presence are read fresh each time. */
  readonly agent: AgentRecord;
  /** When the session ends if unused, in epoch ms: the sooner of its TTL and its idle limit. */
  readonly expiresAt: number;
}

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** The cookie value names the tenant, so even finding the session runs under that tenant's policy. */
function cookieValueOf(tenantId: TenantId, token: string): string {
  return `${tenantId}.${token}`;
}

function parseCookieValue(value: string): { tenantId: TenantId; token: string } | undefined {
  const at = value.indexOf('.');
  const tenantId = value.slice(0, at);
  const token = value.slice(at + 1);
  return at > 0 && isTenantId(tenantId) && TOKEN.test(token) ? { tenantId, token } : undefined;
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Starts a session for an agent; returns the cookie value that carries it. */
export async function createSession(
  sql: SqlDriver,
  agent: AgentRecord,
  now: number,
  policy: SessionPolicy,
): Promise<{ readonly session: Session; readonly cookieValue: string }> {
  const token = randomBytes(32).toString('base64url');
  const tokenHash = hashToken(token);
  const expiresAt = now + policy.ttlMs;
  await withTenant(sql, agent.tenantId, (tx) =>
    tx.query(
      `INSERT INTO sessions (tenant_id, token_hash, agent_id, created_at, last_seen_at, expires_at)
       VALUES ($1, $2, $3, to_timestamp($4 / 1000.0), to_timestamp($4 / 1000.0), to_timestamp($5 / 1000.0))`,
      [agent.tenantId, tokenHash, agent.id, now, expiresAt],
    ),
  );
  return {
    session: {
      tenantId: agent.tenantId,
      tokenHash,
      agent,
      expiresAt: Math.min(expiresAt, now + policy.idleMs),
    },
    cookieValue: cookieValueOf(agent.tenantId, token),
  };
}

interface SessionRow {
  agent_id: string;
  email: string;
  name: string;
  role: Role;
  presence: Presence;
  last_seen_ms: number;
  expires_ms: number;
}

/** The live session a cookie value names, or null (and an expired one is deleted). */
export async function findSession(
  sql: SqlDriver,
  cookieValue: string,
  now: number,
  policy: SessionPolicy,
): Promise<Session | null> {
  const parsed = parseCookieValue(cookieValue);
  if (!parsed) return null;
  const { tenantId } = parsed;
  const tokenHash = hashToken(parsed.token);
  return withTenant(sql, tenantId, async (tx) => {
    const rows = await tx.query<SessionRow>(
      `SELECT s.agent_id, a.email, a.name, a.role, a.presence,
              extract(epoch FROM s.last_seen_at)::float8 * 1000 AS last_seen_ms,
              extract(epoch FROM s.expires_at)::float8 * 1000 AS expires_ms
         FROM sessions s JOIN agents a ON a.tenant_id = s.tenant_id AND a.id = s.agent_id
        WHERE s.token_hash = $1 AND a.deactivated_at IS NULL`,
      [tokenHash],
    );
    const row = rows[0];
    if (!row) return null;
    const expiresAt = Math.min(row.expires_ms, row.last_seen_ms + policy.idleMs);
    if (now >= expiresAt) {
      await deleteSession(tx, tokenHash);
      return null;
    }
    let idleExpiry = expiresAt;
    if (now - row.last_seen_ms >= policy.touchEveryMs) {
      await tx.query('UPDATE sessions SET last_seen_at = to_timestamp($2 / 1000.0) WHERE token_hash = $1', [
        tokenHash,
        now,
      ]);
      idleExpiry = Math.min(row.expires_ms, now + policy.idleMs);
    }
    const agent: AgentRecord = {
      tenantId,
      id: row.agent_id,
      email: row.email,
      name: row.name,
      role: row.role,
      presence: row.presence,
      active: true, // a deactivated agent's sessions are found by nobody (decision 0035)
    };
    return { tenantId, tokenHash, agent, expiresAt: idleExpiry };
  });
}

/** Ends one session. */
export async function endSession(sql: SqlDriver, session: Session): Promise<void> {
  await withTenant(sql, session.tenantId, (tx) => deleteSession(tx, session.tokenHash));
}

/** Ends every session of the session's agent, this one included; returns how many ended. */
export async function endAgentSessions(sql: SqlDriver, session: Session): Promise<number> {
  const rows = await withTenant(sql, session.tenantId, (tx) =>
    tx.query('DELETE FROM sessions WHERE agent_id = $1 RETURNING token_hash', [session.agent.id]),
  );
  return rows.length;
}

async function deleteSession(tx: SqlQueryable, tokenHash: string): Promise<void> {
  await tx.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
}
