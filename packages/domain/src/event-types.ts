import type { CardEvent } from './card/types';
import type { ChannelSetupEvent } from './channel-setup/rules';
import type { ContactEvent } from './contact/types';
import type { ConversationEvent } from './conversation/types';
import type { InboxEvent } from './inbox/types';
import type { WorkflowEvent } from './workflow/types';

/** One `true` per event type of a union: a `Record` over the union makes a new event a compile error. */
type EveryType<Event extends { readonly type: string }> = Readonly<Record<Event['type'], true>>;

const conversationEvents: EveryType<ConversationEvent> = {
  ConversationStarted: true,
  CycleStarted: true,
  CycleEnded: true,
  InboundMessageReceived: true,
  ReplyQueued: true,
  ReplySending: true,
  ReplySent: true,
  ReplyFailed: true,
  ReplyDelivered: true,
  ReplyRead: true,
  NoteAdded: true,
  LabelAdded: true,
  LabelRemoved: true,
  ConversationAssigned: true,
  ConversationUnassigned: true,
  StatusChanged: true,
  PriorityChanged: true,
  ConversationRead: true,
};

const inboxEvents: EveryType<InboxEvent> = {
  InboxCreated: true,
  MemberAdded: true,
  MemberRemoved: true,
  PresenceChanged: true,
  CapacityChanged: true,
  WeightChanged: true,
  AssignmentPolicyChanged: true,
  ConversationQueued: true,
  AgentAssigned: true,
  ConversationReleased: true,
  ConversationDequeued: true,
};

const workflowEvents: EveryType<WorkflowEvent> = { WorkflowCreated: true, WorkflowRevised: true };

const cardEvents: EveryType<CardEvent> = { CardEnteredWorkflow: true, CardMoved: true, CardReordered: true };

const contactEvents: EveryType<ContactEvent> = {
  ContactErased: true,
  ContactNoteAdded: true,
  ContactExported: true,
};

/** What admins change on a channel (decision 0038): server-internal, on `channel-<id>` streams. */
const channelEvents: EveryType<ChannelSetupEvent> = {
  ChannelConnected: true,
  ChannelCredentialsReplaced: true,
  WidgetConfigured: true,
  WebhookSecretRotated: true,
};

/** The event types of each aggregate, as the domain declares them. */
export const EVENT_TYPES = {
  conversation: Object.keys(conversationEvents) as readonly ConversationEvent['type'][],
  inbox: Object.keys(inboxEvents) as readonly InboxEvent['type'][],
  workflow: Object.keys(workflowEvents) as readonly WorkflowEvent['type'][],
  card: Object.keys(cardEvents) as readonly CardEvent['type'][],
  contact: Object.keys(contactEvents) as readonly ContactEvent['type'][],
  channel: Object.keys(channelEvents) as readonly ChannelSetupEvent['type'][],
} as const;

/**
 * Every event type the domain defines. Only a decider makes events of these types: a client
 * decides them from commands (decision 0019), the PWA's lint forbids building one by hand.
 */
export const DOMAIN_EVENT_TYPES: readonly string[] = [
  ...EVENT_TYPES.conversation,
  ...EVENT_TYPES.inbox,
  ...EVENT_TYPES.workflow,
  ...EVENT_TYPES.card,
  ...EVENT_TYPES.contact,
  ...EVENT_TYPES.channel,
];
