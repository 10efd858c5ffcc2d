import {
  fold,
  lastPeriodPastRetention,
  periodEnd,
  tenantSettings,
  type JsonObject,
  type StreamId,
  type TenantId,
  type TenantSettingsEvent,
  type TenantSettingsState,
} from '@parley/domain';
import type { GrainRuntime } from '../actors/runtime';
import type { Attachments } from '../attachments';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import type { SqlEventStore } from '../store/sql-store';
import type { KeyStore } from './keys';

/** Each tenant's settings aggregate (decision 0031): server-internal, not synced to devices. */
export const SETTINGS_STREAM = 'settings-tenant' as StreamId;

/** A tenant's settings and the version of their stream (0 when it has none yet). */
export async function tenantSettingsOf(
  store: Pick<SqlEventStore, 'readStream'>,
  tenantId: TenantId,
): Promise<{ readonly state: TenantSettingsState; readonly version: number }> {
  const events = await store.readStream(tenantId, SETTINGS_STREAM);
  const state = fold(
    tenantSettings,
    tenantSettings.initialState(),
    events.map((event) => ({ type: event.type, data: event.data }) as TenantSettingsEvent),
  );
  return { state, version: events.at(-1)?.version ?? 0 };
}

/**
 * Sets a tenant's retention of message content (RT1, RT2): decided by the domain, recorded as
 * `RetentionSet` with the actor in its metadata (the audit trail), only when it changes.
 */
export async function setRetention(
  store: Pick<SqlEventStore, 'readStream' | 'append'>,
  tenantId: TenantId,
  change: { readonly days: number | null; readonly changedBy: string; readonly at: number },
  metadata: JsonObject,
): Promise<{ readonly days: number | null; readonly changed: boolean }> {
  const { state, version } = await tenantSettingsOf(store, tenantId);
  const events = tenantSettings.decide({ type: 'SetRetention', data: change }, state);
  if (events.length === 0) return { days: state.retentionDays, changed: false };
  await store.append(
    tenantId,
    SETTINGS_STREAM,
    events.map((event) => ({ type: event.type, data: event.data, metadata })),
    // Two admins at once: the second one's append fails its version check rather than going unseen.
    { expectedVersion: version === 0 ? 'no_stream' : version },
  );
  return { days: change.days, changed: true };
}

/** What a retention sweep needs of a Parley process; the CLI has no runtime or projections. */
export interface RetentionServices {
  readonly db: Database;
  readonly store: SqlEventStore;
  readonly keys: KeyStore;
  readonly runtime?: Pick<GrainRuntime, 'forget'>;
  readonly projections?: Readonly<Record<string, { rebuild(): Promise<void> }>>;
  /** The stored files: those only unreadable messages named are deleted (decision 0022). */
  readonly attachments?: Pick<Attachments, 'releaseNamedBefore'>;
}

export interface SweepResult {
  readonly tenantId: TenantId;
  /** The tenant's retention in days, or null: nothing is swept. */
  readonly days: number | null;
  /** The newest period past the limit, when there is a limit. */
  readonly through: string | null;
  readonly keysDestroyed: number;
  /** Conversations whose clear copies this process dropped (keys destroyed here or elsewhere). */
  readonly conversations: number;
}

/**
 * Makes a tenant's message content older than its retention unreadable (decision 0031): destroys
 * the conversations' keys of every period wholly past the limit (RT4). Nothing in the log is
 * rewritten: the events stay, their content reads "[erased]". The clear copies outside the log
 * of the streams touched are dropped (snapshots, this process's grains and hot tier, indexed
 * words), and the projections are rebuilt so their previews read from the log again.
 */
export async function sweepRetention(
  services: RetentionServices,
  tenantId: TenantId,
  now: number,
): Promise<SweepResult> {
  const { db, store, keys } = services;
  const { state } = await tenantSettingsOf(store, tenantId);
  const days = state.retentionDays;
  if (days === null) return { tenantId, days, through: null, keysDestroyed: 0, conversations: 0 };
  const through = lastPeriodPastRetention(days, now);
  const destroyed = await keys.destroyPeriodsThrough(tenantId, through);
  // Files only the now unreadable weeks' messages named: every sweep, so one cut short is redone.
  await services.attachments?.releaseNamedBefore(tenantId, new Date(periodEnd(through)));
  // Keys another process destroyed lately that this one still held: its clear copies go too.
  const elsewhere = await keys.forgetPeriodsDestroyedElsewhere(tenantId, through);
  const streamIds = [...new Set([...destroyed, ...elsewhere].map((key) => key.streamId))];
  // Nothing newly past the limit: an earlier sweep dropped the copies already.
  if (streamIds.length === 0) return { tenantId, days, through, keysDestroyed: 0, conversations: 0 };
  const forget = () => {
    for (const stream of streamIds) {
      store.hot.invalidate(`${tenantId}/${stream}`);
      services.runtime?.forget(tenantId, stream as StreamId);
    }
  };
  forget();
  await db.sql.transaction(async (tx) => {
    // A snapshot folds the conversation's messages in clear (or sealed by its long-lived key).
    await tx.query('DELETE FROM snapshots WHERE tenant_id = $1 AND stream_id = ANY($2::text[])', [
      tenantId,
      streamIds,
    ]);
    // Indexed words of messages recorded in the destroyed periods (0025).
    await tx.query('DELETE FROM search_messages WHERE tenant_id = $1 AND at < $2::timestamptz', [
      tenantId,
      new Date(periodEnd(through)),
    ]);
  });
  forget();
  for (const projection of Object.values(services.projections ?? {})) await projection.rebuild();
  return { tenantId, days, through, keysDestroyed: destroyed.length, conversations: streamIds.length };
}

export interface RetentionSweeper {
  /** Sweeps every tenant with live period keys now; resolves with what each sweep did. */
  sweep(): Promise<SweepResult[]>;
  stop(): Promise<void>;
}

/**
 * Sweeps every tenant on a timer (hourly by default): a period passes the limit at most once a
 * week per tenant, so an hour's lateness is small beside the period's own.
 */
export function startRetentionSweeper(
  services: RetentionServices & { readonly logger?: Logger },
  options: { readonly clock?: () => number; readonly intervalMs?: number } = {},
): RetentionSweeper {
  const clock = options.clock ?? Date.now;
  const intervalMs = options.intervalMs ?? 3_600_000;
  let running: Promise<SweepResult[]> | undefined;

  async function sweepAll(): Promise<SweepResult[]> {
    const results: SweepResult[] = [];
    for (const tenantId of await services.keys.tenantsWithPeriodKeys()) {
      const result = await sweepRetention(services, tenantId, clock());
      if (result.keysDestroyed > 0)
        services.logger?.info({ ...result }, 'retention: message content past the limit erased');
      results.push(result);
    }
    return results;
  }

  // One sweep at a time, whether the timer or a caller started it.
  const sweep = () => {
    running ??= sweepAll().finally(() => {
      running = undefined;
    });
    return running;
  };
  const tick = () => {
    sweep().catch((error: unknown) =>
      services.logger?.warn({ err: error }, 'retention sweep failed; retrying'),
    );
  };
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  const first = setTimeout(tick, Math.min(intervalMs, 60_000));
  first.unref();
  return {
    sweep,
    async stop() {
      clearInterval(timer);
      clearTimeout(first);
      await running?.catch(() => undefined);
    },
  };
}
