import type { Platform, TenantId, WidgetSettings } from '@parley/domain';

/** What signs a webhook: a Meta app for WhatsApp, a Meta app for Instagram + Messenger, a bot, a widget. */
export type AppKind = 'whatsapp' | 'meta' | 'telegram' | 'webchat';

/** An app with its secrets, as stored in `channel_apps`. */
export interface ChannelApp {
  readonly appId: string;
  readonly tenantId: TenantId;
  readonly kind: AppKind;
  readonly secret: string;
  readonly previousSecret: string | null;
  /** Epoch ms after which `previousSecret` is refused. */
  readonly previousSecretExpiresAt: number | null;
  readonly verifyToken: string | null;
}

/** One address customers write to, as stored in `channels`. */
export interface ChannelRecord {
  readonly tenantId: TenantId;
  readonly channelId: string;
  readonly appId: string;
  readonly platform: Platform;
  /** phone_number_id, page id, Instagram account id, bot id or widget id. */
  readonly externalId: string;
  readonly name: string;
  readonly inboxId: string;
  /** `simulator:<kind>` or the platform's API base URL. */
  readonly apiBaseUrl: string;
  readonly accessToken: string;
  /** A web chat channel's look, pre-chat form and allowed origins (null: the defaults). */
  readonly widget?: WidgetSettings | null;
}

/** The app kind whose webhooks carry a platform's messages. */
export function appKindOf(platform: Platform): AppKind {
  switch (platform) {
    case 'whatsapp':
      return 'whatsapp';
    case 'instagram':
    case 'messenger':
      return 'meta';
    case 'telegram':
      return 'telegram';
    case 'webchat':
      return 'webchat';
    default:
      return unreachable(platform);
  }
}

/** Ends a switch the compiler proved exhaustive. */
export function unreachable(value: never): never {
  throw new TypeError(`unexpected ${JSON.stringify(value)}`);
}
