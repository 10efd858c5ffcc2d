import {
  DomainError,
  isDomainError,
  ConversationErrorCode,
  type ConversationCommand,
  type ConversationEvent,
  type ConversationState,
  type JsonObject,
  type MessageTag,
  type MessageTemplate,
  type ReplyContent,
  type TenantId,
} from '@parley/domain';
import type { JointResult } from '../actors/runtime';
import { withTenant } from '../auth/tenant-scope';
import { writeOutboxRows } from '../channels';
import type { Database } from '../db/database';
import type { SqlQueryable } from '../db/driver';
import type { Grains } from '../grains';
import type { Logger } from '../logger';
import { tenantCursors } from './cursor';

/** A reply as the PWA's outbox sends it: numbered per client so the server applies it in order. */
export interface ReplyRequest {
  readonly tenantId: TenantId;
  readonly agentId: string;
  /** One installation of the PWA; each numbers its replies 1, 2, 3... */
  readonly clientId: string;
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
  readonly now: number;
  /** Stored with the reply's events (who sent it). */
  readonly metadata: JsonObject;
  /**
   * Whether the sender works in the conversation's inbox (decision 0015); one they do not is
   * answered like a conversation that does not exist. Unset: every conversation of the tenant.
   */
  readonly inScope?: (conversationId: string) => Promise<boolean>;
}

/** The reply is queued for delivery; `cursor` is its event's place in the log (null if queued before). */
export interface ReplyAccepted {
  readonly kind: 'accepted';
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly version: number;
  readonly cursor: string | null;
}

/** The rules refused the reply for good (the window closed, say); resending cannot change that. */
export interface ReplyRefused {
  readonly kind: 'refused';
  readonly sequence: number;
  readonly clientMessageId: string;
  readonly conversationId: string;
  readonly code: string;
  readonly rule: string | null;
  readonly message: string;
  readonly hint: string | null;
}

/** The answer stored for an applied sequence number. */
export type ReplyOutcome = ReplyAccepted | ReplyRefused;

/** The sequence skips ahead: resend from `expectedSequence`, in order. Nothing was applied. */
export interface ReplyOutOfOrder {
  readonly kind: 'out-of-order';
  readonly sequence: number;
  readonly expectedSequence: number;
}

/** What a reply request gets: the outcome (again, with `duplicate`, for a resend) or a gap. */
export type ReplyAnswer = (ReplyOutcome & { readonly duplicate: boolean }) | ReplyOutOfOrder;

/** Refusals of the reply path itself, beside the rules' own. */
export const ReplyErrorCode = {
  /** A sequence number already applied to another message. */
  SEQUENCE_REUSED: 'SEQUENCE_REUSED',
} as const;

/** Another request applied this sequence number first; the stored answer is read instead. */
class SequenceMovedError extends Error {
  override readonly name = 'SequenceMovedError';
}

/** What a caller already knows, so a batch reads it once rather than once per reply. */
interface KnownContext {
  /** The client's last applied number as the previous reply of the batch left it. */
  readonly lastSequence?: number | undefined;
  /** The tenant's templates, read at the start of the batch. */
  readonly templates?: MessageTemplate[] | undefined;
}

/** What the reply path needs from the process. */
export interface ReplyServices {
  readonly db: Database;
  readonly grains: Grains;
  /** Hears when a batch's run falls back to one reply at a time. */
  readonly logger?: Pick<Logger, 'debug' | 'warn'>;
}

/**
 * Applies a numbered reply exactly once and in order (docs/sync-protocol.md, "Replies"):
 * - the next number queues the reply, and the client's last applied number moves in the same
 *   transaction as the reply's events (the store's `withinTransaction`);
 * - a refusal by the rules moves it too, in a transaction of its own, storing the reason;
 * - a number already applied returns the stored answer; one that skips ahead is refused.
 */
