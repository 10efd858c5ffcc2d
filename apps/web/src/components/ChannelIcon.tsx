import type { Platform } from '@parley/domain';
import type { ReactNode } from 'react';

/** The channel's name as agents say it. */
export const CHANNEL_NAME: Readonly<Record<Platform, string>> = {
  whatsapp: 'WhatsApp',
  instagram: 'Instagram',
  messenger: 'Messenger',
  telegram: 'Telegram',
  webchat: 'Web chat',
};

const SHAPES: Readonly<Record<Platform, ReactNode>> = {
  whatsapp: (
    <>
      <path d="M12 3a9 9 0 0 0-7.7 13.6L3 21l4.5-1.2A9 9 0 1 0 12 3z" fill="none" />
      <path
        d="M9.2 7.8c-.4 0-.9.5-.9 1.4 0 2.9 3.6 6.5 6.5 6.5.9 0 1.4-.5 1.4-.9l-.2-1-1.9-.8-.9.9c-1.2-.5-2.1-1.4-2.6-2.6l.9-.9-.8-1.9z"
        fill="currentColor"
        stroke="none"
      />
    </>
  ),
  instagram: (
    <>
      <rect x="3.5" y="3.5" width="17" height="17" rx="5" fill="none" />
      <circle cx="12" cy="12" r="4" fill="none" />
      <circle cx="17.2" cy="6.8" r="1.1" fill="currentColor" stroke="none" />
    </>
  ),
  messenger: (
    <>
      <path
        d="M12 3C7 3 3 6.7 3 11.3c0 2.5 1.2 4.7 3 6.2V21l3.2-1.8c.9.3 1.8.4 2.8.4 5 0 9-3.7 9-8.3S17 3 12 3z"
        fill="none"
      />
      <path d="m7 13.5 3.5-3.7 2.5 2.5 4-3.8" fill="none" />
    </>
  ),
  telegram: <path d="M21 4 3 11.2l6.2 2.2L11.5 20l3.2-4.1 4.5 3.4z M9.2 13.4 18 7.2" fill="none" />,
  webchat: (
    <>
      <path d="M4 5h16v11H10l-5 4v-4H4z" fill="none" />
      <path d="M8 10h8M8 13h5" fill="none" />
    </>
  ),
};

/** A channel's icon (inline SVG) with its name for assistive technology; colour by `data-platform`. */
export function ChannelIcon({ platform, size = 16 }: { platform: Platform; size?: number }) {
  return (
    <svg
      className="channel-icon"
      data-platform={platform}
      role="img"
      aria-label={CHANNEL_NAME[platform]}
      viewBox="0 0 24 24"
      width={size}
      height={size}
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {SHAPES[platform]}
    </svg>
  );
}
