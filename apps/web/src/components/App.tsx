import { useEffect, useMemo, useRef, useState } from 'react';
import { createClient } from '../lib/api/client';
import { invitationKeyOf, mayReadReports } from '../lib/people';
import { useOnline } from '../lib/hooks';
import { registerServiceWorker, type Update } from '../lib/pwa';
import { hrefOf, navigate, useRoute, type Route } from '../lib/router';
import { Session, storedAccount, type Account } from '../lib/session';
import { useVisualViewport } from '../lib/viewport';
import { AcceptInvitation } from './AcceptInvitation';
import { Avatar } from './Avatar';
import { BoardScreen } from './Board';
import { ConversationView } from './ConversationView';
import { InboxList } from './InboxList';
import { LineIcon } from './LineIcon';
import { usePresenceSession } from './Presence';
import { ConnectionBanner, ErasureNotices, UpdatePrompt } from './Notices';
import { ReportsScreen } from './Reports';
import { Settings } from './Settings';
import { SignIn } from './SignIn';
import { SignOutButton } from './SignOut';

/**
 * The Parley PWA: sign-in, then the inbox, a conversation and the contact panel side by side on a
 * desktop, one at a time on a phone (with the main navigation at the bottom), the boards and settings.
 */
export default function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const account = storedAccount();
    return account ? new Session(account) : null;
  });
  const [update, setUpdate] = useState<Update | null>(null);
  const signInClient = useMemo(() => createClient(), []);
  // An invitation link (`/invite#<key>`, decision 0035) opens the page that accepts it.
  const [invitationKey, setInvitationKey] = useState(() => invitationKeyOf(window.location));
  const route = useRoute();
  useVisualViewport();

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

  // The next person to sign in on this device starts at the inbox, not on the screen the last one
  // left (an agent after an admin on /settings saw no list: issue #15, item 12).
  const signedOut = () => {
    navigate({ screen: 'inbox' }, { replace: true });
    setSession(null);
  };

  return (
    <div className="frame" data-screen={session ? route.screen : 'sign-in'}>
      <header className="topbar">
        <img src="/icons/icon-192.png" alt="" width="32" height="32" />
        <h1>Parley</h1>
        {session ? <MainNav route={route} reports={mayReadReports(session.account.agent.role)} /> : null}
        {session ? <AccountBar session={session} onSignedOut={signedOut} /> : null}
      </header>
      {update ? <UpdatePrompt update={update} session={session} /> : null}
      {invitationKey !== null ? (
        <main id="main" className="signed-out">
          <AcceptInvitation
            client={signInClient}
            invitationKey={invitationKey}
            onSignedIn={(account: Account) => {
              setInvitationKey(null);
              navigate({ screen: 'inbox' }, { replace: true });
              setSession(new Session(account));
            }}
          />
        </main>
      ) : session ? (
        <Shell key={session.db.name} session={session} onSignedOut={signedOut} />
      ) : (
        <main id="main" className="signed-out">
          <SignIn client={signInClient} onSignedIn={(account: Account) => setSession(new Session(account))} />
        </main>
      )}
    </div>
  );
}

/** Inbox, boards, reports (admins and supervisors), settings: in the top bar on a desktop, at the bottom of a phone's screen. */
function MainNav({ route, reports: readsReports }: { route: Route; reports: boolean }) {
  type Item = [Route, 'inbox' | 'board' | 'reports' | 'settings', string, boolean];
  const reports: Item = [
    { screen: 'reports', view: 'metrics' },
    'reports',
    'Reports',
    route.screen === 'reports',
  ];
  const items: readonly Item[] = [
    [{ screen: 'inbox' }, 'inbox', 'Inbox', route.screen === 'inbox' || route.screen === 'conversation'],
    [{ screen: 'board', boardId: null }, 'board', 'Boards', route.screen === 'board'],
    ...(readsReports ? [reports] : []),
    [{ screen: 'settings' }, 'settings', 'Settings', route.screen === 'settings'],
  ];
  return (
    <nav className="main-nav" aria-label="Main">
      {items.map(([target, icon, label, current]) => (
        <a
          key={icon}
          href={hrefOf(target)}
          aria-current={current ? 'page' : undefined}
          onClick={(event) => {
            event.preventDefault();
            navigate(target);
          }}
        >
          <LineIcon name={icon} strokeWidth={1.8} />
          <span>{label}</span>
        </a>
      ))}
    </nav>
  );
}

/** Who is signed in, and signing out (on a phone both are in Settings instead). */
function AccountBar({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const { account } = session;
  return (
    <div className="account">
      <Avatar name={account.agent.name} id={account.agent.id} size={28} />
      <span className="muted who" dir="auto">
        {account.agent.name} · {account.tenantName}
      </span>
      <SignOutButton session={session} onSignedOut={onSignedOut} />
    </div>
  );
}

function Shell({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const route = useRoute();
  const online = useOnline();
  const [signedOut, setSignedOut] = useState(session.unauthorized);
  const searchRef = useRef<HTMLInputElement>(null);
  const replyRef = useRef<HTMLTextAreaElement>(null);
  const ids = useRef<readonly string[]>([]);
  const selectedId = route.screen === 'conversation' ? route.conversationId : null;
  const onBoard = route.screen === 'board';

  useEffect(() => session.onUnauthorized(() => setSignedOut(true)), [session]);
  usePresenceSession(session); // who else is where, and this agent's in-app notices (#15 items 7, 8)
  useEffect(() => {
    function onKey(event: KeyboardEvent) {
      const target = event.target as HTMLElement | null;
      // The board has keys of its own (Shift+arrows on a card); an open drawer takes its Esc.
      if (onBoard || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
      // A dialog's keys are the dialog's: Esc there closes it and nothing behind it.
      if (target?.closest('dialog[open], [role="dialog"], [role="alertdialog"]')) return;
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
      <ErasureNotices session={session} openConversationId={selectedId} />
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
      ) : route.screen === 'reports' ? (
        <ReportsScreen session={session} online={online} view={route.view} />
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
          ) : route.screen === 'settings' ? (
            <Settings session={session} online={online} onSignedOut={onSignedOut} />
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
