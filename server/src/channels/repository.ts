import { isTenantId, type Platform, type TenantId, type WidgetSettings } from '@parley/domain';
import type { SecretBox } from '../crypto/secrets';
import type { SqlQueryable } from '../db/driver';
import type { AppKind, ChannelApp, ChannelRecord } from './types';

interface AppRow {
  app_id: string;
  tenant_id: string;
  kind: AppKind;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
  verify_token: string | null;
}

interface ChannelRow {
  tenant_id: string;
  channel_id: string;
  app_id: string;
  platform: Platform;
  external_id: string;
  name: string;
  inbox_id: string;
  api_base_url: string;
  access_token: string;
  widget?: WidgetSettings | null;
}

/** What `saveApp` writes. */
export interface AppInput {
  readonly appId: string;
  readonly tenantId: TenantId;
  readonly kind: AppKind;
  readonly secret: string;
  readonly verifyToken?: string | null;
}

/** What `saveChannel` writes. */
export type ChannelInput = ChannelRecord;

/**
 * Apps and channels, read on every webhook: kept in memory for `ttlMs` so ingest costs one
 * query, and dropped at once when this process changes them (a rotation takes effect here
 * immediately, on other processes within `ttlMs`).
 */
export class ChannelRepository {
  private readonly apps = new Map<string, { at: number; app: ChannelApp | undefined }>();
  private readonly loadingApps = new Map<string, Promise<ChannelApp | undefined>>();
  private readonly channels = new Map<string, { at: number; channel: ChannelRecord | undefined }>();

  constructor(
    private readonly sql: SqlQueryable,
    private readonly clock: () => number = Date.now,
    private readonly ttlMs = 2_000,
    /** Seals secrets and tokens with the tenant key (decision 0022); without one they are stored clear. */
    private readonly secrets?: SecretBox,
  ) {}

  /** The app that signs a webhook route, or undefined. */
  async app(appId: string): Promise<ChannelApp | undefined> {
    const cached = this.apps.get(appId);
    if (cached && this.clock() - cached.at < this.ttlMs) return cached.app;
    // One query per app however many webhooks arrive while it runs.
    let loading = this.loadingApps.get(appId);
    if (!loading) {
      loading = this.sql
        .query<AppRow>('SELECT * FROM channel_apps WHERE app_id = $1', [appId])
        .then(async (rows) => {
          const app = rows[0] && (await this.openApp(toApp(rows[0])));
          this.apps.set(appId, { at: this.clock(), app });
          return app;
        })
        .finally(() => this.loadingApps.delete(appId));
      this.loadingApps.set(appId, loading);
    }
    return loading;
  }

  /** The channel of an app with a platform's id (phone_number_id, page id, ...), or undefined. */
  async channelByExternalId(
    appId: string,
    platform: Platform,
    externalId: string,
  ): Promise<ChannelRecord | undefined> {
    return this.cachedChannel(`x/${appId}/${platform}/${externalId}`, () =>
      this.sql.query<ChannelRow>(
        'SELECT * FROM channels WHERE app_id = $1 AND platform = $2 AND external_id = $3',
        [appId, platform, externalId],
      ),
    );
  }

  /** The one channel of a platform an app has (a bot's, a widget's), or undefined. */
  async soleChannel(appId: string, platform: Platform): Promise<ChannelRecord | undefined> {
    return this.cachedChannel(`s/${appId}/${platform}`, () =>
      this.sql.query<ChannelRow>(
        'SELECT * FROM channels WHERE app_id = $1 AND platform = $2 ORDER BY channel_id LIMIT 1',
        [appId, platform],
      ),
    );
  }

  /** The channel with a platform's id in any app (the simulators route their webhooks by it). */
  async channelAnywhere(platform: Platform, externalId: string): Promise<ChannelRecord | undefined> {
    return this.cachedChannel(`a/${platform}/${externalId}`, () =>
      this.sql.query<ChannelRow>('SELECT * FROM channels WHERE platform = $1 AND external_id = $2', [
        platform,
        externalId,
      ]),
    );
  }

