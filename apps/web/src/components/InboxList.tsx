import { useVirtualizer } from '@tanstack/react-virtual';
import {
  matchesListFilter,
  previewAuthor,
  sortRows,
  unreadConversations,
  unreadFor,
  type ListSort,
} from '@parley/domain';
import Dexie from 'dexie';
import { useEffect, useRef, useState, type Ref } from 'react';
import type { ConversationRow, ParleyDb } from '../lib/db/schema';
import { useLiveQuery, useNow, useThrottledTableQuery } from '../lib/hooks';
import { commandsInLog } from '../lib/decide';
import { withPending } from '../lib/optimistic';
import { hrefOf, navigate } from '../lib/router';
import type { AgentInfo, Session } from '../lib/session';
import { BulkBar } from './BulkBar';
import { DEFAULT_VIEW, ListFilters, useListCatalogue, type ListView } from './ListFilters';
import { SearchResults } from './SearchResults';
import { PresenceMarker } from './Presence';
import { showUnreadTotal } from '../lib/notify';
import '../styles/list-tools.css';
import { Avatar } from './Avatar';
import { ChannelIcon } from './ChannelIcon';
import { RelativeTime } from './RelativeTime';

export type Whose = 'mine' | 'unassigned' | 'all';
export type StatusTab = ConversationRow['status'] | 'any';

const WHOSE: readonly [Whose, string][] = [
  ['mine', 'Mine'],
  ['unassigned', 'Unassigned'],
  ['all', 'All'],
];
const STATUSES: readonly [StatusTab, string][] = [
  ['open', 'Open'],
  ['pending', 'Pending'],
  ['snoozed', 'Snoozed'],
  ['resolved', 'Resolved'],
  ['any', 'Any status'],
];

/**
 * The conversations matching the filters, read through the v2 indexes newest activity first, then
 * filtered by inbox, team and contact (LS2) and put in the asked order (LS1) by the domain's rules.
 */
export async function queryConversations(
  db: ParleyDb,
  filter: {
    whose: Whose;
    status: StatusTab;
    search: string;
    agentId: string;
    sort?: ListSort;
    inboxId?: string;
    teamMemberIds?: ReadonlySet<string>;
  },
): Promise<ConversationRow[]> {
  const key = filter.whose === 'mine' ? filter.agentId : filter.whose === 'unassigned' ? '' : null;
  const { status } = filter;
  let rows: ConversationRow[];
  if (key !== null && status !== 'any') {
    rows = await db.conversations
      .where('[assigneeKey+status+lastActivityAt]')
      .between([key, status, Dexie.minKey], [key, status, Dexie.maxKey])
      .reverse()
      .toArray();
  } else if (key !== null) {
    rows = await db.conversations
      .where('[assigneeKey+lastActivityAt]')
      .between([key, Dexie.minKey], [key, Dexie.maxKey])
      .reverse()
      .toArray();
  } else if (status !== 'any') {
    rows = await db.conversations
      .where('[status+lastActivityAt]')
      .between([status, Dexie.minKey], [status, Dexie.maxKey])
      .reverse()
      .toArray();
  } else {
    rows = await db.conversations.orderBy('lastActivityAt').reverse().toArray();
  }
  // This device's waiting commands move a conversation between the filters at once (#14): those
  // of the conversations concerned are rebased on their rows, which then match the filter or not.
  const waiting = await db.outbox.where('sequence').above(0).toArray();
  if (waiting.length > 0) {
    const ids = new Set(waiting.map((row) => row.conversationId));
    const known = new Set(rows.map((row) => row.conversationId));
    const more = (await db.conversations.bulkGet([...ids].filter((id) => !known.has(id)))).filter(
      (row): row is ConversationRow => row !== undefined,
    );
    // A command a request carried may be in the log already (its answer lost or on its way): the
    // events of those few conversations say so (`metadata.command`), and it is not applied twice.
    const carried = [...new Set(waiting.filter((row) => row.sent).map((row) => row.conversationId))];
    const logged = await Promise.all(
      carried.map((id) =>
        db.events.where('[conversationId+version]').between([id, 0], [id, Infinity]).toArray(),
      ),
    );
    rows = withPending([...rows, ...more], waiting, Date.now(), commandsInLog(logged.flat()), filter.agentId)
      .filter(
        (row) => (status === 'any' || row.status === status) && (key === null || row.assigneeKey === key),
      )
      .sort((a, b) => b.lastActivityAt - a.lastActivityAt);
  }
  const { inboxId, teamMemberIds, search } = filter;
  if (inboxId || teamMemberIds || search.trim() !== '') {
    rows = rows.filter((row) =>
      matchesListFilter(row, { inboxId: inboxId || undefined, teamMemberIds, search }),
    );
  }
  return filter.sort && filter.sort !== 'newest' ? sortRows(rows, filter.sort) : rows;
}

