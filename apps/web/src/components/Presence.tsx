import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { announce, storedPreferences } from '../lib/notify';
import { activePresence, PresenceClient, setActivePresence, type Presence } from '../lib/presence';
import { navigate, parseRoute } from '../lib/router';
import type { Session } from '../lib/session';
import '../styles/presence.css';

const NONE: readonly Presence[] = [];

/** Starts this tab's presence and in-app notices for a signed-in session (the Shell calls it once). */
export function usePresenceSession(session: Session): void {
  useEffect(() => {
    const client = new PresenceClient(session.client);
    client.start();
    setActivePresence(client);
    const scope = `${session.account.tenantId}:${session.account.agent.id}`;
    const stopNotices = client.onNotice((notice) => void announce(notice, storedPreferences(scope)));
    // A tapped notification asks the open app to show its conversation (apps/web/public/push-sw.js).
    const onMessage = (event: MessageEvent<unknown>) => {
      const data = event.data as { type?: unknown; url?: unknown } | null;
      if (data?.type === 'parley:open' && typeof data.url === 'string') navigate(parseRoute(data.url));
    };
    navigator.serviceWorker?.addEventListener('message', onMessage);
    return () => {
      navigator.serviceWorker?.removeEventListener('message', onMessage);
      stopNotices();
      setActivePresence(null);
      client.stop();
    };
  }, [session]);
}

/** This tab's presence client, once the signed-in shell has started it. */
export function useActivePresence(): PresenceClient | null {
  return useSyncExternalStore(activePresence.subscribe, activePresence.get, activePresence.get);
}

/** Other agents in a conversation now. */
export function usePresenceIn(conversationId: string): readonly Presence[] {
  const client = useActivePresence();
  return useSyncExternalStore(
    (listener) => client?.subscribe(listener) ?? (() => undefined),
    () => client?.in(conversationId) ?? NONE,
    () => NONE,
  );
}

const firstName = (name: string) => name.split(/\s+/)[0] || name;

/** "Ben Agent is typing…", "Ana Agent and Ben Agent are viewing". */
export function presenceSentence(present: readonly Presence[]): string {
  const typing = present.filter((each) => each.typing).map((each) => each.name);
  const viewing = present.filter((each) => !each.typing).map((each) => each.name);
  const join = (names: string[]) =>
    names.length <= 2 ? names.join(' and ') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  const parts = [
    ...(typing.length > 0 ? [`${join(typing)} ${typing.length === 1 ? 'is' : 'are'} typing…`] : []),
    ...(viewing.length > 0 ? [`${join(viewing)} ${viewing.length === 1 ? 'is' : 'are'} viewing`] : []),
  ];
  return parts.join(' · ');
}

/**
 * Under the conversation's header: who else is here. Mounting it says this tab shows the
 * conversation; unmounting says it left.
 */
export function PresenceBanner({ conversationId }: { conversationId: string }) {
  const client = useActivePresence();
  const present = usePresenceIn(conversationId);
  useEffect(() => {
    client?.view(conversationId);
    return () => client?.view(null);
  }, [client, conversationId]);
  return (
    <div className="presence-banner" role="status" aria-live="polite" data-testid="presence-banner">
      {present.length > 0 ? (
        <p data-typing={present.some((each) => each.typing) || undefined}>
          <span className="presence-dot" aria-hidden="true" />
          <span dir="auto">{presenceSentence(present)}</span>
        </p>
      ) : null}
    </div>
  );
}

/** A small marker in the list row: an eye (viewing) or a pencil (typing) and the first name. */
export function PresenceMarker({ conversationId }: { conversationId: string }) {
  const present = usePresenceIn(conversationId);
  if (present.length === 0) return null;
  const first = present[0]!;
  const typing = present.some((each) => each.typing);
  return (
    <span className="presence-marker" data-typing={typing || undefined} title={presenceSentence(present)}>
      <svg
        viewBox="0 0 24 24"
        width="14"
        height="14"
        aria-hidden="true"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
      >
        {typing ? (
          <path d="M4 20h4L19 9l-4-4L4 16zM14 6l4 4" />
        ) : (
          <>
            <path d="M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12z" />
            <circle cx="12" cy="12" r="3" />
          </>
        )}
      </svg>
      <span aria-hidden="true">
        {firstName(first.name)}
        {present.length > 1 ? ` +${present.length - 1}` : ''}
      </span>
      <span className="visually-hidden">{presenceSentence(present)}</span>
    </span>
  );
}

/** What the composer needs to warn before a reply collides with another agent's. */
export interface CollisionGuard {
  /** Names of the agents who typed while this reply was being written, when the warning shows. */
  readonly warning: readonly string[] | null;
  /** The agent typed (reported as presence). */
  typed(): void;
  /** True when the reply may go; otherwise shows the warning (once) and says no. */
  maySend(): boolean;
  dismiss(): void;
}

/**
 * Remembers who typed in the conversation while this agent's draft was not empty; a reply sent
 * after that asks first ("Ben is replying too — send anyway?"). Sent or emptied, it starts over.
 */
export function useCollisionGuard(conversationId: string, text: string): CollisionGuard {
  const client = useActivePresence();
  const present = usePresenceIn(conversationId);
  const alongside = useRef(new Map<string, string>());
  const [warning, setWarning] = useState<readonly string[] | null>(null);
  const drafting = text.trim() !== '';
  useEffect(() => {
    if (!drafting) {
      alongside.current.clear();
      setWarning(null);
      client?.stoppedTyping(conversationId);
      return;
    }
    for (const each of present) if (each.typing) alongside.current.set(each.agentId, each.name);
  }, [drafting, present, client, conversationId]);
  useEffect(() => {
    alongside.current.clear();
    setWarning(null);
  }, [conversationId]);
  return {
    warning,
    typed: () => client?.typed(conversationId),
    maySend() {
      if (warning !== null || alongside.current.size === 0) return true;
      setWarning([...alongside.current.values()]);
      return false;
    },
    dismiss: () => setWarning(null),
  };
}

/** The question before a colliding reply: send anyway, or keep the draft. */
export function CollisionWarning({ guard, onSend }: { guard: CollisionGuard; onSend: () => void }) {
  if (!guard.warning) return null;
  const names = guard.warning.map(firstName);
  const who = names.length === 1 ? `${names[0]} is` : `${names.join(' and ')} are`;
  return (
    <div className="collision-warning notice" role="alertdialog" aria-labelledby="collision-text">
      <p id="collision-text">{who} replying too — send anyway?</p>
      <div className="row">
        <button type="button" onClick={onSend}>
          Send anyway
        </button>
        <button type="button" className="ghost" onClick={() => guard.dismiss()}>
          Keep editing
        </button>
      </div>
    </div>
  );
}
