import type { JsonValue } from '@parley/domain';

/**
 * A readable line for one event of the log, for the audit view (#16, decision 0036). It reads only
 * fields that are never sealed (decision 0022): ids, statuses, labels, priorities, stages, times.
 * Contact details, message text, reply content and note text are sealed and never read here, so a
 * summary says *that* a message or note was written, never what it said; nor does it repeat free
 * text an admin typed (an erasure's reason) or a platform's error text.
 */
export type NameOf = (agentId: string) => string;

type Data = Readonly<Record<string, JsonValue | undefined>>;

const text = (value: JsonValue | undefined): string | null => (typeof value === 'string' ? value : null);
const num = (value: JsonValue | undefined): string => (typeof value === 'number' ? String(value) : '?');
const count = (value: JsonValue | undefined): number => (Array.isArray(value) ? value.length : 0);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function statusOf(value: JsonValue | undefined): string {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const kind = text(value.kind);
    if (kind) return kind;
  }
  return 'unknown';
}

const REASONS: Readonly<Record<string, string>> = {
  agent: 'by an agent',
  'customer-message': 'by a customer message',
  'snooze-ended': 'when the snooze ended',
};

function workflowName(data: Data): string {
  const definition = data.definition;
  if (definition && typeof definition === 'object' && !Array.isArray(definition)) {
    return text(definition.name) ?? text(definition.workflowId) ?? 'a workflow';
  }
  return 'a workflow';
}

/** The summary of an event of any stream; an event type it does not know is named, nothing more. */
export function auditSummary(type: string, value: JsonValue, nameOf: NameOf): string {
  const data: Data = value && typeof value === 'object' && !Array.isArray(value) ? value : {};
  const agent = (key = 'agentId') => {
    const id = text(data[key]);
    return id ? nameOf(id) : 'an agent';
  };
  switch (type) {
    case 'ConversationStarted':
      return `Conversation started on ${text(data.platform) ?? 'a channel'} in inbox ${text(data.inboxId) ?? '?'}`;
    case 'CycleStarted':
      return `Cycle ${num(data.cycle)} started`;
    case 'CycleEnded':
      return `Cycle ${num(data.cycle)} ended`;
    case 'InboundMessageReceived':
      return 'Customer message received (content sealed)';
    case 'ReplyQueued':
      return `Reply queued by ${agent()} (content sealed)`;
    case 'ReplySending':
      return 'Reply handed to the channel';
    case 'ReplySent':
      return 'Reply sent';
    case 'ReplyFailed':
      return text(data.rule) ? `Reply refused (rule ${text(data.rule)})` : 'Reply failed';
    case 'ReplyDelivered':
      return 'Reply delivered';
    case 'ReplyRead':
      return 'Reply read by the customer';
    case 'NoteAdded':
      return `Private note added by ${agent()}${count(data.mentions) ? `, mentioning ${plural(count(data.mentions), 'agent')}` : ''} (text sealed)`;
    case 'LabelAdded':
      return `Label "${text(data.label) ?? '?'}" added`;
    case 'LabelRemoved':
      return `Label "${text(data.label) ?? '?'}" removed`;
    case 'ConversationAssigned':
      return text(data.policy)
        ? `Assigned to ${agent()} by the ${text(data.policy)} policy`
        : `Assigned to ${agent()}`;
    case 'ConversationUnassigned':
      return `Unassigned from ${agent()}`;
    case 'StatusChanged': {
      const reason = REASONS[text(data.reason) ?? ''];
      return `Status set to ${statusOf(data.status)}${reason ? ` ${reason}` : ''}`;
    }
    case 'PriorityChanged':
      return `Priority set to ${text(data.priority) ?? '?'}`;
    case 'ConversationRead':
      return `Read by ${agent()}`;
    case 'InboxCreated':
      return `Inbox "${text(data.name) ?? text(data.inboxId) ?? '?'}" created`;
    case 'MemberAdded':
      return `${agent()} added to the inbox`;
    case 'MemberRemoved':
      return `${agent()} removed from the inbox`;
    case 'PresenceChanged':
      return `${agent()} is ${text(data.presence) ?? '?'}`;
    case 'CapacityChanged':
      return `${agent()}'s capacity set to ${num(data.capacity)}`;
    case 'WeightChanged':
      return `${agent()}'s weight set to ${num(data.weight)}`;
    case 'AssignmentPolicyChanged':
      return `Assignment policy set to ${text(data.policy) ?? '?'}`;
    case 'ConversationQueued':
      return `Conversation ${text(data.conversationId) ?? '?'} queued for assignment`;
    case 'AgentAssigned':
      return `${agent()} picked for conversation ${text(data.conversationId) ?? '?'}${data.manual === true ? ' (by hand)' : ''}`;
    case 'ConversationReleased':
      return `${agent()} released conversation ${text(data.conversationId) ?? '?'}`;
    case 'ConversationDequeued':
      return `Conversation ${text(data.conversationId) ?? '?'} left the queue`;
    case 'WorkflowCreated':
      return `Workflow "${workflowName(data)}" created`;
    case 'WorkflowRevised':
      return `Workflow "${workflowName(data)}" revised`;
    case 'CardEnteredWorkflow':
      return `Card entered workflow ${text(data.workflowId) ?? '?'} at stage ${text(data.stageId) ?? '?'}`;
    case 'CardMoved':
      return `Card moved to stage ${text(data.toStageId) ?? text(data.stageId) ?? '?'}`;
    case 'CardReordered':
      return `Card reordered in stage ${text(data.stageId) ?? '?'}`;
    case 'ContactErased':
      return `Contact erased by ${agent('erasedBy')}: ${plural(count(data.conversations), 'conversation')}`;
    case 'ContactExported':
      return `Contact exported by ${agent('exportedBy')}: ${plural(count(data.conversations), 'conversation')}`;
    case 'RetentionSet':
      return typeof data.days === 'number'
        ? `Message content kept for ${plural(data.days, 'day')}`
        : 'Message content kept for ever';
    case 'BoardUpdated':
      return 'Board edited (cards, columns or notes)';
    case 'BoardSnapshotted':
      return 'Board saved as a snapshot';
    case 'ContactNoteAdded':
      return `Note on the contact added by ${agent()} (text sealed)`;
    // Channel setup (decision 0038): field names only, never a credential's value.
    case 'ChannelConnected':
      return `Channel ${text(data.name) ?? '?'} (${text(data.platform) ?? '?'}) connected by ${agent('by')}`;
    case 'ChannelCredentialsReplaced':
      return `Credentials of channel ${text(data.channelId) ?? '?'} replaced by ${agent('by')}`;
    case 'WidgetConfigured':
      return `Web chat widget of ${text(data.channelId) ?? '?'} set by ${agent('by')}`;
    case 'WebhookSecretRotated':
      return `Webhook secret of ${text(data.appId) ?? '?'} rotated by ${agent('by')}, the old one kept ${num(data.graceHours)} h`;
    default:
      return type;
  }
}
