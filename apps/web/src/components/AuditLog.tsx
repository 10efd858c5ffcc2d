import { useEffect, useState } from 'react';
import type { Client } from '../lib/api/client';

type Page = Awaited<ReturnType<Client['audit']['log']['query']>>;
type Entry = Page['entries'][number];
type Agents = Awaited<ReturnType<Client['agents']['list']['query']>>;

/** Streams named by their category; anything else is taken as a conversation's id. */
const STREAM_CATEGORIES = /^(conversation|card|inbox|workflow|contact|board|boardsnapshot|settings)-./;
const PAGE_SIZE = 50;

/** Which events to show: an actor (`agent:<id>`, `system`, `customer`) and a conversation or stream. */
interface Filter {
  readonly actor: string;
  readonly target: string;
}

function query(filter: Filter): { actor?: string; conversationId?: string; streamId?: string } {
  const target = filter.target.trim();
  const conversation = /^conversation-(.+)$/.exec(target);
  return {
    ...(filter.actor ? { actor: filter.actor } : {}),
    ...(target === ''
      ? {}
      : conversation
        ? { conversationId: conversation[1] }
        : STREAM_CATEGORIES.test(target)
          ? { streamId: target }
          : { conversationId: target }),
  };
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/**
 * The audit log (#16, decision 0036), for admins: the workspace's events newest first, 50 at a
 * time (`audit.log`), filtered by who acted and by conversation or stream. Each row says what
 * happened, never what a customer or an agent wrote: those fields are sealed (decision 0022).
 */
export function AuditLog({ client, online }: { client: Client; online: boolean }) {
  const [agents, setAgents] = useState<Agents>([]);
  const [draft, setDraft] = useState<Filter>({ actor: '', target: '' });
  const [filter, setFilter] = useState<Filter>({ actor: '', target: '' });
  const [entries, setEntries] = useState<readonly Entry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [state, setState] = useState<'loading' | 'more' | 'done' | 'error'>('loading');
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (online) void client.agents.list.query().then(setAgents, () => undefined);
  }, [client, online]);

  useEffect(() => {
    if (!online) return;
    let current = true;
    setState('loading');
    setEntries([]);
    client.audit.log.query({ ...query(filter), limit: PAGE_SIZE }).then(
      (page) => {
        if (!current) return;
        setEntries(page.entries);
        setNext(page.next);
        setState('done');
      },
      (failure: unknown) => {
        if (!current) return;
        setError(failure instanceof Error ? failure.message : String(failure));
        setState('error');
      },
    );
    return () => {
      current = false;
    };
  }, [client, online, filter, attempt]);

  async function more() {
    if (!next) return;
    setState('more');
    try {
      const page = await client.audit.log.query({ ...query(filter), limit: PAGE_SIZE, cursor: next });
      setEntries((shown) => [...shown, ...page.entries]);
      setNext(page.next);
      setState('done');
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
      setState('error');
    }
  }

  const filtered = filter.actor !== '' || filter.target.trim() !== '';
  return (
    <div className="audit-log">
      <form
        className="audit-filters"
        aria-label="Filter the audit log"
        onSubmit={(event) => {
          event.preventDefault();
          setFilter(draft);
        }}
      >
        <label>
          Who
          <select
            value={draft.actor}
            onChange={(event) => {
              const changed = { ...draft, actor: event.target.value };
              setDraft(changed);
              setFilter(changed);
            }}
          >
            <option value="">Everyone</option>
            {agents.map((agent) => (
              <option key={agent.id} value={`agent:${agent.id}`}>
                {agent.name}
              </option>
            ))}
            <option value="system">System</option>
            <option value="customer">Customers</option>
          </select>
        </label>
        <label>
          Conversation or stream
          <input
            type="search"
            value={draft.target}
            placeholder="demo-2 or inbox-support"
            onChange={(event) => setDraft({ ...draft, target: event.target.value })}
          />
        </label>
        <div className="audit-filter-actions">
          <button type="submit">Filter</button>
          {filtered ? (
            <button
              type="button"
              className="ghost"
              onClick={() => {
                setDraft({ actor: '', target: '' });
                setFilter({ actor: '', target: '' });
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <p className="muted">
        Newest first. Message text, notes and contact details are sealed: the log says what happened, not what
        was written.
      </p>
      {state === 'loading' ? (
        <p className="muted" role="status" aria-busy="true">
          Loading the audit log…
        </p>
      ) : null}
      {state === 'error' ? (
        <div role="alert" className="error reports-error">
          <p>The audit log could not be loaded: {error}.</p>
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Try again
          </button>
        </div>
      ) : null}
      {state !== 'loading' && state !== 'error' && entries.length === 0 ? (
        <div className="reports-empty" role="status">
          <p>
            <strong>{filtered ? 'No event matches this filter.' : 'The log is empty.'}</strong>
          </p>
          {filtered ? <p className="muted">Clear the filter to see every event.</p> : null}
        </div>
      ) : null}
      {entries.length > 0 ? (
        <ol className="audit-entries" aria-label="Audit log entries">
          {entries.map((entry) => (
            <li key={entry.id} className="audit-entry">
              <div className="audit-line">
                <strong className="audit-actor" dir="auto">
                  {entry.actor.name}
                </strong>
                <time dateTime={entry.at}>{timeFormat.format(new Date(entry.at))}</time>
              </div>
              <p className="audit-summary">{entry.summary}</p>
              <div className="audit-meta muted">
                <code>{entry.type}</code>
                <button
                  type="button"
                  className="audit-stream"
                  aria-label={`Show only ${entry.conversationId ? `conversation ${entry.conversationId}` : entry.streamId}`}
                  onClick={() => {
                    const target = entry.conversationId ?? entry.streamId;
                    setDraft({ ...draft, target });
                    setFilter({ ...filter, target });
                  }}
                >
                  {entry.streamId}
                </button>
                <span>v{entry.version}</span>
              </div>
            </li>
          ))}
        </ol>
      ) : null}
      {next && state !== 'loading' ? (
        <button type="button" onClick={() => void more()} disabled={state === 'more'}>
          {state === 'more' ? 'Loading…' : 'Show older events'}
        </button>
      ) : null}
    </div>
  );
}
