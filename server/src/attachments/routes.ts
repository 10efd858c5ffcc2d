import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { TenantId } from '@parley/domain';
import type { Auth } from '../auth/service';
import { readSessionCookie, requestIsSecure } from '../auth/cookies';
import { originAllowed } from '../http/security-headers';
import type { Logger } from '../logger';
import { AttachmentError, type Attachments, type StoredAttachment } from './attachments';

const PREFIX = '/api/attachments';
const HASH = /^[0-9a-f]{64}$/;
/** Shown inline by the PWA; anything else is a download (never rendered by the browser as a page). */
const INLINE = /^(image\/(jpeg|png|gif|webp)|video\/|audio\/)/;

/**
 * `/api/attachments`: `POST` (a file, type read from its bytes) and `PUT /<sha256>` (the same, by
 * hash: idempotent, what the outbox uses) upload for the session's tenant; `GET /<sha256>` downloads
 * the session tenant's file; `GET /link/<tenant>/<sha256>?expires&sig` serves a file to a platform
 * fetching a signed link. Returns false for other paths.
 */
export function attachmentRoutes(deps: {
  readonly attachments: Attachments;
  readonly auth: Pick<Auth, 'resolve'>;
  readonly publicUrl: () => string | undefined;
  readonly logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { attachments } = deps;

  async function tenantOf(req: IncomingMessage): Promise<TenantId | null> {
    const cookie = readSessionCookie(req.headers.cookie, requestIsSecure(req, deps.publicUrl()));
    return (await deps.auth.resolve(cookie))?.tenantId ?? null;
  }

  async function serve(req: IncomingMessage, res: ServerResponse, tenantId: TenantId, sha256: string) {
    const found = await attachments.open(tenantId, sha256);
    if (!found) return json(res, 404, { code: 'ATTACHMENT_NOT_FOUND', message: 'there is no such file' });
    const { attachment, body } = found;
    const inline = INLINE.test(attachment.mime);
    res.writeHead(200, {
      'content-type': attachment.mime,
      'content-length': String(attachment.size),
      'content-disposition': `${inline ? 'inline' : 'attachment'}; filename*=UTF-8''${encodeURIComponent(attachment.name)}`,
      // Content-addressed: the bytes under this URL never change.
      'cache-control': 'private, max-age=31536000, immutable',
      // A file is never a page: no scripts, no plugins, even if opened directly.
      'content-security-policy': "default-src 'none'; img-src 'self'; media-src 'self'; sandbox",
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      body.destroy();
      res.end();
      return;
    }
    await pipeline(body, res);
  }

  async function upload(req: IncomingMessage, res: ServerResponse, expectedSha256?: string) {
    if (!originAllowed(req, deps.publicUrl())) {
      req.resume();
      return json(res, 403, { code: 'FORBIDDEN', message: 'uploads from other sites are refused' });
    }
    const tenantId = await tenantOf(req);
    if (!tenantId) {
      req.resume();
      return json(res, 401, { code: 'UNAUTHORIZED', message: 'sign in to upload a file' });
    }
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > attachments.maxBytes) {
      req.resume();
      res.setHeader('connection', 'close');
      return json(res, 413, {
        code: 'ATTACHMENT_TOO_LARGE',
        message: `the file is over ${attachments.maxBytes} bytes, the largest Parley stores`,
      });
    }
    if (expectedSha256) {
      // Idempotent by content: a file this tenant already has is not read again.
      const existing = await attachments.find(tenantId, expectedSha256);
      if (existing) {
        req.resume();
        return json(res, 200, existing);
      }
    }
    const name = decodeName(header(req, 'x-file-name'));
    const stored: StoredAttachment = await attachments.upload(tenantId, req, {
      claimedMime: header(req, 'content-type'),
      name,
      expectedSha256,
    });
    json(res, 201, stored);
  }

  async function route(req: IncomingMessage, res: ServerResponse, path: string, url: URL) {
    const method = req.method ?? 'GET';
    const parts = path.slice(PREFIX.length).split('/').filter(Boolean);
    if (parts.length === 0 && method === 'POST') return upload(req, res);
    if (parts.length === 1 && HASH.test(parts[0]!)) {
      if (method === 'PUT') return upload(req, res, parts[0]);
      if (method === 'GET' || method === 'HEAD') {
        const tenantId = await tenantOf(req);
        if (!tenantId) return json(res, 401, { code: 'UNAUTHORIZED', message: 'sign in to see this file' });
        return serve(req, res, tenantId, parts[0]!);
      }
    }
    if (parts.length === 3 && parts[0] === 'link' && (method === 'GET' || method === 'HEAD')) {
      const [, tenant, sha256] = parts as [string, string, string];
      const valid = attachments.verifyLink(
        decodeURIComponent(tenant),
        sha256,
        url.searchParams.get('expires') ?? '',
        url.searchParams.get('sig') ?? '',
      );
      if (!valid) return json(res, 403, { code: 'FORBIDDEN', message: 'the link is wrong or has expired' });
      return serve(req, res, decodeURIComponent(tenant) as TenantId, sha256);
    }
    req.resume();
    json(res, 404, { code: 'NOT_FOUND', message: 'no such attachment route' });
  }

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://parley');
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return false;
    route(req, res, url.pathname, url).catch((error: unknown) => {
      if (error instanceof AttachmentError) {
        if (!res.headersSent) {
          res.setHeader('connection', 'close');
          json(res, error.status, { code: error.code, message: error.message });
        }
        req.resume();
        return;
      }
      deps.logger.error({ err: error }, 'attachment request failed');
      if (!res.headersSent) json(res, 500, { code: 'INTERNAL', message: 'the file could not be handled' });
      else res.destroy();
    });
    return true;
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function decodeName(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
