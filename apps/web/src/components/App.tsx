import { useEffect, useMemo, useRef, useState } from 'react';
import { createClient } from '../lib/api/client';
import { useLiveQuery, useOnline, useSubscribed } from '../lib/hooks';
import { registerServiceWorker, type Update } from '../lib/pwa';
import { navigate, useRoute } from '../lib/router';
import { eraseDeviceData, Session, storedAccount, type Account } from '../lib/session';
import { BoardScreen } from './Board';
import { ConversationView } from './ConversationView';
import { InboxList } from './InboxList';
import { Settings } from './Settings';
import { SignIn } from './SignIn';

/** The Parley PWA: sign-in, then the inbox, a conversation and the contact panel. */
export default function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const account = storedAccount();
    return account ? new Session(account) : null;
  });
  const [update, setUpdate] = useState<Update | null>(null);
  const signInClient = useMemo(() => createClient(), []);

  useEffect(() => {
    if (!session) return;
    session.start();
    return () => session.stop();
  }, [session]);
  useEffect(() => {
    const check = registerServiceWorker(setUpdate);
    // Look for a new version when the app comes back to the foreground.
    const onVisible = () => {
      if (document.visibilityState === 'visible') void check().catch(() => undefined);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);

  return (
    <>
      <header className="topbar">
        <img src="/icons/icon-192.png" alt="" width="32" height="32" />
        <h1>Parley</h1>
        {session ? <AccountBar session={session} onSignedOut={() => setSession(null)} /> : null}
      </header>
      {update ? <UpdatePrompt update={update} session={session} /> : null}
      {session ? (
        <Shell key={session.db.name} session={session} />
      ) : (
        <main id="main" className="signed-out">
          <SignIn client={signInClient} onSignedIn={(account: Account) => setSession(new Session(account))} />
        </main>
      )}
    </>
  );
}

function AccountBar({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const { account } = session;
  const [asking, setAsking] = useState(false);
  return (
    <nav className="account" aria-label="Account">
      <a
        href="/"
        onClick={(event) => {
          event.preventDefault();
          navigate({ screen: 'inbox' });
        }}
      >
        Inbox
      </a>
      <a
        href="/board"
        onClick={(event) => {
          event.preventDefault();
          navigate({ screen: 'board', boardId: null });
        }}
      >
        Boards
      </a>
      {account.agent.role === 'admin' ? (
        <a
          href="/settings"
          onClick={(event) => {
            event.preventDefault();
            navigate({ screen: 'settings' });
          }}
        >
          Settings
        </a>
      ) : null}
      <span className="muted">
        {account.agent.name} · {account.tenantName}
      </span>
      <button type="button" className="ghost" aria-expanded={asking} onClick={() => setAsking(!asking)}>
        Sign out
      </button>
      {asking ? (
        <SignOutPanel session={session} onSignedOut={onSignedOut} onCancel={() => setAsking(false)} />
      ) : null}
    </nav>
  );
}

/**
 * Signing out asks whether to erase this device's copy of the data (0018): on a shared device the
 * conversations should not stay behind. Replies still queued would be lost, so it says how many.
 */
function SignOutPanel({
  session,
  onSignedOut,
  onCancel,
}: {
  session: Session;
  onSignedOut: () => void;
  onCancel: () => void;
}) {
  const queued = useLiveQuery(() => session.db.outbox.count(), [session.db]) ?? 0;
  const [busy, setBusy] = useState(false);
  const finish = async (erase: boolean) => {
    setBusy(true);
    await session.signOut();
    onSignedOut();
    // After the screens using the database are gone, so nothing reads it while it is deleted.
    if (erase) await eraseDeviceData(session.account);
  };
  return (
    <div className="sign-out notice" role="dialog" aria-labelledby="sign-out-title">
      <p id="sign-out-title">Erase this device's copy of your conversations when you sign out?</p>
      {queued > 0 ? (
        <p role="alert">
          {queued} {queued === 1 ? 'reply is' : 'replies are'} still waiting to be sent: erasing now loses{' '}
          {queued === 1 ? 'it' : 'them'}. Stay signed in until {queued === 1 ? 'it is' : 'they are'} sent, or
          keep this device's copy.
        </p>
      ) : null}
      <button type="button" disabled={busy} onClick={() => void finish(true)}>
        {queued > 0 ? `Erase anyway (${queued} lost)` : 'Sign out and erase'}
      </button>
      <button type="button" disabled={busy} onClick={() => void finish(false)}>
        Sign out, keep on this device
      </button>
      <button type="button" className="ghost" disabled={busy} onClick={onCancel}>
        Cancel
      </button>
    </div>
  );
}

/** "A new version is ready": the reload waits until no reply is in flight (queued ones are stored). */
function UpdatePrompt({ update, session }: { update: Update; session: Session | null }) {
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

function ConnectionBanner({ session, online }: { session: Session; online: boolean }) {
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

function Shell({ session }: { session: Session }) {
  const route = useRoute();
  const online = useOnline();
  const [signedOut, setSignedOut] = useState(session.unauthorized);
  const searchRef = useRef<HTMLInputElement>(null);
  const replyRef = useRef<HTMLTextAreaElement>(null);
  const ids = useRef<readonly string[]>([]);
  const selectedId = route.screen === 'conversation' ? route.conversationId : null;
  const onBoard = route.screen === 'board';

  useEffect(() => session.onUnauthorized(() => setSignedOut(true)), [session]);
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      const target = event.target as HTMLElement | null;
      // The board has keys of its own (Shift+arrows on a card).
      if (onBoard || event.ctrlKey || event.metaKey || event.altKey) return;
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
        if (event.key === 'Escape') target.blur();
        return;
      }
      const list = ids.current;
      const at = selectedId ? list.indexOf(selectedId) : -1;
      const go = (index: number) => {
        const id = list[Math.max(0, Math.min(list.length - 1, index))];
        if (id) navigate({ screen: 'conversation', conversationId: id });
      };
      switch (event.key) {
        case '/':
          event.preventDefault();
          searchRef.current?.focus();
          break;
        case 'j':
          go(at + 1);
          break;
        case 'k':
          go(at - 1);
          break;
        case 'r':
          event.preventDefault();
          replyRef.current?.focus();
          break;
        case 'Escape':
          navigate({ screen: 'inbox' });
          break;
        default:
          break;
      }
    }
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [selectedId, onBoard]);

  return (
    <main id="main" className="app" data-screen={route.screen}>
      <ConnectionBanner session={session} online={online} />
      {signedOut ? (
        <div className="reauth">
          <SignIn
            client={session.client}
            heading="Your session ended: sign in again to send your replies"
            known={{ tenantId: session.account.tenantId, email: session.account.agent.email }}
            onSignedIn={() => {
              setSignedOut(false);
              session.resume();
            }}
          />
        </div>
      ) : null}
      {route.screen === 'board' ? (
        <BoardScreen session={session} boardId={route.boardId} />
      ) : (
        <div className="panes">
          <InboxList
            db={session.db}
            agentId={session.account.agent.id}
            selectedId={selectedId}
            searchRef={searchRef}
            onRows={(list) => (ids.current = list)}
            session={session}
            online={online}
          />
          {route.screen === 'conversation' ? (
            <ConversationView
              key={route.conversationId}
              session={session}
              conversationId={route.conversationId}
              online={online}
              textareaRef={replyRef}
            />
          ) : route.screen === 'settings' && session.account.agent.role === 'admin' ? (
            <Settings session={session} online={online} />
          ) : (
            <section className="pane conversation-pane empty" aria-label="No conversation selected">
              <p className="muted">
                Choose a conversation. Shortcuts: / search, j and k move, r reply, Esc back.
              </p>
            </section>
          )}
        </div>
      )}
    </main>
  );
}