  /** Every channel pointing at a local simulator, for the customer simulator. */
  async simulatedChannels(): Promise<ChannelRecord[]> {
    const rows = await this.sql.query<ChannelRow>(
      "SELECT * FROM channels WHERE api_base_url LIKE 'simulator:%' ORDER BY tenant_id, channel_id",
    );
    return Promise.all(rows.map((row) => this.openChannel(toChannel(row))));
  }

  /** A tenant's channel by its id, or undefined. */
  async channel(tenantId: TenantId, channelId: string): Promise<ChannelRecord | undefined> {
    return this.cachedChannel(`c/${tenantId}/${channelId}`, () =>
      this.sql.query<ChannelRow>('SELECT * FROM channels WHERE tenant_id = $1 AND channel_id = $2', [
        tenantId,
        channelId,
      ]),
    );
  }

  /** A tenant's channels, for its admins. */
  async channelsOfTenant(tenantId: TenantId): Promise<ChannelRecord[]> {
    const rows = await this.sql.query<ChannelRow>(
      'SELECT * FROM channels WHERE tenant_id = $1 ORDER BY channel_id',
      [tenantId],
    );
    return Promise.all(rows.map((row) => this.openChannel(toChannel(row))));
  }

  /** A tenant's apps (what signs its webhooks), for its admins. */
  async appsOfTenant(tenantId: TenantId): Promise<ChannelApp[]> {
    const rows = await this.sql.query<AppRow>(
      'SELECT * FROM channel_apps WHERE tenant_id = $1 ORDER BY app_id',
      [tenantId],
    );
    return Promise.all(rows.map((row) => this.openApp(toApp(row))));
  }

  /** The channels of an app (one for a bot or widget; a page and an Instagram account for Meta). */
  async channelsOfApp(appId: string): Promise<ChannelRecord[]> {
    const rows = await this.sql.query<ChannelRow>(
      'SELECT * FROM channels WHERE app_id = $1 ORDER BY channel_id',
      [appId],
    );
    return Promise.all(rows.map((row) => this.openChannel(toChannel(row))));
  }

  /** Creates an app, or leaves an existing one (and its secrets) alone; true when created. */
  async ensureApp(input: AppInput): Promise<boolean> {
    checkWebhookSecret(input.secret);
    const rows = await this.sql.query(
      `INSERT INTO channel_apps (app_id, tenant_id, kind, secret, verify_token)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (app_id) DO NOTHING RETURNING app_id`,
      [
        input.appId,
        input.tenantId,
        input.kind,
        await this.seal(input.tenantId, `app:${input.appId}`, input.secret),
        input.verifyToken == null
          ? null
          : await this.seal(input.tenantId, `app:${input.appId}`, input.verifyToken),
      ],
    );
    this.apps.delete(input.appId);
    return rows.length > 0;
  }

  /** Creates or updates a channel. */
  async saveChannel(input: ChannelInput): Promise<void> {
    await this.sql.query(
      `INSERT INTO channels (tenant_id, channel_id, app_id, platform, external_id, name, inbox_id,
                             api_base_url, access_token)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (tenant_id, channel_id) DO UPDATE SET app_id = EXCLUDED.app_id,
         platform = EXCLUDED.platform, external_id = EXCLUDED.external_id, name = EXCLUDED.name,
         inbox_id = EXCLUDED.inbox_id, api_base_url = EXCLUDED.api_base_url,
         access_token = EXCLUDED.access_token, updated_at = now()`,
      [
        input.tenantId,
        input.channelId,
        input.appId,
        input.platform,
        input.externalId,
        input.name,
        input.inboxId,
        input.apiBaseUrl,
        await this.seal(input.tenantId, `channel:${input.channelId}`, input.accessToken),
      ],
    );
    this.channels.clear();
  }

