import type { MessageTag, MessageTemplate, Platform, QueueReply, ReplyContent } from '@parley/domain';
import { conversationFromList, decideLocally, localConversation } from '../decide';
import { newId } from '../ids';
import type { OutboxRow, ParleyDb, Refusal } from '../db/schema';

/** The meta row that numbers this device's replies: one client id, and the next number to give. */
export interface OutboxCounter {
  readonly clientId: string;
  readonly nextSequence: number;
}

export const COUNTER_KEY = 'outbox';

/** Reads (inside the caller's transaction) the counter, creating it on first use. */
export async function readCounter(db: ParleyDb): Promise<OutboxCounter> {
  const row = await db.meta.get(COUNTER_KEY);
  if (row) return row.value as OutboxCounter;
  const counter: OutboxCounter = { clientId: newId(), nextSequence: 1 };
  await db.meta.put({ key: COUNTER_KEY, value: counter });
  return counter;
}

/** What the composer knows about the conversation when the agent presses Send. */
export interface ReplyTarget {
  readonly conversationId: string;
  readonly platform: Platform;
  readonly lastCustomerMessageAt: number | null;
}

export interface NewReply {
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  readonly agentId: string;
}

export type QueueResult = { readonly ok: true; readonly row: OutboxRow } | ({ readonly ok: false } & Refusal);

/**
 * Runs the domain's `decide` on a `QueueReply` command at `now`, on the conversation as this device
 * knows it (its stored events folded with `evolve`; the list row's platform and window when none
 * are stored): a closed window asks for a template, text over the platform's limit is refused,
 * exactly as the server will decide. If the rules allow it, writes it to the outbox with the next
 * sequence number and the decided events, in one transaction. It shows in the conversation at once.
 */
export async function queueReply(
  db: ParleyDb,
  target: ReplyTarget,
  reply: NewReply,
  context: { readonly now: number; readonly templates: readonly MessageTemplate[] },
): Promise<QueueResult> {
  const command: QueueReply = {
    type: 'QueueReply',
    data: {
      clientMessageId: newId(),
      agentId: reply.agentId,
      content: reply.content,
      tag: reply.tag,
      now: context.now,
      templates: context.templates,
    },
  };
  // Read outside the outbox's transaction, which stays out of the sync engine's way: the server
  // decides the reply again on its own state in any case.
  const stored = await db.events
    .where('[conversationId+version]')
    .between([target.conversationId, 0], [target.conversationId, Infinity])
    .toArray();
  const decision = decideLocally(localConversation(stored) ?? conversationFromList(target), command);
  if (!decision.ok) return decision;
  return db.transaction('rw', db.outbox, db.meta, async () => {
    const counter = await readCounter(db);
    const queued: OutboxRow = {
      clientMessageId: command.data.clientMessageId,
      conversationId: target.conversationId,
      sequence: counter.nextSequence,
      content: reply.content,
      tag: reply.tag,
      agentId: reply.agentId,
      createdAt: context.now,
      attempts: 0,
      lastError: null,
      refusal: null,
      decided: decision.events,
    };
    await db.outbox.add(queued);
    await db.meta.put({
      key: COUNTER_KEY,
      value: { ...counter, nextSequence: counter.nextSequence + 1 } satisfies OutboxCounter,
    });
    return { ok: true as const, row: queued };
  });
}

/** Why a reply cannot be taken back. */
export type TakeBackRefusal = 'not-found' | 'in-flight';

/**
 * Takes a reply out of the outbox, for "discard" or "edit": a refused one always, a waiting one only
 * if no request ever carried it (else the server may have it: it will be delivered). The gap a
 * waiting one leaves in the numbering is closed when the server next answers "out of order".
 */
export async function takeBack(
  db: ParleyDb,
  clientMessageId: string,
): Promise<
  { readonly ok: true; readonly row: OutboxRow } | { readonly ok: false; readonly reason: TakeBackRefusal }
> {
  return db.transaction('rw', db.outbox, async () => {
    const row = await db.outbox.get(clientMessageId);
    if (!row) return { ok: false as const, reason: 'not-found' as const };
    if (row.refusal === null && row.attempts > 0) return { ok: false as const, reason: 'in-flight' as const };
    await db.outbox.delete(clientMessageId);
    return { ok: true as const, row };
  });
}

/** The replies waiting to be sent, in sending order. */
export function pendingReplies(db: ParleyDb): Promise<OutboxRow[]> {
  return db.outbox.orderBy('sequence').toArray();
}
