import type { JsonObject } from '@parley/domain';
import { topicKey, type Topic, type TopicKey } from './topics';

/**
 * Ephemeral messages by topic (presence, in-app notices): never stored, never replayed, lost when
 * nobody listens. They travel beside the committed events on the same broadcast transport, so a
 * relay between nodes carries both (docs/decisions/0026-presence-and-push.md).
 */
export interface SignalChannel {
  /** Sends a JSON message to every listener of the topic (and of `'all'`), in this and other nodes. */
  signal(topic: Topic, message: JsonObject): void;
  /** Calls `onMessage` for each message on the topics; returns the function that stops listening. */
  listen(
    topics: readonly Topic[] | 'all',
    onMessage: (topic: Topic, message: JsonObject) => void,
  ): () => void;
}

/** The in-process signal channel: delivered on the next microtask, a throwing listener alone fails. */
export function createLocalSignals(): SignalChannel & { close(): void } {
  const byTopic = new Map<TopicKey, Set<(topic: Topic, message: JsonObject) => void>>();
  const everywhere = new Set<(topic: Topic, message: JsonObject) => void>();
  let closed = false;
  return {
    signal(topic, message) {
      if (closed) return;
      // A copy, as a remote transport would deliver: no listener shares the sender's object.
      const copy = JSON.parse(JSON.stringify(message)) as JsonObject;
      const targets = [...everywhere, ...(byTopic.get(topicKey(topic)) ?? [])];
      queueMicrotask(() => {
        for (const listener of targets) {
          try {
            listener(topic, copy);
          } catch {
            // One listener's failure is its own; the others still hear the message.
          }
        }
      });
    },
    listen(topics, onMessage) {
      if (closed) return () => undefined;
      if (topics === 'all') {
        everywhere.add(onMessage);
        return () => everywhere.delete(onMessage);
      }
      const keys = [...new Set(topics.map(topicKey))];
      for (const key of keys) {
        const listeners = byTopic.get(key) ?? new Set();
        listeners.add(onMessage);
        byTopic.set(key, listeners);
      }
      return () => {
        for (const key of keys) {
          const listeners = byTopic.get(key);
          listeners?.delete(onMessage);
          if (listeners?.size === 0) byTopic.delete(key);
        }
      };
    },
    close() {
      closed = true;
      byTopic.clear();
      everywhere.clear();
    },
  };
}