  /**
   * Starts a secret rotation: `secret` becomes current, the current one stays accepted for
   * `graceMs`, and any older previous secret is dropped at once. With `tenantId`, only that
   * tenant's app rotates. False when there is no such app.
   */
  async rotateSecret(appId: string, secret: string, graceMs: number, tenantId?: TenantId): Promise<boolean> {
    checkWebhookSecret(secret);
    let stored = secret;
    if (this.secrets) {
      const [owner] = await this.sql.query<{ tenant_id: string }>(
        'SELECT tenant_id FROM channel_apps WHERE app_id = $1',
        [appId],
      );
      if (!owner || (tenantId !== undefined && owner.tenant_id !== tenantId)) return false;
      stored = await this.seal(asTenant(owner.tenant_id), `app:${appId}`, secret);
    }
    const rows = await this.sql.query(
      `UPDATE channel_apps SET previous_secret = secret, previous_secret_expires_at = $3,
              secret = $2, updated_at = now()
        WHERE app_id = $1 AND ($4::text IS NULL OR tenant_id = $4) RETURNING app_id`,
      [appId, stored, new Date(this.clock() + graceMs), tenantId ?? null],
    );
    this.apps.delete(appId);
    this.loadingApps.delete(appId);
    return rows.length > 0;
  }

  /** Seals every secret and token still stored in clear (written before sealing, or without a box). */
  async sealStoredSecrets(): Promise<number> {
    if (!this.secrets) return 0;
    let sealed = 0;
    const apps = await this.sql.query<AppRow>(
      `SELECT * FROM channel_apps WHERE secret NOT LIKE 'enc1:%' OR previous_secret NOT LIKE 'enc1:%'
          OR verify_token NOT LIKE 'enc1:%'`,
    );
    for (const row of apps) {
      const tenant = asTenant(row.tenant_id);
      const purpose = `app:${row.app_id}`;
      await this.sql.query(
        'UPDATE channel_apps SET secret = $2, previous_secret = $3, verify_token = $4 WHERE app_id = $1 AND secret = $5',
        [
          row.app_id,
          await this.seal(tenant, purpose, row.secret),
          row.previous_secret === null ? null : await this.seal(tenant, purpose, row.previous_secret),
          row.verify_token === null ? null : await this.seal(tenant, purpose, row.verify_token),
          row.secret,
        ],
      );
      sealed++;
    }
    const channels = await this.sql.query<ChannelRow>(
      "SELECT * FROM channels WHERE access_token <> '' AND access_token NOT LIKE 'enc1:%'",
    );
    for (const row of channels) {
      await this.sql.query(
        'UPDATE channels SET access_token = $3 WHERE tenant_id = $1 AND channel_id = $2 AND access_token = $4',
        [
          row.tenant_id,
          row.channel_id,
          await this.seal(asTenant(row.tenant_id), `channel:${row.channel_id}`, row.access_token),
          row.access_token,
        ],
      );
      sealed++;
    }
    this.invalidate();
    return sealed;
  }

  private seal(tenantId: TenantId, purpose: string, clear: string): Promise<string> | string {
    return this.secrets ? this.secrets.seal(tenantId, purpose, clear) : clear;
  }

  private async openApp(app: ChannelApp): Promise<ChannelApp> {
    const box = this.secrets;
    if (!box) return app;
    const purpose = `app:${app.appId}`;
    return {
      ...app,
      secret: await box.open(app.tenantId, purpose, app.secret),
      previousSecret:
        app.previousSecret === null ? null : await box.open(app.tenantId, purpose, app.previousSecret),
      verifyToken: app.verifyToken === null ? null : await box.open(app.tenantId, purpose, app.verifyToken),
    };
  }

  private async openChannel(channel: ChannelRecord): Promise<ChannelRecord> {
    if (!this.secrets) return channel;
    const accessToken = await this.secrets.open(
      channel.tenantId,
      `channel:${channel.channelId}`,
      channel.accessToken,
    );
    return { ...channel, accessToken };
  }

  /** The same repository over one transaction (an append's), nothing cached: call `invalidate` after. */
  within(tx: SqlQueryable): ChannelRepository {
    return new ChannelRepository(tx, this.clock, 0, this.secrets);
  }

