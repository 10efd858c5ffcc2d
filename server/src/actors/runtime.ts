import { fold, findNonJson, streamFor } from '@parley/domain';
import type { DomainEvent, JsonObject, JsonValue, RecordedEvent, StreamId, TenantId } from '@parley/domain';
import type { BroadcastChannel } from '../broadcast/channel';
import type { Topic } from '../broadcast/topics';
import { ConcurrencyError } from '../store/errors';
import type { SqlQueryable } from '../db/driver';
import type { AppendOptions, AppendResult, EventStore } from '../store/types';
import { GrainConflictError, GrainRuntimeClosedError } from './errors';
import type { Grain } from './grain';
import { Mailbox } from './mailbox';
import type { SnapshotStore } from './snapshots';
import { inSpan } from '../ops/tracing';

/** What the runtime needs, and its limits. */
export interface GrainRuntimeOptions {
  readonly store: EventStore;
  readonly snapshots: SnapshotStore;
  readonly broadcast: BroadcastChannel;
  /** Measures idle time for passivation; defaults to `Date.now`. Commands carry their own `now`. */
  readonly clock?: () => number;
  /** Most activations kept in memory; the least recently used idle one goes first. Defaults to 10 000. */
  readonly maxActive?: number;
  /** An activation unused this long is passivated by the next sweep. Defaults to 5 minutes. */
  readonly idleAfterMs?: number;
  /** How often to sweep for idle activations; 0 leaves it to `passivateIdle()`. Defaults to 30 s. */
  readonly sweepEveryMs?: number;
  /** Hears failures that do not fail a command: a snapshot not saved, a broadcast not sent. */
  readonly onError?: (error: unknown, context: GrainErrorContext) => void;
}

/** Which grain and which background step failed. */
export interface GrainErrorContext {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  readonly during: 'snapshot-load' | 'snapshot-save' | 'publish';
}

/** Per-call options of a command. */
export interface AskOptions {
  /** Makes a retried command append nothing new: the store answers with the first append. */
  readonly idempotencyKey?: string;
  /** Stored with every event the command produces, e.g. the acting agent. */
  readonly metadata?: JsonObject;
  /** Writes that must commit with the command's events (see `AppendOptions.withinTransaction`). */
  readonly withinTransaction?: AppendOptions['withinTransaction'];
}

/** A grain's state as of a stream version. */
export interface GrainView<State> {
  readonly state: State;
  /** The stream version the state includes; 0 before the first event. */
  readonly version: number;
}

/** The answer to a command: what it recorded and the state after it. */
export interface AskResult<State, Event extends DomainEvent> extends GrainView<State> {
  /** The committed events; empty when the command changed nothing. */
  readonly events: readonly RecordedEvent<Event>[];
  /** True when the idempotency key had been used and these events were recorded by an earlier call. */
  readonly duplicate: boolean;
}

/** A handle on one grain instance; cheap to make and safe to keep across passivations. */
export interface GrainRef<Command, State, Event extends DomainEvent> {
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  /** Runs a command after every command sent to this instance before it. */
  ask(command: Command, options?: AskOptions): Promise<AskResult<State, Event>>;
  /** The last committed state, from memory when the instance is active. */
  read(): Promise<GrainView<State>>;
}

/** One instance's part of `askTogether`: its id and its commands, in order. */
export interface JointAsk<Command> {
  readonly id: string;
  readonly commands: readonly Command[];
  /**
   * Per command (same index), stored with the events it produces over the joint options'
   * `metadata` (a client command's `{ clientId, sequence }`, say). Unset: the options' alone.
   */
  readonly metadata?: readonly (JsonObject | undefined)[];
}

/** What one command of a joint ask did: its events (none when it changed nothing), or what its decider threw. */
export type CommandOutcome<Event extends DomainEvent> =
  | { readonly ok: true; readonly events: readonly RecordedEvent<Event>[] }
  | { readonly ok: false; readonly error: unknown };

/** One instance's answer to a joint ask. */
export interface JointResult<State, Event extends DomainEvent> extends GrainView<State> {
  readonly id: string;
  readonly streamId: StreamId;
  /** The stream version before the joint ask's events. */
  readonly baseVersion: number;
  /** One per command, in order. */
  readonly outcomes: readonly CommandOutcome<Event>[];
}

