import {
  retentionPeriodOf,
  type JsonObject,
  type JsonValue,
  type RecordedEvent,
  type TenantId,
} from '@parley/domain';
import type { PreparedEvent } from '../store/validation';
import { open, openFrom, sealInto } from './aead';
import type { ContactKey, KeySlot, KeyStore } from './keys';

/** Applied by the store to event data on its way to the database and back (docs/decisions/0022). */
export interface StoreCodec {
  /** The events with their `dataJson` encoded; `data` stays clear for the hot tier and the caller. */
  encode(tenantId: TenantId, streamId: string, events: readonly PreparedEvent[]): Promise<PreparedEvent[]>;
  /** The events as the domain wrote them; a field whose key is gone reads as erased. */
  decode(events: RecordedEvent[]): Promise<RecordedEvent[]>;
}

/** What a field sealed by a destroyed key reads as. */
export const ERASED = '[erased]';

/**
 * Personal data, by event type, in conversation streams and contacts' own streams: the fields
 * sealed by the contact key.
 */
export const PERSONAL_FIELDS: Readonly<Record<string, readonly string[]>> = {
  ConversationStarted: ['contact'],
  InboundMessageReceived: ['contact', 'content'],
  ReplyQueued: ['content'],
  NoteAdded: ['text'],
  ContactNoteAdded: ['text'],
};

/**
 * Message content, by event type, in conversation streams: sealed by the conversation's key of the
 * retention period the event is sealed in (decision 0031), so the retention sweep can make it
 * unreadable on schedule. The other personal fields (who the contact is, notes on the contact)
 * keep the conversation's long-lived key and go only with an erasure.
 */
export const CONTENT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  InboundMessageReceived: ['content'],
  ReplyQueued: ['content'],
  NoteAdded: ['text'],
};

const CONVERSATION_STREAM = /^conversation-/;

/** The value an erased field takes: the same shape, so every reader keeps working. */
const ERASED_VALUE: Readonly<Record<string, JsonValue>> = {
  contact: { id: ERASED, name: ERASED, handle: ERASED },
  content: { type: 'text', text: ERASED },
  text: ERASED,
};

/**
 * A sealed field since decision 0034: one base64 string of `[format 2][key id: 16 bytes][nonce: 12]
 * [ciphertext][tag: 16]`, about half the bytes of the legacy form.
 */
interface CompactEnvelope {
  readonly $e: string;
}

/** A sealed field before decision 0034, still read: the key id, nonce and ciphertext apart. */
interface LegacyEnvelope {
  readonly $enc: { readonly k: string; readonly iv: string; readonly ct: string };
}

const FORMAT = 2;
/** The format byte and the key id. */
const HEADER_BYTES = 17;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function isCompact(value: unknown): value is CompactEnvelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    '$e' in value &&
    typeof value.$e === 'string' &&
    Object.keys(value).length === 1
  );
}

function isLegacy(value: unknown): value is LegacyEnvelope {
  if (typeof value !== 'object' || value === null || !('$enc' in value)) return false;
  const enc: unknown = value.$enc;
  if (typeof enc !== 'object' || enc === null) return false;
  const { k, iv, ct } = enc as Record<string, unknown>;
  return typeof k === 'string' && typeof iv === 'string' && typeof ct === 'string';
}

const isEnvelope = (value: unknown): value is CompactEnvelope | LegacyEnvelope =>
  isCompact(value) || isLegacy(value);

/** The key id as a UUID's text, from its 16 bytes. */
function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The id of the key that sealed a field, in either format; undefined for a value in clear. */
export function sealingKeyId(value: unknown): string | undefined {
  if (isLegacy(value)) return value.$enc.k;
  if (!isCompact(value)) return undefined;
  const bytes = Buffer.from(value.$e, 'base64');
  return bytes.length > HEADER_BYTES && bytes[0] === FORMAT
    ? uuidOf(bytes.subarray(1, HEADER_BYTES))
    : undefined;
}

/** The format byte and the key id, once per key (they start every field the key seals). */
const headers = new WeakMap<ContactKey, Buffer>();
function headerOf(key: ContactKey): Buffer {
  let header = headers.get(key);
  if (!header) {
    if (!UUID.test(key.id)) throw new Error(`contact key id ${key.id} is not a UUID`);
    header = Buffer.concat([Buffer.of(FORMAT), Buffer.from(key.id.replaceAll('-', ''), 'hex')]);
    headers.set(key, header);
  }
  return header;
}

const PERSONAL_STREAM = /^(conversation|contact)-/;

const aad = (tenantId: string, streamId: string, eventId: string, keyId: string, field: string) =>
  Buffer.from(`parley:event:${tenantId}:${streamId}:${eventId}:${keyId}:${field}`, 'utf8');

function contactIdOf(data: JsonValue): string | undefined {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
  const contact = data.contact;
  if (typeof contact !== 'object' || contact === null || Array.isArray(contact)) return undefined;
  return typeof contact.id === 'string' ? contact.id : undefined;
}

export interface EventCodecOptions {
  /** The clock that picks the retention period content is sealed in; `Date.now` by default. */
  readonly clock?: () => number;
}

/**
 * Seals the personal fields of conversation and contact events with the contact's keys: message
 * content with the key of the current retention period (the time of sealing, not a time the event
 * names, so nothing is ever sealed under a period the sweep may have destroyed), the rest with the
 * conversation's long-lived key.
 */
