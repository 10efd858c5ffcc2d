import type { ReplyRefusalCode } from '../platforms/policy';
import { type MessageTag, type MessageTemplate, type ReplyContent } from '../platforms/policy';
import { assertNever } from '../shared/command';
import type { EpochMs } from '../shared/ids';
import type { ConversationSummary } from './summary';
import type { Conversation, ConversationErrorCode } from './types';
import { type ConversationCommand, type Priority } from './types';

/** What an agent's device may ask of one conversation: the domain command minus what the server owns (time, the acting agent, templates). */
export type ClientCommand =
  | { type: 'QueueReply'; clientMessageId: string; content: ReplyContent; tag: MessageTag | null }
  | { type: 'AddNote'; noteId: string; text: string; mentions: readonly string[] }
  | { type: 'AddLabel'; label: string }
  | { type: 'RemoveLabel'; label: string }
  | { type: 'AssignConversation'; agentId: string }
  | { type: 'UnassignConversation' }
  | { type: 'SetStatus'; status: 'open' | 'pending' | 'resolved' }
  | { type: 'SnoozeConversation'; until: EpochMs }
  | { type: 'SetPriority'; priority: Priority }
  | { type: 'MarkConversationRead'; upTo: EpochMs };

const clientCommandTypes: Readonly<Record<ClientCommand['type'], true>> = {
  QueueReply: true,
  AddNote: true,
  AddLabel: true,
  RemoveLabel: true,
  AssignConversation: true,
  UnassignConversation: true,
  SetStatus: true,
  SnoozeConversation: true,
  SetPriority: true,
  MarkConversationRead: true,
};

/** Every client command type (a `Record` over the union keeps it complete). */
export const CLIENT_COMMAND_TYPES: readonly ClientCommand['type'][] = Object.keys(
  clientCommandTypes,
) as ClientCommand['type'][];

/**
 * What the server (or the device) adds to a client command: the acting agent, its clock and the
 * template catalogue; `members`, the agent ids of the conversation's inbox, when known (rule CV16).
 */
export type ClientCommandContext = {
  agentId: string;
  now: EpochMs;
  templates: readonly MessageTemplate[];
  members?: readonly string[];
};

/** The domain command the device's command stands for; the same function runs on the device (optimistically) and on the server (authoritatively). */
export function toConversationCommand(
  command: ClientCommand,
  context: ClientCommandContext,
): ConversationCommand {
  const { agentId, now, templates, members } = context;
  switch (command.type) {
    case 'QueueReply': {
      const { clientMessageId, content, tag } = command;
      return { type: 'QueueReply', data: { clientMessageId, agentId, content, tag, now, templates } };
    }
    case 'AddNote': {
      const { noteId, text, mentions } = command;
      return { type: 'AddNote', data: { noteId, agentId, text, mentions, at: now } };
    }
    case 'AddLabel':
      return { type: 'AddLabel', data: { label: command.label, at: now } };
    case 'RemoveLabel':
      return { type: 'RemoveLabel', data: { label: command.label, at: now } };
    case 'AssignConversation':
      return {
        type: 'AssignConversation',
        data: { agentId: command.agentId, at: now, ...(members && { members }) },
      };
    case 'UnassignConversation':
      return { type: 'UnassignConversation', data: { at: now } };
    case 'SetStatus':
      return { type: 'SetStatus', data: { status: command.status, at: now } };
    case 'SnoozeConversation':
      return { type: 'SnoozeConversation', data: { until: command.until, now } };
    case 'SetPriority':
      return { type: 'SetPriority', data: { priority: command.priority, at: now } };
    case 'MarkConversationRead':
      return { type: 'MarkConversationRead', data: { agentId, upTo: command.upTo, at: now } };
    default:
      return assertNever(command);
  }
}

/**
 * What a device knows of a conversation whose events it has not fetched: its inbox list row (a
 * `ConversationSummary`), or as many of the row's fields as the caller has.
 */
export type KnownConversation = Pick<ConversationSummary, 'conversationId' | 'platform'> & {
  /** Null (or absent from an older row) when the customer's time is not known. */
  readonly lastCustomerMessageAt: EpochMs | null;
} & Partial<
    Pick<
      ConversationSummary,
      | 'inboxId'
      | 'contact'
      | 'status'
      | 'snoozedUntil'
      | 'labels'
      | 'assigneeId'
      | 'priority'
      | 'cycle'
      | 'readMarks'
    >
  >;

/**
 * The conversation a device decides its command on when it holds only the list row (rule CC4):
 * the row's status, labels, assignee, priority, cycle and read marks, as `evolve` would have left
 * them; what the row does not keep (replies, notes, message ids) is empty. A customer time not
 * known is taken as the epoch, so every platform's window is closed rather than guessed open.
 */
