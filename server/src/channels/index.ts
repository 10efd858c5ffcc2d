import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streamEntityId, type TenantId } from '@parley/domain';
import type { SqlQueryable } from '../db/driver';
import type { BroadcastChannel } from '../broadcast/channel';
import type { SecretBox } from '../crypto/secrets';
import type { Logger } from '../logger';
import { conversationIdFor } from './conversation-id';
import { reply } from './http-response';
import { InboxStore } from './inbound/inbox-store';
import { InboundProcessor, type ProcessorOptions } from './inbound/processor';
import { inboundMediaFetcher, type StoreFile } from './inbound/media-fetch';
import { LeaseOwner, type LeaseOptions } from './leases';
import { createWebhookEndpoint, type WebhookStats } from './inbound/webhooks';
import { Dispatcher, type DispatcherOptions } from './outbound/dispatcher';
import { OutboxStore } from './outbound/outbox-store';
import { createSenders } from './outbound/senders';
import { withMediaLinks } from './outbound/senders/media-links';
import type { ConversationPort } from './ports';
import { ChannelRepository } from './repository';
import {
  startCustomerSimulator,
  type CustomerSimulator,
  type CustomerTarget,
} from './simulators/customer-simulator';
import {
  startPlatformSimulator,
  type PlatformSimulator,
  type SimulatorKind,
  type StatusTarget,
} from './simulators/platform-simulator';
import type { ChannelRecord } from './types';
import { clientAddress, TRUST_NO_PROXY, type TrustProxy } from '../http/client-address';
import { RefusalCounter } from './inbound/refusals';
import { DEFAULT_CHANNEL_RETENTION_MS, startChannelPruning, type PruneResult } from './maintenance';
import {
  createWebchatLimiters,
  createWebchatRoutes,
  DEFAULT_WEBCHAT_LIMITS,
  type WebchatLimits,
} from './webchat/routes';

export { seedDemoChannels } from './seed';
export { routeReplies } from './routes';
export { writeOutboxRows } from './outbound/queue-reply';
export type { ConversationPort } from './ports';

/** How the channels run; the defaults suit production, tests shorten the times. */
export interface ChannelsOptions {
  /** Start the WhatsApp, Meta and Telegram simulators on ephemeral 127.0.0.1 ports. */
  readonly simulators?: boolean;
  /** API base URLs of simulators running elsewhere (another process), for `simulator:<kind>` channels. */
  readonly simulatorUrls?: Partial<Record<SimulatorKind, string>>;
  /** Customer simulator period (0: only on demand). */
  readonly customerEveryMs?: number;
  /** Base URL the simulators post webhooks to; else set by `listeningOn`. */
  readonly publicUrl?: string;
  readonly maxWebhookBytes?: number;
  readonly maxWebchatBytes?: number;
  /** Web chat posts per address and per visitor (S8). */
  readonly webchatLimits?: Partial<WebchatLimits>;
  /** Proxies whose `X-Forwarded-For` names a visitor's address; none by default. */
  readonly trustProxy?: TrustProxy;
  /** Processed deliveries, refused ones and web chat reply copies older than this are pruned hourly. */
  readonly retentionMs?: number;
  /** Whether the simulators post status webhooks (default true). */
  readonly simulatorStatuses?: boolean;
  /** Delays of the simulators' sent, delivered and read webhooks. */
  readonly statusDelaysMs?: readonly [number, number, number];
  readonly processor?: Partial<ProcessorOptions>;
  readonly dispatcher?: Partial<DispatcherOptions>;
  /** Who owns this process's leases, and when a silent owner counts as dead (SC, SD). */
  readonly leases?: Partial<LeaseOptions>;
  /** Send timeout per HTTP call to a platform. */
  readonly sendTimeoutMs?: number;
  /** Start the processor and dispatcher loops (tests may drive `pass()` themselves). */
  readonly autoStart?: boolean;
  readonly clock?: () => number;
  readonly random?: () => number;
  /** The path of a signed link to a tenant's stored file (`Attachments.linkPath`), for media replies. */
  readonly mediaLinkPath?: (tenantId: string, sha256: string) => string;
  /** Stores a customer's file downloaded from the platform (`Attachments.upload`); unset keeps references. */
  readonly storeInboundFile?: StoreFile;
}

/** What the channels need from the process. */
export interface ChannelsDeps {
  readonly sql: SqlQueryable;
  readonly grains: ConversationPort;
  readonly logger: Logger;
  /** When given, every `ReplyQueued` wakes the dispatcher, whoever queued it (the API's sync too). */
  readonly broadcast?: BroadcastChannel;
  /** Seals webhook secrets, verify tokens and access tokens at rest (decision 0022). */
  readonly secrets?: SecretBox;
}

