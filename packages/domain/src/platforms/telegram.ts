import { DOCUMENT_MIME_TYPES, KB, MB, type PlatformPolicy } from './policy';

/** Telegram bots: no window; bots get no read receipts. */
export const telegram: PlatformPolicy = {
  platform: 'telegram',
  name: 'Telegram',
  window: null,
  humanAgentWindow: null,
  text: { max: 4096, unit: 'characters', rule: 'TG2' },
  templates: { supported: false, rule: 'TG3' },
  media: {
    rule: 'TG4',
    kinds: {
      image: { mimeTypes: ['image/jpeg', 'image/png', 'image/webp'], maxBytes: 10 * MB },
      video: { mimeTypes: ['video/mp4'], maxBytes: 50 * MB },
      audio: { mimeTypes: ['audio/mpeg', 'audio/mp4', 'audio/ogg'], maxBytes: 50 * MB },
      document: { mimeTypes: DOCUMENT_MIME_TYPES, maxBytes: 50 * MB },
      sticker: { mimeTypes: ['image/webp'], maxBytes: 512 * KB },
    },
  },
  reactions: true,
  readReceipts: false,
  typingIndicators: true,
};
