import { useState } from 'react';
import { useLiveQuery, useSubscribed } from '../lib/hooks';
import type { Update } from '../lib/pwa';
import type { Session } from '../lib/session';

/** "A new version is ready": the reload waits until no reply is in flight (queued ones are stored). */
export function UpdatePrompt({ update, session }: { update: Update; session: Session | null }) {
  const [waiting, setWaiting] = useState(false);
  return (
    <div className="update notice" role="status">
      <p>A new version is ready.</p>
      <button
        type="button"
        disabled={waiting}
        onClick={() => {
          setWaiting(true);
          void update.apply(async () => {
            if (!session) return;
            await session.flusher.flush();
            await session.flusher.settled();
            session.flusher.stop();
          });
        }}
      >
        {waiting ? 'Finishing sending…' : 'Reload'}
      </button>
    </div>
  );
}

/** Offline, signed out, reconnecting or sending: what this device's outbox is waiting for. */
export function ConnectionBanner({ session, online }: { session: Session; online: boolean }) {
  const { engine, flusher, db } = session;
  const phase = useSubscribed(engine, () => engine.phase);
  const flushing = useSubscribed(flusher, () => flusher.current.phase);
  const waiting = useLiveQuery(() => db.outbox.where('sequence').above(0).toArray(), [db]) ?? [];
  const queued = waiting.length;
  const replyCount = waiting.filter((row) => row.command.type === 'QueueReply').length;
  const changeCount = queued - replyCount;
  const parts = [
    ...(replyCount > 0 ? [`${replyCount} ${replyCount === 1 ? 'reply' : 'replies'}`] : []),
    ...(changeCount > 0 ? [`${changeCount} ${changeCount === 1 ? 'change' : 'changes'}`] : []),
  ];
  const replies = parts.length > 0 ? `${parts.join(' and ')} queued` : 'nothing queued';
  let text: string | null = null;
  if (!online) text = `Offline — ${replies}`;
  else if (session.unauthorized || flushing === 'unauthorized') text = `Signed out — ${replies}`;
  else if (phase === 'offline') text = `Reconnecting — ${replies}`;
  else if (queued > 0) text = `Sending — ${replies}`;
  return (
    <div className="connection" role="status" aria-live="polite" data-phase={phase}>
      {text ? <p className={online ? 'notice' : 'notice offline'}>{text}</p> : null}
    </div>
  );
}
