import {
  actorOf,
  assertNever,
  compareTimeline,
  contentLine,
  conversation as decider,
  conversationActivity,
  conversationTimeline,
  EVENT_TYPES,
  fold,
  type Activity,
  type CardEvent,
  type Conversation,
  type InboundContent,
  type LoggedEvent,
  type MediaRef,
  type MessageTemplate,
  type ReplyContent,
  renderTemplate,
} from '@parley/domain';
import type { EventRow, OutboxRow, Refusal } from './db/schema';
import { asConversationEvent, commandsInLog, rebase, type PendingOutcome } from './decide';

/**
 * What the agent sees on one of their replies. `queued` waits on this device, `sending` is on its
 * way (to the server, then to the platform), `refused` was refused for good before it was queued.
 */
export type ReplyState = 'queued' | 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'refused';

export type TimelineItem =
  | {
      /** A change between the messages (rule AC1): "Resolved by Ana", "Moved to Waiting on customer". */
      readonly kind: 'activity';
      readonly key: string;
      readonly at: number;
      readonly activity: Activity;
    }
  | {
      readonly kind: 'customer';
      readonly key: string;
      readonly text: string;
      readonly at: number;
      /** What kind of message it was: `unsupported` ones are shown as such (rule CV13). */
      readonly content: InboundContent['type'];
      /** The file the customer sent, shown inline; `text` is then its caption. */
      readonly media?: MediaRef;
    }
  | {
      readonly kind: 'note';
      readonly key: string;
      readonly text: string;
      readonly at: number;
      readonly agentId: string;
      /** Only on this device so far (a queued `AddNote`): shown at once, marked pending. */
      readonly pending: boolean;
      /** The rules refuse it on the newest state (rebase), or the server refused it. */
      readonly refusal: Refusal | null;
    }
  | {
      readonly kind: 'reply';
      readonly key: string;
      readonly clientMessageId: string;
      /** The agent who queued it (`ReplyQueued`'s agent; this device's agent for one waiting here). */
      readonly agentId: string;
      readonly text: string;
      readonly at: number;
      readonly state: ReplyState;
      /** The failure or refusal reason code, if any. */
      readonly reason: string | null;
      readonly refusal: Refusal | null;
      /** True while the reply is only on this device and no request has carried it. */
      readonly local: boolean;
      readonly attempts: number;
      /** The file the reply carries, shown inline; `text` is then its caption. */
      readonly media?: MediaRef;
    };

/** A message's content in one line of text for the timeline (the domain's own wording). */
export const contentText = contentLine;

/**
 * What a message shows: a file's caption beside the file itself, and a template as the text the
 * customer got (rule WA7) when the catalogue on this device has its body.
 */
export function messageParts(
  content: InboundContent | ReplyContent,
  templates: readonly MessageTemplate[],
): { readonly text: string; readonly media?: MediaRef } {
  if (content.type === 'media') return { text: content.caption ?? '', media: content.media };
  if (content.type === 'template') {
    const found = templates.find((t) => t.name === content.name && t.language === content.language);
    const body = found && 'body' in found && typeof found.body === 'string' ? found.body : null;
    if (body !== null) return { text: renderTemplate(body, content.params) };
  }
  return { text: contentText(content) };
}

/**
 * The conversation as the domain folds its events (the same `evolve` the server runs), with this
 * device's pending commands rebased on it (`state`: what the agent sees, pending included;
 * `pending`: each waiting command, still allowed or now refused), and its timeline: the server's
 * messages, replies and notes in the domain's timeline order (rule CV14), then this device's
 * replies and notes not yet acknowledged.
 */
