import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_WIDGET_SETTINGS, isOriginAllowed } from '@parley/domain';
import type { SqlQueryable } from '../../db/driver';
import { createWindowLimiter, type WindowLimit, type WindowLimiter } from '../../auth/rate-limit';
import type { Logger } from '../../logger';
import { reply } from '../http-response';
import type { InboxRow, InboxStore } from '../inbound/inbox-store';
import { readRawBody } from '../inbound/raw-body';
import type { RefusalCounter } from '../inbound/refusals';
import { MAX_RECEIPT_IDS } from '../parse/webchat';
import type { ChannelRepository } from '../repository';
import { acceptedSecrets, newVisitorId, verifyVisitorToken, visitorToken } from '../signature';
import { previewPage, WIDGET_PAGE_POLICY, WIDGET_SCRIPT, widgetPage } from './widget';

/** What the web chat endpoints need. */
export interface WebchatDeps {
  readonly sql: SqlQueryable;
  readonly repo: ChannelRepository;
  readonly inbox: InboxStore;
  /** Hands a recorded (and already claimed) delivery to the processor. */
  readonly recorded: (row: InboxRow) => void;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly maxBodyBytes: number;
  /** Refusals counted instead of written: oversized bodies and rate-limited posts (S8). */
  readonly refusals: RefusalCounter;
  readonly limiters: WebchatLimiters;
  /** The client's address: the socket's peer, or what trusted proxies say (PARLEY_TRUST_PROXY). */
  readonly addressOf: (req: IncomingMessage) => string;
}

/** Web chat needs no secret, so its posts are limited per client address and per visitor (S8). */
export interface WebchatLimits {
  /** New and renewed visitor sessions per address. */
  readonly sessionsPerAddress: WindowLimit;
  /** Messages and receipts per visitor. */
  readonly eventsPerVisitor: WindowLimit;
  /** Messages and receipts per address, whatever visitors it holds tokens for. */
  readonly eventsPerAddress: WindowLimit;
}

const MINUTE = 60_000;

export const DEFAULT_WEBCHAT_LIMITS: WebchatLimits = {
  sessionsPerAddress: { attempts: 20, windowMs: MINUTE, maxKeys: 10_000 },
  eventsPerVisitor: { attempts: 60, windowMs: MINUTE, maxKeys: 10_000 },
  eventsPerAddress: { attempts: 300, windowMs: MINUTE, maxKeys: 10_000 },
};

export interface WebchatLimiters {
  readonly sessions: WindowLimiter;
  readonly eventsPerVisitor: WindowLimiter;
  readonly eventsPerAddress: WindowLimiter;
}

export function createWebchatLimiters(limits: WebchatLimits, clock: () => number): WebchatLimiters {
  return {
    sessions: createWindowLimiter(limits.sessionsPerAddress, clock),
    eventsPerVisitor: createWindowLimiter(limits.eventsPerVisitor, clock),
    eventsPerAddress: createWindowLimiter(limits.eventsPerAddress, clock),
  };
}

/** The widget is embedded on customers' own sites: any origin may call, with a bearer token and no cookies. */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
};

/**
 * `/webchat/widget.js`, `/webchat/<app>` (a page), `/webchat/<app>/preview` (the admin's preview),
 * and the widget's API under `/webchat/<app>/`: `GET config` (look and pre-chat form), `POST session`
 * (a visitor token), `POST events` (messages and receipts), `GET messages?after=`. With allowed
 * origins set, posts and reads from other sites' pages get 403 (CS5).
 */