/** The running channels: webhook ingest, processing, dispatch and the simulators. */
export interface Channels {
  readonly repo: ChannelRepository;
  readonly inbox: InboxStore;
  readonly outbox: OutboxStore;
  /** The owner this process's leases name. */
  readonly leases: LeaseOwner;
  readonly processor: InboundProcessor;
  readonly dispatcher: Dispatcher;
  readonly simulators: Partial<Record<SimulatorKind, PlatformSimulator>>;
  readonly customers: CustomerSimulator | undefined;
  readonly webhookStats: WebhookStats;
  /** Refusals counted per app instead of written: unsigned, oversized, rate-limited (S8). */
  readonly refusals: RefusalCounter;
  /** Runs one pruning pass now (it also runs at start and hourly). */
  prune(): Promise<PruneResult>;
  /**
   * Serves `/webhooks/*` and `/webchat/*`; false when the path is not ours. The simulators' faults
   * are set through `admin.channels.*` (an admin's session, their tenant's channels only), never
   * over raw HTTP on Parley's port (#13 S14).
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * With the simulators on: a simulated customer writes to this tenant's channel now. Resolves to
   * the conversation the message lands in, or undefined when the channel is not a simulated one.
   */
  simulateCustomer(
    tenantId: TenantId,
    channelId: string,
    text?: string,
  ): Promise<{ readonly webhookStatus: number; readonly conversationId: string } | undefined>;
  /** Tells the simulators where Parley listens, once it does. */
  listeningOn(address: AddressInfo | string | null): void;
  /** The base URL webhooks are posted to, once known. */
  publicUrl(): string | undefined;
  close(): Promise<void>;
}