/** Per-call options of `askTogether`. */
export interface JointAskOptions<State, Event extends DomainEvent> {
  /** Stored with every event the commands produce. */
  readonly metadata?: JsonObject;
  /**
   * Writes that must commit with all the instances' events, given every instance's outcomes (SQL
   * stores only). It runs only when some command produced events; throwing aborts them all.
   */
  readonly withinTransaction?: (
    tx: SqlQueryable,
    results: readonly JointResult<State, Event>[],
  ) => Promise<void>;
}

/** Counters for tests and the benchmark. */
export interface GrainRuntimeStats {
  /** Activations in memory now. */
  readonly active: number;
  /** Activations created since start. */
  readonly activations: number;
  /** Activations dropped from memory since start, for idleness or the bound. */
  readonly passivations: number;
  /** Appends refused because another writer got there first. */
  readonly conflicts: number;
  /** Snapshots saved. */
  readonly snapshots: number;
}

/** Runs grains: one activation per stream, one command at a time per activation. */
export interface GrainRuntime {
  /** A handle on the instance `id` of a grain in a tenant. */
  get<Command, State, Event extends DomainEvent>(
    grain: Grain<Command, State, Event>,
    tenantId: TenantId,
    id: string,
  ): GrainRef<Command, State, Event>;
  /**
   * Runs commands on several instances of one grain as one unit: each instance decides its
   * commands in order, each on the state the previous one left, exactly as if asked one by one
   * with nothing in between; then all their events commit in one transaction, or none do. A
   * command whose decider throws records nothing and the others go on; its outcome carries the
   * error. The instances' turns are taken in a fixed order (by stream), so two joint asks never
   * wait on each other.
   */
  askTogether<Command, State, Event extends DomainEvent>(
    grain: Grain<Command, State, Event>,
    tenantId: TenantId,
    asks: readonly JointAsk<Command>[],
    options?: JointAskOptions<State, Event>,
  ): Promise<JointResult<State, Event>[]>;
  /** Shorthand for `get(grain, tenantId, id).read()`. */
  read<Command, State, Event extends DomainEvent>(
    grain: Grain<Command, State, Event>,
    tenantId: TenantId,
    id: string,
  ): Promise<GrainView<State>>;
  /** Passivates every idle activation unused for `idleAfterMs`; returns how many. */
  passivateIdle(): number;
  /**
   * Drops what an activation holds: its next command or read loads it from the store again (an
   * erasure, docs/decisions/0022, must not leave clear values in memory).
   */
  forget(tenantId: TenantId, streamId: StreamId): void;
  stats(): GrainRuntimeStats;
  /** Finishes queued commands and pending snapshots, then refuses new commands. */
  close(): Promise<void>;
}

/** One grain instance in memory: its hot state and its mailbox. */
interface Activation<Command, State, Event extends DomainEvent> {
  readonly key: string;
  readonly grain: Grain<Command, State, Event>;
  readonly tenantId: TenantId;
  readonly streamId: StreamId;
  readonly mailbox: Mailbox;
  state: State;
  version: number;
  loaded: boolean;
  /** The store may hold events this activation has not folded in. */
  stale: boolean;
  /** The store's `foreignCommits` when this activation last read its stream. */
  checked: number;
  snapshotVersion: number;
  snapshotting: boolean;
  lastUsedAt: number;
}

type AnyActivation = Activation<unknown, unknown, DomainEvent>;

/** One instance of a joint ask, with its activation. */
interface JointMember<Command, State, Event extends DomainEvent> {
  readonly ask: JointAsk<Command>;
  readonly activation: Activation<Command, State, Event>;
}

/** What an instance decided in its turn, before anything is written. */
interface JointPlan<Command, State, Event extends DomainEvent> extends JointMember<Command, State, Event> {
  readonly baseVersion: number;
  /** Every command's events, in order: the instance's append. */
  readonly events: readonly Event[];
  /** Per command: how many of `events` it produced, or what its decider threw. */
  readonly produced: readonly (number | { readonly error: unknown })[];
  /** The state after all of them (not yet the activation's). */
  readonly state: State;
}