export function createWebchatRoutes(deps: WebchatDeps) {
  /** 429 with Retry-After, before the body is read; the refusal is counted, not written. */
  const tooMany = (req: IncomingMessage, res: ServerResponse, appId: string, retryAfterMs: number) => {
    req.resume();
    deps.refusals.count(appId, 'rate_limited');
    const seconds = Math.max(1, Math.ceil(retryAfterMs / 1000));
    return reply(
      res,
      429,
      { error: 'RATE_LIMITED', retryAfterSeconds: seconds },
      {
        ...CORS,
        'access-control-expose-headers': 'retry-after',
        'retry-after': String(seconds),
      },
    );
  };
  return async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'OPTIONS') return reply(res, 204, '', CORS);
    if (path === '/webchat/widget.js') {
      res.writeHead(200, {
        'content-type': 'text/javascript; charset=utf-8',
        'cache-control': 'no-cache',
        ...CORS,
      });
      res.end(WIDGET_SCRIPT);
      return;
    }
    const match = /^\/webchat\/([A-Za-z0-9_-]{1,64})(?:\/(session|events|messages|config|preview))?$/.exec(
      path,
    );
    const app = match ? await deps.repo.app(match[1]!) : undefined;
    if (!match || !app || app.kind !== 'webchat') {
      req.resume();
      return reply(res, 404, { error: 'UNKNOWN_WIDGET' }, CORS);
    }
    const action = match[2];
    const secrets = acceptedSecrets(app, deps.clock());
    if ((action === undefined || action === 'preview') && req.method === 'GET') {
      // The page's own policy replaces the PWA's: it may be framed, and it runs only the widget.
      res.removeHeader('x-frame-options');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': WIDGET_PAGE_POLICY,
      });
      res.end(action === 'preview' ? previewPage(app.appId) : widgetPage(app.appId));
      return;
    }
    const settings = (await deps.repo.soleChannel(app.appId, 'webchat'))?.widget ?? DEFAULT_WIDGET_SETTINGS;
    if (action === 'config' && req.method === 'GET') {
      const { colour, greeting, preChat } = settings;
      return reply(res, 200, { colour, greeting, preChat }, CORS);
    }
    // CS5: a page of a site outside the allowed origins gets a clear 403, before anything is read.
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const ownOrigin = origin && req.headers.host ? `${origin.split('://')[0]}://${req.headers.host}` : null;
    if (!isOriginAllowed(origin, settings.allowedOrigins, ownOrigin)) {
      req.resume();
      deps.refusals.count(app.appId, 'forbidden_origin');
      return reply(
        res,
        403,
        {
          error: 'ORIGIN_NOT_ALLOWED',
          message: `this chat does not take messages from pages of ${origin}: its admin allows other sites only (Parley › Settings › Channels › allowed origins)`,
        },
        CORS,
      );
    }
    if (action === 'session' && req.method === 'POST') {
      const allowed = deps.limiters.sessions.hit(deps.addressOf(req));
      if (!allowed.allowed) return tooMany(req, res, app.appId, allowed.retryAfterMs);
      const raw = await readRawBody(req, 4096);
      let previous: string | undefined;
      try {
        previous = raw.ok
          ? ((JSON.parse(raw.body.toString('utf8') || '{}') as { token?: string }).token ?? undefined)
          : undefined;
      } catch {
        previous = undefined;
      }
      // A token signed with an accepted secret keeps its visitor (and conversation) and is re-signed.
      const visitor = verifyVisitorToken(previous, app.appId, secrets) ?? newVisitorId();
      return reply(
        res,
        200,
        { visitorId: visitor, token: visitorToken(app.secret, app.appId, visitor) },
        CORS,
      );
    }
    // IN11: the visitor is whoever the token names, checked before the body is read.
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const visitor = verifyVisitorToken(bearer, app.appId, secrets);
    if (!visitor) {
      req.resume();
      return reply(res, 401, { error: 'INVALID_TOKEN' }, CORS);
    }
    if (action === 'events' && req.method === 'POST') {
      const byAddress = deps.limiters.eventsPerAddress.hit(deps.addressOf(req));
      if (!byAddress.allowed) return tooMany(req, res, app.appId, byAddress.retryAfterMs);
      const byVisitor = deps.limiters.eventsPerVisitor.hit(`${app.appId}/${visitor}`);
      if (!byVisitor.allowed) return tooMany(req, res, app.appId, byVisitor.retryAfterMs);
      const raw = await readRawBody(req, deps.maxBodyBytes);
      if (!raw.ok) {
        // Anyone can have a visitor token: an oversized post is counted, never written.
        deps.refusals.count(app.appId, 'too_large');
        return reply(
          res,
          413,
          { error: 'PAYLOAD_TOO_LARGE', limit: deps.maxBodyBytes },
          { ...CORS, connection: 'close' },
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        await deps.inbox.reject({
          tenantId: app.tenantId,
          appId: app.appId,
          reason: 'malformed',
          httpStatus: 400,
          sizeBytes: raw.body.length,
          excerpt: raw.body,
        });
        return reply(res, 400, { error: 'MALFORMED_JSON' }, CORS);
      }
      // IN13: one receipt names at most MAX_RECEIPT_IDS messages; refused before anything is stored.
      const messageIds = (parsed as { messageIds?: unknown }).messageIds;
      if (Array.isArray(messageIds) && messageIds.length > MAX_RECEIPT_IDS) {
        return reply(
          res,
          400,
          {
            error: 'TOO_MANY_MESSAGE_IDS',
            message: `a receipt names at most ${MAX_RECEIPT_IDS} messages, not ${messageIds.length}`,
            limit: MAX_RECEIPT_IDS,
          },
          CORS,
        );
      }
      const row = await deps.inbox.record({
        tenantId: app.tenantId,
        appId: app.appId,
        kind: 'webchat',
        subject: visitor,
        body: raw.body,
      });
      if (row) deps.recorded(row);
      return reply(res, 200, { ok: true }, CORS);
    }
    if (action === 'messages' && req.method === 'GET') {
      const after = Number(new URL(req.url ?? '/', 'http://parley').searchParams.get('after') ?? 0);
      const rows = await deps.sql.query<{
        seq: string;
        message_id: string;
        content: unknown;
        created_at: Date;
      }>(
        `SELECT m.id::text AS seq, m.message_id, m.content, m.created_at
           FROM webchat_messages m JOIN channels c ON c.tenant_id = m.tenant_id AND c.channel_id = m.channel_id
          WHERE c.app_id = $1 AND m.visitor_id = $2 AND m.id > $3 ORDER BY m.id LIMIT 100`,
        [app.appId, visitor, Number.isSafeInteger(after) && after > 0 ? after : 0],
      );
      return reply(
        res,
        200,
        {
          messages: rows.map((r) => ({
            seq: Number(r.seq),
            messageId: r.message_id,
            content: r.content,
            at: r.created_at.getTime(),
          })),
        },
        CORS,
      );
    }
    req.resume();
    return reply(res, 405, { error: 'METHOD_NOT_ALLOWED' }, CORS);
  };
}
