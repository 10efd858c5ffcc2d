import type { InboundContent, MediaKind } from '@parley/domain';
import {
  array,
  object,
  optionalText,
  seconds,
  text,
  locationContent,
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
  const from = object(m.from ?? m.chat, 'from');
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
  if (typeof m.text === 'string')
    return { content: { type: 'text', text: m.text }, type: 'text', unsupported: false };
  for (const { key, kind, mime } of MEDIA) {
    if (m[key] === undefined) continue;
    // A photo comes in several sizes, smallest first: keep the largest.
    const file = key === 'photo' ? array(m[key], 'photo').at(-1) : m[key];
    const f = object(file, key);
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
    const l = object(m.location, 'location');
    const content = locationContent(l.latitude, l.longitude, null, null);
    return { content, type: 'location', unsupported: content.type === 'unsupported' };
  }
  const type = Object.keys(m).find((key) => !['message_id', 'from', 'chat', 'date', 'caption'].includes(key));
  return { content: unsupportedContent(type ?? 'unknown'), type: type ?? 'unknown', unsupported: true };
}
