import type { Decider, DomainEvent, JsonValue, RecordedEvent } from '@parley/domain';
import type { Topic } from '../broadcast/topics';

/** Turns a grain's state into snapshot JSON and back; needed only when the state is not plain JSON. */
export interface SnapshotCodec<State> {
  encode(state: State): JsonValue;
  decode(json: JsonValue): State;
}

/** What a grain is: the aggregate's decider plus how the runtime stores and broadcasts it. */
export interface GrainDefinition<Command, State, Event extends DomainEvent> {
  /** The stream category, so one grain instance owns the stream `<category>-<id>`. */
  readonly category: string;
  readonly decider: Decider<Command, State, Event>;
  /** Saves a snapshot once this many events follow the last one; 0 never saves. Defaults to 50. */
  readonly snapshotEvery?: number;
  /** Bump when the state's shape changes, so older snapshots are ignored and the stream replayed. */
  readonly snapshotRevision?: number;
  /** Defaults to treating the state as JSON as it is. */
  readonly codec?: SnapshotCodec<State>;
  /** Topics an event is published on besides its tenant's, which carries every event. */
  readonly toTopics?: (event: RecordedEvent<Event>) => readonly Topic[];
}

/** A grain definition with its defaults filled in; pass it to `runtime.get`. */
export interface Grain<Command, State, Event extends DomainEvent> {
  readonly category: string;
  readonly decider: Decider<Command, State, Event>;
  readonly snapshotEvery: number;
  readonly snapshotRevision: number;
  readonly codec: SnapshotCodec<State>;
  readonly toTopics: (event: RecordedEvent<Event>) => readonly Topic[];
}

const CATEGORY = /^[a-z][a-z0-9]{0,31}$/;

/**
 * Snapshots every 50 events keep an activation's replay inside the store's hot tier of the last
 * 100 events per stream, even when a save is skipped while another is still in flight.
 */
const DEFAULT_SNAPSHOT_EVERY = 50;

/** Checks a grain definition and fills in its defaults. */
export function defineGrain<Command, State, Event extends DomainEvent>(
  definition: GrainDefinition<Command, State, Event>,
): Grain<Command, State, Event> {
  if (!CATEGORY.test(definition.category)) {
    throw new TypeError(
      `grain category ${JSON.stringify(definition.category)} is malformed: use up to 32 lowercase letters and digits, starting with a letter`,
    );
  }
  const snapshotEvery = definition.snapshotEvery ?? DEFAULT_SNAPSHOT_EVERY;
  if (!Number.isInteger(snapshotEvery) || snapshotEvery < 0) {
    throw new RangeError(`snapshotEvery must be a whole number of events, got ${snapshotEvery}`);
  }
  return Object.freeze({
    category: definition.category,
    decider: definition.decider,
    snapshotEvery,
    snapshotRevision: definition.snapshotRevision ?? 1,
    codec: definition.codec ?? {
      encode: (state: State) => state as unknown as JsonValue,
      decode: (json: JsonValue) => json as unknown as State,
    },
    toTopics: definition.toTopics ?? (() => []),
  });
}
