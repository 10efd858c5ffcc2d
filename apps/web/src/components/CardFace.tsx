import type { CardView } from '@parley/board';
import { previewAuthor, unreadFor } from '@parley/domain';
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { useLiveQuery, useNow } from '../lib/hooks';
import type { AgentInfo, Session } from '../lib/session';
import { Avatar } from './Avatar';
import { ChannelIcon } from './ChannelIcon';
import { RelativeTime } from './RelativeTime';
import '../styles/card-face.css';

interface CardData {
  readonly session: Session;
  readonly names: Readonly<Record<string, string>>;
  readonly now: number;
}

const CardDataContext = createContext<CardData | null>(null);

/** What every card of a board reads beside its Yjs entry: the device's conversations and agents. */
export function CardDataProvider({ session, children }: { session: Session; children: ReactNode }) {
  const { db } = session;
  const now = useNow(30_000);
  const agents = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const value = useMemo(
    () => ({
      session,
      now,
      names: Object.fromEntries((agents ?? []).map((agent) => [agent.id, agent.name])),
    }),
    [session, now, agents],
  );
  return <CardDataContext.Provider value={value}>{children}</CardDataContext.Provider>;
}

/** An agent's name for a card: "You" for the viewer, never a bare id when the device knows them. */
export function agentLabel(agentId: string, viewerId: string, names: Readonly<Record<string, string>>) {
  return agentId === viewerId ? 'You' : (names[agentId] ?? 'Another agent');
}

/**
 * What a board card shows (issue #15 item 11): channel, contact, unread count for the viewer, the
 * latest message on one line, labels as chips, the assignee with an avatar, and how long the
 * customer has waited. The conversation comes from the device's list (the same fold as the inbox),
 * so it is current offline and per agent; the board's own copy fills in before it has synced.
 */
export function CardFace({ card }: { card: CardView }) {
  const data = useContext(CardDataContext);
  const db = data?.session.db;
  const row = useLiveQuery(
    async () => (db ? ((await db.conversations.get(card.conversationId)) ?? null) : null),
    [db, card.conversationId],
  );
  const viewer = data?.session.account.agent.id ?? '';
  const names = data?.names ?? {};
  const assignee = row ? row.assigneeId : card.assignee;
  const labels = row ? row.labels : card.labels;
  const unread = row ? unreadFor(row, viewer) : 0;
  const author = row?.lastMessage ? previewAuthor(row.lastMessage, viewer, names) : null;
  // The customer waits from their first message since an agent last answered (CV18's times).
  const waitingSince = row && row.status !== 'resolved' ? row.unreadAt?.[0] : undefined;
  return (
    <span className="card-face">
      <span className="card-top">
        {row ? <ChannelIcon platform={row.platform} /> : null}
        <span className="title" dir="auto">
          {row?.contact.name ?? card.title}
        </span>
        {unread > 0 ? (
          <span className="card-unread" aria-label={`${unread} unread`}>
            {unread}
          </span>
        ) : null}
      </span>
      {row?.lastMessage ? (
        <span className="card-preview" dir="auto">
          {author ? `${author}: ` : ''}
          {row.lastMessage.preview}
        </span>
      ) : null}
      {labels.length > 0 ? (
        <span className="card-labels">
          <span className="visually-hidden">Labels: </span>
          {labels.map((label) => (
            <span key={label} className="chip" dir="auto">
              {label}
            </span>
          ))}
        </span>
      ) : null}
      <span className="card-bottom">
        <span className="card-assignee">
          {assignee ? (
            <>
              <Avatar name={agentLabel(assignee, '', names)} id={assignee} size={20} />
              <span dir="auto">{agentLabel(assignee, viewer, names)}</span>
            </>
          ) : (
            <span className="muted">Unassigned</span>
          )}
        </span>
        {waitingSince !== undefined && data ? (
          <span className="card-waiting">
            Waiting <RelativeTime at={waitingSince} now={data.now} />
          </span>
        ) : card.note ? (
          <span className="muted">Has a note</span>
        ) : null}
      </span>
    </span>
  );
}

/** An assignee's name where a card names one ("You" for the viewer). */
export function AssigneeName({ agentId }: { agentId: string }) {
  const data = useContext(CardDataContext);
  return (
    <span dir="auto">{agentLabel(agentId, data?.session.account.agent.id ?? '', data?.names ?? {})}</span>
  );
}