export async function sendReply(
  services: ReplyServices,
  request: ReplyRequest,
  known: KnownContext = {},
): Promise<ReplyAnswer> {
  const { db, grains } = services;
  const { tenantId } = request;
  // Two attempts are enough: a lost race means the winner stored its answer, found on the next pass.
  for (let attempt = 1; ; attempt++) {
    // A guess is as good as a read: `advance` checks the number in the reply's own transaction,
    // and a wrong guess ends in SequenceMovedError and a second pass that reads it.
    const last =
      attempt === 1 && known.lastSequence !== undefined
        ? known.lastSequence
        : await withTenant(db.sql, tenantId, (tx) => lastSequence(tx, request));
    if (request.sequence <= last) return storedAnswer(db, request);
    if (request.sequence > last + 1) {
      return { kind: 'out-of-order', sequence: request.sequence, expectedSequence: last + 1 };
    }
    const conversation = grains.conversation(tenantId, request.conversationId);
    if (
      (await conversation.read()).state === null ||
      (request.inScope && !(await request.inScope(request.conversationId)))
    ) {
      // Not a refusal of this reply but a wrong id (perhaps another tenant's): nothing is applied.
      throw new DomainError(ConversationErrorCode.CONVERSATION_NOT_FOUND, 'there is no such conversation');
    }
    const templates = known.templates ?? (await withTenant(db.sql, tenantId, loadTemplates));
    const cursors = await tenantCursors(db, tenantId);
    const base = {
      sequence: request.sequence,
      clientMessageId: request.clientMessageId,
      conversationId: request.conversationId,
    };
    let outcome: ReplyOutcome;
    try {
      let committed: ReplyOutcome | undefined;
      const result = await conversation.ask(
        {
          type: 'QueueReply',
          data: {
            clientMessageId: request.clientMessageId,
            agentId: request.agentId,
            content: request.content,
            tag: request.tag,
            now: request.now,
            templates,
          },
        },
        {
          metadata: request.metadata,
          withinTransaction: async (tx, appended) => {
            const lastEvent = appended.events.at(-1)!;
            const accepted: ReplyAccepted = {
              kind: 'accepted',
              ...base,
              version: lastEvent.version,
              cursor: cursors.seal(lastEvent.checkpoint),
            };
            // Throwing aborts the append: the reply, its outbox row and the client's sequence number
            // commit together or not at all.
            if (!(await advance(tx, request, accepted))) throw new SequenceMovedError();
            await writeOutboxRows(tx, appended);
            committed = accepted;
          },
        },
      );
      if (committed && result.events.length > 0) return { ...committed, duplicate: false };
      // The rules changed nothing (this message id was queued before): the number moves on its own.
      outcome = { kind: 'accepted', ...base, version: result.version, cursor: null };
    } catch (error) {
      if (error instanceof SequenceMovedError && attempt < 3) continue;
      if (!isDomainError(error)) throw error;
      outcome = refusal(base, error);
    }
    const applied = await withTenant(db.sql, tenantId, (tx) => advance(tx, request, outcome));
    if (applied) return { ...outcome, duplicate: false };
    if (attempt >= 3) throw new Error('the reply sequence kept moving under this request; retry it');
  }
}

/** The most replies one `replyBatch` request may carry (docs/decisions/0012-batched-reply-flush.md). */
export const MAX_REPLY_BATCH = 100;

/** One reply of a batch: what differs from reply to reply. */
export type BatchedReply = Pick<
  ReplyRequest,
  'sequence' | 'clientMessageId' | 'conversationId' | 'content' | 'tag'
>;

/** A run of one client's numbered replies, in increasing sequence order. */
export interface ReplyBatchRequest extends Omit<ReplyRequest, keyof BatchedReply> {
  readonly replies: readonly BatchedReply[];
}

/**
 * The answers of a batch, one per reply in order, up to the first `out-of-order` answer (which is
 * the last one) or the first error (the replies from there on are not answered: resend them).
 */
export interface ReplyBatchAnswer {
  readonly answers: readonly ReplyAnswer[];
}

/**
 * Applies a batch reply by reply, each exactly as `sendReply` would (its own transaction, its own
 * stored answer), and stops at the first `out-of-order` answer or error. An error at the first
 * reply is thrown, as `conversations.reply` would throw it; a later one ends the batch early so
 * the answers for the replies already applied still reach the client, and is passed to `onStop`.
 */
export async function sendReplyBatch(
  services: ReplyServices,
  batch: ReplyBatchRequest,
  onStop: (error: unknown, reply: BatchedReply) => void = () => undefined,
): Promise<ReplyBatchAnswer> {
  const { replies, ...common } = batch;
  const { templates, last } = await withTenant(services.db.sql, batch.tenantId, async (tx) => ({
    templates: await loadTemplates(tx),
    last: await lastSequence(tx, batch),
  }));
  const run = await runFrom(services, batch, last);
  const tried = run.length >= 2; // one reply alone is as cheap through `sendReply`
  const answers: ReplyAnswer[] = tried ? await sendRunTogether(services, batch, run, templates) : [];
  for (const reply of replies.slice(answers.length)) {
    const previous = answers.at(-1);
    // After a reply this batch applied (not a duplicate), the number stands at that reply's. Before
    // the first, it is the number read above, unless a unit was tried (it may have moved it).
    const lastSequence = previous
      ? previous.kind !== 'out-of-order' && !previous.duplicate
        ? previous.sequence
        : undefined
      : tried
        ? undefined
        : last;
    let answer: ReplyAnswer;
    try {
      answer = await sendReply(services, { ...common, ...reply }, { lastSequence, templates });
    } catch (error) {
      if (answers.length === 0) throw error;
      onStop(error, reply);
      break;
    }
    answers.push(answer);
    if (answer.kind === 'out-of-order') break;
  }
  return { answers };
}

