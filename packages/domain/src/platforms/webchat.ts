import { DOCUMENT_MIME_TYPES, MB, type PlatformPolicy } from './policy';

/** Parley's own web chat widget: no window, generous limits. */
export const webchat: PlatformPolicy = {
  platform: 'webchat',
  name: 'Web chat',
  window: null,
  humanAgentWindow: null,
  text: { max: 10_000, unit: 'characters', rule: 'WC2' },
  templates: { supported: false, rule: 'WC3' },
  media: {
    rule: 'WC4',
    kinds: {
      image: { mimeTypes: ['image/jpeg', 'image/png', 'image/gif', 'image/webp'], maxBytes: 10 * MB },
      video: { mimeTypes: ['video/mp4', 'video/webm'], maxBytes: 25 * MB },
      audio: { mimeTypes: ['audio/mpeg', 'audio/mp4', 'audio/ogg', 'audio/webm'], maxBytes: 25 * MB },
      document: { mimeTypes: DOCUMENT_MIME_TYPES, maxBytes: 25 * MB },
    },
  },
  reactions: true,
  readReceipts: true,
  typingIndicators: true,
};
