import type { InboundContent, MediaKind, Platform } from '@parley/domain';
import { ChannelError, ChannelErrorCode } from '../errors';
import {
  array,
  isTextField,
  millis,
  object,
  optionalObject,
  optionalText,
  text,
  unreadableContent,
  unsupportedContent,
  type InboundItem,
  type ParsedDelivery,
} from './types';

const MEDIA: Readonly<Record<string, { kind: MediaKind; mime: string }>> = {
  image: { kind: 'image', mime: 'image/jpeg' },
  video: { kind: 'video', mime: 'video/mp4' },
  audio: { kind: 'audio', mime: 'audio/mp4' },
  file: { kind: 'document', mime: 'application/pdf' },
};

/** Reads a Messenger (`object: "page"`) or Instagram (`object: "instagram"`) webhook's `entry[].messaging[]`. */
export function parseMeta(payload: unknown): ParsedDelivery {
  const root = object(payload, 'the payload');
  const platform: Platform | undefined =
    root.object === 'page' ? 'messenger' : root.object === 'instagram' ? 'instagram' : undefined;
  if (!platform) {
    throw new ChannelError(
      ChannelErrorCode.PAYLOAD_INVALID,
      `object is ${JSON.stringify(root.object)}, not page or instagram`,
      true,
    );
  }
  const items: InboundItem[] = [];
  let ignored = 0;
  for (const rawEntry of array(root.entry, 'entry')) {
    const entry = object(rawEntry, 'entry[]');
    const channel = text(entry.id, 'entry.id');
    for (const rawEvent of array(entry.messaging, 'messaging')) {
      const event = object(rawEvent, 'messaging[]');
      const sender = text(object(event.sender, 'sender').id, 'sender.id');
      const at =
        event.timestamp === undefined
          ? millis(entry.time, 'entry.time')
          : millis(event.timestamp, 'timestamp');
      const base = { platform, channelExternalId: channel } as const;
      const contact = {
        id: sender,
        name: `${platform === 'instagram' ? 'Instagram' : 'Messenger'} user ${sender.slice(-4)}`,
        handle: sender,
      };
      if (event.message !== undefined) {
        const message = object(event.message, 'message');
        if (message.is_echo === true) {
          ignored += 1; // our own reply, echoed back
          continue;
        }
        const mid = text(message.mid, 'message.mid');
        // TX2: a text or attachments of the wrong JSON type keep the message, raw, as unsupported.
        if (!isTextField(message.text) || !isAttachmentList(message.attachments)) {
          items.push({
            kind: 'message',
            ...base,
            contact,
            externalMessageId: mid,
            sentAt: at,
            content: unreadableContent('message', message),
            sourceType: 'message',
            unsupported: true,
          });
          continue;
        }
        const attachments = array(message.attachments, 'attachments');
        if (attachments.length === 0) {
          const body = optionalText(message.text);
          items.push({
            kind: 'message',
            ...base,
            contact,
            externalMessageId: mid,
            sentAt: at,
            content: body ? { type: 'text', text: body } : unsupportedContent('empty'),
            sourceType: 'text',
            unsupported: !body,
          });
        }
        attachments.forEach((attachment, index) => {
          const a = optionalObject(attachment);
          const type = optionalText(a.type, 'unknown');
          const media = MEDIA[type];
          const payload = optionalObject(a.payload);
          const url = optionalText(payload.url);
          // TX2: an attachment, its payload or its url of the wrong JSON type is kept raw.
          const malformed =
            a !== attachment ||
            (a.payload !== undefined && a.payload !== null && payload !== a.payload) ||
            !isTextField(payload.url);
          const content: InboundContent = malformed
            ? unreadableContent(type, attachment)
            : media && url
              ? {
                  type: 'media',
                  media: { kind: media.kind, url, mime: media.mime, size: 0 },
                  caption: optionalText(message.text) || null,
                }
              : unsupportedContent(type);
          items.push({
            kind: 'message',
            ...base,
            contact,
            // One domain message per attachment, each with an id of its own.
            externalMessageId: index === 0 ? mid : `${mid}#${index + 1}`,
            sentAt: at,
            content,
            sourceType: type,
            unsupported: content.type === 'unsupported',
          });
        });
      } else if (event.reaction !== undefined) {
        const reaction = object(event.reaction, 'reaction');
        const readable = isTextField(reaction.emoji) && isTextField(reaction.reaction);
        const emoji = readable ? optionalText(reaction.emoji) || optionalText(reaction.reaction) : '';
        items.push({
          kind: 'message',
          ...base,
          contact,
          externalMessageId: `reaction:${optionalText(reaction.mid)}:${at}`,
          sentAt: at,
          content: !readable
            ? unreadableContent('reaction', reaction)
            : reaction.action === 'unreact' || emoji
              ? {
                  type: 'reaction',
                  emoji: reaction.action === 'unreact' ? null : emoji,
                  messageId: text(reaction.mid, 'reaction.mid'),
                }
              : unsupportedContent('reaction'),
          sourceType: 'reaction',
          unsupported: !readable || (reaction.action !== 'unreact' && !emoji),
        });
      } else if (event.postback !== undefined) {
        const postback = object(event.postback, 'postback');
        // TX2: a button's title (or payload) is its text; without a readable one it is kept raw.
        const label =
          isTextField(postback.title) && isTextField(postback.payload)
            ? optionalText(postback.title) || optionalText(postback.payload)
            : '';
        items.push({
          kind: 'message',
          ...base,
          contact,
          externalMessageId: optionalText(postback.mid) || `postback:${sender}:${at}`,
          sentAt: at,
          content: label ? { type: 'text', text: label } : unreadableContent('postback', postback),
          sourceType: 'postback',
          unsupported: !label,
        });
      } else if (event.delivery !== undefined || event.read !== undefined) {
        const delivered = event.delivery !== undefined;
        const receipt = object(delivered ? event.delivery : event.read, delivered ? 'delivery' : 'read');
        const mids = array(receipt.mids, 'mids').map((mid) => text(mid, 'mids[]'));
        if (typeof receipt.mid === 'string') mids.push(receipt.mid); // Instagram names the message
        items.push({
          kind: 'receipt',
          ...base,
          contactId: sender,
          status: delivered ? 'delivered' : 'read',
          platformMessageIds: mids,
          watermark: receipt.watermark === undefined ? null : millis(receipt.watermark, 'watermark'),
          at,
          error: null,
        });
      } else {
        ignored += 1; // opt-ins, referrals, handovers: not messages
      }
    }
  }
  return { items, ignored };
}

/** Whether attachments are absent or a list (each checked on its own). */
function isAttachmentList(value: unknown): boolean {
  return value === undefined || value === null || Array.isArray(value);
}
