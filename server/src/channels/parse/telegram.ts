import type { InboundContent, MediaKind } from '@parley/domain';
import {
  isTextField,
  object,
  optionalObject,
  optionalText,
  seconds,
  text,
  locationContent,
  unreadableContent,
  unsupportedContent,
  type InboundItem,
  type ParsedDelivery,
} from './types';

const MEDIA: readonly { key: string; kind: MediaKind; mime: string }[] = [
  { key: 'photo', kind: 'image', mime: 'image/jpeg' },
  { key: 'video', kind: 'video', mime: 'video/mp4' },
  { key: 'voice', kind: 'audio', mime: 'audio/ogg' },
  { key: 'audio', kind: 'audio', mime: 'audio/mpeg' },
  { key: 'document', kind: 'document', mime: 'application/octet-stream' },
  { key: 'sticker', kind: 'sticker', mime: 'image/webp' },
];

/** Reads a Telegram Bot API `Update`; only `message` is a customer message, other updates are skipped. */
export function parseTelegram(payload: unknown): ParsedDelivery {
  const update = object(payload, 'the update');
  text(update.update_id, 'update_id');
  if (update.message === undefined) return { items: [], ignored: 1 }; // edits, callbacks, polls
  const m = object(update.message, 'message');
  const chat = text(object(m.chat, 'chat').id, 'chat.id');
  // A sender of the wrong shape falls back to the chat's id as the name: it is not the message.
  const from = optionalObject(m.from ?? m.chat);
  const name = [optionalText(from.first_name), optionalText(from.last_name)].filter(Boolean).join(' ');
  const username = optionalText(from.username);
  const { content, type, unsupported } = contentOf(m);
  const item: InboundItem = {
    kind: 'message',
    platform: 'telegram',
    channelExternalId: null,
    contact: {
      id: chat,
      name: name || username || `Telegram ${chat}`,
      handle: username ? `@${username}` : chat,
    },
    // Telegram numbers messages per chat: the chat makes the id unique.
    externalMessageId: `${chat}:${text(m.message_id, 'message_id')}`,
    sentAt: seconds(m.date, 'date'),
    content,
    sourceType: type,
    unsupported,
  };
  return { items: [item], ignored: 0 };
}

function contentOf(m: Record<string, unknown>): {
  content: InboundContent;
  type: string;
  unsupported: boolean;
} {
  // TX2: a text, caption or file of the wrong JSON type keeps the message, raw, as unsupported.
  const unreadable = (type: string, raw: unknown) => ({
    content: unreadableContent(type, raw),
    type,
    unsupported: true,
  });
  if (m.text !== undefined) {
    return typeof m.text === 'string' && m.text !== ''
      ? { content: { type: 'text', text: m.text }, type: 'text', unsupported: false }
      : unreadable('text', { text: m.text });
  }
  for (const { key, kind, mime } of MEDIA) {
    if (m[key] === undefined) continue;
    if (!isTextField(m.caption)) return unreadable(key, { [key]: m[key], caption: m.caption });
    // A photo comes in several sizes, smallest first: keep the largest.
    const sent: unknown = m[key];
    const file: unknown =
      key === 'photo' ? (Array.isArray(sent) ? (sent as unknown[]).at(-1) : undefined) : sent;
    const f = optionalObject(file);
    if (f !== file || !isTextField(f.file_id)) return unreadable(key, { [key]: m[key] });
    const media = {
      kind,
      url: `telegram-file:${optionalText(f.file_id)}`,
      mime: optionalText(f.mime_type, mime),
      size: Number(f.file_size ?? 0) || 0,
    };
    return {
      content: { type: 'media', media, caption: optionalText(m.caption) || null },
      type: key,
      unsupported: false,
    };
  }
  if (m.location !== undefined) {
    const l = optionalObject(m.location);
    if (l !== m.location) return unreadable('location', { location: m.location });
    const content = locationContent(l.latitude, l.longitude, null, null);
    return { content, type: 'location', unsupported: content.type === 'unsupported' };
  }
  const type = Object.keys(m).find((key) => !['message_id', 'from', 'chat', 'date', 'caption'].includes(key));
  return { content: unsupportedContent(type ?? 'unknown'), type: type ?? 'unknown', unsupported: true };
}
