import type { EpochMs, StreamId, TenantId } from './ids';
import type { JsonObject } from './json';

/** An event as the domain produces it: a past-tense type and a JSON payload. */
export interface DomainEvent<Type extends string = string, Data extends JsonObject = JsonObject> {
  readonly type: Type;
  readonly data: Data;
}

/**
 * The opaque, totally ordered position of a committed event in the store's global log.
 * Clients keep it as a cursor and hand it back; only the store compares or parses it.
 */
export type Checkpoint = string & { readonly __checkpoint: true };

/** Who caused an event, carried in its metadata for the audit trail. */
export interface Actor {
  readonly kind: 'agent' | 'customer' | 'system';
  readonly id: string;
}

/** An event as the store recorded it: the domain event plus where, when and in what order. */
export interface RecordedEvent<E extends DomainEvent = DomainEvent> {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  /** 1 for a stream's first event, then 2, 3, ... without gaps. */
  readonly version: number;
  readonly eventId: string;
  readonly type: E['type'];
  readonly data: E['data'];
  readonly metadata: JsonObject;
  readonly recordedAt: EpochMs;
  readonly checkpoint: Checkpoint;
}

/**
 * A decider: the business rules of one aggregate as pure functions.
 * `decide` turns a command into events (or throws a `DomainError`), `evolve` folds an event into state.
 */
export interface Decider<Command, State, Event extends DomainEvent> {
  decide(command: Command, state: State): Event[];
  evolve(state: State, event: Event): State;
  initialState(): State;
}

/** Folds events into state with a decider's `evolve`. */
export function fold<State, Event extends DomainEvent>(
  decider: Pick<Decider<unknown, State, Event>, 'evolve'>,
  state: State,
  events: readonly Event[],
): State {
  let current = state;
  for (const event of events) current = decider.evolve(current, event);
  return current;
}
