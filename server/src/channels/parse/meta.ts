import type { InboundContent, MediaKind, Platform } from '@parley/domain';
import { ChannelError, ChannelErrorCode } from '../errors';
import {
  array,
  millis,
  object,
  optionalText,
  text,
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
      const at = event.timestamp === undefined ? Number(entry.time) : millis(event.timestamp, 'timestamp');
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
          const a = object(attachment, 'attachments[]');
          const type = optionalText(a.type, 'unknown');
          const media = MEDIA[type];
          const url = optionalText(object(a.payload ?? {}, 'payload').url);
          const content: InboundContent =
            media && url
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
        const emoji = optionalText(reaction.emoji) || optionalText(reaction.reaction);
        items.push({
          kind: 'message',
          ...base,
          contact,
          externalMessageId: `reaction:${optionalText(reaction.mid)}:${at}`,
          sentAt: at,
          content:
            reaction.action === 'unreact' || emoji
              ? {
                  type: 'reaction',
                  emoji: reaction.action === 'unreact' ? null : emoji,
                  messageId: text(reaction.mid, 'reaction.mid'),
                }
              : unsupportedContent('reaction'),
          sourceType: 'reaction',
          unsupported: reaction.action !== 'unreact' && !emoji,
        });
      } else if (event.postback !== undefined) {
        const postback = object(event.postback, 'postback');
        items.push({
          kind: 'message',
          ...base,
          contact,
          externalMessageId: optionalText(postback.mid) || `postback:${sender}:${at}`,
          sentAt: at,
          content: {
            type: 'text',
            text: optionalText(postback.title) || optionalText(postback.payload) || ' ',
          },
          sourceType: 'postback',
          unsupported: false,
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
