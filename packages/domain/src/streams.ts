/** Stream categories of the aggregates: a stream id is `<category>-<id>` (see `streamFor`). */
export const StreamCategory = {
  /** One stream per conversation: `conversation-<conversationId>`. */
  conversation: 'conversation',
  /** One stream per inbox: `inbox-<inboxId>`. */
  inbox: 'inbox',
  /** One stream per workflow (board definition): `workflow-<workflowId>`. */
  workflow: 'workflow',
  /** One stream per conversation's card: `card-<conversationId>`. */
  card: 'card',
  /** One stream per erased contact: `contact-<keyed hash of the contact id>` (decision 0022). */
  contact: 'contact',
} as const;
export type StreamCategory = (typeof StreamCategory)[keyof typeof StreamCategory];
