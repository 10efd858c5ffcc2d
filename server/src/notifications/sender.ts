import type { Agent } from 'node:https';
import type { TenantId } from '@parley/domain';
import webpush from 'web-push';
import type { SignalChannel } from '../broadcast/signals';
import type { SecretBox } from '../crypto/secrets';
import type { Database } from '../db/database';
import type { Logger } from '../logger';
import { payloadPurpose, type NotificationPayload } from './follower';
import { vapidKeysFor } from './keys';
import { pushAgent } from './public-address';
import { subscriptionsOf } from './settings';

/** Where pushes come from, and what the push service may be. */
export interface PushConfig {
  /** The VAPID subject: a mailto: or https: URL the push service may contact (`PARLEY_PUSH_SUBJECT`). */
  readonly subject: string;
  /** Accept endpoints on this machine (`PARLEY_PUSH_ALLOW_LOOPBACK=1`): a stand-in push service in tests. */
  readonly allowLoopback: boolean;
  /**
   * The HTTPS agent for push requests: by default `pushAgent`, which connects only to public
   * addresses (tests give one that also trusts their stand-in's certificate).
   */
  readonly agent?: Agent;
}

/** Reads the push settings from the environment. */
export function loadPushConfig(env: NodeJS.ProcessEnv = process.env): PushConfig {
  return {
    subject: env.PARLEY_PUSH_SUBJECT?.trim() || 'mailto:push@parley.invalid',
    allowLoopback: env.PARLEY_PUSH_ALLOW_LOOPBACK === '1',
  };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Whether the server may post to this endpoint. Browsers' push services are https hosts on the
 * internet; an address on this machine or a private network would let an agent make the server
 * call it (SSRF). This checks the address as written; a name that resolves to a private address is
 * refused when the push connects (`pushAgent`, decision 0026).
 */
export function pushEndpointAllowed(endpoint: string, config: Pick<PushConfig, 'allowLoopback'>): boolean {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.username || url.password) return false;
  if (LOOPBACK.has(url.hostname)) return config.allowLoopback;
  const ipLiteral = /^[\d.]+$/.test(url.hostname) || url.hostname.startsWith('[');
  return !ipLiteral && !url.hostname.endsWith('.local') && !url.hostname.endsWith('.internal');
}

/** What the service worker receives (apps/web/public/push-sw.js reads it). */
export interface PushMessage extends NotificationPayload {
  /** The app's path of the conversation, opened when the notification is tapped. */
  readonly url: string;
  /** Collapses repeated notices of one conversation into one. */
  readonly tag: string;
}

export interface NotificationSender {
  /** Sends what is queued now (the follower calls it after writing rows). */
  wake(): void;
  /** Resolves once nothing queued before the call is left unsent. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

interface ClaimedRow {
  tenant_id: string;
  event_id: string;
  agent_id: string;
  payload: string;
}

/**
 * Sends queued notifications: each row is claimed (marked sent) before it goes out, so a crash or
 * a second process never sends one twice (a push is a hint: at most once beats twice). Each goes to
 * the agent's open tabs as an in-app notice and to each of their devices by Web Push; a device the
 * push service no longer knows (404, 410) is forgotten.
 */
export function startNotificationSender(options: {
  readonly db: Database;
  readonly secrets: SecretBox;
  readonly signals: SignalChannel;
  readonly logger: Logger;
  readonly config: PushConfig;
  readonly pollMs?: number;
}): NotificationSender {
  const { db, secrets, signals, logger, config } = options;
  const agent = config.agent ?? pushAgent({ allowLoopback: config.allowLoopback });
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let again = false;

  async function sendOne(row: ClaimedRow): Promise<void> {
    const tenantId = row.tenant_id as TenantId;
    const payload = JSON.parse(
      await secrets.open(tenantId, payloadPurpose(row.event_id, row.agent_id), row.payload),
    ) as NotificationPayload;
    signals.signal({ kind: 'tenant', tenantId }, { type: 'notice', agentId: row.agent_id, ...payload });
    const devices = await subscriptionsOf(db.sql, tenantId, row.agent_id);
    if (devices.length === 0) return;
    const keys = await vapidKeysFor(db.sql, secrets, tenantId);
    const message: PushMessage = {
      ...payload,
      url: `/c/${encodeURIComponent(payload.conversationId)}`,
      tag: `conversation:${payload.conversationId}`,
    };
    for (const device of devices) {
      if (!pushEndpointAllowed(device.endpoint, config)) continue;
      try {
        await webpush.sendNotification(device, JSON.stringify(message), {
          vapidDetails: { subject: config.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
          TTL: 60 * 60,
          urgency: 'high',
          timeout: 10_000,
          agent,
        });
      } catch (error) {
        const status = error instanceof webpush.WebPushError ? error.statusCode : undefined;
        if (status === 404 || status === 410) {
          await db.sql.query('DELETE FROM push_subscriptions WHERE tenant_id = $1 AND endpoint = $2', [
            tenantId,
            device.endpoint,
          ]);
        } else logger.warn({ err: error, status, agent: row.agent_id }, 'push not delivered');
      }
    }
  }

  async function sendQueued(): Promise<void> {
    for (;;) {
      const rows = await db.sql.query<ClaimedRow>(
        `UPDATE push_notifications SET sent_at = now()
          WHERE (tenant_id, event_id, agent_id) IN (
            SELECT tenant_id, event_id, agent_id FROM push_notifications
             WHERE sent_at IS NULL ORDER BY created_at LIMIT 50 FOR UPDATE SKIP LOCKED)
          RETURNING tenant_id, event_id::text AS event_id, agent_id, payload`,
      );
      if (rows.length === 0) return;
      for (const row of rows) {
        await sendOne(row).catch((error: unknown) =>
          logger.warn({ err: error, agent: row.agent_id }, 'notification not sent'),
        );
      }
    }
  }

  function wake(): void {
    if (stopped) return;
    again = true;
    running = running.then(async () => {
      if (!again) return;
      again = false;
      await sendQueued().catch((error: unknown) => logger.warn({ err: error }, 'notification sender failed'));
    });
  }

  const poll = setInterval(wake, options.pollMs ?? 5_000);
  poll.unref?.();
  wake();
  return {
    wake,
    drain() {
      wake();
      return running;
    },
    async stop() {
      stopped = true;
      clearInterval(poll);
      await running;
    },
  };
}