/** The inbox list: whose and status filters, search, and a virtualised list that scrolls 10,000 rows. */
export function InboxList({
  db,
  agentId,
  selectedId,
  searchRef,
  onRows,
  session,
  online = true,
}: {
  db: ParleyDb;
  /** For bulk actions and the server's search; without it the list is read-only and searches the device. */
  session?: Session;
  online?: boolean;
  agentId: string;
  selectedId: string | null;
  searchRef: Ref<HTMLInputElement>;
  onRows?: (ids: readonly string[]) => void;
}) {
  const [whose, setWhose] = useState<Whose>('all');
  const [status, setStatus] = useState<StatusTab>('open');
  // On a phone status, team, inbox and sort sit behind one button that counts those not at default.
  const [moreFilters, setMoreFilters] = useState(false);
  const [search, setSearch] = useState('');
  const [view, setView] = useState<ListView>(DEFAULT_VIEW);
  const changedFilters =
    (status === 'open' ? 0 : 1) +
    (view.teamId === DEFAULT_VIEW.teamId ? 0 : 1) +
    (view.inboxId === DEFAULT_VIEW.inboxId ? 0 : 1) +
    (view.sort === DEFAULT_VIEW.sort ? 0 : 1);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [outcome, setOutcome] = useState('');
  const { teams, inboxes } = useListCatalogue(db, session);
  const team = teams.find((each) => each.id === view.teamId);
  const searching = search.trim() !== '';
  const rows = useThrottledTableQuery(
    db,
    ['conversations', 'outbox'],
    async () => {
      const found = await queryConversations(db, {
        whose,
        status,
        search: '',
        agentId,
        sort: view.sort,
        ...(view.inboxId ? { inboxId: view.inboxId } : {}),
        ...(team ? { teamMemberIds: new Set(team.memberIds) } : {}),
      });
      onRows?.(found.map((row) => row.conversationId));
      return found;
    },
    [whose, status, agentId, view, team],
  );
  const loaded = rows !== undefined;
  const chosen = (rows ?? []).filter((row) => selected.has(row.conversationId));
  useEffect(() => {
    // The selection is of what the list shows: a conversation that leaves the view leaves it too.
    if (!rows) return;
    const visible = new Set(rows.map((row) => row.conversationId));
    setSelected((before) => {
      const kept = [...before].filter((id) => visible.has(id));
      return kept.length === before.size ? before : new Set(kept);
    });
  }, [rows]);
  const now = useNow(30_000);
  const agents = useLiveQuery(
    async () => ((await db.meta.get('agents'))?.value as AgentInfo[] | undefined) ?? [],
    [db],
  );
  const names = Object.fromEntries((agents ?? []).map((agent) => [agent.id, agent.name]));
  // The tab title counts the conversations with anything unread for this agent (CV18), over every
  // conversation on the device, whatever the filters show.
  const total = useThrottledTableQuery(
    db,
    ['conversations', 'outbox'],
    async () =>
      unreadConversations(
        await queryConversations(db, { whose: 'all', status: 'any', search: '', agentId }),
        agentId,
      ),
    [agentId],
  );
  useEffect(() => {
    if (total === undefined) return;
    document.title = total > 0 ? `(${total}) Parley` : 'Parley';
    showUnreadTotal(total); // and the installed app's badge
    return () => {
      document.title = 'Parley';
    };
  }, [total]);
  useEffect(() => {
    // For the benchmark (server/bench/pwa.bench.ts): when the list first showed rows from this device.
    if (loaded && performance.getEntriesByName('parley:inbox-first-render').length === 0) {
      performance.mark('parley:inbox-first-render');
    }
  }, [loaded]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows?.length ?? 0,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 76,
    overscan: 8,
  });

  return (
    <section className="pane inbox-pane" aria-labelledby="inbox-heading">
      <h2 id="inbox-heading" className="visually-hidden">
        Conversations
      </h2>
      <div className="filters">
        <div role="group" aria-label="Whose conversations" className="segmented">
          {WHOSE.map(([value, label]) => (
            <button key={value} type="button" aria-pressed={whose === value} onClick={() => setWhose(value)}>
              {label}
            </button>
          ))}
        </div>
        <button
          type="button"
          className="filters-toggle"
          aria-expanded={moreFilters}
          aria-controls="more-filters"
          onClick={() => setMoreFilters((open) => !open)}
        >
          {changedFilters ? `Filters (${changedFilters})` : 'Filters'}
        </button>
        <input
          ref={searchRef}
          type="search"
          aria-label="Search conversations"
          placeholder="Search names, numbers, messages (/)"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        <div id="more-filters" className="more-filters" data-open={moreFilters || undefined}>
          <label className="visually-hidden" htmlFor="status-filter">
            Status
          </label>
          <select
            id="status-filter"
            value={status}
            onChange={(event) => setStatus(event.target.value as StatusTab)}
          >
            {STATUSES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          <ListFilters view={view} onChange={setView} teams={teams} inboxes={inboxes} />
        </div>
      </div>
      {searching ? (
        <SearchResults db={db} session={session} query={search} online={online} selectedId={selectedId} />
      ) : (
        <>
          {session && rows && rows.length > 0 ? (
            <SelectAll rows={rows} selected={selected} onChange={setSelected} />
          ) : null}
          {session && chosen.length > 0 ? (
            <BulkBar
              rows={chosen}
              session={session}
              agents={agents ?? []}
              onClear={() => setSelected(new Set())}
              onOutcome={setOutcome}
            />
          ) : null}
          <p className="bulk-outcome" role="status">
            {outcome}
          </p>
          <p className="list-count" aria-live="polite">
            {rows === undefined
              ? 'Loading…'
              : `${rows.length} ${rows.length === 1 ? 'conversation' : 'conversations'}`}
          </p>
          <div ref={scrollRef} className="list-scroll" data-testid="conversation-list">
            <ul aria-label="Conversation list" style={{ height: virtualizer.getTotalSize() }}>
              {virtualizer.getVirtualItems().map((item) => {
                const row = rows?.[item.index];
                if (!row) return null;
                const href = hrefOf({ screen: 'conversation', conversationId: row.conversationId });
                const unread = unreadFor(row, agentId);
                return (
                  <li
                    key={row.conversationId}
                    className={session ? 'selectable' : undefined}
                    data-index={item.index}
                    ref={virtualizer.measureElement}
                    aria-setsize={rows.length}
                    aria-posinset={item.index + 1}
                    style={{ transform: `translateY(${item.start}px)` }}
                  >
                    {session ? (
                      <label className="row-select">
                        <input
                          type="checkbox"
                          checked={selected.has(row.conversationId)}
                          onChange={() => setSelected(toggled(selected, row.conversationId))}
                        />
                        <span className="visually-hidden">Select {row.contact.name}</span>
                      </label>
                    ) : null}
                    <a
                      href={href}
                      aria-current={row.conversationId === selectedId ? 'page' : undefined}
                      onClick={(event) => {
                        event.preventDefault();
                        navigate({ screen: 'conversation', conversationId: row.conversationId });
                      }}
                    >
                      <span className="row-avatar">
                        <Avatar name={row.contact.name} id={row.contact.id} />
                        <ChannelIcon platform={row.platform} size={18} />
                      </span>
                      <span className="row-top">
                        <span className="contact-name" dir="auto">
                          {row.contact.name}
                        </span>
                        <PresenceMarker conversationId={row.conversationId} />
                        <RelativeTime at={row.lastActivityAt} now={now} />
                      </span>
                      <span className="row-bottom">
                        <span className="preview" dir="auto">
                          {row.lastMessage ? (
                            <Preview
                              message={row.lastMessage}
                              author={previewAuthor(row.lastMessage, agentId, names)}
                            />
                          ) : null}
                        </span>
                        {unread > 0 ? (
                          <span className="badge">
                            {unread}
                            <span className="visually-hidden"> unread</span>
                          </span>
                        ) : null}
                      </span>
                    </a>
                  </li>
                );
              })}
            </ul>
          </div>
        </>
      )}
    </section>
  );
}

