import type { Checkpoint, RecordedEvent } from '@parley/domain';
import type { Topic } from './topics';

/** What a subscriber reads: a committed event, or word that it fell behind and lost some. */
export type Delivery = EventDelivery | OverflowDelivery;

/** A committed event published on one of the subscriber's topics. */
export interface EventDelivery {
  readonly kind: 'event';
  readonly event: RecordedEvent;
}

/**
 * The subscriber's buffer overflowed and was dropped: read the store after `lastCheckpoint`
 * (by `readAll`, deduplicating by stream version) to catch up, then keep reading deliveries.
 */
export interface OverflowDelivery {
  readonly kind: 'overflow';
  /** The last checkpoint this subscriber received, or its `after` option when it received none. */
  readonly lastCheckpoint: Checkpoint | undefined;
  /** How many events were dropped, for metrics. */
  readonly dropped: number;
}

/** How a subscription buffers and when it ends. */
export interface BroadcastSubscribeOptions {
  /** Deliveries held for a slow reader before it overflows; defaults to the channel's setting. */
  readonly bufferSize?: number;
  /** Ends the subscription. */
  readonly signal?: AbortSignal;
  /** Where the subscriber's view starts, reported back in an overflow before any event arrives. */
  readonly after?: Checkpoint;
}

/** One reader's feed: iterate it once; deliveries arrive in publish order. */
export interface Subscription extends AsyncIterableIterator<Delivery> {
  /** Resolves once the transport routes publishes to this subscription; catch up from the store after it. */
  readonly ready: Promise<void>;
  /** True once unsubscribed, aborted or the channel closed. */
  readonly closed: boolean;
  /** Stops the feed, frees its buffer and ends the iteration. */
  unsubscribe(): void;
}

/**
 * Publish/subscribe of committed events by topic. Publishing never waits for subscribers: a slow
 * one overflows instead. The in-process channel implements it today; a Redis, NATS or Postgres
 * NOTIFY relay can implement it later, because nothing here shares memory with the publisher.
 */
export interface BroadcastChannel {
  /** Sends an event to every subscriber of any of the topics, once each. */
  publish(topics: readonly Topic[], event: RecordedEvent): Promise<void>;
  /** Subscribes to some topics, or to `'all'` of them across tenants (system processes only). */
  subscribe(topics: readonly Topic[] | 'all', options?: BroadcastSubscribeOptions): Subscription;
  /** Ends every subscription. */
  close(): Promise<void>;
}
