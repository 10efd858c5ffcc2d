import { join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent, createTenant } from '../src/auth/accounts';
import { TENANT_ROLE, withTenant } from '../src/auth/tenant-scope';
import { migrate } from '../src/db/migrator';
import { START } from '../src/store/checkpoint';
import { SqlEventStore } from '../src/store/sql-store';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from './support/databases';

const acme = tenantId('acme');
const initech = tenantId('initech');

const backends: [string, () => Promise<TestDatabase>, boolean][] = [
  ['PGlite', freshPglite, true],
  ['PostgreSQL (DATABASE_URL)', freshPostgres, POSTGRES_URL !== undefined],
];

/** Every table of the public schema with a tenant column: the tables row-level security must cover. */
async function tenantTables(test: TestDatabase): Promise<{ table: string; column: string }[]> {
  return test.db.sql.query<{ table: string; column: string }>(
    `SELECT c.relname AS table, a.attname AS column
       FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'
       JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND (a.attname = 'tenant_id' OR (c.relname = 'tenants' AND a.attname = 'id'))
      ORDER BY c.relname`,
  );
}

describe.each(backends)('row-level security on %s', (_name, create, enabled) => {
  let test: TestDatabase;
  let store: SqlEventStore;

  beforeAll(async () => {
    if (!enabled) return;
    test = await create();
    store = await SqlEventStore.open({ db: test.db, archiveDir: join(test.dataDir, 'archive') });
    for (const tenant of [acme, initech]) {
      await createTenant(test.db.sql, tenant, `${tenant} inc`);
      await createAgent(test.db.sql, tenant, {
        email: `boss@${tenant}.test`,
        name: 'Boss',
        role: 'admin',
        password: 'long enough password',
      });
      await withTenant(test.db.sql, tenant, async (tx) => {
        await tx.query(`INSERT INTO teams (tenant_id, id, name) VALUES ($1, 't1', 'Team')`, [tenant]);
        await tx.query(
          `INSERT INTO message_templates (tenant_id, name, language, approved, param_count, body)
           VALUES ($1, 'hello', 'en', true, 0, 'Hello')`,
          [tenant],
        );
        await tx.query(
          `INSERT INTO canned_responses (tenant_id, id, shortcut, text) VALUES ($1, 'c1', 'hi', 'Hi!')`,
          [tenant],
        );
        await tx.query(
          `INSERT INTO client_sequences (tenant_id, agent_id, client_id, last_sequence) VALUES ($1, 'a', 'c', 1)`,
          [tenant],
        );
      });
    }
  });

  afterAll(async () => {
    if (!enabled) return;
    await store.close();
    await test.dispose();
  });

  it.skipIf(!enabled)(
    'protects every table that has a tenant column, and grants no day partition',
    async () => {
      const tables = await tenantTables(test);
      expect(tables.map((t) => t.table)).toEqual(
        expect.arrayContaining(['agents', 'events', 'sessions', 'streams', 'tenants', 'client_sequences']),
      );
      const protectedTables = await test.db.sql.query<{ table: string; rls: boolean; policies: number }>(
        `SELECT c.relname AS table, c.relrowsecurity AS rls,
              (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
         FROM pg_class c WHERE c.relname = ANY($1::text[]) ORDER BY c.relname`,
        [tables.map((t) => t.table)],
      );
      const unprotected = protectedTables.filter((t) => !t.rls || t.policies === 0).map((t) => t.table);
      expect(unprotected).toEqual([]);
      const partitionGrants = await test.db.sql.query<{ table: string }>(
        `SELECT table_name AS table FROM information_schema.role_table_grants
        WHERE grantee = $1 AND table_name LIKE 'events\\_p%'`,
        [TENANT_ROLE],
      );
      expect(partitionGrants).toEqual([]);
    },
  );

  it.skipIf(!enabled)(
    'groups two tenants in one commit as the owner, and system reads see both',
    async () => {
      const [a, b] = await Promise.all([
        store.append(acme, streamId('conversation-1'), [{ type: 'Noted', data: { n: 1 } }], {
          expectedVersion: 'any',
        }),
        store.append(initech, streamId('conversation-1'), [{ type: 'Noted', data: { n: 2 } }], {
          expectedVersion: 'any',
        }),
      ]);
      expect(a.events).toHaveLength(1);
      expect(b.events).toHaveLength(1);
      const all = await store.readAllTenants(START, 100);
      expect(new Set(all.events.map((event) => event.tenantId))).toEqual(new Set([acme, initech]));
      expect((await store.readAll(acme, START, 100)).events.every((event) => event.tenantId === acme)).toBe(
        true,
      );
      // The migrator runs as the owner too, and a second run changes nothing.
      expect((await migrate(test.db.sql)).pending).toEqual([]);
    },
  );

  it.skipIf(!enabled)('shows the tenant role nothing at all without the tenant setting', async () => {
    const tables = await tenantTables(test);
    const counts = await test.db.sql.transaction(async (tx) => {
      await tx.query(`SET LOCAL ROLE ${TENANT_ROLE}`);
      const result: Record<string, number> = {};
      for (const { table } of tables) {
        const [row] = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
        result[table] = row!.n;
      }
      return result;
    });
    expect(Object.values(counts).every((n) => n === 0)).toBe(true);
    expect(Object.keys(counts).length).toBe(tables.length);
  });

  it.skipIf(!enabled)('shows the tenant role only the rows of the tenant it is set to', async () => {
    const tables = await tenantTables(test);
    const seen = await withTenant(test.db.sql, acme, async (tx) => {
      const result: Record<string, string[]> = {};
      for (const { table, column } of tables) {
        const rows = await tx.query<{ tenant: string }>(`SELECT DISTINCT ${column} AS tenant FROM ${table}`);
        result[table] = rows.map((row) => row.tenant);
      }
      return result;
    });
    for (const [table, tenants] of Object.entries(seen)) {
      expect({ table, tenants: tenants.filter((t) => t !== acme) }).toEqual({ table, tenants: [] });
    }
    // Rows exist for it in the tables this suite filled: the policy filters, it does not just hide all.
    for (const table of ['tenants', 'agents', 'teams', 'events', 'streams', 'client_sequences']) {
      expect({ table, tenants: seen[table] }).toEqual({ table, tenants: [acme] });
    }
  });

  it.skipIf(!enabled)('refuses writes of another tenant’s rows from a scoped transaction', async () => {
    await expect(
      withTenant(test.db.sql, acme, (tx) =>
        tx.query(`INSERT INTO teams (tenant_id, id, name) VALUES ($1, 'sneaky', 'Sneaky')`, [initech]),
      ),
    ).rejects.toThrow(/row-level security/);
    const changed = await withTenant(test.db.sql, acme, (tx) =>
      tx.query(`UPDATE canned_responses SET text = 'pwned' WHERE tenant_id = $1 RETURNING id`, [initech]),
    );
    expect(changed).toEqual([]);
    // The tenant role writes nothing into the store's tables, even its own tenant's.
    await expect(
      withTenant(test.db.sql, acme, (tx) =>
        tx.query(`INSERT INTO streams (tenant_id, stream_id, version) VALUES ($1, 'x-1', 1)`, [acme]),
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it.skipIf(!enabled)('leaves the connection as it found it after a scoped transaction', async () => {
    const [before] = await test.db.sql.query<{ who: string }>('SELECT current_user AS who');
    await withTenant(test.db.sql, acme, (tx) => tx.query('SELECT 1'));
    const [after] = await test.db.sql.query<{ who: string; tenant: string | null }>(
      "SELECT current_user AS who, nullif(current_setting('parley.tenant_id', true), '') AS tenant",
    );
    expect(after).toEqual({ who: before!.who, tenant: null });
    const [owner] = await test.db.sql.query<{ n: number }>(
      'SELECT count(DISTINCT tenant_id)::int AS n FROM agents',
    );
    expect(owner!.n).toBe(2);
  });
});
