import { fold } from '@parley/domain';
import type { DomainEvent, JsonValue, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import type { Grain } from '../actors/grain';
import type { SnapshotStore } from '../actors/snapshots';
import type { EventStore } from '../store/types';

/** Where to stop: a stream version (0 = before the first event), or a time (epoch ms). */
export type HistoryPoint = { readonly version: number } | { readonly time: number };

/** One event of the stream up to the point: what it was, when it was recorded, and who caused it. */
export interface HistoryEntry {
  readonly version: number;
  readonly type: string;
  /** When the store recorded it (ISO 8601, UTC). */
  readonly at: string;
  /** The event's `metadata.actor` (an agent, the CLI, the workflow engine...), or null when it names none. */
  readonly actor: JsonValue;
}

/** A stream's state as it was at a point, and the events that made it. */
export interface StateAt<State> {
  readonly state: State;
  /** The version the state includes: the last event at or before the point; 0 before the first. */
  readonly version: number;
  readonly events: readonly HistoryEntry[];
  /** The same events as the store read them (personal fields open, or "[erased]"), for views derived from them. */
  readonly recorded: readonly RecordedEvent[];
  /** The snapshot's version the fold started from, or null when it folded from the first event. */
  readonly fromSnapshot: number | null;
}

/**
 * A grain's state at a version or a time (issue #16, docs/decisions/0032): the stream's events up to
 * that point, read through the store (archived days included, personal fields opened or
 * "[erased]"), folded with the aggregate's own `evolve`, starting from the stream's snapshot when
 * it lies at or below that point. Snapshot stores keep only a stream's latest snapshot, so a point
 * before it folds from the start; a snapshot that cannot be read is not needed either.
 */
export async function stateAt<Command, State, Event extends DomainEvent>(
  sources: { readonly store: EventStore; readonly snapshots?: SnapshotStore },
  grain: Grain<Command, State, Event>,
  tenantId: TenantId,
  streamId: StreamId,
  point: HistoryPoint,
): Promise<StateAt<State>> {
  const events =
    'version' in point
      ? point.version <= 0
        ? []
        : await sources.store.readStream(tenantId, streamId, { limit: point.version })
      : untilTime(await sources.store.readStream(tenantId, streamId), point.time);
  const version = events.at(-1)?.version ?? 0;
  const snapshot =
    version > 0 ? await usableSnapshot(sources.snapshots, grain, tenantId, streamId) : undefined;
  const from = snapshot !== undefined && snapshot.version <= version ? snapshot : undefined;
  const tail = from ? events.filter((event) => event.version > from.version) : events;
  const state = fold(
    grain.decider,
    from ? from.state : grain.decider.initialState(),
    tail.map(toDomainEvent<Event>),
  );
  return {
    state,
    version,
    events: events.map(entryOf),
    recorded: events,
    fromSnapshot: from?.version ?? null,
  };
}

/** Versions are the stream's commit order: its events up to the first recorded after `time`. */
function untilTime(events: readonly RecordedEvent[], time: number): RecordedEvent[] {
  const after = events.findIndex((event) => event.recordedAt > time);
  return after === -1 ? [...events] : events.slice(0, after);
}

function entryOf(event: RecordedEvent): HistoryEntry {
  return {
    version: event.version,
    type: event.type,
    at: new Date(event.recordedAt).toISOString(),
    actor: event.metadata.actor ?? null,
  };
}

/** The stream's snapshot as the runtime wrote it (`{ revision, state }`), if it is of the grain's revision. */
async function usableSnapshot<Command, State, Event extends DomainEvent>(
  snapshots: SnapshotStore | undefined,
  grain: Grain<Command, State, Event>,
  tenantId: TenantId,
  streamId: StreamId,
): Promise<{ readonly version: number; readonly state: State } | undefined> {
  if (!snapshots) return undefined;
  // An unreadable snapshot (moved, altered) only means a longer fold.
  const snapshot = await snapshots.load(tenantId, streamId).catch(() => undefined);
  const stored = snapshot?.state;
  if (typeof stored !== 'object' || stored === null || Array.isArray(stored)) return undefined;
  if (stored.revision !== grain.snapshotRevision || stored.state === undefined) return undefined;
  return { version: snapshot!.version, state: grain.codec.decode(stored.state) };
}

/** The store's events are untyped; the grain's own decider wrote them. */
function toDomainEvent<Event extends DomainEvent>(event: RecordedEvent): Event {
  return { type: event.type, data: event.data } as Event;
}
