import type { Platform } from '@parley/domain';
import type { SqlQueryable } from '../../../db/driver';
import { unreachable } from '../../types';
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
