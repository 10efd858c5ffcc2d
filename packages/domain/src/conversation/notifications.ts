import type { ConversationEvent } from './types';

/** Why an agent is told about a conversation (rules NT1-NT4). */
export type NotificationTrigger = 'assigned' | 'customer_replied' | 'mentioned';

/** Every trigger, in the order settings list them. */
export const NOTIFICATION_TRIGGERS: readonly NotificationTrigger[] = [
  'assigned',
  'customer_replied',
  'mentioned',
];

/** One agent to tell, and why. */
export interface NotificationDue {
  readonly agentId: string;
  readonly trigger: NotificationTrigger;
}

/** What the rules need besides the event: the assignee before it, and who caused it. */
export interface NotificationContext {
  /** The conversation's assignee before the event (null when unassigned or not started). */
  readonly assigneeId: string | null;
  /** The agent whose command appended the event, or null (customer, system, round robin). */
  readonly actorId: string | null;
}

/** An agent's choices of what to be told (NT4); all on until they change them. */
export interface NotificationPreferences {
  readonly assigned: boolean;
  readonly customer_replied: boolean;
  readonly mentioned: boolean;
  /** A sound in the open app; not a trigger. */
  readonly sound: boolean;
}

/** The preferences of an agent who chose nothing yet. */
export const DEFAULT_NOTIFICATION_PREFERENCES: NotificationPreferences = {
  assigned: true,
  customer_replied: true,
  mentioned: true,
  sound: true,
};

/**
 * Who is told about a conversation event, and why. The server's notifications follower and the PWA
 * both ask this, so an agent is told the same things whichever side notices first.
 */
export function notificationsDue(event: ConversationEvent, context: NotificationContext): NotificationDue[] {
  switch (event.type) {
    case 'ConversationAssigned':
      // NT1: assigning yourself needs no telling.
      return event.data.agentId === context.actorId
        ? []
        : [{ agentId: event.data.agentId, trigger: 'assigned' }];
    case 'InboundMessageReceived':
      // NT2: the customer answered the agent the conversation is assigned to.
      return context.assigneeId === null
        ? []
        : [{ agentId: context.assigneeId, trigger: 'customer_replied' }];
    case 'NoteAdded':
      // NT3: each agent mentioned, once, never the note's author.
      return [...new Set(event.data.mentions)]
        .filter((agentId) => agentId !== event.data.agentId)
        .map((agentId) => ({ agentId, trigger: 'mentioned' as const }));
    default:
      return [];
  }
}

/** NT4: whether an agent with these preferences is told about this trigger. */
export function wantsNotification(
  preferences: NotificationPreferences,
  trigger: NotificationTrigger,
): boolean {
  return preferences[trigger];
}
