import { absoluteTime, relativeTime } from '../lib/relative-time';

/** "3 min", "yesterday": the machine-readable time in `datetime`, the full date and time in the title. */
export function RelativeTime({ at, now, className }: { at: number; now: number; className?: string }) {
  return (
    <time className={className} dateTime={new Date(at).toISOString()} title={absoluteTime(at)}>
      {relativeTime(at, now)}
    </time>
  );
}
