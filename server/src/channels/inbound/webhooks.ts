import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../logger';
import { reply } from '../http-response';
import type { ChannelRepository } from '../repository';
import { acceptedSecrets, verifyMetaSignature, verifySharedToken } from '../signature';
import type { AppKind, ChannelApp } from '../types';
import type { InboxRow, InboxStore } from './inbox-store';
import { readRawBody } from './raw-body';
import type { RefusalCounter } from './refusals';

/** What the webhook endpoints need. */
export interface WebhookDeps {
  readonly repo: ChannelRepository;
  readonly inbox: InboxStore;
  /** Hands a recorded (and already claimed) delivery to the processor. */
  readonly recorded: (row: InboxRow) => void;
  readonly logger: Logger;
  readonly clock: () => number;
  /** Largest body accepted, in bytes. */
  readonly maxBodyBytes: number;
  /** Counts refusals made before the signature is checked (nothing is written for those). */
  readonly refusals: RefusalCounter;
}

/** Statistics of the endpoints, for the benchmark and the developer panel. */
export interface WebhookStats {
  accepted: number;
  duplicates: number;
  unauthorized: number;
  malformed: number;
  tooLarge: number;
}

/**
 * The platform webhook endpoints: `GET` is Meta's verification handshake, `POST` a delivery.
 * Order matters: the body is read under its size limit, then authenticated on its raw bytes,
 * then parsed, then recorded and answered 200; processing happens after the answer.
 */
export function createWebhookEndpoint(deps: WebhookDeps): {
  handle(
    req: IncomingMessage,
    res: ServerResponse,
    kind: Exclude<AppKind, 'webchat'>,
    appId: string,
  ): Promise<void>;
  readonly stats: WebhookStats;
} {
  const stats: WebhookStats = { accepted: 0, duplicates: 0, unauthorized: 0, malformed: 0, tooLarge: 0 };

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
    kind: Exclude<AppKind, 'webchat'>,
    appId: string,
  ): Promise<void> {
    const app = await deps.repo.app(appId);
    if (!app || app.kind !== kind) {
      req.resume();
      return reply(res, 404, { error: 'UNKNOWN_APP' });
    }
    if (req.method === 'GET' && kind !== 'telegram') return verifyHandshake(req, res, app);
    if (req.method !== 'POST') {
      req.resume();
      return reply(
        res,
        405,
        { error: 'METHOD_NOT_ALLOWED' },
        { allow: kind === 'telegram' ? 'POST' : 'GET, POST' },
      );
    }
    const raw = await readRawBody(req, deps.maxBodyBytes);
    if (!raw.ok) {
      // S8: an oversized body cannot be authenticated (its signature covers bytes we did not
      // keep), so anyone could send it: counted in memory, never written.
      stats.tooLarge += 1;
      deps.refusals.count(appId, 'too_large');
      return reply(
        res,
        413,
        { error: 'PAYLOAD_TOO_LARGE', limit: deps.maxBodyBytes },
        { connection: 'close' },
      );
    }
    // IN1: authenticate the exact bytes received, before anything reads them.
    const secrets = acceptedSecrets(app, deps.clock());
    const authentic =
      kind === 'telegram'
        ? verifySharedToken(header(req, 'x-telegram-bot-api-secret-token'), secrets)
        : verifyMetaSignature(raw.body, header(req, 'x-hub-signature-256'), secrets);
    if (!authentic) {
      stats.unauthorized += 1;
      deps.refusals.count(appId, 'unauthorized');
      deps.logger.warn({ appId, kind }, 'webhook refused: missing or wrong signature');
      return reply(res, 401, { error: 'INVALID_SIGNATURE' });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.body.toString('utf8'));
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      stats.malformed += 1;
      await deps.inbox.reject({
        tenantId: app.tenantId,
        appId,
        reason: 'malformed',
        httpStatus: 400,
        sizeBytes: raw.body.length,
        excerpt: raw.body,
      });
      return reply(res, 400, { error: 'MALFORMED_JSON' });
    }
    const row = await deps.inbox.record({
      tenantId: app.tenantId,
      appId,
      kind,
      subject: null,
      body: raw.body,
    });
    if (row) {
      stats.accepted += 1;
      deps.recorded(row);
    } else stats.duplicates += 1;
    reply(res, 200, { ok: true });
  }

  function verifyHandshake(req: IncomingMessage, res: ServerResponse, app: ChannelApp): void {
    const params = new URL(req.url ?? '/', 'http://parley').searchParams;
    const challenge = params.get('hub.challenge');
    if (
      params.get('hub.mode') === 'subscribe' &&
      challenge !== null &&
      app.verifyToken !== null &&
      verifySharedToken(params.get('hub.verify_token') ?? undefined, [app.verifyToken])
    ) {
      return reply(res, 200, challenge);
    }
    return reply(res, 403, { error: 'VERIFICATION_FAILED' });
  }

  return { handle, stats };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
