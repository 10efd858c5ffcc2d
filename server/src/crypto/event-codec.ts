import {
  retentionPeriodOf,
  type JsonObject,
  type JsonValue,
  type RecordedEvent,
  type TenantId,
} from '@parley/domain';
import type { PreparedEvent } from '../store/validation';
import { open, seal } from './aead';
import type { KeyStore } from './keys';

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

interface Envelope {
  readonly $enc: { readonly k: string; readonly iv: string; readonly ct: string };
}

function isEnvelope(value: unknown): value is Envelope {
  if (typeof value !== 'object' || value === null || !('$enc' in value)) return false;
  const enc: unknown = value.$enc;
  if (typeof enc !== 'object' || enc === null) return false;
  const { k, iv, ct } = enc as Record<string, unknown>;
  return typeof k === 'string' && typeof iv === 'string' && typeof ct === 'string';
}

const PERSONAL_STREAM = /^(conversation|contact)-/;

const aad = (tenantId: string, streamId: string, eventId: string, keyId: string, field: string) =>
  `parley:event:${tenantId}:${streamId}:${eventId}:${keyId}:${field}`;

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
      const out: PreparedEvent[] = [];
      for (const event of events) {
        const fields = PERSONAL_FIELDS[event.type];
        const data = event.data;
        if (!fields || typeof data !== 'object' || data === null || Array.isArray(data)) {
          out.push(event);
          continue;
        }
        const present = fields.filter((field) => data[field] !== undefined);
        if (present.length === 0) {
          out.push(event);
          continue;
        }
        const contactId = contactIdOf(data);
        const content = byPeriod ? (CONTENT_FIELDS[event.type] ?? []) : [];
        const sealed: JsonObject = { ...data };
        for (const field of present) {
          const fieldPeriod = content.includes(field) ? period : undefined;
          const key =
            keys.cachedKeyForStream(tenantId, streamId, fieldPeriod) ??
            (await keys.keyForStream(tenantId, streamId, contactId, fieldPeriod));
          const { iv, ct } = seal(
            key.key,
            Buffer.from(JSON.stringify(data[field]), 'utf8'),
            aad(tenantId, streamId, event.eventId, key.id, field),
          );
          sealed[field] = { $enc: { k: key.id, iv, ct } };
        }
        out.push({ ...event, dataJson: JSON.stringify(sealed) });
      }
      return out;
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

async function openField(
  keys: KeyStore,
  event: RecordedEvent,
  field: string,
  envelope: Envelope,
): Promise<JsonValue> {
  const erased = ERASED_VALUE[field] ?? ERASED;
  const key = await keys.contactKey(event.tenantId, envelope.$enc.k);
  if (!key) return erased;
  try {
    const plain = open(
      key,
      envelope.$enc,
      aad(event.tenantId, event.streamId, event.eventId, envelope.$enc.k, field),
    );
    return JSON.parse(plain.toString('utf8')) as JsonValue;
  } catch {
    return erased; // a ciphertext that does not open under its key is as good as erased
  }
}