/**
 * The replies a batch starts with that follow the client's last applied number (`last`) without a
 * gap, to conversations that exist. A conversation that does not exist ends the run: refusing it
 * is `sendReply`'s, as it would alone.
 */
async function runFrom(
  services: ReplyServices,
  batch: ReplyBatchRequest,
  last: number,
): Promise<BatchedReply[]> {
  const run: BatchedReply[] = [];
  const exists = new Map<string, boolean>();
  for (const reply of batch.replies) {
    if (reply.sequence !== last + 1 + run.length) break;
    let known = exists.get(reply.conversationId);
    if (known === undefined) {
      known =
        (await services.grains.conversation(batch.tenantId, reply.conversationId).read()).state !== null &&
        (!batch.inScope || (await batch.inScope(reply.conversationId)));
      exists.set(reply.conversationId, known);
    }
    if (!known) break;
    run.push(reply);
  }
  return run;
}

/**
 * The fast path of a batch: its run (`runFrom`) applied as ONE unit. Every conversation decides its replies in
 * order in its own turn (`conversationsTogether`), and their events, their outbox rows, the
 * client's number moved over the whole run and each reply's stored answer commit in one
 * transaction, or nothing does. The answers are the ones `sendReply` would give one by one.
 * Returns them, or none when the unit could not be applied (the number moved under it, a
 * conflict): `sendReply` then takes every reply, and answers anything this unit committed from the
 * stored answers.
 */
async function sendRunTogether(
  services: ReplyServices,
  batch: ReplyBatchRequest,
  run: readonly BatchedReply[],
  templates: MessageTemplate[],
): Promise<ReplyAnswer[]> {
  const { db, grains } = services;
  const { tenantId } = batch;
  const byConversation = new Map<string, BatchedReply[]>();
  for (const reply of run) {
    const replies = byConversation.get(reply.conversationId) ?? [];
    replies.push(reply);
    byConversation.set(reply.conversationId, replies);
  }
  const cursors = await tenantCursors(db, tenantId);
  const outcomesOf = (results: readonly JointResult<ConversationState, ConversationEvent>[]) => {
    const outcomes = new Map<BatchedReply, ReplyOutcome>();
    for (const result of results) {
      let version = result.baseVersion;
      byConversation.get(result.id)!.forEach((reply, i) => {
        const outcome = result.outcomes[i]!;
        const base = {
          sequence: reply.sequence,
          clientMessageId: reply.clientMessageId,
          conversationId: reply.conversationId,
        };
        if (!outcome.ok) {
          // Only the rules' refusals are answers; anything else stops the unit (and `sendReply` says it).
          if (!isDomainError(outcome.error)) throw outcome.error;
          outcomes.set(reply, refusal(base, outcome.error));
          return;
        }
        const lastEvent = outcome.events.at(-1);
        // No events: this message id was queued before, so there is no new event to point at.
        if (lastEvent) version = lastEvent.version;
        outcomes.set(reply, {
          kind: 'accepted',
          ...base,
          version,
          cursor: lastEvent ? cursors.seal(lastEvent.checkpoint) : null,
        });
      });
    }
    return run.map((reply) => ({ clientMessageId: reply.clientMessageId, outcome: outcomes.get(reply)! }));
  };

  let answered: { clientMessageId: string; outcome: ReplyOutcome }[] | undefined;
  try {
    const results = await grains.conversationsTogether(
      tenantId,
      [...byConversation].map(([id, replies]) => ({
        id,
        commands: replies.map((reply): ConversationCommand => ({
          type: 'QueueReply',
          data: {
            clientMessageId: reply.clientMessageId,
            agentId: batch.agentId,
            content: reply.content,
            tag: reply.tag,
            now: batch.now,
            templates,
          },
        })),
      })),
      {
        metadata: batch.metadata,
        withinTransaction: async (tx, written) => {
          const outcomes = outcomesOf(written);
          // Throwing aborts the unit: the replies, their outbox rows and the numbers commit together.
          if (!(await advanceRun(tx, batch, outcomes))) throw new SequenceMovedError();
          await writeOutboxRows(
            tx,
            written.map(({ streamId, outcomes: done }) => ({
              tenantId,
              streamId,
              events: done.flatMap((outcome) => (outcome.ok ? outcome.events : [])),
            })),
          );
          answered = outcomes;
        },
      },
    );
    if (!answered) {
      // Nothing to append (every reply refused, or queued before): the numbers move on their own.
      const outcomes = outcomesOf(results);
      if (!(await withTenant(db.sql, tenantId, (tx) => advanceRun(tx, batch, outcomes)))) return [];
      answered = outcomes;
    }
  } catch (error) {
    // Nothing of the unit committed (or it did and the stored answers say so): one by one instead.
    // A resend racing its own batch moves the number first; anything else is worth a look.
    const raced = error instanceof SequenceMovedError;
    services.logger?.[raced ? 'debug' : 'warn'](
      { err: error, clientId: batch.clientId, replies: run.length },
      'a batch of replies is applied one by one: its run could not commit as one unit',
    );
    return [];
  }
  return answered.map(({ outcome }) => ({ ...outcome, duplicate: false }));
}

