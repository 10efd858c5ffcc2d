import { sanitizeJson } from '@parley/domain';
import type { AppKind } from '../types';
import { unreachable } from '../types';
import { parseMeta } from './meta';
import { parseTelegram } from './telegram';
import type { InboundItem, ParseContext, ParsedDelivery } from './types';
import { parseWebchat } from './webchat';
import { parseWhatsApp } from './whatsapp';

export type { InboundItem, InboundMessageItem, ParsedDelivery, ReceiptItem } from './types';

/**
 * Reads a delivery of an app kind into items; throws a permanent `PAYLOAD_INVALID` for a foreign
 * shape. Every string of every item is made storable here, for all channels at once (TX1): a NUL
 * or a lone surrogate becomes U+FFFD and the message says it was `sanitized`.
 */
export function parseDelivery(kind: AppKind, payload: unknown, context: ParseContext): ParsedDelivery {
  const parsed = parseKind(kind, payload, context);
  return { ...parsed, items: parsed.items.map(storable) };
}

function storable(item: InboundItem): InboundItem {
  const { value, sanitized } = sanitizeJson(item);
  return sanitized && value.kind === 'message' ? { ...value, sanitized: true } : value;
}

function parseKind(kind: AppKind, payload: unknown, context: ParseContext): ParsedDelivery {
  switch (kind) {
    case 'whatsapp':
      return parseWhatsApp(payload);
    case 'meta':
      return parseMeta(payload);
    case 'telegram':
      return parseTelegram(payload);
    case 'webchat':
      return parseWebchat(payload, context);
    default:
      return unreachable(kind);
  }
}
