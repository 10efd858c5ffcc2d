/** The composer's tool icons, drawn inline so a phone without an emoji font still shows them. */
export type ToolIconName = 'emoji' | 'canned' | 'attach' | 'camera';

const PATHS: Record<ToolIconName, string> = {
  emoji: 'M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18M8.5 14.5c1.8 2 5.2 2 7 0M9 9.5h.01M15 9.5h.01',
  canned: 'M4 5h16v11H9l-5 4zM8 9h8M8 12h5',
  attach: 'M20 11.5l-8 8a5 5 0 0 1-7-7l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.7-7.7',
  camera: 'M3 8h4l2-3h6l2 3h4v11H3zM12 10a3.5 3.5 0 1 0 0 7a3.5 3.5 0 1 0 0-7',
};

/** A tool's icon, shown on a phone in place of its word (the word stays its accessible name). */
export function ToolIcon({ name }: { name: ToolIconName }) {
  return (
    <svg
      className="tool-icon"
      viewBox="0 0 24 24"
      width="22"
      height="22"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
