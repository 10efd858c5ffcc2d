import type { TenantId } from '@parley/domain';
import { changesMembershipOf, type InboxScope } from '../auth/inbox-scope';
import type { Database } from '../db/database';
import type { EventStore } from '../store/types';
import { erasureNotice } from './erasure-notice';
import { isErasure, isSynced, toSyncEvent, type SyncEvent } from './events';
import { resolveStart, resync, type ResyncAnswer } from './start';

/** What catch-up reads from. */
export interface SyncSources {
  readonly db: Database;
  readonly store: EventStore;
}

/** One page of the tenant's events after the cursor, and the cursor to ask with next. */
export interface EventsAnswer {
  readonly kind: 'events';
  readonly events: readonly SyncEvent[];
  readonly cursor: string;
  /** True when the page was full: ask again with `cursor` before going live. */
  readonly hasMore: boolean;
}

/** The answer to a catch-up request. */
export type CatchUpAnswer = EventsAnswer | ResyncAnswer;

/** Whose events a client receives: an agent sees only the inboxes they work in (decision 0015). */
export interface SyncViewer {
  readonly agentId: string;
  readonly scope: InboxScope;
}

/** Most events one catch-up page returns. */
export const MAX_PAGE = 1000;

/**
 * One page of catch-up: the tenant's committed events after `cursor` in the store's gap-safe global
 * order (docs/decisions/0003), or a resync. See docs/sync-protocol.md.
 */
export async function catchUp(
  sources: SyncSources,
  tenantId: TenantId,
  cursor: string | null,
  limit: number,
  viewer?: SyncViewer,
): Promise<CatchUpAnswer> {
  const start = await resolveStart(sources.db, tenantId, cursor);
  if (start.kind === 'resync') return start;
  const page = await sources.store.readAll(tenantId, start.after, Math.min(limit, MAX_PAGE));
  const events: SyncEvent[] = [];
  for (const event of page.events) {
    if (!isSynced(event)) continue;
    if (isErasure(event)) {
      // Decision 0029: the device drops the conversations this notice names.
      const notice = await erasureNotice(event, viewer);
      if (notice) events.push(toSyncEvent(start.cursors, notice));
      continue;
    }
    if (viewer && !viewer.scope.all) {
      // Joining or leaving an inbox changes what the client should hold, before this cursor too.
      if (cursor !== null && changesMembershipOf(event, viewer.agentId)) {
        return resync(sources.db, tenantId, start.cursors, 'scope-changed');
      }
      if (!(await viewer.scope.shows(event))) continue;
    }
    events.push(toSyncEvent(start.cursors, event));
  }
  return {
    kind: 'events',
    events,
    // The cursor moves past skipped (unsynced) events too, so they are not read again.
    cursor: start.cursors.seal(page.next),
    hasMore: page.events.length === Math.min(limit, MAX_PAGE),
  };
}