function toggled(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  const next = new Set(set);
  if (!next.delete(id)) next.add(id);
  return next;
}

/** One checkbox for every conversation the filters show (not only the rows scrolled into view). */
function SelectAll({
  rows,
  selected,
  onChange,
}: {
  rows: readonly ConversationRow[];
  selected: ReadonlySet<string>;
  onChange: (next: ReadonlySet<string>) => void;
}) {
  const count = rows.filter((row) => selected.has(row.conversationId)).length;
  return (
    <label className="select-all">
      <input
        type="checkbox"
        checked={count === rows.length}
        ref={(input) => {
          if (input) input.indeterminate = count > 0 && count < rows.length;
        }}
        onChange={() =>
          onChange(count === rows.length ? new Set() : new Set(rows.map((row) => row.conversationId)))
        }
      />{' '}
      Select all {rows.length}
    </label>
  );
}

/** The preview line: who wrote it (`You` only for this agent's own reply, CV19), then the text. */
function Preview({ message, author }: { message: { preview: string }; author: string | null }) {
  return (
    <>
      {author === null ? null : (
        <span className="preview-author" dir="auto">
          {author}:{' '}
        </span>
      )}
      {/* Plain text, so the line's own dir="auto" takes its direction from it (the author is skipped). */}
      <span>{message.preview}</span>
    </>
  );
}
