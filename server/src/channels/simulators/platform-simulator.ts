import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../logger';
import { metaSignature } from '../signature';
import { applyFaultRequest, NO_FAULTS, type Faults } from './faults';
import { delay, readJson, sendJson } from './http-util';
import { fetchMedia, mediaOfSend, serveMedia, type FetchedMedia } from './media-shapes';
import { errorBody, matchSend, newMessageId, recipientOf, sendAnswer, statusPayload } from './shapes';

/** Which platform API a simulator speaks. */
export type SimulatorKind = 'whatsapp' | 'meta' | 'telegram';

/** Where a simulator posts the status webhooks of a channel's messages. */
export interface StatusTarget {
  readonly url: string;
  readonly secret: string;
  /** Meta only: which object the channel's webhooks carry. */
  readonly object?: 'page' | 'instagram';
}

/** How a simulator behaves. */
export interface PlatformSimulatorOptions {
  readonly kind: SimulatorKind;
  readonly port?: number;
  /** Where a channel's status webhooks go; undefined posts none. */
  readonly statusTarget?: (channelExternalId: string) => Promise<StatusTarget | undefined>;
  /** Delays of the sent, delivered and read statuses after a send. */
  readonly statusDelaysMs?: readonly [number, number, number];
  readonly random?: () => number;
  readonly clock?: () => number;
  readonly logger?: Logger;
}

/** A message the simulator accepted. */
export interface AcceptedMessage {
  readonly id: string;
  readonly channelExternalId: string;
  readonly to: string;
  readonly body: unknown;
  readonly idempotencyKey: string | null;
  readonly at: number;
  /** The file a media send named, as the simulator downloaded it. */
  readonly media?: FetchedMedia;
}

/** Counters, for tests and the developer panel. */
export interface SimulatorStats {
  readonly requests: number;
  readonly accepted: number;
  /** Sends that repeated an idempotency key and were answered with the first id. */
  readonly duplicates: number;
  readonly failedByFault: number;
  readonly rateLimited: number;
  readonly webhooksPosted: number;
}

