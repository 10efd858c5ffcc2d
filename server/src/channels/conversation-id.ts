import { createHash } from 'node:crypto';
import type { Platform, TenantId } from '@parley/domain';
import { unreachable } from './types';

const PREFIX = (platform: Platform): string => {
  switch (platform) {
    case 'whatsapp':
      return 'wa';
    case 'instagram':
      return 'ig';
    case 'messenger':
      return 'ms';
    case 'telegram':
      return 'tg';
    case 'webchat':
      return 'wc';
    default:
      return unreachable(platform);
  }
};

/**
 * The conversation of one contact on one channel, the same on every process and every retry:
 * a hash, so it can be derived from any webhook (message or receipt) without a lookup.
 */
export function conversationIdFor(
  tenantId: TenantId,
  platform: Platform,
  channelId: string,
  contactId: string,
): string {
  const hash = createHash('sha256').update(`${tenantId}\u0000${channelId}\u0000${contactId}`).digest('hex');
  return `${PREFIX(platform)}_${hash.slice(0, 24)}`;
}
