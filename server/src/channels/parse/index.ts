import type { AppKind } from '../types';
import { unreachable } from '../types';
import { parseMeta } from './meta';
import { parseTelegram } from './telegram';
import type { ParseContext, ParsedDelivery } from './types';
import { parseWebchat } from './webchat';
import { parseWhatsApp } from './whatsapp';

export type { InboundItem, InboundMessageItem, ParsedDelivery, ReceiptItem } from './types';

/** Reads a delivery of an app kind into items; throws a permanent `PAYLOAD_INVALID` for a foreign shape. */
export function parseDelivery(kind: AppKind, payload: unknown, context: ParseContext): ParsedDelivery {
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