/** A running platform simulator. */
export interface PlatformSimulator {
  readonly kind: SimulatorKind;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The base URL a channel uses: with the Graph API version for WhatsApp and Meta. */
  readonly apiBaseUrl: string;
  /** The faults of every channel without faults of its own. */
  faults(): Faults;
  /** The faults a channel's sends and status webhooks get: its own, else the simulator's. */
  faultsFor(channelExternalId: string): Faults;
  /** Merges a fault request into the simulator's faults, or only into these channels' (a tenant's). */
  setFaults(request: unknown, channels?: readonly string[]): Faults;
  /** Clears the simulator's faults and every channel's, or only these channels'. */
  clearFaults(channels?: readonly string[]): void;
  accepted(): readonly AcceptedMessage[];
  /** Telegram only: the webhook `setWebhook` set for a bot id, if any. */
  webhookOf(bot: string): { readonly url: string; readonly secretToken: string } | undefined;
  stats(): SimulatorStats;
  /** Resolves once every status webhook scheduled so far has been posted. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

const GRAPH_VERSION = 'v21.0';

/**
 * A local HTTP server that acts like the WhatsApp Cloud API, the Messenger/Instagram Send API or
 * the Telegram Bot API: accepts sends, returns ids, posts signed status webhooks back, and fails
 * on demand (`POST /_faults`). It honours an `Idempotency-Key` header, which real platforms ignore,
 * so the exactly-once tests can tell a duplicate send from a retry.
 */
export async function startPlatformSimulator(options: PlatformSimulatorOptions): Promise<PlatformSimulator> {
  const random = options.random ?? Math.random;
  const clock = options.clock ?? Date.now;
  const delays = options.statusDelaysMs ?? [50, 400, 1500];
  let faults = NO_FAULTS;
  const channelFaults = new Map<string, Faults>();
  const faultsFor = (channel: string): Faults => channelFaults.get(channel) ?? faults;
  const accepted: AcceptedMessage[] = [];
  const byKey = new Map<string, AcceptedMessage>();
  const pending = new Set<Promise<void>>();
  const counters = {
    requests: 0,
    accepted: 0,
    duplicates: 0,
    failedByFault: 0,
    rateLimited: 0,
    webhooksPosted: 0,
  };
  let closing = false;
  /** Telegram only: each bot's webhook as `setWebhook` set it. */
  const webhooks = new Map<string, { readonly url: string; readonly secretToken: string }>();

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      options.logger?.error({ err: error, simulator: options.kind }, 'simulator request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'simulator failure' });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://simulator');
    if (url.pathname === '/_faults') return faultApi(req, res);
    if (url.pathname === '/_sent' && req.method === 'GET') {
      return sendJson(res, 200, { stats: counters, messages: accepted.slice(-200) });
    }
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (Buffer.isBuffer(body)) res.writeHead(status, headers).end(body);
      else sendJson(res, status, body, headers);
    };
    if (serveMedia(options.kind, req, url, `http://${req.headers.host ?? '127.0.0.1'}`, answer)) return;
    const hook = options.kind === 'telegram' ? /^\/bot(\d+):[^/]+\/setWebhook$/.exec(url.pathname) : null;
    if (hook && req.method === 'POST') return setWebhook(req, res, hook[1]!);
    const route = matchSend(options.kind, url.pathname);
    if (!route || req.method !== 'POST')
      return sendJson(res, 404, { error: { message: 'unknown endpoint' } });
    counters.requests += 1;
    const body = await readJson(req).catch(() => undefined);
    const faults = faultsFor(route.channel);
    if (faults.latencyMs > 0) await delay(faults.latencyMs);
    const now = clock();
    if (faults.outage) {
      counters.failedByFault += 1;
      return sendJson(
        res,
        503,
        errorBody(options.kind, 503, 'Service temporarily unavailable (simulated outage)'),
      );
    }
    if (faults.rateLimit && now < faults.rateLimit.untilMs) {
      counters.rateLimited += 1;
      const seconds = faults.rateLimit.retryAfterSeconds;
      return sendJson(res, 429, errorBody(options.kind, 429, 'Too many requests (simulated)', seconds), {
        'retry-after': String(seconds),
      });
    }
    if (faults.errorRate > 0 && random() < faults.errorRate) {
      counters.failedByFault += 1;
      return sendJson(res, 500, errorBody(options.kind, 500, 'Internal error (simulated)'));
    }
    const recipient = recipientOf(options.kind, body);
    if (body === undefined || !recipient) {
      return sendJson(res, 400, errorBody(options.kind, 400, 'Invalid parameter: recipient'));
    }
    if (faults.unauthorized) {
      return sendJson(
        res,
        401,
        errorBody(options.kind, 401, 'Unauthorized (simulated: credentials refused)'),
      );
    }
    if (options.kind !== 'telegram' && !/^Bearer .+/.test(req.headers.authorization ?? '')) {
      return sendJson(res, 401, errorBody(options.kind, 401, 'Invalid OAuth access token'));
    }
    const key = typeof req.headers['idempotency-key'] === 'string' ? req.headers['idempotency-key'] : null;
    const repeated = key ? byKey.get(key) : undefined;
    if (repeated) {
      counters.duplicates += 1;
      return sendJson(res, 200, sendAnswer(options.kind, repeated, route.method));
    }
    // A media send is checked against the platform's documented shape, and its file fetched.
    const named = mediaOfSend(options.kind, route.method, body);
    const media = named && !('error' in named) ? await fetchMedia(named) : named;
    if (media && 'error' in media) return sendJson(res, 400, errorBody(options.kind, 400, media.error));
    const message: AcceptedMessage = {
      id: newMessageId(options.kind, accepted.length + 1),
      channelExternalId: route.channel,
      to: recipient,
      body,
      idempotencyKey: key,
      at: now,
      ...(media ? { media } : {}),
    };
    accepted.push(message);
    if (key) byKey.set(key, message);
    counters.accepted += 1;
    sendJson(res, 200, sendAnswer(options.kind, message, route.method));
    scheduleStatuses(message);
  }

  /**
   * Telegram's `setWebhook`: where the bot's updates go and the secret token they carry. Like the
   * real API it refuses a token it does not accept (the `unauthorized` fault) with 401 and a
   * secret token outside 1-256 of `A-Za-z0-9_-` with 400.
   */
  async function setWebhook(req: IncomingMessage, res: ServerResponse, bot: string): Promise<void> {
    const body = (await readJson(req).catch(() => undefined)) as Record<string, unknown> | undefined;
    if (faultsFor(bot).unauthorized) {
      return sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    }
    const target = typeof body?.url === 'string' ? body.url : '';
    const secret = typeof body?.secret_token === 'string' ? body.secret_token : '';
    if (!/^https?:\/\/\S+$/.test(target)) {
      return sendJson(res, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: bad webhook: invalid URL',
      });
    }
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(secret)) {
      return sendJson(res, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: secret token contains unallowed characters',
      });
    }
    webhooks.set(bot, { url: target, secretToken: secret });
    return sendJson(res, 200, { ok: true, result: true, description: 'Webhook was set' });
  }

  async function faultApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET') return sendJson(res, 200, faults);
    if (req.method === 'DELETE') {
      faults = NO_FAULTS;
      channelFaults.clear();
      return sendJson(res, 200, faults);
    }
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use GET, POST or DELETE' });
    // #13 S14: a page of another site can post text/plain here unasked; JSON needs a preflight,
    // which the simulator never grants.
    if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      req.resume();
      return sendJson(res, 415, { error: 'send the faults as application/json' });
    }
    try {
      faults = applyFaultRequest(faults, await readJson(req), clock());
      options.logger?.warn({ simulator: options.kind, faults }, 'simulator faults changed');
      return sendJson(res, 200, faults);
    } catch (error) {
      return sendJson(res, 400, { error: error instanceof Error ? error.message : String(error) });
    }
  }

  function scheduleStatuses(message: AcceptedMessage): void {
    if (!options.statusTarget || options.kind === 'telegram') return; // bots get no receipts (TG5)
    const statuses = (['sent', 'delivered', 'read'] as const).map((status, index) => ({
      status,
      after: delays[index]!,
    }));
    const faults = faultsFor(message.channelExternalId);
    const order = faults.outOfOrder ? [...statuses].reverse() : statuses;
    const work = (async () => {
      const target = await options.statusTarget!(message.channelExternalId);
      if (!target) return;
      let waited = 0;
      for (const [index, { status }] of order.entries()) {
        // Out of order keeps the original gaps but swaps who goes first.
        const at = statuses[index]!.after;
        await delay(Math.max(0, at - waited));
        waited = at;
        if (closing) return;
        const payload = statusPayload(options.kind, target, message, status, clock());
        if (!payload) continue;
        const copies = random() < faultsFor(message.channelExternalId).duplicateRate ? 2 : 1;
        for (let copy = 0; copy < copies; copy++) await post(target, payload);
      }
    })();
    const tracked: Promise<void> = work
      .catch((error: unknown) => options.logger?.warn({ err: error }, 'simulator status webhook failed'))
      .finally(() => pending.delete(tracked));
    pending.add(tracked);
  }

  async function post(target: StatusTarget, payload: unknown): Promise<void> {
    const body = JSON.stringify(payload);
    // Platforms retry a webhook that was not answered 200; three tries is enough for a simulator.
    for (let attempt = 1; attempt <= 3 && !closing; attempt++) {
      try {
        const response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': metaSignature(target.secret, body),
          },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        await response.arrayBuffer();
        counters.webhooksPosted += 1;
        if (response.ok) return;
      } catch {
        // retried below
      }
      await delay(100 * attempt);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    kind: options.kind,
    url,
    apiBaseUrl: options.kind === 'telegram' ? url : `${url}/${GRAPH_VERSION}`,
    faults: () => faults,
    faultsFor,
    setFaults(request, channels) {
      if (channels === undefined) {
        faults = applyFaultRequest(faults, request, clock());
        return faults;
      }
      // Checked once, so a bad request changes no channel.
      const next = applyFaultRequest(channels[0] ? faultsFor(channels[0]) : faults, request, clock());
      for (const channel of channels)
        channelFaults.set(channel, applyFaultRequest(faultsFor(channel), request, clock()));
      return next;
    },
    clearFaults(channels) {
      if (channels === undefined) {
        faults = NO_FAULTS;
        channelFaults.clear();
      } else for (const channel of channels) channelFaults.set(channel, NO_FAULTS);
    },
    accepted: () => accepted,
    webhookOf: (bot) => webhooks.get(bot),
    stats: () => ({ ...counters }),
    async settled() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
    async close() {
      closing = true;
      await Promise.all([...pending]);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
