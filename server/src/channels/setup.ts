import { randomBytes } from 'node:crypto';
import {
  checkWidgetSettings,
  CREDENTIAL_FIELDS,
  credentialProblems,
  decideConnectChannel,
  DEFAULT_WIDGET_SETTINGS,
  streamFor,
  type ChannelSetupEvent,
  type JsonObject,
  type Platform,
  type SetupProblem,
  type TenantId,
  type WidgetSettings,
} from '@parley/domain';
import type { SqlQueryable } from '../db/driver';
import type { SqlEventStore } from '../store/sql-store';
import type { Channels } from './index';
import type { ChannelRepository } from './repository';
import { setTelegramWebhook } from './telegram-webhook';
import { appKindOf, type AppKind, type ChannelRecord } from './types';

/** Why a channel change was refused, as the API edge reports it; nothing was saved. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
  constructor(
    readonly code: 'BAD_REQUEST' | 'CONFLICT' | 'NOT_FOUND' | 'PRECONDITION_FAILED',
    message: string,
    readonly problems: readonly SetupProblem[] = [],
  ) {
    super(message);
  }
}

/** What channel setup needs of a Parley process. */
export interface SetupServices {
  readonly store: Pick<SqlEventStore, 'append'>;
  readonly channels: Pick<Channels, 'repo' | 'simulators' | 'publicUrl' | 'refusals' | 'simulateCustomer'>;
  readonly sql: SqlQueryable;
  readonly inboxExists: (tenantId: TenantId, inboxId: string) => Promise<boolean>;
  readonly clock: () => number;
}

/** Who made a change: their id in the event's data, the actor in its metadata (the audit view). */
export interface SetupActor {
  readonly id: string;
  readonly metadata: JsonObject;
}

/** The real platforms' API base URLs, for a channel that is not pointed at a simulator. */
const PLATFORM_API: Readonly<Record<Exclude<AppKind, 'webchat'>, string>> = {
  whatsapp: 'https://graph.facebook.com/v21.0',
  meta: 'https://graph.facebook.com/v21.0',
  telegram: 'https://api.telegram.org',
};

/** The platform's own id of a channel, from its credentials (the bot id is the token's first part). */
function externalIdOf(
  platform: Platform,
  credentials: Readonly<Record<string, string>>,
  appId: string,
): string {
  switch (platform) {
    case 'whatsapp':
      return credentials.phoneNumberId!;
    case 'messenger':
      return credentials.pageId!;
    case 'instagram':
      return credentials.accountId!;
    case 'telegram':
      return credentials.botToken!.split(':')[0]!;
    case 'webchat':
      return appId;
    default:
      return platform satisfies never;
  }
}

function tokenOf(platform: Platform, credentials: Readonly<Record<string, string>>): string {
  if (platform === 'webchat') return '';
  return (platform === 'telegram' ? credentials.botToken : credentials.accessToken) ?? '';
}

const trimmed = (credentials: Readonly<Record<string, string | undefined>>) =>
  Object.fromEntries(
    Object.entries(credentials).map(([key, value]) => [key, (value ?? '').trim()]),
  ) as Record<string, string>;

const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

function refuse(problems: readonly SetupProblem[]): never {
  const taken = problems.some((problem) => problem.code === 'CHANNEL_NAME_TAKEN');
  throw new SetupError(
    taken ? 'CONFLICT' : 'BAD_REQUEST',
    problems.map((p) => p.message).join('; '),
    problems,
  );
}

