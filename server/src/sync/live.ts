import { streamEntityId, type TenantId } from '@parley/domain';
import { changesMembershipOf } from '../auth/inbox-scope';
import { sendSpan } from '../ops/tracing';
import type { SyncSources, SyncViewer } from './catch-up';
import { erasureNotice } from './erasure-notice';
import { isErasure, isSynced, toSyncEvent, type SyncEvent } from './events';
import { resolveStart, resync, type ResyncAnswer } from './start';

/** One message of the live stream. */
export type LiveMessage = { readonly kind: 'event'; readonly event: SyncEvent } | ResyncAnswer;

/**
 * The tenant's events after `cursor` as they commit, until `signal` aborts. It reads the store's
 * log (catching up first, then waking on each commit), so it has the same order and no gaps as
 * catch-up, whenever it is started or restarted. A cursor that cannot be continued yields one
 * resync and ends.
 */
export async function* followEvents(
  sources: SyncSources,
  tenantId: TenantId,
  cursor: string | null,
  signal: AbortSignal | undefined,
  viewer?: SyncViewer,
): AsyncGenerator<LiveMessage> {
  const start = await resolveStart(sources.db, tenantId, cursor);
  if (start.kind === 'resync') {
    yield start;
    return;
  }
  for await (const event of sources.store.subscribe({ tenantId, after: start.after, signal })) {
    if (!isSynced(event)) continue;
    if (isErasure(event)) {
      // Decision 0029: the device drops the conversations this notice names.
      const notice = await erasureNotice(event, viewer);
      if (notice) yield { kind: 'event', event: toSyncEvent(start.cursors, notice) };
      continue;
    }
    if (viewer && !viewer.scope.all) {
      // The agent joined or left an inbox: the client reloads what it may now see (decision 0015).
      if (changesMembershipOf(event, viewer.agentId)) {
        viewer.scope.forgetInbox(streamEntityId(event.streamId));
        if (cursor !== null) {
          yield await resync(sources.db, tenantId, start.cursors, 'scope-changed');
          return;
        }
      }
      if (!(await viewer.scope.shows(event))) continue;
    }
    // With tracing on, the event's send continues the trace of the request that wrote it (0039).
    const span = sendSpan(event.metadata, { 'parley.stream': event.streamId, 'parley.event': event.type });
    try {
      yield { kind: 'event', event: toSyncEvent(start.cursors, event) };
    } finally {
      span?.end();
    }
  }
}
