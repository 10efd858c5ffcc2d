import type { Platform } from '@parley/domain';
import { useEffect, useRef, useState } from 'react';
import type { TimelineItem } from '../lib/timeline';
import { CHANNEL_NAME } from './ChannelIcon';

/** A reply the server has, still not confirmed by the platform after this long: say why. */
export const SLOW_SEND_MS = 4_000;

/**
 * Which of the server's replies have been on their way to the platform for `SLOW_SEND_MS` or more,
 * timed from when this device first saw each one waiting (never the server's clock).
 */
export function slowSends(
  items: readonly TimelineItem[],
  waitingSince: Map<string, number>,
  now: number,
  onDevice: ReadonlySet<string>,
): string[] {
  const waiting = new Set<string>();
  for (const item of items) {
    // A reply still in this device's outbox is the connection's business (the banner says so).
    if (item.kind !== 'reply' || item.state !== 'sending' || onDevice.has(item.clientMessageId)) continue;
    waiting.add(item.clientMessageId);
    if (!waitingSince.has(item.clientMessageId)) waitingSince.set(item.clientMessageId, now);
  }
  for (const id of waitingSince.keys()) if (!waiting.has(id)) waitingSince.delete(id);
  return [...waiting].filter((id) => now - waitingSince.get(id)! >= SLOW_SEND_MS);
}

/**
 * During a platform outage a reply stays "Sending" while the server retries: within a few seconds
 * the agent is told it is the platform, that Parley keeps trying, and that nothing is lost.
 */
export function SendingHint({
  items,
  platform,
  onDevice,
}: {
  items: readonly TimelineItem[];
  platform: Platform;
  onDevice: ReadonlySet<string>;
}) {
  const since = useRef(new Map<string, number>());
  const [now, setNow] = useState(() => Date.now());
  const slow = slowSends(items, since.current, now, onDevice);
  const waiting = since.current.size > 0;
  useEffect(() => {
    if (!waiting) return;
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, [waiting]);
  return (
    <div role="status" aria-live="polite" className="sending-hint">
      {slow.length > 0 ? (
        <p className="notice">
          {CHANNEL_NAME[platform]} is not answering; Parley keeps retrying — your{' '}
          {slow.length === 1 ? 'reply' : 'replies'} will go when it&rsquo;s back.
        </p>
      ) : null}
    </div>
  );
}
