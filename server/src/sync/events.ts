import { StreamCategory, streamCategory, type JsonObject, type RecordedEvent } from '@parley/domain';
import type { TenantCursors } from './cursor';

/** A committed event as the PWA receives it, by catch-up or live. */
export interface SyncEvent {
  readonly id: string;
  readonly streamId: string;
  /** The event's place in its stream: 1, 2, 3... The client dedupes on (streamId, version). */
  readonly version: number;
  readonly type: string;
  readonly data: JsonObject;
  readonly metadata: JsonObject;
  readonly recordedAt: number;
  /** Where the log stands after this event: resume after it with this cursor. */
  readonly cursor: string;
}

/**
 * The stream categories a client syncs: the aggregates the PWA folds. Streams of other categories
 * (channel bookkeeping, say) are server-internal and skipped, though the cursor moves past them.
 */
const SYNCED: ReadonlySet<string> = new Set<string>(Object.values(StreamCategory));

/**
 * True for events the client receives. Of a contact's stream only an erasure, and only as a notice
 * (`erasureNotice`): its notes reach the panel through `contacts.profile`, never the device's log.
 */
export function isSynced(event: RecordedEvent): boolean {
  const category = streamCategory(event.streamId);
  if (category === StreamCategory.contact) return isErasure(event);
  return SYNCED.has(category);
}

/** A contact's erasure (decision 0022), which devices receive as a notice (decision 0029). */
export function isErasure(event: RecordedEvent): boolean {
  return streamCategory(event.streamId) === StreamCategory.contact && event.type === 'ContactErased';
}

/** The wire form of a recorded event, its cursor sealed for its tenant. */
export function toSyncEvent(cursors: TenantCursors, event: RecordedEvent): SyncEvent {
  return {
    id: event.eventId,
    streamId: event.streamId,
    version: event.version,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    recordedAt: event.recordedAt,
    cursor: cursors.seal(event.checkpoint),
  };
}