export function conversationFromSummary(known: KnownConversation): Conversation {
  const { status = 'open' } = known;
  return {
    conversationId: known.conversationId,
    inboxId: known.inboxId ?? '',
    platform: known.platform,
    contact: known.contact ?? { id: '', name: '', handle: '' },
    status: status === 'snoozed' ? { kind: 'snoozed', until: known.snoozedUntil ?? 0 } : { kind: status },
    cycle: known.cycle ?? 0,
    lastCustomerMessageAt: known.lastCustomerMessageAt ?? 0,
    customerMessages: 0,
    awaitingCustomerSince: null,
    externalMessageIds: new Set(),
    replies: new Map(),
    platformMessageIds: new Map(),
    noteIds: new Set(),
    labels: [...(known.labels ?? [])],
    assigneeId: known.assigneeId ?? null,
    priority: known.priority ?? 'none',
    readUpTo: new Map(Object.entries(known.readMarks ?? {})),
  };
}

/** A refusal as the agent reads it: what happened, and what they can do instead (null: nothing to do). */
export type RefusalDescription = { readonly message: string; readonly nextStep: string | null };

/** How the refused command reached the rules, as far as the wording depends on it (rule CC3). */
export interface RefusalCircumstances {
  /**
   * The device queued the command while it was offline, so it waited in the outbox and the rules
   * decided it later: "closed while you were offline" is then true. False (the default): sent as
   * it was made, or not queued at all; the sentence says only what is so now.
   */
  readonly queuedOffline: boolean;
}

/** A description whose sentence differs when the command waited offline (rule CC3). */
type Described = RefusalDescription & { readonly whileOffline?: string };

const conversationRefusals: Readonly<Record<ConversationErrorCode, Described>> = {
  CONVERSATION_NOT_FOUND: {
    message: 'This conversation no longer exists for you',
    nextStep: 'Go back to the inbox',
  },
  PLATFORM_MISMATCH: {
    message: 'This message came from a different channel than the conversation',
    nextStep: null,
  },
  REPLY_NOT_FOUND: { message: 'That reply is not part of this conversation', nextStep: null },
  SNOOZE_NOT_IN_FUTURE: {
    message: 'The snooze time has already passed',
    whileOffline: 'The snooze time passed while you were offline',
    nextStep: 'Pick a later time',
  },
  NOTE_EMPTY: { message: 'A note needs some text', nextStep: 'Write the note again' },
  LABEL_EMPTY: { message: 'A label needs a name', nextStep: 'Type a label name' },
  CONTENT_INVALID: { message: 'The message content was not valid', nextStep: null },
  ASSIGNEE_NOT_MEMBER: {
    message: 'That agent is not a member of this inbox',
    nextStep: 'Assign someone who works in this inbox',
  },
};

const replyRefusals: Readonly<Record<ReplyRefusalCode, Described>> = {
  TEXT_EMPTY: { message: 'The reply was empty', nextStep: 'Write a message' },
  TEXT_TOO_LONG: { message: 'The reply is too long for this channel', nextStep: 'Shorten it or split it' },
  WINDOW_CLOSED: {
    message: 'The 24-hour window has closed',
    whileOffline: 'The 24-hour window closed while you were offline',
    nextStep: 'Send a template instead',
  },
  HUMAN_AGENT_WINDOW_CLOSED: {
    message: 'The 7-day window for agent replies has closed',
    whileOffline: 'The 7-day window for agent replies closed while you were offline',
    nextStep: 'Wait for the customer to write again',
  },
  TEMPLATE_NOT_SUPPORTED: {
    message: 'This channel has no message templates',
    nextStep: 'Send a text reply',
  },
  TEMPLATE_NOT_FOUND: {
    message: 'That template does not exist in this language',
    nextStep: 'Pick another template',
  },
  TEMPLATE_NOT_APPROVED: {
    message: 'That template is not approved yet',
    nextStep: 'Pick an approved template',
  },
  TEMPLATE_PARAMS_MISSING: { message: 'Some template fields are empty', nextStep: 'Fill in every field' },
  TEMPLATE_PARAMS_MISMATCH: {
    message: 'The template got more fields than it has',
    nextStep: 'Check the template fields',
  },
  MEDIA_TYPE_NOT_SUPPORTED: {
    message: 'This channel cannot send that kind of file',
    nextStep: 'Send another file type',
  },
  MEDIA_TOO_LARGE: { message: 'The file is too large for this channel', nextStep: 'Send a smaller file' },
};

const descriptions: Readonly<Record<string, Described>> = {
  ...conversationRefusals,
  ...replyRefusals,
};

/**
 * A sentence for the agent and a next step for each refusal code the conversation decider can
 * raise (rule CC2), worded for how the command travelled (rule CC3): WINDOW_CLOSED is "The 24-hour
 * window has closed" / "Send a template instead", and "The 24-hour window closed while you were
 * offline" only for a command queued offline.
 */
export function describeRefusal(
  code: string,
  circumstances: RefusalCircumstances = { queuedOffline: false },
): RefusalDescription {
  const described = Object.hasOwn(descriptions, code) ? descriptions[code] : undefined;
  if (!described) return { message: 'The change was refused', nextStep: null };
  const message =
    circumstances.queuedOffline && described.whileOffline ? described.whileOffline : described.message;
  return { message, nextStep: described.nextStep };
}
