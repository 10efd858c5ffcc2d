import { tenantId as checkTenantId, type TenantId } from '@parley/domain';
import type { SqlDriver, SqlQueryable } from '../db/driver';
import type { Prisma, PrismaClient } from '../generated/prisma/client';

/** The role tenant-scoped work runs as; row-level security applies to it (migration 20261122010000). */
export const TENANT_ROLE = 'parley_app';

/**
 * Runs `work` in one transaction as `parley_app` with `parley.tenant_id` set, so row-level security
 * shows and accepts only that tenant's rows whatever the SQL says. Both settings are
 * transaction-local: a pooled connection goes back to the pool as it came.
 * See docs/decisions/0006-tenant-isolation-with-row-level-security.md.
 */
export function withTenant<T>(
  sql: SqlDriver,
  tenantId: TenantId,
  work: (tx: SqlQueryable) => Promise<T>,
): Promise<T> {
  const tenant = checkTenantId(tenantId);
  return sql.transaction(async (tx) => {
    await tx.query(
      `SELECT set_config('role', '${TENANT_ROLE}', true), set_config('parley.tenant_id', $1, true)`,
      [tenant],
    );
    return work(tx);
  });
}

/** A Prisma Client transaction: the typed models, bound to one transaction's connection. */
export type TenantPrisma = Prisma.TransactionClient;

/**
 * As `withTenant`, through Prisma Client: `work` gets a transaction client whose queries run as
 * `parley_app` with `parley.tenant_id` set, so row-level security scopes every typed call to the
 * tenant. PGlite's one connection is waited for (`maxWait`) behind the priority gate like any
 * transaction, so the wait allowed is generous.
 */
export function withTenantPrisma<T>(
  prisma: PrismaClient,
  tenantId: TenantId,
  work: (tx: TenantPrisma) => Promise<T>,
): Promise<T> {
  const tenant = checkTenantId(tenantId);
  return prisma.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT set_config('role', ${TENANT_ROLE}, true), set_config('parley.tenant_id', ${tenant}, true)`;
      return work(tx);
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
}
