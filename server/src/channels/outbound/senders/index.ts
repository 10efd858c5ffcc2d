import type { Platform } from '@parley/domain';
import type { SqlQueryable } from '../../../db/driver';
import { unreachable, type ChannelRecord } from '../../types';
import { metaSender } from './meta';
import { telegramSender } from './telegram';
import type { PlatformSender } from './types';
import { webchatSender } from './webchat';
import { whatsappSender } from './whatsapp';

export type { OutboundMessage, PlatformSender, SendOutcome } from './types';

/** One sender per platform. */
export type Senders = Readonly<Record<Platform, PlatformSender>>;

/** The real senders: HTTP to the platforms (or their simulators), a table for web chat. */
export function createSenders(sql: SqlQueryable, timeoutMs: number): Senders {
  const meta = metaSender(timeoutMs);
  return {
    whatsapp: whatsappSender(timeoutMs),
    instagram: meta,
    messenger: meta,
    telegram: telegramSender(timeoutMs),
    webchat: webchatSender(sql),
  };
}

/**
 * Whether a channel's API delivers a request repeated with the same `Idempotency-Key` only once:
 * web chat (our own table, unique by the key) and our simulators do; WhatsApp's Cloud API, Meta's
 * Send API and Telegram's Bot API ignore the key and offer no way to ask whether a message went out.
 */
export function honoursIdempotencyKey(channel: ChannelRecord): boolean {
  return channel.platform === 'webchat' || channel.apiBaseUrl.startsWith('simulator:');
}

/** The sender of a platform. */
export function senderFor(senders: Senders, platform: Platform): PlatformSender {
  switch (platform) {
    case 'whatsapp':
    case 'instagram':
    case 'messenger':
    case 'telegram':
    case 'webchat':
      return senders[platform];
    default:
      return unreachable(platform);
  }
}