/** A unique index said no (a name or a platform id another request saved first). */
function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** Appends a setup event with the rows it describes, in one transaction; the cache is dropped after. */
async function record(
  services: SetupServices,
  tenantId: TenantId,
  channelId: string,
  event: ChannelSetupEvent,
  actor: SetupActor,
  write: (repo: ChannelRepository) => Promise<void>,
  expectedVersion: 'no_stream' | 'any' = 'any',
): Promise<void> {
  const { repo } = services.channels;
  try {
    await services.store.append(
      tenantId,
      streamFor('channel', channelId),
      [{ type: event.type, data: event.data as unknown as JsonObject, metadata: actor.metadata }],
      { expectedVersion, withinTransaction: (tx) => write(repo.within(tx)) },
    );
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new SetupError(
        'CONFLICT',
        'a channel with this name or platform id was saved meanwhile: nothing changed',
      );
    }
    throw error;
  } finally {
    repo.invalidate();
  }
}

/** Telegram's `setWebhook` for a bot, against the simulator or Telegram itself; refused: a SetupError. */
async function pointBotAt(
  services: SetupServices,
  apiBaseUrl: string,
  botToken: string,
  appId: string,
  secret: string,
): Promise<void> {
  const publicUrl = services.channels.publicUrl();
  if (!publicUrl) {
    throw new SetupError(
      'PRECONDITION_FAILED',
      'Parley does not know its public address yet: set PARLEY_PUBLIC_URL',
    );
  }
  const base =
    apiBaseUrl === 'simulator:telegram' ? services.channels.simulators.telegram?.apiBaseUrl : apiBaseUrl;
  if (!base) throw new SetupError('PRECONDITION_FAILED', 'no Telegram simulator runs on this server');
  const outcome = await setTelegramWebhook(base, botToken, `${publicUrl}/webhooks/telegram/${appId}`, secret);
  if (outcome.ok) return;
  throw new SetupError(
    'BAD_REQUEST',
    outcome.status === 401 || outcome.status === 404
      ? `Telegram refused the bot token (${outcome.description}): copy it again from @BotFather. Nothing was saved.`
      : `Telegram refused the webhook (${outcome.description}). Nothing was saved.`,
  );
}

/** What an admin asks to connect. */
export interface ConnectRequest {
  readonly platform: Platform;
  readonly name: string;
  readonly inboxId: string;
  /** `simulator`: the local simulators (the demo); `platform`: the real API. */
  readonly target: 'simulator' | 'platform';
  readonly credentials: Readonly<Record<string, string | undefined>>;
}

/**
 * Connects a channel (decision 0038): checks the inbox, the name and the credentials (CS1, CS2,
 * CS6) and the platform id, makes the app's secrets, lets Telegram know where to post (refused:
 * nothing saved), then writes the app, the channel and `ChannelConnected` in one transaction.
 */
export async function connectChannel(
  services: SetupServices,
  tenantId: TenantId,
  actor: SetupActor,
  request: ConnectRequest,
): Promise<string> {
  const { repo } = services.channels;
  if (!(await services.inboxExists(tenantId, request.inboxId))) {
    throw new SetupError('NOT_FOUND', `there is no inbox ${request.inboxId}`);
  }
  const kind = appKindOf(request.platform);
  const channelId = `${request.platform}-${randomHex(4)}`;
  const appId = `${kind}-${randomHex(8)}`;
  const existing = await repo.channelsOfTenant(tenantId);
  const decided = decideConnectChannel(
    { ...request, channelId, appId, by: actor.id, at: services.clock() },
    existing.map((channel) => channel.name),
  );
  if (!decided.ok) refuse(decided.problems);
  const credentials = trimmed(request.credentials);
  if (kind !== 'webchat' && request.target === 'simulator' && !services.channels.simulators[kind]) {
    throw new SetupError(
      'PRECONDITION_FAILED',
      'no platform simulators run on this server: connect to the platform itself',
    );
  }
  const externalId = externalIdOf(request.platform, credentials, appId);
  if (await repo.channelAnywhere(request.platform, externalId)) {
    const label = CREDENTIAL_FIELDS[request.platform][0]?.label ?? 'id';
    throw new SetupError('CONFLICT', `this ${label} (${externalId}) is connected already`);
  }
  const metaApp = kind === 'whatsapp' || kind === 'meta';
  // Meta signs webhooks with its app secret; a bot's secret token and a widget's key are ours.
  const secret = metaApp ? credentials.appSecret! : randomHex(24);
  const apiBaseUrl =
    kind === 'webchat'
      ? 'local:webchat'
      : request.target === 'simulator'
        ? `simulator:${kind}`
        : PLATFORM_API[kind];
  const accessToken = tokenOf(request.platform, credentials);
  if (kind === 'telegram') await pointBotAt(services, apiBaseUrl, accessToken, appId, secret);
  await record(
    services,
    tenantId,
    channelId,
    decided.event,
    actor,
    (tx) =>
      tx.insertConnection(
        { appId, tenantId, kind, secret, verifyToken: metaApp ? randomHex(16) : null },
        {
          tenantId,
          channelId,
          appId,
          platform: request.platform,
          externalId,
          name: request.name.trim(),
          inboxId: request.inboxId,
          apiBaseUrl,
          accessToken,
        },
        kind === 'webchat' ? DEFAULT_WIDGET_SETTINGS : null,
      ),
    'no_stream',
  );
  return channelId;
}

