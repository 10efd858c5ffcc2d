import {
  conversationFromSummary,
  type ClientCommand,
  type KnownConversation,
  type MessageTag,
  type MessageTemplate,
  type ReplyContent,
} from '@parley/domain';
import { commandsInLog, decideCommand, localConversation, rebase } from '../decide';
import { newId } from '../ids';
import type { OutboxRow, ParleyDb, Refusal } from '../db/schema';

/** The meta row that numbers this device's commands: one client id, and the next number to give. */
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

/** What the screen knows about the conversation when the agent acts on it: its list row (CC4). */
export type CommandTarget = KnownConversation;
/** What the composer knows about the conversation when the agent presses Send. */
export type ReplyTarget = CommandTarget;

export interface NewReply {
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  readonly agentId: string;
}

/** The refusal shown when the device's storage is full: nothing was queued. */
export const STORAGE_FULL: Refusal = {
  code: 'STORAGE_FULL',
  rule: null,
  message: 'This device has no storage left, so the change was not saved',
  hint: 'Free some space on the device (or discard old drafts), then try again',
};

/**
 * Queued (`row`), nothing to change (`row: null`: the conversation already is as asked, so nothing
 * is sent), or refused on this device by the domain's rules or for want of storage.
 */
export type CommandResult =
  { readonly ok: true; readonly row: OutboxRow | null } | ({ readonly ok: false } & Refusal);

export type QueueResult = { readonly ok: true; readonly row: OutboxRow } | ({ readonly ok: false } & Refusal);

/** A storage quota error, however Dexie or the browser wraps it. */
export function isQuotaExceeded(error: unknown): boolean {
  for (let cause: unknown = error; cause; cause = (cause as { inner?: unknown }).inner) {
    if (typeof cause === 'object' && (cause as { name?: unknown }).name === 'QuotaExceededError') return true;
  }
  return false;
}

/**
 * Queues one command of the agent on a conversation (issue #14): the domain decides it first,
 * exactly as the server will (`toConversationCommand` + `decide`), on the conversation as this
 * device knows it: its stored events (the list row's fields when none are stored), with the
 * commands already waiting in the outbox decided on top (`rebase`), so that "add a label" then
 * "remove it" offline works. If the rules allow it and it changes something, it is written to the
 * outbox with the next number of this device's one sequence and its decided events, in one
 * transaction: all of it or, when the storage quota runs out, none of it.
 */
export async function queueCommand(
  db: ParleyDb,
  target: CommandTarget,
  command: ClientCommand,
  context: {
    readonly agentId: string;
    readonly now: number;
    readonly templates: readonly MessageTemplate[];
    /** The device is offline: the command will wait (a later refusal says so, rule CC3). */
    readonly offline?: boolean;
  },
): Promise<CommandResult> {
  // Read outside the outbox's transaction, which stays out of the sync engine's way: the server
  // decides the command again on its own state in any case.
  const [stored, waiting] = await Promise.all([
    db.events
      .where('[conversationId+version]')
      .between([target.conversationId, 0], [target.conversationId, Infinity])
      .toArray(),
    db.outbox.where('conversationId').equals(target.conversationId).toArray(),
  ]);
  const synced = localConversation(stored) ?? conversationFromSummary(target);
  const base = rebase(synced, waiting, { ...context, inLog: commandsInLog(stored) }).state;
  const decision = decideCommand(base, command, context);
  if (!decision.ok) {
    const { ok: _ok, ...refusal } = decision;
    return { ok: false, ...refusal };
  }
  if (decision.events.length === 0) return { ok: true, row: null };
  try {
    return await db.transaction('rw', db.outbox, db.meta, async () => {
      const counter = await readCounter(db);
      const queued: OutboxRow = {
        clientMessageId: commandIdOf(command),
        conversationId: target.conversationId,
        sequence: counter.nextSequence,
        command,
        agentId: context.agentId,
        createdAt: context.now,
        attempts: 0,
        lastError: null,
        refusal: null,
        decided: decision.events,
        ...(context.offline && { queuedOffline: true as const }),
      };
      await db.outbox.add(queued);
      await db.meta.put({
        key: COUNTER_KEY,
        value: { ...counter, nextSequence: counter.nextSequence + 1 } satisfies OutboxCounter,
      });
      return { ok: true as const, row: queued };
    });
  } catch (error) {
    // The transaction aborted: neither the row nor the number was written.
    if (isQuotaExceeded(error)) return { ok: false, ...STORAGE_FULL };
    throw error;
  }
}

/** The outbox key of a command: a reply's message id, a note's id, else a fresh id. */
function commandIdOf(command: ClientCommand): string {
  if (command.type === 'QueueReply') return command.clientMessageId;
  if (command.type === 'AddNote') return command.noteId;
  return newId();
}

/**
 * Queues a reply: a `QueueReply` command with a new message id. A closed window asks for a
 * template, text over the platform's limit is refused, exactly as the server will decide. It shows
 * in the conversation at once.
 */
export async function queueReply(
  db: ParleyDb,
  target: ReplyTarget,
  reply: NewReply,
  context: {
    readonly now: number;
    readonly templates: readonly MessageTemplate[];
    readonly offline?: boolean;
  },
): Promise<QueueResult> {
  const result = await queueCommand(
    db,
    target,
    { type: 'QueueReply', clientMessageId: newId(), content: reply.content, tag: reply.tag },
    { agentId: reply.agentId, ...context },
  );
  if (!result.ok) return result;
  // A reply with a new message id always decides one event, so it is always queued.
  if (!result.row) throw new Error('a new reply decided no event');
  return { ok: true, row: result.row };
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

/** The commands waiting to be sent, in sending order (a refused one has no sequence: not listed). */
export function pendingCommands(db: ParleyDb): Promise<OutboxRow[]> {
  return db.outbox.orderBy('sequence').toArray();
}

/** The replies waiting to be sent, in sending order. */
export async function pendingReplies(db: ParleyDb): Promise<OutboxRow[]> {
  return (await pendingCommands(db)).filter((row) => row.command.type === 'QueueReply');
}