export function buildTimeline(
  events: readonly EventRow[],
  outbox: readonly OutboxRow[],
  inFlight: readonly string[],
  context: {
    readonly now: number;
    readonly templates: readonly MessageTemplate[];
    /** The events of the conversation's card (`card-<id>`): its board stages are activity (AC4). */
    readonly cardEvents?: readonly EventRow[];
  } = {
    now: Date.now(),
    templates: [],
  },
): {
  readonly state: Conversation | null;
  readonly synced: Conversation | null;
  readonly pending: readonly PendingOutcome[];
  readonly items: TimelineItem[];
} {
  const sorted = [...events].sort((a, b) => a.version - b.version);
  // An event type this build does not know (a newer server's) is left out, not folded.
  const domainEvents = sorted.flatMap((event) => asConversationEvent(event) ?? []);
  const synced = fold(decider, decider.initialState(), domainEvents);
  // Before its events are fetched the device cannot decide on the conversation: nothing is rebased.
  // A command whose events arrived is in `synced` already, answered or not: never rebased again.
  const rebased = synced
    ? rebase(synced, outbox, { ...context, inLog: commandsInLog(sorted) })
    : { state: synced, events: [], outcomes: [] };
  const outcomes = new Map(rebased.outcomes.map((outcome) => [outcome.row.clientMessageId, outcome]));
  const state = rebased.state;
  // CV14: messages by the platform's timestamp, replies and notes by their own time; the log
  // (and Dexie) keep the order they arrived in.
  const messages = conversationTimeline(domainEvents).map((entry) => ({
    at: entry.at,
    position: entry.position,
    item: timelineItem(entry),
  }));
  const activity = conversationActivity(loggedEvents(sorted, context.cardEvents ?? [])).map((entry) => ({
    at: entry.at,
    position: entry.position,
    item: {
      kind: 'activity',
      key: `activity-${entry.position}`,
      at: entry.at,
      activity: entry.activity,
    } satisfies TimelineItem,
  }));
  const items: TimelineItem[] = [...messages, ...activity].sort(compareTimeline).map((each) => each.item);

  function timelineItem(entry: ReturnType<typeof conversationTimeline>[number]): TimelineItem {
    switch (entry.kind) {
      case 'customer':
        return {
          kind: 'customer',
          key: `in-${entry.externalMessageId}`,
          ...messageParts(entry.content, context.templates),
          at: entry.at,
          content: entry.content.type,
        };
      case 'reply': {
        const reply = state?.replies.get(entry.clientMessageId);
        const status = reply?.status ?? 'queued';
        return {
          kind: 'reply',
          key: `reply-${entry.clientMessageId}`,
          clientMessageId: entry.clientMessageId,
          agentId: entry.agentId,
          ...messageParts(entry.content, context.templates),
          at: entry.at,
          // The server has it: until the platform confirms, it is still on its way.
          state: status === 'queued' ? 'sending' : status,
          reason: reply?.failureReason ?? null,
          refusal: null,
          local: false,
          attempts: 0,
        };
      }
      case 'note':
        return {
          kind: 'note',
          key: `note-${entry.noteId}`,
          text: entry.text,
          at: entry.at,
          agentId: entry.agentId,
          pending: false,
          refusal: null,
        };
      default:
        return assertNever(entry);
    }
  }
  const seen = new Set(
    items.flatMap((item) =>
      item.kind === 'reply' ? [item.clientMessageId] : item.kind === 'note' ? [item.key] : [],
    ),
  );
  const sending = new Set(inFlight);
  const local = [...outbox]
    .filter((row) =>
      row.command.type === 'QueueReply'
        ? !seen.has(row.clientMessageId)
        : row.command.type === 'AddNote' && !seen.has(`note-${row.command.noteId}`),
    )
    .sort(
      (a, b) =>
        (a.sequence ?? a.refusedSequence ?? 0) - (b.sequence ?? b.refusedSequence ?? 0) ||
        a.createdAt - b.createdAt,
    );
  for (const row of local) {
    const outcome = outcomes.get(row.clientMessageId);
    // Refused by the server for good, or by the rules on the newest state (it is still sent: the
    // server decides once more, and may see what this device has not yet).
    const refusal = row.refusal ?? (outcome && !outcome.ok ? outcome.refusal : null);
    if (row.command.type === 'AddNote') {
      items.push({
        kind: 'note',
        key: `note-${row.command.noteId}`,
        text: row.command.text,
        at: row.createdAt,
        agentId: row.agentId,
        pending: true,
        refusal,
      });
      continue;
    }
    if (row.command.type !== 'QueueReply') continue;
    items.push({
      kind: 'reply',
      key: `reply-${row.clientMessageId}`,
      clientMessageId: row.clientMessageId,
      agentId: row.agentId,
      ...messageParts(row.command.content, context.templates),
      at: row.createdAt,
      state: refusal ? 'refused' : sending.has(row.clientMessageId) ? 'sending' : 'queued',
      reason: refusal?.code ?? null,
      refusal,
      local: row.refusal !== null || row.attempts === 0,
      attempts: row.attempts,
    });
  }
  return { state, synced, pending: rebased.outcomes, items };
}

const CARD_EVENTS: ReadonlySet<string> = new Set(EVENT_TYPES.card);

/**
 * The log the activity lines are read from (AC1): the conversation's known events in stream order
 * (the same list the timeline's positions count), then its card's, each with the agent its
 * metadata names.
 */
function loggedEvents(sorted: readonly EventRow[], cardEvents: readonly EventRow[]): LoggedEvent[] {
  const logged: LoggedEvent[] = sorted.flatMap((row) => {
    const event = asConversationEvent(row);
    return event ? [{ event, by: actorOf(row.metadata) }] : [];
  });
  for (const row of [...cardEvents].sort((a, b) => a.version - b.version)) {
    if (!CARD_EVENTS.has(row.type)) continue;
    // A card event from the log, typed by its name (the PWA only reads them, never builds one).
    const event = { type: row.type, data: row.data } as unknown as CardEvent;
    logged.push({ event, by: actorOf(row.metadata) });
  }
  return logged;
}

/** Words for a reply state, for people and screen readers. */
export const REPLY_STATE_LABEL: Readonly<Record<ReplyState, string>> = {
  queued: 'Queued',
  sending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Failed',
  refused: 'Not sent',
};