export function createEventCodec(keys: KeyStore, options: EventCodecOptions = {}): StoreCodec {
  const clock = options.clock ?? Date.now;
  // The period changes once a week: name it once per UTC day rather than once per append.
  let day = Number.NaN;
  let dayPeriod = '';
  const periodNow = () => {
    const now = clock();
    const today = Math.floor(now / 86_400_000);
    if (today !== day) [day, dayPeriod] = [today, retentionPeriodOf(now)];
    return dayPeriod;
  };
  return {
    async encode(tenantId, streamId, events) {
      if (!PERSONAL_STREAM.test(streamId)) return [...events];
      const period = periodNow();
      const byPeriod = CONVERSATION_STREAM.test(streamId);
      // Which fields each event seals, under which of the stream's keys (undefined: long-lived).
      const plans = events.map((event) => {
        const fields = PERSONAL_FIELDS[event.type];
        const data = event.data;
        if (!fields || typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
        const content = byPeriod ? (CONTENT_FIELDS[event.type] ?? []) : [];
        const present = fields.filter((field) => data[field] !== undefined);
        if (present.length === 0) return undefined;
        return {
          data,
          fields: present.map((field) => [field, content.includes(field) ? period : undefined] as const),
        };
      });
      const keyOf = await streamKeys(keys, tenantId, streamId, events, plans);
      return events.map((event, i) => {
        const plan = plans[i];
        if (!plan) return event;
        const sealed: JsonObject = { ...plan.data };
        for (const [field, slot] of plan.fields) {
          const key = keyOf(slot);
          const envelope = sealInto(
            headerOf(key),
            key.key,
            JSON.stringify(plan.data[field]),
            aad(tenantId, streamId, event.eventId, key.id, field),
          );
          sealed[field] = { $e: envelope.toString('base64') };
        }
        return { ...event, dataJson: JSON.stringify(sealed) };
      });
    },

    async decode(events) {
      let out: RecordedEvent[] | undefined;
      for (const [i, event] of events.entries()) {
        const fields = PERSONAL_FIELDS[event.type];
        if (!fields || !PERSONAL_STREAM.test(event.streamId)) continue;
        const data = event.data;
        if (!fields.some((field) => isEnvelope(data[field]))) continue;
        const clear: JsonObject = { ...data };
        for (const field of fields) {
          const value = data[field];
          if (!isEnvelope(value)) continue;
          clear[field] = await openField(keys, event, field, value);
        }
        out ??= [...events];
        out[i] = { ...event, data: clear };
      }
      return out ?? events;
    },
  };
}

/**
 * The stream's keys for the slots the events seal under: from memory when held, else found or made
 * together (one statement for the stream's missing slots, shared with other streams asking at the
 * same moment) when an event names the contact, else one by one.
 */
async function streamKeys(
  keys: KeyStore,
  tenantId: TenantId,
  streamId: string,
  events: readonly PreparedEvent[],
  plans: readonly ({ readonly fields: readonly (readonly [string, KeySlot])[] } | undefined)[],
): Promise<(slot: KeySlot) => ContactKey> {
  const held = new Map<KeySlot, ContactKey>();
  const missing = new Set<KeySlot>();
  for (const plan of plans)
    for (const [, slot] of plan?.fields ?? []) {
      if (held.has(slot) || missing.has(slot)) continue;
      const cached = keys.cachedKeyForStream(tenantId, streamId, slot);
      if (cached) held.set(slot, cached);
      else missing.add(slot);
    }
  if (missing.size > 0) {
    const slots = [...missing];
    const contactId = events.map((event) => contactIdOf(event.data)).find((id) => id !== undefined);
    const found =
      contactId !== undefined
        ? await keys.keysForStream(tenantId, streamId, contactId, slots)
        : await Promise.all(slots.map((slot) => keys.keyForStream(tenantId, streamId, undefined, slot)));
    slots.forEach((slot, i) => held.set(slot, found[i]!));
  }
  return (slot) => held.get(slot)!;
}

async function openField(
  keys: KeyStore,
  event: RecordedEvent,
  field: string,
  envelope: CompactEnvelope | LegacyEnvelope,
): Promise<JsonValue> {
  const erased = ERASED_VALUE[field] ?? ERASED;
  try {
    let plain: Buffer;
    if (isLegacy(envelope)) {
      const key = await keys.contactKey(event.tenantId, envelope.$enc.k);
      if (!key) return erased;
      plain = open(key, envelope.$enc, aadText(event, envelope.$enc.k, field));
    } else {
      const bytes = Buffer.from(envelope.$e, 'base64');
      if (bytes[0] !== FORMAT || bytes.length < HEADER_BYTES) return erased;
      const keyId = uuidOf(bytes.subarray(1, HEADER_BYTES));
      const key = await keys.contactKey(event.tenantId, keyId);
      if (!key) return erased;
      plain = openFrom(
        key,
        bytes,
        HEADER_BYTES,
        aad(event.tenantId, event.streamId, event.eventId, keyId, field),
      );
    }
    return JSON.parse(plain.toString('utf8')) as JsonValue;
  } catch {
    return erased; // a ciphertext that does not open under its key is as good as erased
  }
}

const aadText = (event: RecordedEvent, keyId: string, field: string) =>
  `parley:event:${event.tenantId}:${event.streamId}:${event.eventId}:${keyId}:${field}`;
