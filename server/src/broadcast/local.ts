import type { Checkpoint, RecordedEvent } from '@parley/domain';
import type { BroadcastChannel, BroadcastSubscribeOptions, Delivery, Subscription } from './channel';
import { createLocalSignals, type SignalChannel } from './signals';
import { topicKey } from './topics';
import type { TopicKey } from './topics';

/** Options of the in-process broadcast channel. */
export interface LocalBroadcastOptions {
  /** Deliveries a subscriber may have unread before it overflows; defaults to 1024. */
  readonly bufferSize?: number;
}

/** Counters of the in-process channel, for tests and the benchmark. */
export interface LocalBroadcastStats {
  readonly subscriptions: number;
  /** Topics with at least one subscriber. */
  readonly topics: number;
  readonly published: number;
  readonly overflows: number;
}

/** The in-process broadcast channel (committed events and ephemeral signals), with counters. */
export interface LocalBroadcast extends BroadcastChannel, SignalChannel {
  stats(): LocalBroadcastStats;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/** Creates a broadcast channel that delivers within this process. */
export function createLocalBroadcast(options: LocalBroadcastOptions = {}): LocalBroadcast {
  const defaultBufferSize = options.bufferSize ?? 1024;
  const byTopic = new Map<TopicKey, Set<LocalSubscription>>();
  const firehose = new Set<LocalSubscription>();
  let published = 0;
  let overflows = 0;
  let closed = false;
  const signals = createLocalSignals();

  function detach(subscription: LocalSubscription, keys: readonly TopicKey[] | 'all'): void {
    if (keys === 'all') {
      firehose.delete(subscription);
      return;
    }
    for (const key of keys) {
      const subscribers = byTopic.get(key);
      subscribers?.delete(subscription);
      // An empty set per topic would outlive every subscriber of a short-lived conversation.
      if (subscribers?.size === 0) byTopic.delete(key);
    }
  }

  return {
    signal: (topic, message) => signals.signal(topic, message),
    listen: (topics, onMessage) => signals.listen(topics, onMessage),

    publish(topics, event) {
      if (closed) return Promise.resolve();
      published += 1;
      const targets = new Set(firehose);
      for (const topic of topics) {
        for (const subscription of byTopic.get(topicKey(topic)) ?? []) targets.add(subscription);
      }
      for (const subscription of targets) {
        if (subscription.offer(event)) overflows += 1;
      }
      return Promise.resolve();
    },

    subscribe(topics, subscribeOptions: BroadcastSubscribeOptions = {}) {
      const keys = topics === 'all' ? 'all' : [...new Set(topics.map(topicKey))];
      const bufferSize = subscribeOptions.bufferSize ?? defaultBufferSize;
      if (!Number.isInteger(bufferSize) || bufferSize < 1) {
        throw new RangeError(`bufferSize must be a positive integer, got ${bufferSize}`);
      }
      const subscription = new LocalSubscription(bufferSize, subscribeOptions, () =>
        detach(subscription, keys),
      );
      if (closed || subscription.closed) {
        subscription.unsubscribe();
        return subscription;
      }
      if (keys === 'all') firehose.add(subscription);
      else {
        for (const key of keys) {
          const subscribers = byTopic.get(key) ?? new Set<LocalSubscription>();
          subscribers.add(subscription);
          byTopic.set(key, subscribers);
        }
      }
      return subscription;
    },

    close() {
      closed = true;
      signals.close();
      const all = new Set(firehose);
      for (const subscribers of byTopic.values())
        for (const subscription of subscribers) all.add(subscription);
      for (const subscription of all) subscription.unsubscribe();
      return Promise.resolve();
    },

    stats() {
      let subscriptions = firehose.size;
      const counted = new Set<LocalSubscription>();
      for (const subscribers of byTopic.values())
        for (const subscription of subscribers) counted.add(subscription);
      subscriptions += counted.size;
      return { subscriptions, topics: byTopic.size, published, overflows };
    },
  };
}

/** One reader's bounded queue; the publisher only ever appends to it or drops it. */
class LocalSubscription implements Subscription {
  readonly ready = Promise.resolve();
  private buffer: RecordedEvent[] = [];
  /** Index of the next unread event in `buffer`, so reading is O(1) without `shift`. */
  private head = 0;
  private dropped = 0;
  private reader: ((result: IteratorResult<Delivery, undefined>) => void) | undefined;
  private lastCheckpoint: Checkpoint | undefined;
  private isClosed = false;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => this.unsubscribe();

  constructor(
    private readonly capacity: number,
    options: BroadcastSubscribeOptions,
    private readonly detach: () => void,
  ) {
    this.lastCheckpoint = options.after;
    this.signal = options.signal;
    if (this.signal?.aborted) this.isClosed = true;
    else this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Queues an event; returns true when this offer made the subscription overflow. */
  offer(event: RecordedEvent): boolean {
    if (this.isClosed) return false;
    if (this.dropped > 0) {
      this.dropped += 1;
      return false;
    }
    if (this.reader) {
      const reader = this.reader;
      this.reader = undefined;
      reader({ done: false, value: this.deliver(event) });
      return false;
    }
    const unread = this.buffer.length - this.head;
    if (unread < this.capacity) {
      this.buffer.push(event);
      return false;
    }
    this.dropped = unread + 1;
    this.buffer = [];
    this.head = 0;
    return true;
  }

  next(): Promise<IteratorResult<Delivery, undefined>> {
    if (this.isClosed) return Promise.resolve(DONE);
    if (this.dropped > 0) {
      const overflow: Delivery = {
        kind: 'overflow',
        lastCheckpoint: this.lastCheckpoint,
        dropped: this.dropped,
      };
      this.dropped = 0;
      return Promise.resolve({ done: false, value: overflow });
    }
    if (this.head < this.buffer.length) {
      const event = this.buffer[this.head]!;
      this.head += 1;
      // A reader that keeps up but never drains would otherwise grow the array forever.
      if (this.head >= this.capacity || this.head === this.buffer.length) {
        this.buffer = this.buffer.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ done: false, value: this.deliver(event) });
    }
    if (this.reader)
      return Promise.reject(new Error('a subscription has one reader: await each next() in turn'));
    return new Promise((resolve) => {
      this.reader = resolve;
    });
  }

  return(): Promise<IteratorResult<Delivery, undefined>> {
    this.unsubscribe();
    return Promise.resolve(DONE);
  }

  unsubscribe(): void {
    this.isClosed = true;
    this.buffer = [];
    this.head = 0;
    this.dropped = 0;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.detach();
    const reader = this.reader;
    this.reader = undefined;
    reader?.(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private deliver(event: RecordedEvent): Delivery {
    this.lastCheckpoint = event.checkpoint;
    return { kind: 'event', event };
  }
}