/** Creates a grain runtime over an event store, a snapshot store and a broadcast channel. */
export function createGrainRuntime(options: GrainRuntimeOptions): GrainRuntime {
  const { store, snapshots, broadcast } = options;
  const clock = options.clock ?? Date.now;
  const maxActive = options.maxActive ?? 10_000;
  const idleAfterMs = options.idleAfterMs ?? 5 * 60_000;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  if (!Number.isInteger(maxActive) || maxActive < 1) throw new RangeError(`maxActive must be at least 1`);

  /** In least-recently-used order: every use moves an activation to the end. */
  const activations = new Map<string, AnyActivation>();
  const background = new Set<Promise<void>>();
  const counters = { activations: 0, passivations: 0, conflicts: 0, snapshots: 0 };
  let closed = false;

  const sweepEveryMs = options.sweepEveryMs ?? 30_000;
  const sweeper = sweepEveryMs > 0 ? setInterval(passivateIdle, sweepEveryMs) : undefined;
  sweeper?.unref();

  function activate<Command, State, Event extends DomainEvent>(
    grain: Grain<Command, State, Event>,
    tenantId: TenantId,
    streamId: StreamId,
  ): Activation<Command, State, Event> {
    if (closed) throw new GrainRuntimeClosedError();
    const key = `${tenantId}/${streamId}`;
    const existing = activations.get(key);
    if (existing) {
      if (existing.grain !== (grain as unknown)) {
        throw new TypeError(
          `two grain definitions claim the category of ${streamId}; define each grain once`,
        );
      }
      activations.delete(key);
      activations.set(key, existing);
      existing.lastUsedAt = clock();
      return existing as unknown as Activation<Command, State, Event>;
    }
    const activation: Activation<Command, State, Event> = {
      key,
      grain,
      tenantId,
      streamId,
      mailbox: new Mailbox(() => {
        if (activations.size > maxActive) evictLeastRecentlyUsed();
      }),
      state: grain.decider.initialState(),
      version: 0,
      loaded: false,
      stale: false,
      checked: 0,
      snapshotVersion: 0,
      snapshotting: false,
      lastUsedAt: clock(),
    };
    activations.set(key, activation as unknown as AnyActivation);
    counters.activations += 1;
    return activation;
  }

  /** Runs work in an activation's mailbox; the bound is enforced once the new work makes it busy. */
  function enqueue<Command, State, Event extends DomainEvent, T>(
    activation: Activation<Command, State, Event>,
    work: () => Promise<T>,
  ): Promise<T> {
    const result = activation.mailbox.post(work);
    if (activations.size > maxActive) evictLeastRecentlyUsed();
    return result;
  }

  function evictLeastRecentlyUsed(): void {
    for (const activation of activations.values()) {
      if (activations.size <= maxActive) return;
      if (activation.mailbox.size === 0) passivate(activation);
    }
  }

  function passivate(activation: AnyActivation): void {
    activations.delete(activation.key);
    counters.passivations += 1;
  }

  function passivateIdle(): number {
    const before = counters.passivations;
    const now = clock();
    for (const activation of activations.values()) {
      if (now - activation.lastUsedAt >= idleAfterMs && activation.mailbox.size === 0) passivate(activation);
    }
    return counters.passivations - before;
  }

  async function load<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
  ): Promise<void> {
    const { grain, tenantId, streamId } = activation;
    activation.checked = foreignCommits();
    let state = grain.decider.initialState();
    let version = 0;
    const snapshot = await loadSnapshot(activation);
    if (snapshot) {
      state = snapshot.state;
      version = snapshot.version;
    }
    const tail = await store.readStream(tenantId, streamId, { fromVersion: version + 1 });
    activation.state = fold(grain.decider, state, tail.map(toDomainEvent<Event>));
    activation.version = tail.at(-1)?.version ?? version;
    activation.snapshotVersion = version;
    activation.loaded = true;
    activation.stale = false;
  }

  async function loadSnapshot<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
  ): Promise<GrainView<State> | undefined> {
    const { grain, tenantId, streamId } = activation;
    try {
      const snapshot = await snapshots.load(tenantId, streamId);
      if (!snapshot || !isEnvelope(snapshot.state) || snapshot.state.revision !== grain.snapshotRevision) {
        return undefined;
      }
      return { state: grain.codec.decode(snapshot.state.state), version: snapshot.version };
    } catch (error) {
      // A missing or unreadable snapshot costs a longer replay, not the command.
      onError(error, { tenantId, streamId, during: 'snapshot-load' });
      return undefined;
    }
  }

  /**
   * Commits other processes announced (the store's NOTIFYs on PostgreSQL): after one, every
   * activation reads its stream's tail before it decides or answers, so a grain this process
   * holds never acts on state another node has moved on from (decision 0040).
   */
  function foreignCommits(): number {
    return store.foreignCommits ?? 0;
  }

  /** Whether the activation must read its stream before it is used. */
  function outdated(activation: Pick<AnyActivation, 'loaded' | 'stale' | 'checked'>): boolean {
    return !activation.loaded || activation.stale || activation.checked !== foreignCommits();
  }

  /** Reads what other writers appended since this activation last looked. */
  async function catchUp<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
  ): Promise<void> {
    if (!activation.loaded) return load(activation);
    const { tenantId, streamId } = activation;
    activation.checked = foreignCommits();
    const tail = await store.readStream(tenantId, streamId, { fromVersion: activation.version + 1 });
    evolve(activation, tail);
    activation.stale = false;
  }

  function evolve<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
    events: readonly RecordedEvent[],
  ): void {
    if (events.length === 0) return;
    try {
      activation.state = fold(activation.grain.decider, activation.state, events.map(toDomainEvent<Event>));
      activation.version = events[events.length - 1]!.version;
    } catch (error) {
      // A throwing evolve may have left the state half-applied: rebuild it on next use.
      activation.loaded = false;
      throw error;
    }
  }

  async function handle<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
    command: Command,
    askOptions: AskOptions,
  ): Promise<AskResult<State, Event>> {
    if (outdated(activation)) await catchUp(activation);
    for (let attempt = 1; ; attempt += 1) {
      const decided = activation.grain.decider.decide(command, activation.state);
      if (decided.length === 0) {
        return { events: [], state: activation.state, version: activation.version, duplicate: false };
      }
      let result: AppendResult;
      try {
        result = await store.append(
          activation.tenantId,
          activation.streamId,
          decided.map((event) => ({ type: event.type, data: event.data, metadata: askOptions.metadata })),
          {
            expectedVersion: activation.version,
            idempotencyKey: askOptions.idempotencyKey,
            withinTransaction: askOptions.withinTransaction,
          },
        );
      } catch (error) {
        // Any failure may hide a commit (a timeout after the write), so look again before the next command.
        activation.stale = true;
        if (!(error instanceof ConcurrencyError)) throw error;
        counters.conflicts += 1;
        if (attempt === 2) {
          throw new GrainConflictError(activation.tenantId, activation.streamId, { cause: error });
        }
        await catchUp(activation);
        continue;
      }
      if (result.duplicate) {
        // An earlier call recorded these events; this activation may not have seen them yet.
        activation.stale = true;
        await catchUp(activation);
      } else {
        evolve(activation, result.events);
      }
      await publish(activation, result.events);
      maybeSnapshot(activation);
      return {
        events: result.events as readonly RecordedEvent<Event>[],
        state: activation.state,
        version: activation.version,
        duplicate: result.duplicate,
      };
    }
  }

  async function askTogether<Command, State, Event extends DomainEvent>(
    grain: Grain<Command, State, Event>,
    tenantId: TenantId,
    asks: readonly JointAsk<Command>[],
    jointOptions: JointAskOptions<State, Event> = {},
  ): Promise<JointResult<State, Event>[]> {
    const streams = asks.map((ask) => streamFor(grain.category, ask.id));
    if (new Set(streams).size !== streams.length) {
      throw new TypeError('askTogether names an instance twice; merge its commands');
    }
    // Turns are taken one after the other in stream order: the only order two joint asks agree on.
    // Each activation is looked up in the same tick as its turn is queued, so it cannot be
    // passivated in between (a queued activation is busy).
    const order = streams.map((_, i) => i).sort((a, b) => (streams[a]! < streams[b]! ? -1 : 1));
    const activations: Activation<Command, State, Event>[] = [];
    const releases: (() => void)[] = [];
    try {
      for (const i of order) {
        const activation = activate(grain, tenantId, streams[i]!);
        activations[i] = activation;
        releases.push(await holdTurn(activation));
      }
      const members = asks.map((ask, i): JointMember<Command, State, Event> => ({
        ask,
        activation: activations[i]!,
      }));
      return await decideAndAppend(members, jointOptions);
    } finally {
      for (const release of releases) release();
    }
  }

  /** Waits for the activation's turn and keeps it until the returned release is called. */
  function holdTurn<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
  ): Promise<() => void> {
    return new Promise((entered) => {
      void enqueue(activation, () => new Promise<void>((released) => entered(() => released())));
    });
  }

  async function decideAndAppend<Command, State, Event extends DomainEvent>(
    members: readonly JointMember<Command, State, Event>[],
    jointOptions: JointAskOptions<State, Event>,
  ): Promise<JointResult<State, Event>[]> {
    for (let attempt = 1; ; attempt += 1) {
      for (const { activation } of members) {
        if (outdated(activation)) await catchUp(activation);
      }
      const plans = members.map((member) => decideInTurn(member));
      const writing = plans.filter((plan) => plan.events.length > 0);
      if (writing.length === 0) return plans.map((plan) => jointResult(plan, []));
      const { withinTransaction } = jointOptions;
      let appended: AppendResult[];
      try {
        appended = await store.appendAtomically(
          writing.map((plan) => ({
            tenantId: plan.activation.tenantId,
            streamId: plan.activation.streamId,
            events: plan.events.map((event, index) => ({
              type: event.type,
              data: event.data,
              metadata: metadataOf(plan, index, jointOptions.metadata),
            })),
            expectedVersion: plan.activation.version,
          })),
          {
            withinTransaction:
              withinTransaction &&
              ((tx, written) =>
                withinTransaction(
                  tx,
                  plans.map((plan) => jointResult(plan, written[writing.indexOf(plan)]?.events ?? [])),
                )),
          },
        );
      } catch (error) {
        // Any failure may hide a commit (a timeout after the write): look again before the next command.
        for (const { activation } of members) activation.stale = true;
        if (!(error instanceof ConcurrencyError)) throw error;
        counters.conflicts += 1;
        if (attempt === 2) throw new GrainConflictError(error.tenantId, error.streamId, { cause: error });
        continue;
      }
      const results = plans.map((plan) => jointResult(plan, appended[writing.indexOf(plan)]?.events ?? []));
      for (const [i, { activation }] of writing.entries()) {
        evolve(activation, appended[i]!.events);
        await publish(activation, appended[i]!.events);
        maybeSnapshot(activation);
      }
      return results;
    }
  }

  /** Decides an instance's commands one after the other, each on the state the previous one left. */
  function decideInTurn<Command, State, Event extends DomainEvent>(
    member: JointMember<Command, State, Event>,
  ): JointPlan<Command, State, Event> {
    const { decider } = member.activation.grain;
    let state = member.activation.state;
    const events: Event[] = [];
    const produced: (number | { readonly error: unknown })[] = [];
    for (const command of member.ask.commands) {
      try {
        const decided = decider.decide(command, state);
        state = fold(decider, state, decided);
        events.push(...decided);
        produced.push(decided.length);
      } catch (error) {
        produced.push({ error });
      }
    }
    return { ...member, baseVersion: member.activation.version, events, produced, state };
  }

  /** The metadata of a plan's `index`th event: the joint options', with its command's own over it. */
  function metadataOf<Command, State, Event extends DomainEvent>(
    plan: JointPlan<Command, State, Event>,
    index: number,
    shared: JsonObject | undefined,
  ): JsonObject | undefined {
    const perCommand = plan.ask.metadata;
    if (!perCommand) return shared;
    let next = 0;
    for (const [i, count] of plan.produced.entries()) {
      if (typeof count !== 'number') continue;
      next += count;
      if (index < next) return perCommand[i] ? { ...shared, ...perCommand[i] } : shared;
    }
    return shared;
  }

  /** An instance's answer, its recorded events split among the commands that produced them. */
  function jointResult<Command, State, Event extends DomainEvent>(
    plan: JointPlan<Command, State, Event>,
    recorded: readonly RecordedEvent[],
  ): JointResult<State, Event> {
    let next = 0;
    const outcomes = plan.produced.map((count): CommandOutcome<Event> => {
      if (typeof count !== 'number') return { ok: false, error: count.error };
      const events = recorded.slice(next, next + count) as unknown as readonly RecordedEvent<Event>[];
      next += count;
      return { ok: true, events };
    });
    return {
      id: plan.ask.id,
      streamId: plan.activation.streamId,
      baseVersion: plan.baseVersion,
      outcomes,
      state: plan.state,
      version: plan.baseVersion + recorded.length,
    };
  }

  async function publish<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
    events: readonly RecordedEvent[],
  ): Promise<void> {
    const { grain, tenantId, streamId } = activation;
    for (const event of events) {
      const topics: Topic[] = [
        { kind: 'tenant', tenantId },
        ...grain.toTopics(event as RecordedEvent<Event>),
      ];
      try {
        await broadcast.publish(topics, event);
      } catch (error) {
        // The events are committed; subscribers that miss one catch up from the store.
        onError(error, { tenantId, streamId, during: 'publish' });
      }
    }
  }

  function maybeSnapshot<Command, State, Event extends DomainEvent>(
    activation: Activation<Command, State, Event>,
  ): void {
    const { grain, tenantId, streamId } = activation;
    if (grain.snapshotEvery === 0 || activation.snapshotting) return;
    if (activation.version - activation.snapshotVersion < grain.snapshotEvery) return;
    const version = activation.version;
    let envelope: SnapshotEnvelope;
    try {
      envelope = { revision: grain.snapshotRevision, state: grain.codec.encode(activation.state) };
      const notJson = findNonJson(envelope.state, '$.state');
      if (notJson)
        throw new TypeError(`grain ${grain.category} state is not JSON at ${notJson}: give it a codec`);
    } catch (error) {
      onError(error, { tenantId, streamId, during: 'snapshot-save' });
      return;
    }
    activation.snapshotting = true;
    // Saved in the background: a snapshot only shortens the next activation, it never blocks a command.
    const saving = snapshots.save(tenantId, streamId, version, envelope as unknown as JsonValue).then(
      () => {
        counters.snapshots += 1;
        activation.snapshotVersion = Math.max(activation.snapshotVersion, version);
      },
      (error: unknown) => onError(error, { tenantId, streamId, during: 'snapshot-save' }),
    );
    const tracked = saving.finally(() => {
      activation.snapshotting = false;
      background.delete(tracked);
    });
    background.add(tracked);
  }

  function get<Command, State, Event extends DomainEvent>(
    grain: Grain<Command, State, Event>,
    tenantId: TenantId,
    id: string,
  ): GrainRef<Command, State, Event> {
    const streamId = streamFor(grain.category, id);
    return {
      tenantId,
      streamId,
      async ask(command, askOptions = {}) {
        const activation = activate(grain, tenantId, streamId);
        // A span per command when tracing is on: its wait in the mailbox, the decision, the append.
        return inSpan('grain.ask', { 'parley.grain': grain.category, 'parley.stream': streamId }, () =>
          enqueue(activation, () => handle(activation, command, askOptions)),
        );
      },
      async read() {
        const activation = activate(grain, tenantId, streamId);
        if (!outdated(activation)) return { state: activation.state, version: activation.version };
        return enqueue(activation, async () => {
          if (outdated(activation)) await catchUp(activation);
          return { state: activation.state, version: activation.version };
        });
      },
    };
  }

  return {
    get,
    askTogether,
    read: (grain, tenantId, id) => get(grain, tenantId, id).read(),
    passivateIdle,
    forget(tenantId, streamId) {
      const activation = activations.get(`${tenantId}/${streamId}`);
      if (!activation) return;
      activation.loaded = false;
      if (activation.mailbox.size === 0) passivate(activation);
    },
    stats: () => ({ active: activations.size, ...counters }),
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(sweeper);
      await Promise.all(
        [...activations.values()].map((activation) => activation.mailbox.post(() => Promise.resolve())),
      );
      await Promise.all([...background]);
      activations.clear();
    },
  };
}

/** How the runtime wraps a state in the snapshot store, so a state of an older shape is ignored. */
interface SnapshotEnvelope {
  readonly revision: number;
  readonly state: JsonValue;
}

function isEnvelope(value: JsonValue): value is { revision: number; state: JsonValue } {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof value.revision === 'number' &&
    value.state !== undefined
  );
}

/** The store returns untyped events; the grain's own decider wrote them, so they are its events. */
function toDomainEvent<Event extends DomainEvent>(event: RecordedEvent): Event {
  return { type: event.type, data: event.data } as Event;
}
