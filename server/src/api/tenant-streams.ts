import type { StreamCategory, TenantId } from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { SqlDriver } from '../db/driver';

/**
 * The ids of a tenant's aggregates of one category (`inbox` -> the inbox ids), most recently
 * changed first. Read from the store's `streams` table as the tenant, so row-level security keeps
 * other tenants' streams out whatever the query says.
 */
export async function aggregateIds(
  sql: SqlDriver,
  tenantId: TenantId,
  category: StreamCategory,
  limit = 1000,
): Promise<string[]> {
  const prefix = `${category}-`;
  const rows = await withTenant(sql, tenantId, (tx) =>
    tx.query<{ stream_id: string }>(
      `SELECT stream_id FROM streams WHERE starts_with(stream_id, $1)
        ORDER BY updated_at DESC, stream_id LIMIT $2`,
      [prefix, limit],
    ),
  );
  return rows.map((row) => row.stream_id.slice(prefix.length));
}