async function channelOf(
  services: SetupServices,
  tenantId: TenantId,
  channelId: string,
): Promise<ChannelRecord> {
  const channel = await services.channels.repo.channel(tenantId, channelId);
  if (!channel) throw new SetupError('NOT_FOUND', `there is no channel ${channelId}`);
  return channel;
}

/**
 * Replaces a channel's credentials (CS1): the same platform id, a new token and (Meta) app secret.
 * A new app secret becomes current and the old one stays accepted for a day (IN2); Telegram is told
 * the new token first, and a refusal saves nothing.
 */
export async function replaceCredentials(
  services: SetupServices,
  tenantId: TenantId,
  actor: SetupActor,
  request: { readonly channelId: string; readonly credentials: Readonly<Record<string, string | undefined>> },
): Promise<void> {
  const channel = await channelOf(services, tenantId, request.channelId);
  if (channel.platform === 'webchat')
    throw new SetupError('BAD_REQUEST', 'a web chat channel has no credentials');
  const problems = credentialProblems(channel.platform, request.credentials);
  if (problems.length > 0) refuse(problems);
  const credentials = trimmed(request.credentials);
  if (externalIdOf(channel.platform, credentials, channel.appId) !== channel.externalId) {
    throw new SetupError(
      'BAD_REQUEST',
      `these credentials name another ${CREDENTIAL_FIELDS[channel.platform][0]!.label.toLowerCase()} than ${channel.externalId}: connect it as a new channel`,
    );
  }
  const app = await services.channels.repo.app(channel.appId);
  if (!app) throw new SetupError('NOT_FOUND', `there is no channel ${request.channelId}`);
  const accessToken = tokenOf(channel.platform, credentials);
  if (channel.platform === 'telegram')
    await pointBotAt(services, channel.apiBaseUrl, accessToken, app.appId, app.secret);
  const newSecret = app.kind === 'telegram' ? null : credentials.appSecret!;
  await record(
    services,
    tenantId,
    channel.channelId,
    {
      type: 'ChannelCredentialsReplaced',
      data: {
        channelId: channel.channelId,
        credentials: CREDENTIAL_FIELDS[channel.platform].map((field) => field.key),
        by: actor.id,
        at: services.clock(),
      },
    },
    actor,
    async (tx) => {
      await tx.replaceAccessToken(tenantId, channel.channelId, accessToken);
      if (newSecret !== null && newSecret !== app.secret) {
        await tx.rotateSecret(app.appId, newSecret, 24 * 3_600_000, tenantId);
      }
    },
  );
}

