/**
 * The app's line icons (composer tools, header buttons, main navigation), drawn inline so a phone
 * without an emoji or symbol font still shows them. One 24 x 24 stroke path each, in the text's colour.
 */
export type LineIconName =
  'emoji' | 'canned' | 'attach' | 'camera' | 'back' | 'info' | 'inbox' | 'board' | 'settings' | 'reports';

const CIRCLE_9 = 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18';

const PATHS: Record<LineIconName, string> = {
  emoji: `${CIRCLE_9}M8.5 14.5c1.8 2 5.2 2 7 0M9 9.5h.01M15 9.5h.01`,
  canned: 'M4 5h16v11H9l-5 4zM8 9h8M8 12h5',
  attach: 'M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.7-7.7',
  camera: 'M3 8h4l2-3h6l2 3h4v11H3zM12 10a3.5 3.5 0 1 0 0 7a3.5 3.5 0 1 0 0-7',
  back: 'M15 5 8 12l7 7',
  info: `${CIRCLE_9}M12 11v6M12 7.5v.01`,
  inbox: 'M3 13h5l1.5 3h5L16 13h5M5 5h14l2 8v6H3v-6z',
  board: 'M4 4h5v16H4zM10.5 4h5v10h-5zM17 4h3v7h-3z',
  settings: 'M12 4a4 4 0 1 0 0 8a4 4 0 1 0 0-8M4 21a8 8 0 0 1 16 0',
  reports: 'M4 20h16M6 20v-6h3v6M10.5 20V8h3v12M15 20v-9h3v9',
};

/** An icon beside or in place of a word; the word (or the button's label) stays its accessible name. */
export function LineIcon({
  name,
  className,
  strokeWidth = 2,
}: {
  name: LineIconName;
  className?: string;
  strokeWidth?: number;
}) {
  return (
    <svg
      className={className}
      viewBox="0 0 24 24"
      width="22"
      height="22"
      fill="none"
      stroke="currentColor"
      strokeWidth={strokeWidth}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
