import { useEffect, useRef, useState, type Ref } from 'react';
import type { ConversationRow } from '../lib/db/schema';
import { useLiveQuery, useNow, useSubscribed } from '../lib/hooks';
import { navigate } from '../lib/router';
import type { AgentInfo, Session } from '../lib/session';
import { buildTimeline, REPLY_STATE_LABEL, type TimelineItem } from '../lib/timeline';
import { Composer, type ComposerRequest } from './Composer';

const TICKS: Partial<Record<string, string>> = { sent: '✓', delivered: '✓✓', read: '✓✓' };

function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

/** How long until `deadline`, in words. */
export function countdown(deadline: number, now: number): string {
  const ms = deadline - now;
  if (ms <= 0) return 'closed';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return hours > 0 ? `closes in ${hours} h ${minutes} min` : `closes in ${minutes} min`;
}

/** One conversation: its messages, notes and reply states, the composer, and the contact panel. */
export function ConversationView({
  session,
  conversationId,
  online,
  textareaRef,
}: {
  session: Session;
  conversationId: string;
  online: boolean;
  textareaRef: Ref<HTMLTextAreaElement>;
}) {
  const { db, flusher } = session;
  const now = useNow(15_000);
  const row = useLiveQuery(() => db.conversations.get(conversationId), [db, conversationId]);
  const events = useLiveQuery(
    () =>
      db.events
        .where('[conversationId+version]')
        .between([conversationId, 0], [conversationId, Infinity])
        .toArray(),
    [db, conversationId],
  );
  const outbox = useLiveQuery(
    () => db.outbox.where('conversationId').equals(conversationId).toArray(),
    [db, conversationId],
  );
  const inFlight = useSubscribed(flusher, () => flusher.current.inFlight);
  const [request, setRequest] = useState<ComposerRequest | null>(null);
  const [showContact, setShowContact] = useState(false);
  const listEnd = useRef<HTMLLIElement>(null);

  useEffect(() => {
    if (row && !row.hydrated && online) void session.engine.hydrate(conversationId).catch(() => undefined);
  }, [row, online, session, conversationId]);

  const { state, items } = buildTimeline(events ?? [], outbox ?? [], inFlight);
  useEffect(() => {
    // A block body: newer browsers return a promise from scrollIntoView, which is no effect cleanup.
    void listEnd.current?.scrollIntoView({ block: 'end' });
  }, [items.length]);

  if (row === undefined && events === undefined)
    return <section className="pane conversation-pane" aria-busy="true" aria-label="Conversation" />;
  if (!row) {
    return (
      <section className="pane conversation-pane empty" aria-label="Conversation">
        <p>This conversation is not on this device.</p>
      </section>
    );
  }
  const lastCustomerMessageAt = state?.lastCustomerMessageAt ?? row.lastCustomerMessageAt;

  async function takeBack(
    item: Extract<TimelineItem, { kind: 'reply' }>,
    then: 'edit' | 'template' | 'discard',
  ) {
    const result = await session.takeBack(item.clientMessageId);
    if (!result.ok) return;
    if (then === 'edit' && result.row.content.type === 'text')
      setRequest({ text: result.row.content.text, nonce: Date.now() });
    if (then === 'template') setRequest({ templates: true, nonce: Date.now() });
  }

  return (
    <>
      <section className="pane conversation-pane" aria-labelledby="conversation-heading">
        <header className="conversation-header">
          <button type="button" className="ghost back" onClick={() => navigate({ screen: 'inbox' })}>
            ← Inbox
          </button>
          <h2 id="conversation-heading">{row.contact.name}</h2>
          <span className="muted">
            {row.platform} · {row.contact.handle}
          </span>
          <button
            type="button"
            className="ghost contact-toggle"
            aria-expanded={showContact}
            onClick={() => setShowContact((v) => !v)}
          >
            Contact details
          </button>
        </header>
        <ol className="timeline" aria-label="Messages">
          {items.map((item) => (
            <li
              key={item.key}
              className={`message ${item.kind}`}
              data-state={item.kind === 'reply' ? item.state : undefined}
              data-content={item.kind === 'customer' ? item.content : undefined}
            >
              {item.kind === 'customer' ? (
                <>
                  <span className="visually-hidden">{row.contact.name}:</span>
                  <p>{item.text}</p>
                  <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
                </>
              ) : item.kind === 'note' ? (
                <>
                  <span className="note-label">Private note</span>
                  <p>{item.text}</p>
                  <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
                </>
              ) : (
                <>
                  <span className="visually-hidden">You:</span>
                  <p>{item.text}</p>
                  <span className="reply-meta">
                    <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
                    <span className={`reply-state state-${item.state}`}>
                      {TICKS[item.state] ? <span aria-hidden="true">{TICKS[item.state]} </span> : null}
                      {REPLY_STATE_LABEL[item.state]}
                      {item.state === 'failed' && item.reason ? `: ${item.reason}` : null}
                    </span>
                  </span>
                  {item.refusal ? (
                    <div className="refusal" role="group" aria-label="Reply not sent">
                      <p>
                        {item.refusal.message}
                        {item.refusal.hint ? ` — ${item.refusal.hint}` : ''}
                      </p>
                      <div className="row">
                        {item.refusal.code === 'WINDOW_CLOSED' ? (
                          <button type="button" onClick={() => void takeBack(item, 'template')}>
                            Use a template
                          </button>
                        ) : null}
                        <button type="button" className="ghost" onClick={() => void takeBack(item, 'edit')}>
                          Edit
                        </button>
                        <button
                          type="button"
                          className="ghost"
                          onClick={() => void takeBack(item, 'discard')}
                        >
                          Discard
                        </button>
                      </div>
                    </div>
                  ) : item.local && item.state === 'queued' ? (
                    <div className="row">
                      <button
                        type="button"
                        className="ghost small"
                        onClick={() => void takeBack(item, 'edit')}
                      >
                        Edit
                      </button>
                      <button
                        type="button"
                        className="ghost small"
                        onClick={() => void takeBack(item, 'discard')}
                      >
                        Discard
                      </button>
                    </div>
                  ) : null}
                </>
              )}
            </li>
          ))}
          <li ref={listEnd} className="timeline-end" aria-hidden="true" />
        </ol>
        <Composer
          session={session}
          conversationId={conversationId}
          platform={row.platform}
          lastCustomerMessageAt={lastCustomerMessageAt}
          now={now}
          request={request}
          textareaRef={textareaRef}
          online={online}
        />
      </section>
      <ContactPanel session={session} row={row} now={now} open={showContact} online={online} />
    </>
  );
}

