import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SqlQueryable } from '../../db/driver';
import type { Logger } from '../../logger';
import { reply } from '../http-response';
import type { InboxRow, InboxStore } from '../inbound/inbox-store';
import { readRawBody } from '../inbound/raw-body';
import type { ChannelRepository } from '../repository';
import { acceptedSecrets, newVisitorId, verifyVisitorToken, visitorToken } from '../signature';
import { WIDGET_PAGE_POLICY, WIDGET_SCRIPT, widgetPage } from './widget';

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
}

/** The widget is embedded on customers' own sites: any origin may call, with a bearer token and no cookies. */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization, content-type',
  'access-control-allow-methods': 'GET, POST, OPTIONS',
};

/**
 * `/webchat/widget.js`, `/webchat/<app>` (a page), and the widget's API under `/webchat/<app>/`:
 * `POST session` (a visitor token), `POST events` (messages and receipts), `GET messages?after=`.
 */
export function createWebchatRoutes(deps: WebchatDeps) {
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
    const match = /^\/webchat\/([A-Za-z0-9_-]{1,64})(?:\/(session|events|messages))?$/.exec(path);
    const app = match ? await deps.repo.app(match[1]!) : undefined;
    if (!match || !app || app.kind !== 'webchat') {
      req.resume();
      return reply(res, 404, { error: 'UNKNOWN_WIDGET' }, CORS);
    }
    const action = match[2];
    const secrets = acceptedSecrets(app, deps.clock());
    if (action === undefined && req.method === 'GET') {
      // The page's own policy replaces the PWA's: it may be framed, and it runs only the widget.
      res.removeHeader('x-frame-options');
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-cache',
        'content-security-policy': WIDGET_PAGE_POLICY,
      });
      res.end(widgetPage(app.appId));
      return;
    }
    if (action === 'session' && req.method === 'POST') {
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
      const raw = await readRawBody(req, deps.maxBodyBytes);
      if (!raw.ok) {
        await deps.inbox.reject({
          tenantId: app.tenantId,
          appId: app.appId,
          reason: 'too_large',
          httpStatus: 413,
          sizeBytes: raw.size,
          excerpt: raw.head,
        });
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
