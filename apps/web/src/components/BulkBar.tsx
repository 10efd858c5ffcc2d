import type { ClientCommand } from '@parley/domain';
import { useId, useState } from 'react';
import type { ConversationRow, Refusal } from '../lib/db/schema';
import { explainRefusal } from '../lib/decide';
import { targetOf } from '../lib/optimistic';
import type { AgentInfo, Session } from '../lib/session';

/** A refusal as one sentence: the domain's reason, then what to do instead. */
function sentence(refusal: Refusal): string {
  const { message, nextStep } = explainRefusal(refusal);
  return nextStep ? `${message}. ${nextStep}.` : `${message}.`;
}

/** What one bulk action did: commands queued, conversations already so, and refusals with their reason. */
export interface BulkOutcome {
  readonly action: string;
  readonly queued: number;
  readonly unchanged: number;
  readonly refused: readonly string[];
  readonly offline: boolean;
}

/** The outcome as one sentence for the agent. */
export function describeOutcome(outcome: BulkOutcome): string {
  const parts = [
    `${outcome.action}: ${outcome.queued} ${outcome.queued === 1 ? 'conversation' : 'conversations'}`,
  ];
  if (outcome.offline && outcome.queued > 0) parts[0] += ' (queued, sent when you are back online)';
  if (outcome.unchanged > 0) parts.push(`${outcome.unchanged} already so`);
  if (outcome.refused.length > 0)
    parts.push(`${outcome.refused.length} refused: ${outcome.refused.join(' ')}`);
  return `${parts.join('; ')}.`;
}

/**
 * Applies one command to each conversation, each as a `ClientCommand` through the device's outbox
 * (issue #14): the domain decides it here first, it shows at once, and it is sent when the network
 * allows, so bulk actions work offline too.
 */
export async function applyToEach(
  session: Pick<Session, 'command'>,
  rows: readonly ConversationRow[],
  command: ClientCommand,
  action: string,
  offline: boolean,
): Promise<BulkOutcome> {
  let queued = 0;
  let unchanged = 0;
  const refused: string[] = [];
  for (const row of rows) {
    const result = await session.command(targetOf(row), command);
    if (!result.ok) refused.push(`${row.contact.name}: ${sentence(result)}`);
    else if (result.row) queued++;
    else unchanged++;
  }
  return { action, queued, unchanged, refused, offline };
}

/**
 * The bar shown while conversations are selected: assign, add a label, resolve, clear. The outcome
 * goes to the list (`onOutcome`), which keeps showing it when the conversations leave the view.
 */
export function BulkBar({
  rows,
  session,
  agents,
  onClear,
  onOutcome,
}: {
  rows: readonly ConversationRow[];
  session: Session;
  agents: readonly AgentInfo[];
  onClear: () => void;
  onOutcome: (sentence: string) => void;
}) {
  const id = useId();
  const [agentId, setAgentId] = useState('');
  const [label, setLabel] = useState('');
  const [busy, setBusy] = useState(false);
  const run = async (command: ClientCommand, action: string) => {
    setBusy(true);
    try {
      const offline = typeof navigator !== 'undefined' && navigator.onLine === false;
      onOutcome(describeOutcome(await applyToEach(session, rows, command, action, offline)));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="bulk-bar" role="region" aria-label="Selected conversations">
      <p className="bulk-count">
        {rows.length} selected{' '}
        <button type="button" className="link-button" onClick={onClear}>
          Clear
        </button>
      </p>
      <form
        className="bulk-action"
        onSubmit={(event) => {
          event.preventDefault();
          const agent = agents.find((each) => each.id === agentId);
          if (agent) void run({ type: 'AssignConversation', agentId: agent.id }, `Assigned to ${agent.name}`);
        }}
      >
        <label htmlFor={`${id}-agent`} className="visually-hidden">
          Assign selected to
        </label>
        <select id={`${id}-agent`} value={agentId} onChange={(event) => setAgentId(event.target.value)}>
          <option value="">Assign to…</option>
          {agents
            .filter((agent) => agent.active !== false)
            .map((agent) => (
              <option key={agent.id} value={agent.id}>
                {agent.name}
              </option>
            ))}
        </select>
        <button type="submit" disabled={busy || agentId === '' || rows.length === 0}>
          Assign
        </button>
      </form>
      <form
        className="bulk-action"
        onSubmit={(event) => {
          event.preventDefault();
          const value = label.trim();
          if (value !== '')
            void run({ type: 'AddLabel', label: value }, `Label ${value} added`).then(() => setLabel(''));
        }}
      >
        <label htmlFor={`${id}-label`} className="visually-hidden">
          Label to add to the selected
        </label>
        <input
          id={`${id}-label`}
          value={label}
          maxLength={100}
          placeholder="Label"
          onChange={(event) => setLabel(event.target.value)}
        />
        <button type="submit" disabled={busy || label.trim() === '' || rows.length === 0}>
          Add label
        </button>
      </form>
      <button
        type="button"
        disabled={busy || rows.length === 0}
        onClick={() => void run({ type: 'SetStatus', status: 'resolved' }, 'Resolved')}
      >
        Resolve
      </button>
    </div>
  );
}
