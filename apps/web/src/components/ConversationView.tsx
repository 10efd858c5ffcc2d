import { useEffect, useRef, useState, type Ref } from 'react';
import { useLiveQuery, useNow, useSubscribed } from '../lib/hooks';
import { optimisticRow, targetOf } from '../lib/optimistic';
import type { AgentInfo, Session, TemplateInfo } from '../lib/session';
import { buildTimeline, REPLY_STATE_LABEL, type TimelineItem } from '../lib/timeline';
import { ActivityLine, useActivityWords } from './ActivityLine';
import { Composer, type ComposerRequest } from './Composer';
import { MessageMedia } from './MessageMedia';
import { PresenceBanner } from './Presence';
import { ContactPanel } from './ContactPanel';
import { ConversationHeader } from './ConversationHeader';
import { DrawerBackdrop } from './Drawer';
import { SendingHint } from './SendingHint';
import { refusalText } from './refusal-text';

const TICKS: Partial<Record<string, string>> = { sent: '✓', delivered: '✓✓', read: '✓✓' };

function clock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
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
  const me = session.account.agent.id;
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
  // The card's board stages are activity lines too (AC4).
  const cardEvents = useLiveQuery(
    () =>
      db.events
        .where('[streamId+version]')
        .between([`card-${conversationId}`, 0], [`card-${conversationId}`, Infinity])
        .toArray(),
    [db, conversationId],
  );
  const activityWords = useActivityWords(session);
  const inFlight = useSubscribed(flusher, () => flusher.current.inFlight);
  const templates = useLiveQuery(
    async () => ((await db.meta.get('templates'))?.value as TemplateInfo[] | undefined) ?? [],
    [db],
  );
  const [request, setRequest] = useState<ComposerRequest | null>(null);
  const [showContact, setShowContact] = useState(false);
  const agentList = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const agentName = (id: string) => agentList?.find((agent) => agent.id === id)?.name ?? id;
  const listEnd = useRef<HTMLLIElement>(null);

  useEffect(() => {
    if (row && !row.hydrated && online) void session.engine.hydrate(conversationId).catch(() => undefined);
  }, [row, online, session, conversationId]);

  // The server's events with this device's pending commands rebased on them (decided again on
  // the newest state each time either changes): shown at once, marked pending.
  const { state, synced, pending, items } = buildTimeline(events ?? [], outbox ?? [], inFlight, {
    now,
    templates: templates ?? [],
    cardEvents: cardEvents ?? [],
  });
  // Opening a conversation marks it read up to its latest customer message (a queued command,
  // like any other: offline too; the domain decides nothing when it is read already).
  const readUpTo = synced?.lastCustomerMessageAt ?? null;
  const markedRead = useRef<string | null>(null);
  useEffect(() => {
    if (!row || readUpTo === null || !synced || synced.customerMessages === 0) return;
    const key = `${conversationId}:${readUpTo}`;
    if (markedRead.current === key) return;
    markedRead.current = key;
    void session.command(targetOf(row), { type: 'MarkConversationRead', upTo: readUpTo });
  }, [row, synced, readUpTo, conversationId, session]);
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
    const { command } = result.row;
    if (then === 'edit' && command.type === 'QueueReply' && command.content.type === 'text')
      setRequest({ text: command.content.text, nonce: Date.now() });
    if (then === 'template') setRequest({ templates: true, nonce: Date.now() });
  }

  return (
    <>
      <section className="pane conversation-pane" aria-labelledby="conversation-heading">
        <ConversationHeader
          row={row}
          now={now}
          contactOpen={showContact}
          onContact={() => setShowContact((v) => !v)}
        />
        <PresenceBanner conversationId={conversationId} />
        <ol className="timeline" aria-label="Messages" tabIndex={0}>
          {items.map((item) =>
            item.kind === 'activity' ? (
              <ActivityLine key={item.key} item={item} words={activityWords} />
            ) : (
              <li
                key={item.key}
                className={`message ${item.kind}${item.kind === 'reply' && item.agentId !== me ? ' other-agent' : ''}`}
                data-state={item.kind === 'reply' ? item.state : undefined}
                data-content={item.kind === 'customer' ? item.content : undefined}
              >
                {item.kind === 'customer' ? (
                  <>
                    <span className="visually-hidden">{row.contact.name}:</span>
                    {item.media ? (
                      <MessageMedia db={session.db} media={item.media} from={row.contact.name} />
                    ) : null}
                    {item.text ? <p dir="auto">{item.text}</p> : null}
                    <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
                  </>
                ) : item.kind === 'note' ? (
                  <>
                    <span className="note-label">Private note</span>
                    <p dir="auto">{item.text}</p>
                    <time dateTime={new Date(item.at).toISOString()}>{clock(item.at)}</time>
                    {item.refusal ? (
                      <p className="error" role="alert">
                        {refusalText(item.refusal)}
                      </p>
                    ) : item.pending ? (
                      <span className="pending-mark muted"> · Pending</span>
                    ) : null}
                  </>
                ) : (
                  <>
                    {item.agentId === me ? (
                      <span className="visually-hidden">You:</span>
                    ) : (
                      // Another agent's reply: their name shown, not only a different colour (CV19).
                      <span className="reply-author" dir="auto">
                        {agentName(item.agentId)}
                      </span>
                    )}
                    {item.media ? (
                      <MessageMedia
                        db={session.db}
                        media={item.media}
                        from={item.agentId === me ? 'you' : agentName(item.agentId)}
                      />
                    ) : null}
                    {item.text ? <p dir="auto">{item.text}</p> : null}
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
                        <p>{refusalText(item.refusal)}</p>
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
            ),
          )}
          <li ref={listEnd} className="timeline-end" aria-hidden="true" />
        </ol>
        <SendingHint
          items={items}
          platform={row.platform}
          onDevice={new Set((outbox ?? []).map((each) => each.clientMessageId))}
        />
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
      <ContactPanel
        session={session}
        row={optimisticRow(row, state)}
        pending={pending}
        now={now}
        open={showContact}
        onClose={() => setShowContact(false)}
        online={online}
      />
      {showContact ? <DrawerBackdrop onClose={() => setShowContact(false)} /> : null}
    </>
  );
}
