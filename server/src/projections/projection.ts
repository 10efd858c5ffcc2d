import type { Checkpoint, RecordedEvent } from '@parley/domain';
import { Mailbox } from '../actors/mailbox';
import type { BroadcastChannel, Subscription } from '../broadcast/channel';
import { START } from '../store/checkpoint';
import type { EventStore } from '../store/types';

/** A read model: a name, an empty state, and how one event changes it. */
export interface Projection<State> {
  readonly name: string;
  initialState(): State;
  /** Folds one event into the state in place. The runner calls it once per event, in each stream's order. */
  apply(state: State, event: RecordedEvent): void;
}

/** What a projection runner reads from and how much it buffers. */
export interface ProjectionRunnerOptions<State> {
  readonly projection: Projection<State>;
  readonly store: EventStore;
  readonly broadcast: BroadcastChannel;
  /** Events per store read while catching up. Defaults to 500. */
  readonly batchSize?: number;
  /** Live deliveries buffered before the subscription overflows and the runner reads the store instead. */
  readonly bufferSize?: number;
  /** Hears failures of live updates; the events are picked up again by the next catch-up. */
  readonly onError?: (error: unknown) => void;
}

/** Keeps one projection current: live from the broadcast channel, complete from the store. */
export interface ProjectionRunner<State> {
  readonly name: string;
  /** The read model; read it, never write it. */
  readonly state: State;
  /** Every event at or before this checkpoint has been applied. */
  readonly checkpoint: Checkpoint;
  /** Applies every event committed after the checkpoint. */
  catchUp(): Promise<void>;
  /** Starts over from an empty state and the beginning of the log. */
  rebuild(): Promise<void>;
  /** Listens to the broadcast, then catches up; resolves once both are done. */
  start(): Promise<void>;
  /** Stops listening and waits for the update in hand. */
  stop(): Promise<void>;
}

/**
 * Creates a projection runner. Broadcast events can arrive out of global order (streams commit in
 * parallel) or not at all (a slow reader overflows), so the runner tracks each stream's version:
 * an event already applied is skipped, a gap in a stream is filled from the store, and the
 * checkpoint only moves with store reads, where the log's order is guaranteed.
 */
export function createProjectionRunner<State>(
  options: ProjectionRunnerOptions<State>,
): ProjectionRunner<State> {
  const { projection, store, broadcast } = options;
  const batchSize = options.batchSize ?? 500;
  const onError = options.onError ?? ((error: unknown) => console.error(error));
  // One update at a time, so a catch-up and a live event never interleave their reads.
  const mailbox = new Mailbox();
  let state = projection.initialState();
  let checkpoint = START;
  let versions = new Map<string, number>();
  let subscription: Subscription | undefined;
  let listening: Promise<void> | undefined;

  function applyOnce(event: RecordedEvent): void {
    const key = `${event.tenantId}/${event.streamId}`;
    if (event.version !== (versions.get(key) ?? 0) + 1) return;
    projection.apply(state, event);
    versions.set(key, event.version);
  }

  async function applyLive(event: RecordedEvent): Promise<void> {
    const applied = versions.get(`${event.tenantId}/${event.streamId}`) ?? 0;
    if (event.version <= applied) return;
    if (event.version > applied + 1) {
      const missing = await store.readStream(event.tenantId, event.streamId, {
        fromVersion: applied + 1,
        limit: event.version - applied - 1,
      });
      for (const earlier of missing) applyOnce(earlier);
    }
    applyOnce(event);
  }

  async function catchUpNow(): Promise<void> {
    for (;;) {
      const page = await store.readAllTenants(checkpoint, batchSize);
      for (const event of page.events) {
        // Within a stream the log is in version order and everything up to `checkpoint` is in.
        applyOnce(event);
        checkpoint = event.checkpoint;
      }
      checkpoint = page.next;
      if (page.events.length < batchSize) return;
    }
  }

  async function listen(feed: Subscription): Promise<void> {
    for await (const delivery of feed) {
      try {
        if (delivery.kind === 'event') await mailbox.post(() => applyLive(delivery.event));
        else await mailbox.post(catchUpNow);
      } catch (error) {
        onError(error);
      }
    }
  }

  return {
    name: projection.name,
    get state() {
      return state;
    },
    get checkpoint() {
      return checkpoint;
    },
    catchUp: () => mailbox.post(catchUpNow),
    rebuild: () =>
      mailbox.post(() => {
        state = projection.initialState();
        versions = new Map();
        checkpoint = START;
        return catchUpNow();
      }),
    async start() {
      if (subscription) return;
      // Subscribe first: whatever commits during the catch-up is then buffered, not lost.
      subscription = broadcast.subscribe('all', { bufferSize: options.bufferSize, after: checkpoint });
      await subscription.ready;
      listening = listen(subscription);
      await mailbox.post(catchUpNow);
    },
    async stop() {
      subscription?.unsubscribe();
      subscription = undefined;
      await listening;
      await mailbox.post(() => Promise.resolve());
    },
  };
}