/** The answer for a reply the rules refused. */
function refusal(
  base: Pick<ReplyRefused, 'sequence' | 'clientMessageId' | 'conversationId'>,
  error: DomainError,
): ReplyRefused {
  return {
    kind: 'refused',
    ...base,
    code: error.code,
    rule: error.details.rule ?? null,
    message: error.message,
    hint: error.details.hint ?? null,
  };
}

type ClientKey = Pick<ReplyRequest, 'tenantId' | 'agentId' | 'clientId'>;

async function lastSequence(tx: SqlQueryable, key: ClientKey): Promise<number> {
  const rows = await tx.query<{ last: string }>(
    `SELECT last_sequence::text AS last FROM client_sequences
      WHERE tenant_id = $1 AND agent_id = $2 AND client_id = $3`,
    [key.tenantId, key.agentId, key.clientId],
  );
  return rows[0] ? Number(rows[0].last) : 0;
}

/**
 * Moves the client's last applied number from `sequence - 1` to `sequence` and stores the answer;
 * false (and no change) when the number has already moved.
 */
function advance(tx: SqlQueryable, request: ReplyRequest, outcome: ReplyOutcome): Promise<boolean> {
  return advanceRun(tx, request, [{ clientMessageId: request.clientMessageId, outcome }]);
}

/**
 * Moves the client's last applied number over a run of consecutive numbers, from the first one's
 * predecessor to the last one, and stores each answer; false (and no change) when the number is no
 * longer where the run starts.
 */
async function advanceRun(
  tx: SqlQueryable,
  key: ClientKey,
  run: readonly { readonly clientMessageId: string; readonly outcome: ReplyOutcome }[],
): Promise<boolean> {
  const first = run[0]!.outcome.sequence;
  const last = first + run.length - 1;
  const client = [key.tenantId, key.agentId, key.clientId];
  const moved =
    first === 1
      ? await tx.query(
          `INSERT INTO client_sequences (tenant_id, agent_id, client_id, last_sequence)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`,
          [...client, last],
        )
      : await tx.query(
          `UPDATE client_sequences SET last_sequence = $4, updated_at = now()
            WHERE tenant_id = $1 AND agent_id = $2 AND client_id = $3 AND last_sequence = $5::bigint
          RETURNING 1`,
          [...client, last, first - 1],
        );
  if (moved.length === 0) return false;
  await tx.query(
    `INSERT INTO client_replies (tenant_id, agent_id, client_id, sequence, client_message_id, outcome)
     SELECT $1, $2, $3, x.sequence, x.message, x.outcome
       FROM jsonb_to_recordset($4::jsonb) AS x(sequence bigint, message text, outcome jsonb)`,
    [
      ...client,
      JSON.stringify(
        run.map(({ clientMessageId, outcome }) => ({
          sequence: outcome.sequence,
          message: clientMessageId,
          outcome,
        })),
      ),
    ],
  );
  return true;
}

async function storedAnswer(db: Database, request: ReplyRequest): Promise<ReplyAnswer> {
  const rows = await withTenant(db.sql, request.tenantId, (tx) =>
    tx.query<{ client_message_id: string; outcome: ReplyOutcome }>(
      `SELECT client_message_id, outcome FROM client_replies
        WHERE tenant_id = $1 AND agent_id = $2 AND client_id = $3 AND sequence = $4`,
      [request.tenantId, request.agentId, request.clientId, request.sequence],
    ),
  );
  const stored = rows[0];
  if (!stored || stored.client_message_id !== request.clientMessageId) {
    throw new DomainError(
      ReplyErrorCode.SEQUENCE_REUSED,
      `sequence ${request.sequence} of this client was applied to another message`,
      { hint: 'number each reply once; start a new client id if the outbox lost its numbering' },
    );
  }
  return { ...stored.outcome, duplicate: true };
}

async function loadTemplates(tx: SqlQueryable): Promise<MessageTemplate[]> {
  const rows = await tx.query<{ name: string; language: string; approved: boolean; param_count: number }>(
    'SELECT name, language, approved, param_count FROM message_templates ORDER BY name, language',
  );
  return rows.map((row) => ({
    name: row.name,
    language: row.language,
    approved: row.approved,
    paramCount: row.param_count,
  }));
}
