import type { ClientCommand, Priority } from '@parley/domain';
import { useEffect, useId, useRef, useState, type Ref } from 'react';
import type { ConversationRow, Refusal } from '../lib/db/schema';
import { explainRefusal, type PendingOutcome } from '../lib/decide';
import { useLiveQuery, useNow, useSubscribed } from '../lib/hooks';
import { optimisticRow, targetOf } from '../lib/optimistic';
import { navigate } from '../lib/router';
import type { AgentInfo, Session, TemplateInfo } from '../lib/session';
import { buildTimeline, REPLY_STATE_LABEL, type TimelineItem } from '../lib/timeline';
import { Composer, type ComposerRequest } from './Composer';

/** A refusal as one line for the agent: the domain's sentence, then what to do instead. */
export function refusalText(refusal: Refusal): string {
  const { message, nextStep } = explainRefusal(refusal);
  return nextStep ? `${message}. ${nextStep}.` : `${message}.`;
}

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
        <header className="conversation-header">
          <button type="button" className="ghost back" onClick={() => navigate({ screen: 'inbox' })}>
            ← Inbox
          </button>
          <h2 id="conversation-heading" dir="auto">
            {row.contact.name}
          </h2>
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
              className={`message ${item.kind}${item.kind === 'reply' && item.agentId !== me ? ' other-agent' : ''}`}
              data-state={item.kind === 'reply' ? item.state : undefined}
              data-content={item.kind === 'customer' ? item.content : undefined}
            >
              {item.kind === 'customer' ? (
                <>
                  <span className="visually-hidden">{row.contact.name}:</span>
                  <p dir="auto">{item.text}</p>
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
                  <p dir="auto">{item.text}</p>
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
      <ContactPanel
        session={session}
        row={optimisticRow(row, state)}
        pending={pending}
        now={now}
        open={showContact}
        online={online}
      />
    </>
  );
}

const HOUR = 3_600_000;

/** The snooze presets: in an hour, tomorrow at 9:00, next Monday at 9:00 (local time). */
export function snoozePresets(now: number): readonly { readonly label: string; readonly until: number }[] {
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(9, 0, 0, 0);
  const nextWeek = new Date(now);
  nextWeek.setDate(nextWeek.getDate() + ((8 - nextWeek.getDay()) % 7 || 7));
  nextWeek.setHours(9, 0, 0, 0);
  return [
    { label: 'In 1 hour', until: now + HOUR },
    { label: 'Tomorrow 9:00', until: tomorrow.getTime() },
    { label: 'Next week (Monday 9:00)', until: nextWeek.getTime() },
  ];
}

