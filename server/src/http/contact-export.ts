import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { id } from '../api/schemas';
import { readSessionCookie, requestIsSecure } from '../auth/cookies';
import type { Auth } from '../auth/service';
import { exportContact, ExportTooLargeError, type ExportServices } from '../contacts/export';
import { ContactNotFoundError } from '../crypto/erasure';
import type { Logger } from '../logger';
import { originAllowed } from './security-headers';

export const CONTACT_EXPORT_PATH = '/api/contacts/export';
/** The request names one contact: a few hundred bytes at most. */
const MAX_BODY = 4096;

/** The same choice as `contacts.erase`: the contact's platform id, or one of their conversations. */
const exportInput = z.union([
  z.object({ contactId: z.string().min(1).max(200) }).strict(),
  z.object({ conversationId: id }).strict(),
]);

/**
 * `POST /api/contacts/export` (decision 0030): an admin downloads everything Parley holds about a
 * contact as a ZIP, streamed as it is made. A route rather than a tRPC procedure because the answer
 * is a file of any size, not JSON. Checked in the order the tRPC procedures check: same origin (the
 * export is recorded, so another site's form must not start one), a live session (401), an admin of
 * the session's tenant (403), a well-formed body (400), a contact of that tenant (404, nothing
 * recorded). Returns false for other paths.
 */
export function contactExportRoute(deps: {
  readonly services: ExportServices;
  readonly auth: Pick<Auth, 'resolve'>;
  readonly publicUrl: () => string | undefined;
  readonly logger: Logger;
}): (req: IncomingMessage, res: ServerResponse) => boolean {
  async function handle(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('allow', 'POST');
      return json(res, 405, { code: 'METHOD_NOT_SUPPORTED', message: 'POST the contact to export' });
    }
    if (!originAllowed(req, deps.publicUrl())) {
      req.resume();
      return json(res, 403, { code: 'FORBIDDEN', message: 'exports from other sites are refused' });
    }
    const cookie = readSessionCookie(req.headers.cookie, requestIsSecure(req, deps.publicUrl()));
    const session = await deps.auth.resolve(cookie);
    if (!session) {
      req.resume();
      return json(res, 401, { code: 'UNAUTHORIZED', message: 'sign in first' });
    }
    if (session.agent.role !== 'admin') {
      req.resume();
      return json(res, 403, { code: 'FORBIDDEN', message: 'only an admin of this workspace may do this' });
    }
    const body = await readBody(req);
    let parsed: z.infer<typeof exportInput> | undefined;
    try {
      parsed = exportInput.parse(body === undefined ? undefined : JSON.parse(body));
    } catch {
      parsed = undefined;
    }
    if (!parsed) {
      return json(res, 400, {
        code: 'BAD_REQUEST',
        message: 'send JSON naming the contact by contactId or by conversationId, not both',
      });
    }
    const { tenantId, agent } = session;
    let exported;
    try {
      exported = await exportContact(deps.services, {
        tenantId,
        contact: parsed,
        exportedBy: agent.id,
        at: Date.now(),
      });
    } catch (error) {
      if (error instanceof ContactNotFoundError)
        return json(res, 404, { code: 'NOT_FOUND', message: error.message });
      if (error instanceof ExportTooLargeError)
        return json(res, 413, { code: 'PAYLOAD_TOO_LARGE', message: error.message });
      throw error;
    }
    deps.logger.info(
      { tenantId, exportedBy: agent.id, conversations: exported.conversations.length },
      'contact exported',
    );
    res.writeHead(200, {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="${exported.fileName}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    await pipeline(Readable.from(exported.zip()), res);
  }

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== CONTACT_EXPORT_PATH) return false;
    handle(req, res).catch((error: unknown) => {
      if (error instanceof BodyTooLarge) {
        if (!res.headersSent) {
          res.setHeader('connection', 'close');
          json(res, 413, { code: 'PAYLOAD_TOO_LARGE', message: 'the request is too large' });
        }
        return;
      }
      deps.logger.error({ err: error }, 'contact export failed');
      // Once the ZIP has begun, cutting the connection is the only way to say it is incomplete.
      if (!res.headersSent) json(res, 500, { code: 'INTERNAL', message: 'the export failed' });
      else res.destroy();
    });
    return true;
  };
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return size === 0 ? undefined : Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
