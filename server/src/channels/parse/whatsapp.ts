import type { InboundContent, MediaKind } from '@parley/domain';
import { ChannelError, ChannelErrorCode } from '../errors';
import {
  array,
  isTextField,
  object,
  optionalObject,
  optionalText,
  seconds,
  locationContent,
  text,
  unreadableContent,
  unsupportedContent,
  type InboundItem,
  type ParsedDelivery,
} from './types';

const MEDIA: Readonly<Record<string, MediaKind>> = {
  image: 'image',
  video: 'video',
  audio: 'audio',
  document: 'document',
  sticker: 'sticker',
};
const STATUSES = ['sent', 'delivered', 'read', 'failed'] as const;
/** The other types read into the domain's kinds: their body is an object. */
const KNOWN: readonly string[] = ['location', 'reaction', 'interactive', 'button'];

/** Reads a WhatsApp Cloud API webhook: `entry[].changes[].value` with messages and statuses. */
export function parseWhatsApp(payload: unknown): ParsedDelivery {
  const root = object(payload, 'the payload');
  if (root.object !== 'whatsapp_business_account') {
    throw new ChannelError(
      ChannelErrorCode.PAYLOAD_INVALID,
      `object is ${JSON.stringify(root.object)}, not whatsapp_business_account`,
      true,
    );
  }
  const items: InboundItem[] = [];
  let ignored = 0;
  for (const entry of array(root.entry, 'entry')) {
    for (const change of array(object(entry, 'entry[]').changes, 'changes')) {
      const { field, value: raw } = object(change, 'changes[]');
      if (field !== 'messages') {
        ignored += 1; // account and template updates: not conversations
        continue;
      }
      const value = object(raw, 'value');
      const channel = text(object(value.metadata, 'metadata').phone_number_id, 'metadata.phone_number_id');
      const names = new Map<string, string>();
      for (const contact of array(value.contacts, 'contacts')) {
        const c = object(contact, 'contacts[]');
        // A name of the wrong type falls back to the number, as a missing one does: it is not the message.
        names.set(optionalText(c.wa_id), optionalText(optionalObject(c.profile).name));
      }
      for (const message of array(value.messages, 'messages')) {
        const m = object(message, 'messages[]');
        const from = text(m.from, 'message.from');
        const type = optionalText(m.type, 'unknown');
        const { content, unsupported } = contentOf(type, m);
        items.push({
          kind: 'message',
          platform: 'whatsapp',
          channelExternalId: channel,
          contact: { id: from, name: names.get(from) || `+${from}`, handle: `+${from}` },
          externalMessageId: text(m.id, 'message.id'),
          sentAt: seconds(m.timestamp, 'message.timestamp'),
          content,
          sourceType: type,
          unsupported,
        });
      }
      for (const status of array(value.statuses, 'statuses')) {
        const s = object(status, 'statuses[]');
        const state = STATUSES.find((known) => known === s.status);
        if (!state) {
          ignored += 1; // e.g. "deleted": nothing the domain tracks
          continue;
        }
        const error = array(s.errors, 'errors')[0];
        const e = error === undefined ? undefined : object(error, 'errors[]');
        items.push({
          kind: 'receipt',
          platform: 'whatsapp',
          channelExternalId: channel,
          contactId: text(s.recipient_id, 'status.recipient_id'),
          status: state,
          platformMessageIds: [text(s.id, 'status.id')],
          watermark: null,
          at: seconds(s.timestamp, 'status.timestamp'),
          error: e ? { code: optionalText(e.code, 'unknown'), title: optionalText(e.title) } : null,
        });
      }
    }
  }
  return { items, ignored };
}

function contentOf(
  type: string,
  m: Record<string, unknown>,
): { content: InboundContent; unsupported: boolean } {
  const raw = m[type];
  const body = optionalObject(raw);
  // TX2: a known type whose text is missing or of the wrong JSON type is kept with its raw value.
  const unreadable = () => ({ content: unreadableContent(type, raw), unsupported: true });
  const readable = type === 'text' || MEDIA[type] !== undefined || KNOWN.includes(type);
  if (readable && raw !== undefined && body !== raw) return unreadable();
  if (type === 'text') {
    const textBody = typeof body.body === 'number' ? String(body.body) : body.body;
    return typeof textBody === 'string' && textBody !== ''
      ? ok({ type: 'text', text: textBody })
      : unreadable();
  }
  const kind = MEDIA[type];
  if (kind) {
    if (!isTextField(body.caption)) return unreadable();
    const caption = optionalText(body.caption) || null;
    const media = {
      kind,
      url: `whatsapp-media:${optionalText(body.id)}`,
      mime: optionalText(body.mime_type, 'application/octet-stream'),
      size: 0, // the Cloud API tells the size only when the media is downloaded
    };
    return ok({ type: 'media', media, caption });
  }
  switch (type) {
    case 'location':
      return known(locationContent(body.latitude, body.longitude, body.name, body.address));
    case 'reaction': {
      if (!isTextField(body.emoji)) return unreadable();
      const emoji = optionalText(body.emoji);
      const messageId = optionalText(body.message_id);
      return messageId
        ? ok({ type: 'reaction', emoji: emoji || null, messageId })
        : { content: unsupportedContent(type), unsupported: true };
    }
    case 'interactive': {
      const reply = optionalObject(body.button_reply ?? body.list_reply);
      const title = optionalText(reply.title);
      if (!isTextField(reply.title)) return unreadable();
      return title
        ? ok({ type: 'text', text: title })
        : { content: unsupportedContent(type), unsupported: true };
    }
    case 'button': {
      if (!isTextField(body.text)) return unreadable();
      const label = optionalText(body.text);
      return label
        ? ok({ type: 'text', text: label })
        : { content: unsupportedContent(type), unsupported: true };
    }
    default:
      // "unsupported", contacts, order, system and whatever Meta adds next.
      return { content: unsupportedContent(type), unsupported: true };
  }
}

function ok(content: InboundContent): { content: InboundContent; unsupported: boolean } {
  return { content, unsupported: false };
}

function known(content: InboundContent): { content: InboundContent; unsupported: boolean } {
  return { content, unsupported: content.type === 'unsupported' };
}
