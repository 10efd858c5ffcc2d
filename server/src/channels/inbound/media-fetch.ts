import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { InboundContent, MediaRef, TenantId } from '@parley/domain';
import type { Logger } from '../../logger';
import type { ChannelRecord } from '../types';

/** Stores a downloaded file for a tenant (`Attachments.upload`): its stored reference, type and size. */
export type StoreFile = (
  tenantId: TenantId,
  body: Readable,
  claimedMime: string,
) => Promise<{ readonly url: string; readonly mime: string; readonly size: number }>;

/** Replaces a customer's file the platform only referenced with a copy Parley stores, when it can. */
export type InboundMediaFetcher = (
  channel: ChannelRecord,
  content: InboundContent,
) => Promise<InboundContent>;

const get = (value: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (at, key) => (typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[key] : undefined),
    value,
  );

/**
 * Downloads customers' files as each platform documents it: WhatsApp `GET /{media-id}` for a URL,
 * then that URL with the token; Telegram `getFile` then `/file/bot{token}/{file_path}`; Meta's
 * attachment URL as it is. A file that cannot be fetched (expired, too large, of no known type, a
 * platform down) keeps the platform's reference, and the agent sees where it is instead.
 */
export function inboundMediaFetcher(deps: {
  readonly store: StoreFile;
  readonly baseUrlOf: (channel: ChannelRecord) => string | undefined;
  readonly logger: Logger;
  readonly timeoutMs?: number;
}): InboundMediaFetcher {
  const timeoutMs = deps.timeoutMs ?? 20_000;
  const fetchOk = async (url: string, headers: Record<string, string> = {}) => {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) {
      await response.body?.cancel();
      throw new Error(`${new URL(url).pathname} answered ${response.status}`);
    }
    return response;
  };

  async function download(channel: ChannelRecord, media: MediaRef): Promise<Response | null> {
    const base = deps.baseUrlOf(channel);
    const [scheme, ...rest] = media.url.split(':');
    const id = rest.join(':');
    if (scheme === 'whatsapp-media' && base && id) {
      const bearer = { authorization: `Bearer ${channel.accessToken}` };
      const meta: unknown = await (await fetchOk(`${base}/${encodeURIComponent(id)}`, bearer)).json();
      const url = get(meta, 'url');
      return typeof url === 'string' ? fetchOk(url, bearer) : null;
    }
    if (scheme === 'telegram-file' && base && id) {
      const bot = `${base}/bot${channel.accessToken}`;
      const file: unknown = await (await fetchOk(`${bot}/getFile?file_id=${encodeURIComponent(id)}`)).json();
      const path = get(file, 'result', 'file_path');
      return typeof path === 'string' ? fetchOk(`${base}/file/bot${channel.accessToken}/${path}`) : null;
    }
    if (scheme === 'https') return fetchOk(media.url);
    return null;
  }

  return async (channel, content) => {
    if (content.type !== 'media') return content;
    try {
      const response = await download(channel, content.media);
      if (!response?.body) return content;
      const stored = await deps.store(
        channel.tenantId,
        Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
        response.headers.get('content-type') ?? content.media.mime,
      );
      return { ...content, media: { ...content.media, ...stored } };
    } catch (error) {
      deps.logger.warn(
        { err: error, channelId: channel.channelId, media: content.media.url },
        "a customer's file could not be downloaded; its platform reference is kept",
      );
      return content;
    }
  };
}
