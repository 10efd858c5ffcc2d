export { createPresenceHub, PRESENCE_TTL_MS } from './hub';
export type { PresenceActivity, PresenceHub, PresenceUpdate } from './hub';
export { presenceLimiter, watchPresence } from './feed';
export type { NoticeMessage, PresenceMessage, Watcher } from './feed';
