import { CREDENTIAL_FIELDS, DEFAULT_WIDGET_SETTINGS, type TenantId } from '@parley/domain';
import { withTenant } from '../auth/tenant-scope';
import type { SqlDriver } from '../db/driver';
import type { Channels } from './index';

interface LastWebhookRow {
  app_id: string;
  received_at: Date;
  status: string;
  attempts: number;
  last_error_code: string | null;
}

/** The latest delivery each of a tenant's apps recorded, with where it stands. */
async function lastWebhooks(sql: SqlDriver, tenantId: TenantId): Promise<Map<string, LastWebhookRow>> {
  const rows = await withTenant(sql, tenantId, (tx) =>
    tx.query<LastWebhookRow>(
      `SELECT a.app_id, w.received_at, w.status, w.attempts, w.last_error_code
         FROM channel_apps a
         CROSS JOIN LATERAL (SELECT received_at, status, attempts, last_error_code FROM webhook_inbox
                              WHERE app_id = a.app_id AND tenant_id = a.tenant_id
                              ORDER BY id DESC LIMIT 1) w
        WHERE a.tenant_id = $1`,
      [tenantId],
    ),
  );
  return new Map(rows.map((row) => [row.app_id, row]));
}

/** The web chat snippet: one tag; the widget reads its look and form from Parley when it loads. */
export function embedSnippet(publicUrl: string, appId: string): string {
  return `<script src="${publicUrl}/webchat/widget.js" data-app="${appId}" async></script>`;
}

/**
 * A tenant's channels as the setup screen shows them: where the platform posts (webhook URL and
 * verify token to paste there), which credentials are saved (their names, never their values),
 * the last webhook and refusals, the rotation grace, and a widget's settings, snippet and preview.
 */
export async function channelSetupView(
  services: {
    readonly channels: Pick<Channels, 'repo' | 'publicUrl' | 'refusals' | 'simulators'>;
    readonly sql: SqlDriver;
  },
  tenantId: TenantId,
  now: number,
) {
  const { repo } = services.channels;
  const publicUrl = services.channels.publicUrl() ?? '';
  const [channels, apps, last] = await Promise.all([
    repo.channelsOfTenant(tenantId),
    repo.appsOfTenant(tenantId),
    lastWebhooks(services.sql, tenantId),
  ]);
  const appById = new Map(apps.map((app) => [app.appId, app]));
  return {
    publicUrl,
    simulatorsRunning: Object.keys(services.channels.simulators).length > 0,
    channels: channels.map((channel) => {
      const app = appById.get(channel.appId);
      const kind = app?.kind ?? 'webchat';
      const webhook = last.get(channel.appId);
      return {
        channelId: channel.channelId,
        platform: channel.platform,
        name: channel.name,
        inboxId: channel.inboxId,
        appId: channel.appId,
        externalId: channel.externalId,
        target: channel.apiBaseUrl.startsWith('simulator:')
          ? ('simulator' as const)
          : channel.platform === 'webchat'
            ? ('parley' as const)
            : ('platform' as const),
        webhookUrl: kind === 'webchat' ? null : `${publicUrl}/webhooks/${kind}/${channel.appId}`,
        /** Parley's own token for Meta's subscription handshake: pasted at Meta, so shown. */
        verifyToken: app?.verifyToken ?? null,
        /** The names of the credentials saved; their values never leave the server. */
        credentials: CREDENTIAL_FIELDS[channel.platform].map((field) => ({
          key: field.key,
          label: field.label,
        })),
        lastWebhook: webhook
          ? {
              receivedAt: webhook.received_at.getTime(),
              status: webhook.status,
              attempts: webhook.attempts,
              errorCode: webhook.last_error_code,
            }
          : null,
        refusals: services.channels.refusals.of(channel.appId),
        previousSecretExpiresAt:
          app?.previousSecretExpiresAt != null && app.previousSecretExpiresAt > now
            ? app.previousSecretExpiresAt
            : null,
        widget:
          channel.platform === 'webchat'
            ? {
                settings: channel.widget ?? DEFAULT_WIDGET_SETTINGS,
                snippet: embedSnippet(publicUrl, channel.appId),
                previewUrl: `${publicUrl}/webchat/${channel.appId}/preview`,
              }
            : null,
      };
    }),
  };
}
