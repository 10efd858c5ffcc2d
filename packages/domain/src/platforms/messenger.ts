import { DAY_MS, DOCUMENT_MIME_TYPES, MB, type PlatformPolicy } from './policy';

/** Facebook Messenger: a 24 h window, 7 days for a human agent. */
export const messenger: PlatformPolicy = {
  platform: 'messenger',
  name: 'Messenger',
  window: { ms: DAY_MS, rule: 'MS1' },
  humanAgentWindow: { ms: 7 * DAY_MS, rule: 'MS2' },
  text: { max: 2000, unit: 'characters', rule: 'MS3' },
  templates: { supported: false, rule: 'MS4' },
  media: {
    rule: 'MS5',
    kinds: {
      image: { mimeTypes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 25 * MB },
      video: { mimeTypes: ['video/mp4'], maxBytes: 25 * MB },
      audio: { mimeTypes: ['audio/mpeg', 'audio/mp4', 'audio/aac', 'audio/wav'], maxBytes: 25 * MB },
      document: { mimeTypes: DOCUMENT_MIME_TYPES, maxBytes: 25 * MB },
    },
  },
  reactions: true,
  readReceipts: true,
  typingIndicators: true,
};
