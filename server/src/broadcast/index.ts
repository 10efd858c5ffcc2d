export type {
  BroadcastChannel,
  BroadcastSubscribeOptions,
  Delivery,
  EventDelivery,
  OverflowDelivery,
  Subscription,
} from './channel';
export { createLocalBroadcast } from './local';
export { createLocalSignals, type SignalChannel } from './signals';
export type { LocalBroadcast, LocalBroadcastOptions, LocalBroadcastStats } from './local';
export { topicKey } from './topics';
export type { BoardTopic, ConversationTopic, InboxTopic, TenantTopic, Topic, TopicKey } from './topics';
