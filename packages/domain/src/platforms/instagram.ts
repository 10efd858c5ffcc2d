import { DAY_MS, MB, type PlatformPolicy } from './policy';

/** Instagram messaging: a 24 h window, 7 days for a human agent, text counted in UTF-8 bytes. */
export const instagram: PlatformPolicy = {
  platform: 'instagram',
  name: 'Instagram',
  window: { ms: DAY_MS, rule: 'IG1' },
  humanAgentWindow: { ms: 7 * DAY_MS, rule: 'IG2' },
  text: { max: 1000, unit: 'utf8-bytes', rule: 'IG3' },
  templates: { supported: false, rule: 'IG4' },
  media: {
    rule: 'IG5',
    kinds: {
      image: { mimeTypes: ['image/jpeg', 'image/png', 'image/gif'], maxBytes: 8 * MB },
      video: { mimeTypes: ['video/mp4', 'video/quicktime', 'video/webm'], maxBytes: 25 * MB },
      audio: { mimeTypes: ['audio/aac', 'audio/mp4', 'audio/wav'], maxBytes: 25 * MB },
    },
  },
  reactions: true,
  readReceipts: true,
  typingIndicators: true,
};