/** Starts the channels. */
export async function startChannels(deps: ChannelsDeps, options: ChannelsOptions = {}): Promise<Channels> {
  const clock = options.clock ?? Date.now;
  const repo = new ChannelRepository(deps.sql, clock, undefined, deps.secrets);
  await repo.sealStoredSecrets(); // decision 0022: rows written in clear before, sealed now
  // SC, SD: registered before anything is claimed, freeing a dead predecessor's rows at once.
  const leases = new LeaseOwner(deps.sql, deps.logger, options.leases, clock);
  await leases.register();
  const inbox = new InboxStore(deps.sql, clock, options.processor?.leaseMs, leases.id);
  const outbox = new OutboxStore(deps.sql);
  let publicUrl = options.publicUrl;
  const simulators: Partial<Record<SimulatorKind, PlatformSimulator>> = {};

  const processor = new InboundProcessor(
    {
      sql: deps.sql,
      grains: deps.grains,
      repo,
      logger: deps.logger,
      clock,
      random: options.random,
      owner: leases.id,
      fetchMedia: options.storeInboundFile
        ? inboundMediaFetcher({
            store: options.storeInboundFile,
            baseUrlOf: (channel) => baseUrlOf(channel),
            logger: deps.logger,
          })
        : undefined,
    },
    options.processor,
  );
  const baseUrlOf = (channel: ChannelRecord): string | undefined => {
    if (!channel.apiBaseUrl.startsWith('simulator:')) return channel.apiBaseUrl.replace(/\/$/, '');
    const kind = channel.apiBaseUrl.slice('simulator:'.length) as SimulatorKind;
    return simulators[kind]?.apiBaseUrl ?? options.simulatorUrls?.[kind];
  };
  const dispatcher = new Dispatcher(
    {
      sql: deps.sql,
      grains: deps.grains,
      repo,
      senders: withMediaLinks(createSenders(deps.sql, options.sendTimeoutMs ?? 10_000), (tenant, hash) =>
        publicUrl && options.mediaLinkPath ? `${publicUrl}${options.mediaLinkPath(tenant, hash)}` : undefined,
      ),
      baseUrlOf,
      logger: deps.logger,
      clock,
      random: options.random,
      owner: leases.id,
    },
    options.dispatcher,
  );

  const statusTarget =
    (kind: SimulatorKind) =>
    async (externalId: string): Promise<StatusTarget | undefined> => {
      const platforms = kind === 'meta' ? (['messenger', 'instagram'] as const) : ([kind] as const);
      for (const platform of platforms) {
        const channel = await repo.channelAnywhere(platform, externalId);
        const app = channel && (await repo.app(channel.appId));
        if (!channel || !app || !publicUrl) continue;
        return {
          url: `${publicUrl}/webhooks/${app.kind}/${app.appId}`,
          secret: app.secret,
          object: platform === 'instagram' ? 'instagram' : 'page',
        };
      }
      return undefined;
    };
  if (options.simulators) {
    for (const kind of ['whatsapp', 'meta', 'telegram'] as const) {
      simulators[kind] = await startPlatformSimulator({
        kind,
        ...(options.simulatorStatuses === false ? {} : { statusTarget: statusTarget(kind) }),
        statusDelaysMs: options.statusDelaysMs,
        random: options.random,
        clock,
        logger: deps.logger,
      });
      deps.logger.info({ simulator: kind, url: simulators[kind].url }, 'platform simulator listening');
    }
  }
  const customerTarget = async (channel: ChannelRecord): Promise<CustomerTarget | undefined> => {
    const app = await repo.app(channel.appId);
    if (!app || !publicUrl || channel.platform === 'webchat') return undefined;
    return {
      platform: channel.platform,
      url: `${publicUrl}/webhooks/${app.kind}/${app.appId}`,
      secret: app.secret,
      channelExternalId: channel.externalId,
    };
  };
  const customers = options.simulators
    ? startCustomerSimulator({
        targets: async () => {
          if (!publicUrl) return [];
          const targets: CustomerTarget[] = [];
          for (const channel of await repo.simulatedChannels()) {
            const target = await customerTarget(channel);
            if (target) targets.push(target);
          }
          return targets;
        },
        everyMs: options.customerEveryMs ?? 0,
        random: options.random,
        clock,
        logger: deps.logger,
      })
    : undefined;

  const refusals = new RefusalCounter();
  const webhooks = createWebhookEndpoint({
    repo,
    inbox,
    recorded: (row) => processor.accept(row),
    logger: deps.logger,
    clock,
    maxBodyBytes: options.maxWebhookBytes ?? 1_000_000,
    refusals,
  });
  const webchat = createWebchatRoutes({
    sql: deps.sql,
    repo,
    inbox,
    recorded: (row) => processor.accept(row),
    logger: deps.logger,
    clock,
    maxBodyBytes: options.maxWebchatBytes ?? 16_384,
    refusals,
    limiters: createWebchatLimiters({ ...DEFAULT_WEBCHAT_LIMITS, ...options.webchatLimits }, clock),
    addressOf: (req) => clientAddress(req, options.trustProxy ?? TRUST_NO_PROXY),
  });
  if (options.autoStart ?? true) {
    processor.start();
    dispatcher.start();
  }
  const pruning = startChannelPruning({
    sql: deps.sql,
    logger: deps.logger,
    clock,
    retentionMs: options.retentionMs ?? DEFAULT_CHANNEL_RETENTION_MS,
  });
  const listening = new AbortController();
  const replies = deps.broadcast ? wakeOnReplies(deps.broadcast, dispatcher, listening.signal) : undefined;

  function handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '/').split('?')[0]!;
    let work: Promise<void> | undefined;
    const webhook = /^\/webhooks\/(whatsapp|meta|telegram)\/([A-Za-z0-9_-]{1,64})\/?$/.exec(path);
    if (webhook)
      work = webhooks.handle(req, res, webhook[1] as 'whatsapp' | 'meta' | 'telegram', webhook[2]!);
    else if (path.startsWith('/webchat/')) work = webchat(req, res, path);
    else if (path.startsWith('/webhooks/')) {
      req.resume();
      reply(res, 404, { error: 'UNKNOWN_WEBHOOK' });
      return true;
    }
    if (!work) return false;
    work.catch((error: unknown) => {
      // The delivery was not recorded: a 500 makes the platform retry it.
      deps.logger.error({ err: error, path }, 'channel request failed');
      reply(res, 500, { error: 'INTERNAL' });
    });
    return true;
  }

  return {
    repo,
    inbox,
    outbox,
    leases,
    processor,
    dispatcher,
    simulators,
    customers,
    webhookStats: webhooks.stats,
    refusals,
    prune: () => pruning.runOnce(),
    handle,
    async simulateCustomer(tenantId, channelId, text) {
      const channel = await repo.channel(tenantId, channelId);
      if (!customers || !channel?.apiBaseUrl.startsWith('simulator:')) return undefined;
      const target = await customerTarget(channel);
      if (!target) return undefined;
      const posted = await customers.postTo(target, text);
      return {
        webhookStatus: posted.status,
        conversationId: conversationIdFor(tenantId, channel.platform, channel.channelId, posted.contactId),
      };
    },
    listeningOn(address) {
      if (options.publicUrl || !address || typeof address === 'string') return;
      const host = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
      publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
    },
    publicUrl: () => publicUrl,
    async close() {
      listening.abort();
      await pruning.stop();
      await replies;
      await customers?.stop();
      await processor.stop();
      await dispatcher.stop();
      await leases.close();
      for (const simulator of Object.values(simulators)) await simulator.close();
    },
  };
}

/** Wakes the dispatcher for each reply queued in this process; the dispatcher's poll covers others. */
async function wakeOnReplies(
  broadcast: BroadcastChannel,
  dispatcher: Dispatcher,
  signal: AbortSignal,
): Promise<void> {
  for await (const delivery of broadcast.subscribe('all', { signal })) {
    if (delivery.kind === 'overflow') dispatcher.wake();
    else if (delivery.event.type === 'ReplyQueued') {
      const { tenantId, streamId } = delivery.event;
      dispatcher.wake({ tenantId, conversationId: streamEntityId(streamId) });
    }
  }
}