  /**
   * Writes a new app and its channel (decision 0038): fails, writing neither, when the app, the
   * channel id, the platform id or the tenant's channel name (without case) exists already.
   */
  async insertConnection(app: AppInput, channel: ChannelInput, widget: WidgetSettings | null): Promise<void> {
    if (!(await this.ensureApp(app))) throw new Error(`the app ${app.appId} exists already`);
    await this.sql.query(
      `INSERT INTO channels (tenant_id, channel_id, app_id, platform, external_id, name, inbox_id,
                             api_base_url, access_token, widget)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        channel.tenantId,
        channel.channelId,
        channel.appId,
        channel.platform,
        channel.externalId,
        channel.name,
        channel.inboxId,
        channel.apiBaseUrl,
        await this.seal(channel.tenantId, `channel:${channel.channelId}`, channel.accessToken),
        widget === null ? null : JSON.stringify(widget),
      ],
    );
    this.invalidate();
  }

  /** Replaces a channel's access token; false when the tenant has no such channel. */
  async replaceAccessToken(tenantId: TenantId, channelId: string, accessToken: string): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE channels SET access_token = $3, updated_at = now()
        WHERE tenant_id = $1 AND channel_id = $2 RETURNING channel_id`,
      [tenantId, channelId, await this.seal(tenantId, `channel:${channelId}`, accessToken)],
    );
    this.invalidate();
    return rows.length > 0;
  }

  /** Saves a web chat channel's widget settings; false when the tenant has no such web chat channel. */
  async saveWidget(tenantId: TenantId, channelId: string, widget: WidgetSettings): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE channels SET widget = $3, updated_at = now()
        WHERE tenant_id = $1 AND channel_id = $2 AND platform = 'webchat' RETURNING channel_id`,
      [tenantId, channelId, JSON.stringify(widget)],
    );
    this.invalidate();
    return rows.length > 0;
  }

  /** Forgets what is cached, so the next read goes to the database. */
  invalidate(): void {
    this.apps.clear();
    this.channels.clear();
  }

  private async cachedChannel(
    key: string,
    load: () => Promise<ChannelRow[]>,
  ): Promise<ChannelRecord | undefined> {
    const cached = this.channels.get(key);
    if (cached && this.clock() - cached.at < this.ttlMs) return cached.channel;
    const rows = await load();
    const channel = rows[0] && (await this.openChannel(toChannel(rows[0])));
    this.channels.set(key, { at: this.clock(), channel });
    return channel;
  }
}

function toApp(row: AppRow): ChannelApp {
  return {
    appId: row.app_id,
    tenantId: asTenant(row.tenant_id),
    kind: row.kind,
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretExpiresAt: row.previous_secret_expires_at?.getTime() ?? null,
    verifyToken: row.verify_token,
  };
}

function toChannel(row: ChannelRow): ChannelRecord {
  return {
    tenantId: asTenant(row.tenant_id),
    channelId: row.channel_id,
    appId: row.app_id,
    platform: row.platform,
    externalId: row.external_id,
    name: row.name,
    inboxId: row.inbox_id,
    apiBaseUrl: row.api_base_url,
    accessToken: row.access_token,
    widget: row.widget ?? null,
  };
}

function asTenant(value: string): TenantId {
  if (!isTenantId(value)) throw new Error(`malformed tenant id in the channels tables: ${value}`);
  return value;
}

/** The shortest webhook secret Parley accepts (0018); the database's CHECK says the same. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/** A webhook secret that is empty or too short to resist guessing. */
export class WeakWebhookSecretError extends Error {
  override readonly name = 'WeakWebhookSecretError';
}

/** Refuses an empty or short webhook secret, before anything is written. */
export function checkWebhookSecret(secret: string): void {
  if (typeof secret !== 'string' || secret.trim().length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new WeakWebhookSecretError(
      `a webhook secret must have at least ${MIN_WEBHOOK_SECRET_LENGTH} characters (got ${typeof secret === 'string' ? secret.trim().length : 0}); let Parley generate one (\`parley webhooks rotate-secret <app>\`)`,
    );
  }
}
