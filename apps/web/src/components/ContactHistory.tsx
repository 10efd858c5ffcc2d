import { useCallback, useEffect, useId, useState } from 'react';
import { conversationCycles } from '../lib/contact-history';
import type { ConversationRow } from '../lib/db/schema';
import { useLiveQuery } from '../lib/hooks';
import { hrefOf, navigate } from '../lib/router';
import type { AgentInfo, Session } from '../lib/session';
import { ChannelIcon } from './ChannelIcon';
import { useActivePresence } from './Presence';
import { RelativeTime } from './RelativeTime';
import '../styles/contact.css';

type Profile = Awaited<ReturnType<Session['client']['contacts']['profile']['query']>>;

const STATUS_WORD: Readonly<Record<string, string>> = {
  open: 'Open',
  pending: 'Pending',
  snoozed: 'Snoozed',
  resolved: 'Resolved',
};

/**
 * The contact's history in the contact panel (#15 item 13): their past conversations (this
 * conversation's earlier cycles, from the device's events, and their other conversations, from the
 * server) and the notes on the contact, with a form to add one. The server's part is kept on the
 * device, so it shows offline as last seen; adding a note needs the server.
 */
export function ContactHistory({
  session,
  row,
  now,
  online,
  open,
}: {
  session: Session;
  row: ConversationRow;
  now: number;
  online: boolean;
  /** The panel was opened as a drawer (phones): read the server's part again. */
  open: boolean;
}) {
  const { db } = session;
  const me = session.account.agent.id;
  const cacheKey = `contact-profile:${row.conversationId}`;
  const profile = useLiveQuery(
    async () => ((await db.meta.get(cacheKey))?.value as Profile | undefined) ?? null,
    [db, cacheKey],
  );
  const events = useLiveQuery(
    () =>
      db.events
        .where('[conversationId+version]')
        .between([row.conversationId, 0], [row.conversationId, Infinity])
        .toArray(),
    [db, row.conversationId],
  );
  const agents = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const nameOf = (id: string) =>
    id === me ? 'You' : (agents?.find((agent) => agent.id === id)?.name ?? 'Another agent');

  const refresh = useCallback(async () => {
    try {
      const fresh = await session.client.contacts.profile.query({ conversationId: row.conversationId });
      await db.meta.put({ key: cacheKey, value: fresh });
    } catch {
      // Offline, or the conversation left this agent's inboxes: the kept copy stands.
    }
  }, [session, db, cacheKey, row.conversationId]);
  // Another agent's note on this contact arrives at once, by the presence stream (ids only).
  const presence = useActivePresence();
  useEffect(
    () =>
      presence?.onContactChanged((conversationId) => {
        if (conversationId === row.conversationId) void refresh();
      }),
    [presence, refresh, row.conversationId],
  );
  useEffect(() => {
    if (!online) return;
    void refresh();
    // And when the panel opens, every half minute (a stream that was down), and when the tab returns.
    const timer = setInterval(() => void refresh(), 30_000);
    const onFocus = () => void refresh();
    window.addEventListener('focus', onFocus);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', onFocus);
    };
  }, [online, refresh, open]);

  const past = conversationCycles(events ?? []).filter((cycle) => cycle.endedAt !== null);
  const others = profile?.conversations ?? [];

  return (
    <>
      <section className="contact-history" aria-labelledby="past-heading">
        <h3 id="past-heading">Past conversations</h3>
        {past.length === 0 && others.length === 0 ? (
          <p className="muted">None before this one.</p>
        ) : (
          <ul className="past-conversations">
            {others.map((other) => (
              <li key={other.conversationId}>
                <a
                  href={hrefOf({ screen: 'conversation', conversationId: other.conversationId })}
                  onClick={(event) => {
                    event.preventDefault();
                    navigate({ screen: 'conversation', conversationId: other.conversationId });
                  }}
                >
                  <ChannelIcon platform={other.platform} /> {STATUS_WORD[other.status] ?? other.status}
                </a>
                <span className="muted">
                  {' '}
                  · last message <RelativeTime at={other.lastMessageAt} now={now} />
                </span>
              </li>
            ))}
            {past.map((cycle) => (
              <li key={cycle.cycle} data-cycle={cycle.cycle}>
                <span className="past-cycle">
                  <ChannelIcon platform={row.platform} /> Resolved{' '}
                  <RelativeTime at={cycle.endedAt ?? cycle.startedAt} now={now} />
                </span>
                <span className="muted">
                  {' '}
                  · {cycle.messages} {cycle.messages === 1 ? 'message' : 'messages'}
                  {cycle.lastMessageAt !== null ? (
                    <>
                      , last <RelativeTime at={cycle.lastMessageAt} now={now} />
                    </>
                  ) : null}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <ContactNotes
        session={session}
        conversationId={row.conversationId}
        notes={profile?.notes ?? []}
        nameOf={nameOf}
        now={now}
        online={online}
        onAdded={refresh}
      />
    </>
  );
}

function ContactNotes({
  session,
  conversationId,
  notes,
  nameOf,
  now,
  online,
  onAdded,
}: {
  session: Session;
  conversationId: string;
  notes: Profile['notes'];
  nameOf: (agentId: string) => string;
  now: number;
  online: boolean;
  onAdded: () => Promise<void>;
}) {
  const id = useId();
  const [text, setText] = useState('');
  // One id per note being written, kept across retries: a lost answer never adds it twice (CT3).
  const [noteId, setNoteId] = useState(() => crypto.randomUUID());
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);

  async function add() {
    if (!text.trim()) {
      setError('Write the note first.');
      return;
    }
    if (!online) {
      setError('You are offline. Contact notes are saved on the server: add it again once you are online.');
      return;
    }
    setSaving(true);
    try {
      await session.client.contacts.addNote.mutate({ conversationId, noteId, text });
      setText('');
      setNoteId(crypto.randomUUID());
      setError(null);
      await onAdded();
    } catch (failure) {
      const message = failure instanceof Error ? failure.message : '';
      setError(
        /needs some text|at most/.test(message)
          ? `The note was not saved: ${message}.`
          : 'The note was not saved. Check your connection and try again.',
      );
    } finally {
      setSaving(false);
    }
  }

  return (
    <section className="contact-notes" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`}>Notes on this contact</h3>
      {notes.length === 0 ? <p className="muted">No notes yet.</p> : null}
      <ul aria-label="Contact notes">
        {notes.map((note) => (
          <li key={note.noteId}>
            <p dir="auto">{note.text}</p>
            <span className="muted">
              <span dir="auto">{nameOf(note.agentId)}</span> · <RelativeTime at={note.at} now={now} />
            </span>
          </li>
        ))}
      </ul>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void add();
        }}
      >
        <label htmlFor={`${id}-text`}>Add a note on this contact</label>
        <textarea
          id={`${id}-text`}
          rows={2}
          dir="auto"
          value={text}
          aria-invalid={error ? true : undefined}
          aria-describedby={error ? `${id}-error` : undefined}
          onChange={(event) => {
            setText(event.target.value);
            if (event.target.value.trim()) setError(null);
          }}
        />
        <button type="submit" disabled={saving}>
          Save note
        </button>
        {error ? (
          <p id={`${id}-error`} className="error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </section>
  );
}