/** A `datetime-local` value for `at`, in local time. */
function localInput(at: number): string {
  const date = new Date(at - new Date(at).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

const PRIORITIES: readonly Priority[] = ['none', 'low', 'medium', 'high', 'urgent'];

/** Words for a pending command, for the "waiting to sync" list. */
function describeCommand(command: ClientCommand, agents: readonly AgentInfo[]): string {
  const name = (id: string) => agents.find((agent) => agent.id === id)?.name ?? id;
  switch (command.type) {
    case 'QueueReply':
      return 'Reply';
    case 'AddNote':
      return 'Private note';
    case 'AddLabel':
      return `Add label “${command.label}”`;
    case 'RemoveLabel':
      return `Remove label “${command.label}”`;
    case 'AssignConversation':
      return `Assign to ${name(command.agentId)}`;
    case 'UnassignConversation':
      return 'Unassign';
    case 'SetStatus':
      return command.status === 'resolved'
        ? 'Resolve'
        : command.status === 'pending'
          ? 'Mark pending'
          : 'Reopen';
    case 'SnoozeConversation':
      return `Snooze until ${new Date(command.until).toLocaleString()}`;
    case 'SetPriority':
      return `Priority: ${command.priority}`;
    case 'MarkConversationRead':
      return 'Mark as read';
  }
}

/**
 * The contact panel: channel, window countdown, and the triage controls (assignee, status, snooze,
 * priority, labels). Every control queues a command in the outbox, online or not (issue #14): the
 * domain decides it here first, the panel shows the outcome at once, and "Waiting to sync" lists
 * what is still on its way, or what the rules now refuse, in words, with a way forward.
 */
function ContactPanel({
  session,
  row,
  pending,
  now,
  open,
  online,
}: {
  session: Session;
  row: ConversationRow;
  pending: readonly PendingOutcome[];
  now: number;
  open: boolean;
  online: boolean;
}) {
  const { db } = session;
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
  const refused = useLiveQuery(
    () =>
      db.outbox
        .where('conversationId')
        .equals(row.conversationId)
        .filter(
          (item) =>
            item.refusal !== null && item.command.type !== 'QueueReply' && item.command.type !== 'AddNote',
        )
        .toArray(),
    [db, row.conversationId],
  );
  const [label, setLabel] = useState('');
  const [labelError, setLabelError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [snoozeAt, setSnoozeAt] = useState('');
  const id = useId();

  async function act(command: ClientCommand): Promise<boolean> {
    try {
      const result = await session.command(targetOf(row), command);
      if (!result.ok) {
        setError(refusalText(result));
        return false;
      }
      setError(null);
      return true;
    } catch {
      setError('This change could not be saved on this device. Reload the page and try again.');
      return false;
    }
  }

  const shown = pending.filter(
    (outcome) =>
      outcome.row.command.type !== 'QueueReply' &&
      outcome.row.command.type !== 'AddNote' &&
      outcome.row.command.type !== 'MarkConversationRead',
  );
  const snoozeTime = snoozeAt ? new Date(snoozeAt).getTime() : null;
  const snoozeInvalid = snoozeTime !== null && !(snoozeTime > now);

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
        <dd data-testid="conversation-status">
          {row.status}
          {row.status === 'snoozed' && row.snoozedUntil !== null
            ? ` until ${new Date(row.snoozedUntil).toLocaleString()}`
            : ''}
        </dd>
        <dt>Priority</dt>
        <dd>{row.priority}</dd>
        <dt>Workflow stage</dt>
        <dd>{stage ?? '—'}</dd>
      </dl>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {shown.length > 0 || (refused ?? []).length > 0 ? (
        <section aria-label="Waiting to sync" className="pending-commands">
          <h3>{online ? 'Sending' : 'Waiting to sync'}</h3>
          <ul>
            {shown.map((outcome) => (
              <li key={outcome.row.clientMessageId} data-state={outcome.ok ? 'pending' : 'refused'}>
                {describeCommand(outcome.row.command, agents ?? [])}
                {outcome.ok ? (
                  <span className="muted"> · Pending</span>
                ) : (
                  <span className="error"> · {refusalText(outcome.refusal)}</span>
                )}
              </li>
            ))}
            {(refused ?? []).map((item) => (
              <li key={item.clientMessageId} data-state="refused">
                {describeCommand(item.command, agents ?? [])}
                <span className="error"> · Not applied: {refusalText(item.refusal!)}</span>{' '}
                <button
                  type="button"
                  className="ghost small"
                  onClick={() => void session.takeBack(item.clientMessageId)}
                >
                  Dismiss
                </button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <label>
        Assignee
        <select
          value={row.assigneeId ?? ''}
          onChange={(event) =>
            void act(
              event.target.value
                ? { type: 'AssignConversation', agentId: event.target.value }
                : { type: 'UnassignConversation' },
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
      <div className="row" role="group" aria-label="Status">
        {row.status === 'resolved' ? (
          <button type="button" onClick={() => void act({ type: 'SetStatus', status: 'open' })}>
            Reopen
          </button>
        ) : (
          <>
            <button type="button" onClick={() => void act({ type: 'SetStatus', status: 'resolved' })}>
              Resolve
            </button>
            {row.status === 'pending' || row.status === 'snoozed' ? (
              <button
                type="button"
                className="ghost"
                onClick={() => void act({ type: 'SetStatus', status: 'open' })}
              >
                Mark open
              </button>
            ) : (
              <button
                type="button"
                className="ghost"
                onClick={() => void act({ type: 'SetStatus', status: 'pending' })}
              >
                Mark pending
              </button>
            )}
          </>
        )}
      </div>
      <label>
        Priority
        <select
          value={row.priority}
          onChange={(event) => void act({ type: 'SetPriority', priority: event.target.value as Priority })}
        >
          {PRIORITIES.map((priority) => (
            <option key={priority} value={priority}>
              {priority}
            </option>
          ))}
        </select>
      </label>
      <fieldset className="snooze">
        <legend>Snooze</legend>
        <div className="row">
          {snoozePresets(now).map((preset) => (
            <button
              key={preset.label}
              type="button"
              className="ghost small"
              onClick={() => void act({ type: 'SnoozeConversation', until: preset.until })}
            >
              {preset.label}
            </button>
          ))}
        </div>
        <form
          className="row"
          onSubmit={(event) => {
            event.preventDefault();
            if (snoozeTime === null || snoozeInvalid) return;
            void act({ type: 'SnoozeConversation', until: snoozeTime }).then((ok) => ok && setSnoozeAt(''));
          }}
        >
          <label htmlFor={`${id}-snooze`}>Until</label>
          <input
            id={`${id}-snooze`}
            type="datetime-local"
            value={snoozeAt}
            min={localInput(now)}
            aria-invalid={snoozeInvalid || undefined}
            aria-describedby={snoozeInvalid ? `${id}-snooze-error` : undefined}
            onChange={(event) => setSnoozeAt(event.target.value)}
          />
          <button type="submit" disabled={snoozeTime === null || snoozeInvalid}>
            Snooze
          </button>
        </form>
        {snoozeInvalid ? (
          <p id={`${id}-snooze-error`} className="error">
            Pick a time in the future.
          </p>
        ) : null}
      </fieldset>
      <h3>Labels</h3>
      <ul className="labels" aria-label="Labels">
        {row.labels.map((item) => (
          <li key={item}>
            {item}
            <button
              type="button"
              className="ghost small"
              aria-label={`Remove label ${item}`}
              onClick={() => void act({ type: 'RemoveLabel', label: item })}
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
          if (!label.trim()) {
            setLabelError('Type a label name.');
            return;
          }
          void act({ type: 'AddLabel', label }).then((ok) => ok && setLabel(''));
        }}
      >
        <label className="visually-hidden" htmlFor="new-label">
          New label
        </label>
        <input
          id="new-label"
          value={label}
          placeholder="Add a label"
          aria-invalid={labelError ? true : undefined}
          aria-describedby={labelError ? 'new-label-error' : undefined}
          onChange={(event) => {
            setLabel(event.target.value);
            // A validation message goes as soon as the input is fixed.
            if (event.target.value.trim()) setLabelError(null);
          }}
        />
        <button type="submit">Add</button>
      </form>
      {labelError ? (
        <p id="new-label-error" className="error">
          {labelError}
        </p>
      ) : null}
    </aside>
  );
}
