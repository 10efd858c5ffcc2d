import type { TenantId } from '@parley/domain';

/** Everything that happens in one tenant. */
export interface TenantTopic {
  readonly kind: 'tenant';
  readonly tenantId: TenantId;
}

/** What happens in one inbox of a tenant (its conversation list). */
export interface InboxTopic {
  readonly kind: 'inbox';
  readonly tenantId: TenantId;
  readonly id: string;
}

/** What happens in one conversation of a tenant. */
export interface ConversationTopic {
  readonly kind: 'conversation';
  readonly tenantId: TenantId;
  readonly id: string;
}

/** What happens on one board of a tenant. */
export interface BoardTopic {
  readonly kind: 'board';
  readonly tenantId: TenantId;
  readonly id: string;
}

/** Where a broadcast goes: always inside one tenant, so no topic can leak across tenants. */
export type Topic = TenantTopic | InboxTopic | ConversationTopic | BoardTopic;

/** A topic as a flat string such as `t:acme/conversation:42`, the name a transport routes on. */
export type TopicKey = string & { readonly __topicKey: true };

/** Serialises a topic to its key; ids are URI-encoded so a `/` inside one cannot forge another topic. */
export function topicKey(topic: Topic): TopicKey {
  const tenant = `t:${topic.tenantId}`;
  switch (topic.kind) {
    case 'tenant':
      return tenant as TopicKey;
    case 'inbox':
    case 'conversation':
    case 'board':
      return `${tenant}/${topic.kind}:${encodeURIComponent(topic.id)}` as TopicKey;
    default:
      return unreachable(topic);
  }
}

function unreachable(value: never): never {
  throw new TypeError(`unknown topic ${JSON.stringify(value)}`);
}
