import { attachmentHash, type ReplyContent } from '@parley/domain';
import type { Senders } from './index';
import type { OutboundMessage, PlatformSender, SendOutcome } from './types';

/** A link a platform can fetch a tenant's stored file from, or undefined when none can be made. */
export type MediaLinker = (tenantId: string, sha256: string) => string | undefined;

/**
 * Senders whose replies' stored files (`attachment:<sha256>`) become signed links the platform
 * fetches: WhatsApp's `link`, the Send API's `payload.url` and the Bot API's photo/document URL all
 * take an HTTPS URL. A new link is made for every attempt, so a retry never sends an expired one.
 */
export function withMediaLinks(senders: Senders, linkOf: MediaLinker): Senders {
  const wrap = (sender: PlatformSender): PlatformSender => ({
    send(message: OutboundMessage, baseUrl: string): Promise<SendOutcome> {
      const content = linked(message.channel.tenantId, message.content, linkOf);
      if (content === null) {
        return Promise.resolve({
          kind: 'transient',
          code: 'NO_PUBLIC_URL',
          detail: 'the file cannot be linked: PARLEY_PUBLIC_URL is not known yet',
        });
      }
      return sender.send(content === message.content ? message : { ...message, content }, baseUrl);
    },
  });
  return {
    whatsapp: wrap(senders.whatsapp),
    instagram: wrap(senders.instagram),
    messenger: wrap(senders.messenger),
    telegram: wrap(senders.telegram),
    webchat: wrap(senders.webchat),
  };
}

/** The content with its stored file's link (null when a link is needed and none can be made). */
function linked(tenantId: string, content: ReplyContent, linkOf: MediaLinker): ReplyContent | null {
  if (content.type !== 'media') return content;
  const hash = attachmentHash(content.media.url);
  if (hash === null) return content;
  const url = linkOf(tenantId, hash);
  return url === undefined ? null : { ...content, media: { ...content.media, url } };
}
