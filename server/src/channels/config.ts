import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseTrustProxy, type TrustProxy } from '../http/client-address';
import { DEFAULT_CHANNEL_RETENTION_MS } from './maintenance';

/** The channels' settings from the environment (see README's configuration table). */
export interface ChannelsConfig {
  /** Run the local platform simulators: on by default with the embedded database (`npm start`). */
  readonly simulators: boolean;
  /** How often the customer simulator writes in; 0 never. */
  readonly customerEveryMs: number;
  /** Where the simulators post webhooks; by default the address the server listens on. */
  readonly publicUrl: string | undefined;
  readonly maxWebhookBytes: number;
  /** How long processed deliveries, refused ones and web chat reply copies are kept (`PARLEY_CHANNEL_RETENTION_DAYS`). */
  readonly retentionMs: number;
  /** Proxies whose `X-Forwarded-For` names a web chat visitor's address (`PARLEY_TRUST_PROXY`). */
  readonly trustProxy: TrustProxy;
  /** Whose leases a restarted process takes over at once (SC, SD): `PARLEY_NODE_ID`, else host and DATA_DIR. */
  readonly leases: { readonly node: string };
}

/**
 * Reads `PARLEY_SIMULATORS`, `PARLEY_CUSTOMER_SIMULATOR_MS`, `PARLEY_PUBLIC_URL`,
 * `PARLEY_WEBHOOK_MAX_BYTES` and `PARLEY_NODE_ID`.
 */
export function loadChannelsConfig(env: NodeJS.ProcessEnv, embedded: boolean): ChannelsConfig {
  const flag = env.PARLEY_SIMULATORS?.trim().toLowerCase();
  const simulators =
    flag === undefined || flag === '' ? embedded : flag === 'on' || flag === 'true' || flag === '1';
  const every = Number(env.PARLEY_CUSTOMER_SIMULATOR_MS ?? 45_000);
  const maxBytes = Number(env.PARLEY_WEBHOOK_MAX_BYTES ?? 1_000_000);
  return {
    simulators,
    customerEveryMs: simulators && Number.isFinite(every) && every > 0 ? every : 0,
    publicUrl: env.PARLEY_PUBLIC_URL?.trim().replace(/\/$/, '') || undefined,
    maxWebhookBytes: Number.isInteger(maxBytes) && maxBytes > 0 ? maxBytes : 1_000_000,
    retentionMs: retentionDays(env.PARLEY_CHANNEL_RETENTION_DAYS),
    trustProxy: parseTrustProxy(env.PARLEY_TRUST_PROXY),
    leases: {
      node: env.PARLEY_NODE_ID?.trim() || `${hostname()}:${resolve(env.DATA_DIR?.trim() || 'data')}`,
    },
  };
}

/** Whole days of at least 1; unset or unreadable keeps the default of 30. */
function retentionDays(value: string | undefined): number {
  const days = Number(value);
  return value?.trim() && Number.isInteger(days) && days >= 1
    ? days * 86_400_000
    : DEFAULT_CHANNEL_RETENTION_MS;
}
