import type { ClientCommand, Priority } from '@parley/domain';
import { Fragment, useId, useRef, useState } from 'react';
import type { ConversationRow } from '../lib/db/schema';
import type { PendingOutcome } from '../lib/decide';
import { useLiveQuery } from '../lib/hooks';
import { targetOf } from '../lib/optimistic';
import type { AgentInfo, Session } from '../lib/session';
import { DrawerClose, useDrawer } from './Drawer';
import { contactFacts, contactReach } from '../lib/contact-facts';
import type { StageInfo } from './ActivityLine';
import { CHANNEL_NAME, ChannelIcon } from './ChannelIcon';
import { ContactAdmin } from './ContactAdmin';
import { ContactHistory } from './ContactHistory';
import { refusalText } from './refusal-text';

/** How long until `deadline`, in words. */
export function countdown(deadline: number, now: number): string {
  const ms = deadline - now;
  if (ms <= 0) return 'closed';
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  return hours > 0 ? `closes in ${hours} h ${minutes} min` : `closes in ${minutes} min`;
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
export function ContactPanel({
  session,
  row,
  pending,
  now,
  open,
  onClose,
  online,
}: {
  session: Session;
  row: ConversationRow;
  pending: readonly PendingOutcome[];
  now: number;
  /** Shown as a drawer (narrow screens): `onClose` closes it. */
  open: boolean;
  onClose: () => void;
  online: boolean;
}) {
  const { db } = session;
  const closeButton = useRef<HTMLButtonElement>(null);
  useDrawer(open, onClose, closeButton);
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
      if (!stageId) continue;
      // The stage's name as the board shows it (kept on the device with the catalogue).
      const stages = ((await db.meta.get('stages'))?.value as StageInfo[] | undefined) ?? [];
      return stages.find((each) => each.id === stageId)?.name ?? stageId;
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
      <div className="drawer-header">
        <h2 id="contact-heading">Contact</h2>
        {open ? (
          <DrawerClose onClose={onClose} label="Close contact details" buttonRef={closeButton} />
        ) : null}
      </div>
      <dl>
        <dt>Name</dt>
        <dd dir="auto">{row.contact.name}</dd>
        <dt>Channel</dt>
        <dd>
          <ChannelIcon platform={row.platform} /> {CHANNEL_NAME[row.platform]} ·{' '}
          <bdi>{contactReach(row.platform, row.contact)}</bdi>
        </dd>
        {contactFacts(row.platform, row.contact).map((fact) => (
          <Fragment key={fact.label}>
            <dt>{fact.label}</dt>
            <dd dir="auto">{fact.href ? <a href={fact.href}>{fact.value}</a> : fact.value}</dd>
          </Fragment>
        ))}
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
      <ContactHistory session={session} row={row} now={now} online={online} open={open} />
      {session.account.agent.role === 'admin' ? (
        <ContactAdmin session={session} row={row} online={online} />
      ) : null}
    </aside>
  );
}