/** Saves a web chat widget's colour, greeting, pre-chat form and allowed origins (CS3, CS4). */
export async function configureWidget(
  services: SetupServices,
  tenantId: TenantId,
  actor: SetupActor,
  request: { readonly channelId: string; readonly settings: WidgetSettings },
): Promise<WidgetSettings> {
  const channel = await channelOf(services, tenantId, request.channelId);
  if (channel.platform !== 'webchat')
    throw new SetupError('NOT_FOUND', `there is no web chat channel ${request.channelId}`);
  const checked = checkWidgetSettings(request.settings);
  if (!checked.ok) refuse(checked.problems);
  await record(
    services,
    tenantId,
    channel.channelId,
    {
      type: 'WidgetConfigured',
      data: { channelId: channel.channelId, settings: checked.settings, by: actor.id, at: services.clock() },
    },
    actor,
    async (tx) => {
      await tx.saveWidget(tenantId, channel.channelId, checked.settings);
    },
  );
  return checked.settings;
}

/**
 * Rotates an app's webhook secret (IN2): a new random secret, the old one accepted for the grace.
 * A bot is told its new secret token first (refused: nothing changes); recorded with its actor.
 */
export async function rotateWebhookSecret(
  services: SetupServices,
  tenantId: TenantId,
  actor: SetupActor,
  request: { readonly appId: string; readonly graceHours: number },
): Promise<{ readonly secret: string; readonly previousSecretExpiresAt: number }> {
  const { repo } = services.channels;
  const app = await repo.app(request.appId);
  if (!app || app.tenantId !== tenantId)
    throw new SetupError('NOT_FOUND', `there is no app ${request.appId}`);
  const [channel] = await repo.channelsOfApp(app.appId);
  // Meta signs with its own app secret: one Parley made up would fail every webhook after the grace.
  if (
    (app.kind === 'whatsapp' || app.kind === 'meta') &&
    channel &&
    !channel.apiBaseUrl.startsWith('simulator:')
  ) {
    throw new SetupError(
      'PRECONDITION_FAILED',
      "Meta makes this app's secret: reset it in the Meta app (App settings › Basic), then save it under Replace credentials; the old one stays accepted for 24 hours",
    );
  }
  const secret = randomHex(24);
  const graceMs = Math.round(request.graceHours * 3_600_000);
  if (app.kind === 'telegram' && channel) {
    await pointBotAt(services, channel.apiBaseUrl, channel.accessToken, app.appId, secret);
  }
  const at = services.clock();
  await record(
    services,
    tenantId,
    channel?.channelId ?? app.appId,
    {
      type: 'WebhookSecretRotated',
      data: {
        channelId: channel?.channelId ?? null,
        appId: app.appId,
        graceHours: request.graceHours,
        by: actor.id,
        at,
      },
    },
    actor,
    async (tx) => {
      if (!(await tx.rotateSecret(app.appId, secret, graceMs, tenantId))) {
        throw new SetupError('NOT_FOUND', `there is no app ${request.appId}`);
      }
    },
  );
  return { secret, previousSecretExpiresAt: at + graceMs };
}

/** The line a test message carries, so the admin finds it in the inbox. */
export const TEST_MESSAGE_TEXT = 'Test message from Parley: this channel works.';

/**
 * A customer writes to a simulated channel now, through its webhook URL (signature, inbox,
 * processor: the whole path). A real platform's customer cannot be made to write.
 */
export async function sendTestMessage(
  services: SetupServices,
  tenantId: TenantId,
  channelId: string,
): Promise<{ readonly webhookStatus: number; readonly conversationId: string }> {
  const channel = await channelOf(services, tenantId, channelId);
  if (channel.platform === 'webchat') {
    throw new SetupError(
      'PRECONDITION_FAILED',
      'open the preview page and write as a visitor: that is the web chat test',
    );
  }
  const posted = channel.apiBaseUrl.startsWith('simulator:')
    ? await services.channels.simulateCustomer(tenantId, channelId, TEST_MESSAGE_TEXT)
    : undefined;
  if (!posted) {
    throw new SetupError(
      'PRECONDITION_FAILED',
      'Parley cannot make a customer write on a real platform: send the channel a message from your own account, and the last webhook shows here',
    );
  }
  return posted;
}
