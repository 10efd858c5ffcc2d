import {
  DEFAULT_NOTIFICATION_PREFERENCES,
  type NotificationPreferences,
  type TenantId,
} from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { SqlDriver, SqlQueryable } from '../db/driver';

/** A device's Web Push subscription, as `PushSubscription.toJSON()` gives it. */
export interface PushSubscriptionRecord {
  readonly endpoint: string;
  readonly keys: { readonly p256dh: string; readonly auth: string };
}

interface SettingsRow {
  assigned: boolean;
  customer_replied: boolean;
  mentioned: boolean;
  sound: boolean;
}

const toPreferences = (row: SettingsRow | undefined): NotificationPreferences =>
  row
    ? {
        assigned: row.assigned,
        customer_replied: row.customer_replied,
        mentioned: row.mentioned,
        sound: row.sound,
      }
    : DEFAULT_NOTIFICATION_PREFERENCES;

/** An agent's notification preferences (defaults until they change them). */
export async function preferencesOf(tx: SqlQueryable, agentId: string): Promise<NotificationPreferences> {
  const [row] = await tx.query<SettingsRow>(
    'SELECT assigned, customer_replied, mentioned, sound FROM notification_settings WHERE agent_id = $1',
    [agentId],
  );
  return toPreferences(row);
}

/** Changes some of an agent's preferences and returns all of them. */
export async function updatePreferences(
  sql: SqlDriver,
  tenantId: TenantId,
  agentId: string,
  change: Partial<NotificationPreferences>,
): Promise<NotificationPreferences> {
  return withTenant(sql, tenantId, async (tx) => {
    const next = { ...(await preferencesOf(tx, agentId)), ...change };
    await tx.query(
      `INSERT INTO notification_settings (tenant_id, agent_id, assigned, customer_replied, mentioned, sound)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (tenant_id, agent_id) DO UPDATE SET assigned = EXCLUDED.assigned,
         customer_replied = EXCLUDED.customer_replied, mentioned = EXCLUDED.mentioned,
         sound = EXCLUDED.sound, updated_at = now()`,
      [tenantId, agentId, next.assigned, next.customer_replied, next.mentioned, next.sound],
    );
    return next;
  });
}

/** Keeps a device's subscription for the agent; an endpoint another agent of the tenant had moves over. */
export async function saveSubscription(
  sql: SqlDriver,
  tenantId: TenantId,
  agentId: string,
  subscription: PushSubscriptionRecord,
): Promise<void> {
  await withTenant(sql, tenantId, (tx) =>
    tx.query(
      `INSERT INTO push_subscriptions (tenant_id, endpoint, agent_id, p256dh, auth) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (tenant_id, endpoint) DO UPDATE SET agent_id = EXCLUDED.agent_id,
         p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, created_at = now()`,
      [tenantId, subscription.endpoint, agentId, subscription.keys.p256dh, subscription.keys.auth],
    ),
  );
}

/** Forgets one of the agent's device subscriptions; returns whether there was one. */
export async function removeSubscription(
  sql: SqlDriver,
  tenantId: TenantId,
  agentId: string,
  endpoint: string,
): Promise<boolean> {
  const rows = await withTenant(sql, tenantId, (tx) =>
    tx.query('DELETE FROM push_subscriptions WHERE agent_id = $1 AND endpoint = $2 RETURNING endpoint', [
      agentId,
      endpoint,
    ]),
  );
  return rows.length > 0;
}

/** The agent's device subscriptions. */
export async function subscriptionsOf(
  sql: SqlDriver,
  tenantId: TenantId,
  agentId: string,
): Promise<PushSubscriptionRecord[]> {
  const rows = await withTenant(sql, tenantId, (tx) =>
    tx.query<{ endpoint: string; p256dh: string; auth: string }>(
      'SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE agent_id = $1 ORDER BY created_at',
      [agentId],
    ),
  );
  return rows.map((row) => ({ endpoint: row.endpoint, keys: { p256dh: row.p256dh, auth: row.auth } }));
}
