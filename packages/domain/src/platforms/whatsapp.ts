import { DAY_MS, DOCUMENT_MIME_TYPES, KB, MB, type PlatformPolicy } from './policy';

/** WhatsApp Business (Cloud API): a 24 h window, templates outside it. */
export const whatsapp: PlatformPolicy = {
  platform: 'whatsapp',
  name: 'WhatsApp',
  window: { ms: DAY_MS, rule: 'WA2' },
  humanAgentWindow: null,
  text: { max: 4096, unit: 'characters', rule: 'WA4' },
  templates: { supported: true, rule: 'WA3' },
  media: {
    rule: 'WA5',
    kinds: {
      image: { mimeTypes: ['image/jpeg', 'image/png'], maxBytes: 5 * MB },
      video: { mimeTypes: ['video/mp4', 'video/3gpp'], maxBytes: 16 * MB },
      audio: {
        mimeTypes: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'],
        maxBytes: 16 * MB,
      },
      document: { mimeTypes: DOCUMENT_MIME_TYPES, maxBytes: 100 * MB },
      sticker: { mimeTypes: ['image/webp'], maxBytes: 500 * KB },
    },
  },
  reactions: true,
  readReceipts: true,
  typingIndicators: true,
};
