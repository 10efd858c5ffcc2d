import type { MessageTag, ReplyContent } from '@parley/domain';
import type { ChannelRecord } from '../../types';

/** One reply to send. */
export interface OutboundMessage {
  readonly channel: ChannelRecord;
  /** The customer's id on the platform: wa_id, PSID, IGSID, chat id, visitor id. */
  readonly recipient: string;
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  /** The same for every attempt of one reply: platforms (and our simulators) that honour it send once. */
  readonly idempotencyKey: string;
}

/** What a platform said to a send. */
export type SendOutcome =
  | { readonly kind: 'sent'; readonly platformMessageId: string }
  /** 429: try again after `retryAfterMs` (undefined when the platform did not say). */
  | { readonly kind: 'rate-limited'; readonly retryAfterMs: number | undefined; readonly detail: string }
  /** Down, slow or broken: worth retrying, and counts against the channel's breaker. */
  | { readonly kind: 'transient'; readonly code: string; readonly detail: string }
  /** Refused for good: `code` becomes the reply's failure reason. */
  | { readonly kind: 'rejected'; readonly code: string; readonly detail: string };

/** Sends replies on one platform. */
export interface PlatformSender {
  send(message: OutboundMessage, baseUrl: string): Promise<SendOutcome>;
}