/** The contact panel: channel, window countdown, labels, assignee, status and the workflow stage. */
function ContactPanel({
  session,
  row,
  now,
  open,
  online,
}: {
  session: Session;
  row: ConversationRow;
  now: number;
  open: boolean;
  online: boolean;
}) {
  const { db, client } = session;
  const agents = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const stage = useLiveQuery(async () => {
    const cards = await db.events
      .where('[streamId+version]')
      .between([`card-${row.conversationId}`, 0], [`card-${row.conversationId}`, Infinity])
      .toArray();
    for (const card of cards.reverse()) {
      const data = card.data as { stageId?: string; toStageId?: string };
      const stageId = data.toStageId ?? data.stageId;
      if (stageId) return stageId;
    }
    return null;
  }, [db, row.conversationId]);
  const [label, setLabel] = useState('');
  const [error, setError] = useState<string | null>(null);
  const act = (work: Promise<unknown>) =>
    work.then(
      () => setError(null),
      () => setError('That change needs a connection; try again when online.'),
    );
  const id = row.conversationId;

  return (
    <aside
      className={open ? 'pane contact-pane open' : 'pane contact-pane'}
      aria-labelledby="contact-heading"
    >
      <h2 id="contact-heading">Contact</h2>
      <dl>
        <dt>Name</dt>
        <dd>{row.contact.name}</dd>
        <dt>Channel</dt>
        <dd>
          {row.platform} · {row.contact.handle}
        </dd>
        <dt>Reply window</dt>
        <dd>{row.windowClosesAt === null ? 'no window' : countdown(row.windowClosesAt, now)}</dd>
        <dt>Status</dt>
        <dd>{row.status}</dd>
        <dt>Workflow stage</dt>
        <dd>{stage ?? '—'}</dd>
      </dl>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <label>
        Assignee
        <select
          value={row.assigneeId ?? ''}
          disabled={!online}
          onChange={(event) =>
            void act(
              client.conversations.assign.mutate({ conversationId: id, agentId: event.target.value || null }),
            )
          }
        >
          <option value="">Unassigned</option>
          {(agents ?? []).map((agent) => (
            <option key={agent.id} value={agent.id}>
              {agent.name}
            </option>
          ))}
        </select>
      </label>
      <div className="row">
        {row.status === 'resolved' ? (
          <button
            type="button"
            disabled={!online}
            onClick={() => void act(client.conversations.reopen.mutate({ conversationId: id }))}
          >
            Reopen
          </button>
        ) : (
          <button
            type="button"
            disabled={!online}
            onClick={() => void act(client.conversations.resolve.mutate({ conversationId: id }))}
          >
            Resolve
          </button>
        )}
      </div>
      <h3>Labels</h3>
      <ul className="labels" aria-label="Labels">
        {row.labels.map((item) => (
          <li key={item}>
            {item}
            <button
              type="button"
              className="ghost small"
              aria-label={`Remove label ${item}`}
              disabled={!online}
              onClick={() =>
                void act(
                  client.conversations.label.mutate({ conversationId: id, label: item, action: 'remove' }),
                )
              }
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form
        className="row"
        onSubmit={(event) => {
          event.preventDefault();
          if (!label.trim()) return;
          void act(client.conversations.label.mutate({ conversationId: id, label, action: 'add' })).then(() =>
            setLabel(''),
          );
        }}
      >
        <label className="visually-hidden" htmlFor="new-label">
          New label
        </label>
        <input
          id="new-label"
          value={label}
          placeholder="Add a label"
          onChange={(event) => setLabel(event.target.value)}
        />
        <button type="submit" disabled={!online}>
          Add
        </button>
      </form>
    </aside>
  );
}
