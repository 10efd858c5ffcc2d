import { useEffect, useState } from 'react';
import { useLiveQuery, useSubscribed } from '../lib/hooks';
import type { Update } from '../lib/pwa';
import { navigate } from '../lib/router';
import type { Session } from '../lib/session';
import { dismissErasureNotice, openErasureNotices, type ErasureRecord } from '../lib/sync/erasure';

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

/** What the agent is told of an erasure notice this device applied (decision 0029). */
export function erasureNoticeText(record: Pick<ErasureRecord, 'discarded' | 'discardedWriting'>): string {
  const base = 'The contact was erased by an admin: their conversation was removed from this device';
  if (record.discardedWriting) return `${base} and your unsent reply was discarded.`;
  return record.discarded.length > 0 ? `${base} and your unsent changes were discarded.` : `${base}.`;
}

/**
 * An admin erased a contact and this device dropped their conversations (decision 0029). An agent
 * whose draft or queued reply went with them is told so until they close the notice (it is kept in
 * IndexedDB, so a reload still shows it); an agent who had one of them open leaves it, and is told why.
 */
export function ErasureNotices({
  session,
  openConversationId,
}: {
  session: Session;
  openConversationId: string | null;
}) {
  const { db } = session;
  const notices = useLiveQuery(() => openErasureNotices(db), [db]) ?? [];
  const [leftFrom, setLeftFrom] = useState<ReadonlySet<string>>(new Set());
  const erasedOpen =
    openConversationId === null
      ? undefined
      : notices.find((notice) => notice.conversations.includes(openConversationId));
  useEffect(() => {
    if (!erasedOpen) return;
    setLeftFrom((left) => new Set(left).add(erasedOpen.id));
    navigate({ screen: 'inbox' }, { replace: true });
  }, [erasedOpen]);
  const shown = notices.filter((notice) => notice.discarded.length > 0 || leftFrom.has(notice.id));
  if (shown.length === 0) return null;
  return (
    <div className="erasures" role="alert">
      {shown.map((notice) => (
        <div className="notice erased" key={notice.id} data-erasure={notice.id}>
          <p>{erasureNoticeText(notice)}</p>
          <button type="button" onClick={() => void dismissErasureNotice(db, notice.id)}>
            Dismiss
          </button>
        </div>
      ))}
    </div>
  );
}
