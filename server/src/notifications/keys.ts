import type { TenantId } from '@parley/domain';
import webpush from 'web-push';
import type { SecretBox } from '../crypto/secrets';
import type { SqlDriver } from '../db/driver';

/** A tenant's VAPID key pair (base64url), the private key opened. */
export interface VapidKeys {
  readonly publicKey: string;
  readonly privateKey: string;
}

const PURPOSE = 'vapid';

/**
 * The tenant's VAPID keys, made on first need and kept: the private key sealed with the tenant key
 * (`SecretBox`, like the channels' secrets). Two processes racing keep the first pair written.
 */
export async function vapidKeysFor(
  sql: SqlDriver,
  secrets: SecretBox,
  tenantId: TenantId,
): Promise<VapidKeys> {
  const read = () =>
    sql.query<{ public_key: string; private_key: string }>(
      'SELECT public_key, private_key FROM push_vapid_keys WHERE tenant_id = $1',
      [tenantId],
    );
  let [row] = await read();
  if (!row) {
    const made = webpush.generateVAPIDKeys();
    await sql.query(
      `INSERT INTO push_vapid_keys (tenant_id, public_key, private_key) VALUES ($1, $2, $3)
       ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId, made.publicKey, await secrets.seal(tenantId, PURPOSE, made.privateKey)],
    );
    [row] = await read();
  }
  if (!row) throw new Error(`no VAPID keys for tenant ${tenantId}`);
  return { publicKey: row.public_key, privateKey: await secrets.open(tenantId, PURPOSE, row.private_key) };
}

/** Makes every tenant's VAPID keys that do not exist yet (the first start after this migration). */
export async function ensureVapidKeys(sql: SqlDriver, secrets: SecretBox): Promise<void> {
  const tenants = await sql.query<{ id: string }>(
    'SELECT id FROM tenants WHERE id NOT IN (SELECT tenant_id FROM push_vapid_keys)',
  );
  for (const { id } of tenants) await vapidKeysFor(sql, secrets, id as TenantId);
}
