import { createHash } from 'node:crypto';
import type { SimulatorKind } from './platform-simulator';

/** A file a send names, as the simulator fetched it. */
export interface FetchedMedia {
  readonly kind: string;
  readonly url: string;
  readonly status: number;
  readonly bytes: number;
  readonly sha256: string;
  readonly contentType: string | null;
}

const WHATSAPP_TYPES = ['image', 'video', 'audio', 'document', 'sticker'];
const META_TYPES = ['image', 'video', 'audio', 'file'];
const TELEGRAM_FIELDS: Readonly<Record<string, string>> = {
  sendPhoto: 'photo',
  sendVideo: 'video',
  sendAudio: 'audio',
  sendDocument: 'document',
  sendSticker: 'sticker',
};

const get = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/**
 * The file a send carries, read as each platform documents its media message: WhatsApp's
 * `{ type: 'image', image: { link | id, caption? } }`, the Send API's
 * `message.attachment { type, payload: { url } }`, the Bot API's `sendPhoto { photo }` and kin.
 * Null for a send without a file; `{ error }` for a media send of the wrong shape.
 */
export function mediaOfSend(
  kind: SimulatorKind,
  method: string,
  body: unknown,
): { readonly kind: string; readonly url: string } | { readonly error: string } | null {
  if (kind === 'whatsapp') {
    const type = get(body, 'type');
    if (typeof type !== 'string' || !WHATSAPP_TYPES.includes(type)) return null;
    const object = get(body, type);
    const link = get(object, 'link') ?? get(object, 'id');
    if (typeof link !== 'string' || link === '') return { error: `(#100) Param ${type}['link'] is required` };
    if (get(object, 'caption') !== undefined && (type === 'audio' || type === 'sticker'))
      return { error: `(#100) Param ${type}['caption'] is not allowed` };
    return { kind: type, url: link };
  }
  if (kind === 'meta') {
    const attachment = get(get(body, 'message'), 'attachment');
    if (attachment === undefined) return null;
    const type = get(attachment, 'type');
    const url = get(get(attachment, 'payload'), 'url');
    if (typeof type !== 'string' || !META_TYPES.includes(type))
      return { error: '(#100) Invalid attachment type' };
    if (typeof url !== 'string' || url === '') return { error: '(#100) payload.url is required' };
    return { kind: type, url };
  }
  const field = TELEGRAM_FIELDS[method];
  if (!field) return null;
  const file = get(body, field);
  if (typeof file !== 'string' || file === '')
    return { error: `Bad Request: there is no ${field} in the request` };
  return { kind: field, url: file };
}

/** Downloads a send's file as the platform would; a failure is the platform's "could not fetch". */
export async function fetchMedia(media: {
  kind: string;
  url: string;
}): Promise<FetchedMedia | { error: string }> {
  if (!/^https?:\/\//.test(media.url)) return { error: `cannot fetch ${media.url}: not an http(s) URL` };
  try {
    const response = await fetch(media.url, { signal: AbortSignal.timeout(10_000) });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (!response.ok) return { error: `fetching the media answered ${response.status}` };
    return {
      kind: media.kind,
      url: media.url,
      status: response.status,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      contentType: response.headers.get('content-type'),
    };
  } catch (error) {
    return { error: `fetching the media failed: ${error instanceof Error ? error.message : String(error)}` };
  }
}

/** The picture every simulated customer sends: a 96x64 PNG checkerboard. */
export const SAMPLE_PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAGAAAABACAIAAABqVuVZAAAAiUlEQVR42u3ZsQkAIAwEQJdwF3u3FyeycoTYpIkHqR9y3fNtjhXe2T28qjkNECBAgAABAgQIECBAgBKAfn7+JQcQIECAAAECBAgQIECAMoCUVW0eECBAgAABAgQIECBAdjFtHhAgQIAAAQIECBAgQHYxZRUQIECAAAECBAgQIECA7GLaPCBAxXIuQoyCLLP7gjwAAAAASUVORK5CYII=',
  'base64',
);

/**
 * Serves customers' files as the platforms do, so Parley can download them: WhatsApp's
 * `GET /{version}/{media-id}` (a URL, the type, size and hash) then that URL with the token, and the
 * Bot API's `getFile` then `/file/bot{token}/{file_path}`. Every id serves `SAMPLE_PNG`; an id
 * starting `gone` answers 404, as an expired media id does. True when it answered.
 */
export function serveMedia(
  kind: SimulatorKind,
  req: { readonly method?: string; readonly headers: Record<string, string | string[] | undefined> },
  url: URL,
  origin: string,
  reply: (status: number, body: unknown, headers?: Record<string, string>) => void,
): boolean {
  if (req.method !== 'GET' && !(kind === 'telegram' && req.method === 'POST')) return false;
  const path = url.pathname;
  const file = /^\/_media\/([^/]+)$/.exec(path) ?? /^\/file\/bot[^/]+\/media\/([^/]+)$/.exec(path);
  if (file) {
    if (file[1]!.startsWith('gone')) reply(404, { error: { message: 'media not found' } });
    else if (kind === 'whatsapp' && !/^Bearer .+/.test(String(req.headers.authorization ?? ''))) {
      reply(401, { error: { message: 'Invalid OAuth access token', code: 190 } });
    } else reply(200, SAMPLE_PNG, { 'content-type': 'image/png' });
    return true;
  }
  if (kind === 'whatsapp') {
    const id = /^\/v\d+\.\d+\/([^/]+)$/.exec(path)?.[1];
    if (!id) return false;
    if (id.startsWith('gone')) reply(404, { error: { message: 'media not found', code: 100 } });
    else {
      reply(200, {
        messaging_product: 'whatsapp',
        url: `${origin}/_media/${encodeURIComponent(id)}`,
        mime_type: 'image/png',
        sha256: createHash('sha256').update(SAMPLE_PNG).digest('hex'),
        file_size: SAMPLE_PNG.length,
        id,
      });
    }
    return true;
  }
  if (kind === 'telegram' && /^\/bot[^/]+\/getFile$/.test(path)) {
    const id = url.searchParams.get('file_id') ?? '';
    if (id.startsWith('gone'))
      reply(400, { ok: false, error_code: 400, description: 'Bad Request: invalid file_id' });
    else
      reply(200, {
        ok: true,
        result: { file_id: id, file_size: SAMPLE_PNG.length, file_path: `media/${id}.png` },
      });
    return true;
  }
  return false;
}
