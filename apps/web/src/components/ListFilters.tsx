import { LIST_SORTS, type ListSort } from '@parley/domain';
import { useEffect } from 'react';
import type { ParleyDb } from '../lib/db/schema';
import { useLiveQuery } from '../lib/hooks';
import type { Session } from '../lib/session';

/** A team as the list filters by it. */
export interface TeamInfo {
  readonly id: string;
  readonly name: string;
  readonly memberIds: readonly string[];
}

/** An inbox as the list filters by it. */
export interface InboxInfo {
  readonly inboxId: string;
  readonly name: string;
}

/** The team, inbox and order the list is shown in; '' is "any". */
export interface ListView {
  readonly teamId: string;
  readonly inboxId: string;
  readonly sort: ListSort;
}

export const DEFAULT_VIEW: ListView = { teamId: '', inboxId: '', sort: 'newest' };

const SORT_LABELS: Record<ListSort, string> = {
  newest: 'Newest',
  oldest: 'Oldest',
  waiting: 'Waiting longest',
  priority: 'Priority',
};

/** The tenant's teams and the agent's inboxes, kept on the device for offline use. */
export function useListCatalogue(db: ParleyDb, session: Session | undefined) {
  useEffect(() => {
    if (!session) return;
    void Promise.all([session.client.agents.teams.query(), session.client.boards.inboxes.query()])
      .then(([teams, inboxes]) =>
        db.meta.bulkPut([
          { key: 'teams', value: teams.map(({ id, name, memberIds }) => ({ id, name, memberIds })) },
          { key: 'inboxes', value: inboxes.map(({ inboxId, name }) => ({ inboxId, name })) },
        ]),
      )
      .catch(() => undefined); // offline: the stored lists stay
  }, [db, session]);
  const teams = useLiveQuery(
    async () => ((await db.meta.get('teams'))?.value as TeamInfo[] | undefined) ?? [],
    [db],
  );
  const inboxes = useLiveQuery(
    async () => ((await db.meta.get('inboxes'))?.value as InboxInfo[] | undefined) ?? [],
    [db],
  );
  return { teams: teams ?? [], inboxes: inboxes ?? [] };
}

/** Team, inbox and sort menus of the inbox list (LS1, LS2). */
export function ListFilters({
  view,
  onChange,
  teams,
  inboxes,
}: {
  view: ListView;
  onChange: (view: ListView) => void;
  teams: readonly TeamInfo[];
  inboxes: readonly InboxInfo[];
}) {
  return (
    <div className="list-view-filters">
      <label>
        <span className="visually-hidden">Team</span>
        <select value={view.teamId} onChange={(event) => onChange({ ...view, teamId: event.target.value })}>
          <option value="">Any team</option>
          {teams.map((team) => (
            <option key={team.id} value={team.id}>
              {team.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="visually-hidden">Inbox</span>
        <select value={view.inboxId} onChange={(event) => onChange({ ...view, inboxId: event.target.value })}>
          <option value="">Any inbox</option>
          {inboxes.map((inbox) => (
            <option key={inbox.inboxId} value={inbox.inboxId}>
              {inbox.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span className="visually-hidden">Sort</span>
        <select
          value={view.sort}
          onChange={(event) => onChange({ ...view, sort: event.target.value as ListSort })}
        >
          {LIST_SORTS.map((sort) => (
            <option key={sort} value={sort}>
              {SORT_LABELS[sort]}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
