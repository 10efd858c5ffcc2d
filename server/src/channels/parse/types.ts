import {
  checkInboundContent,
  type Contact,
  type EpochMs,
  type InboundContent,
  type Platform,
} from '@parley/domain';
import { ChannelError, ChannelErrorCode } from '../errors';

/** A customer's message, in the domain's terms plus where it came from. */
export interface InboundMessageItem {
  readonly kind: 'message';
  readonly platform: Platform;
  /** The channel's id on the platform; null when the app has a single channel (a bot, a widget). */
  readonly channelExternalId: string | null;
  /** `contact.id` is the customer's id on the platform: wa_id, PSID, IGSID, chat id, visitor id. */
  readonly contact: Contact;
  readonly externalMessageId: string;
  readonly sentAt: EpochMs;
  readonly content: InboundContent;
  /** The platform's own message type (`text`, `location`, `sticker`, ...), kept in the event metadata. */
  readonly sourceType: string;
  /** True when the platform's type has no domain equivalent and is shown as "unsupported message". */
  readonly unsupported: boolean;
  /** True when a NUL or a lone surrogate in its text was replaced by U+FFFD (TX1); set by `parseDelivery`. */
  readonly sanitized?: boolean;
}

/** A platform's word on one of our replies. */
export interface ReceiptItem {
  readonly kind: 'receipt';
  readonly platform: Platform;
  readonly channelExternalId: string | null;
  readonly contactId: string;
  readonly status: 'sent' | 'delivered' | 'read' | 'failed';
  /** The replies it is about; empty when the receipt is a watermark (Messenger). */
  readonly platformMessageIds: readonly string[];
  /** Messenger: every reply sent up to this time. */
  readonly watermark: EpochMs | null;
  readonly at: EpochMs;
  readonly error: { readonly code: string; readonly title: string } | null;
}

/** One thing a delivery says. */
export type InboundItem = InboundMessageItem | ReceiptItem;

/** What a delivery says, and how many of its parts were deliberately skipped (echoes, edits). */
export interface ParsedDelivery {
  readonly items: InboundItem[];
  readonly ignored: number;
}

/** Where a delivery was received: the authenticated sender (web chat visitor) and when. */
export interface ParseContext {
  readonly subject: string | null;
  readonly receivedAt: EpochMs;
}

/** Content for a message type the domain cannot hold: kept with its type and shown, never dropped (CV13). */
export function unsupportedContent(type: string): InboundContent {
  return { type: 'unsupported', sourceType: type || 'unknown' };
}

/** The longest raw value an unreadable message keeps (TX2); events stay far below the store's limit. */
export const MAX_RAW_CHARS = 2_000;

/**
 * Content for a message of a known type that cannot be read (a text field of the wrong JSON type):
 * kept as unsupported with the platform's value as JSON, for the agent to see (TX2).
 */
export function unreadableContent(type: string, raw: unknown): InboundContent {
  const json = raw === undefined ? 'undefined' : JSON.stringify(raw);
  return { type: 'unsupported', sourceType: type || 'unknown', raw: json.slice(0, MAX_RAW_CHARS) };
}

/** Whether `value` can be read as a text field: absent (undefined or null), a string or a finite number (TX2). */
export function isTextField(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    typeof value === 'string' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** The object at `value`, or an empty one when it is anything else: for parts a message can do without. */
export function optionalObject(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A shared place; coordinates the domain would refuse keep the message as unsupported instead. */
export function locationContent(
  latitude: unknown,
  longitude: unknown,
  name: unknown,
  address: unknown,
): InboundContent {
  const wrongType = [latitude, longitude].some(
    (n) => n !== undefined && n !== null && Number.isNaN(numeric(n)),
  );
  if (wrongType || !isTextField(name) || !isTextField(address)) {
    return unreadableContent('location', { latitude, longitude, name, address });
  }
  const content: InboundContent = {
    type: 'location',
    latitude: numeric(latitude),
    longitude: numeric(longitude),
    name: optionalText(name) || null,
    address: optionalText(address) || null,
  };
  try {
    checkInboundContent(content);
    return content;
  } catch {
    return unsupportedContent('location');
  }
}

type Json = Record<string, unknown>;

/** The object at `value`, or a permanent `PAYLOAD_INVALID` naming `what`. */
export function object(value: unknown, what: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    invalid(`${what} is not an object`);
  return value as Json;
}

/** The array at `value` (missing means empty), or `PAYLOAD_INVALID`. */
export function array(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) invalid(`${what} is not an array`);
  return value;
}

/** The string (or number, as a string) at `value`, or `PAYLOAD_INVALID`. */
export function text(value: unknown, what: string): string {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  invalid(`${what} is missing`);
}

/** The string at `value`, or `fallback`. */
export function optionalText(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fallback;
}

/** Epoch ms from Unix seconds (a number or a numeric string), or `PAYLOAD_INVALID`. */
export function seconds(value: unknown, what: string): number {
  const n = numeric(value);
  if (!Number.isFinite(n) || n <= 0) invalid(`${what} is not a timestamp`);
  return n * 1000;
}

/** Epoch ms given as a number of ms (or a numeric string), or `PAYLOAD_INVALID`. */
export function millis(value: unknown, what: string): number {
  const n = numeric(value);
  if (!Number.isFinite(n) || n <= 0) invalid(`${what} is not a timestamp`);
  return n;
}

/** A number sent as a number or a decimal string; NaN for anything else (`true`, `[5]`, `{}` are not numbers). */
function numeric(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

function invalid(message: string): never {
  throw new ChannelError(ChannelErrorCode.PAYLOAD_INVALID, message, true);
}
