import type { MessageTag, ReplyContent, TenantId } from '@parley/domain';
import type { SqlQueryable } from '../../db/driver';

/** A reply as the outbox keeps it. */
export interface OutboxReply {
  readonly content: ReplyContent;
  readonly tag: MessageTag | null;
}

/** A row claimed for sending. */
export interface OutboxRow {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly conversationId: string;
  readonly clientMessageId: string;
  readonly channelId: string | null;
  readonly recipient: string | null;
  readonly reply: OutboxReply;
  /** Counting this one. */
  readonly attempts: number;
  /**
   * An earlier attempt began its request and its sender died before recording the outcome (SD):
   * the platform may already have the reply.
   */
  readonly inDoubt?: boolean;
}

/** Where an outbox row stands. */
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead';

/** Outbox rows by status, for the developer panel and tests. */
export type OutboxCounts = Readonly<Record<OutboxStatus, number>>;

/** An outbox row as an admin sees it: the reply as it was to be sent, and how it stands. */
export interface OutboxLetter extends OutboxRow {
  readonly status: OutboxStatus;
  readonly error: string | null;
  readonly nextAttemptAt: number;
  readonly createdAt: number;
}

interface LetterRow {
  status: OutboxStatus;
  last_error: string | null;
  next_attempt_at: Date;
  created_at: Date;
}

interface Row {
  id: string;
  tenant_id: TenantId;
  conversation_id: string;
  client_message_id: string;
  channel_id: string | null;
  recipient: string | null;
  reply: OutboxReply;
  attempts: number;
  send_started_at?: Date | null;
}

/** The key the breaker and the claim query use for a channel. */
export function channelKey(tenantId: string, channelId: string): string {
  return `${tenantId}/${channelId}`;
}

/**
 * The ids of each conversation's earliest unfinished (pending or sending) row: a walk down the
 * `channel_outbox_open` index that jumps from one conversation to the next, so it costs one index
 * descent per conversation with open rows however many rows queue behind each head.
 */
const OPEN_HEADS = `
  WITH RECURSIVE heads AS (
    (SELECT tenant_id, conversation_id, id FROM channel_outbox
      WHERE status IN ('pending', 'sending')
      ORDER BY tenant_id, conversation_id, id LIMIT 1)
    UNION ALL
    SELECT next.tenant_id, next.conversation_id, next.id
      FROM heads h CROSS JOIN LATERAL (
        SELECT tenant_id, conversation_id, id FROM channel_outbox
         WHERE status IN ('pending', 'sending')
           AND (tenant_id, conversation_id) > (h.tenant_id, h.conversation_id)
         ORDER BY tenant_id, conversation_id, id LIMIT 1) AS next
  )
  SELECT id FROM heads`;

/** A reply to write to the outbox. */
export interface NewOutboxRow {
  readonly tenantId: TenantId;
  readonly conversationId: string;
  readonly clientMessageId: string;
  readonly reply: OutboxReply;
}

/**
 * Writes replies' outbox rows inside the transaction of their `ReplyQueued` events, in one
 * statement, routed by each conversation's `channel_contacts` row (a conversation without one gets
 * a row with no channel, which the dispatcher fails visibly rather than dropping). Rows are
 * numbered in the order given, which is the order the dispatcher sends a conversation's replies.
 */
export async function insertOutboxRows(tx: SqlQueryable, rows: readonly NewOutboxRow[]): Promise<void> {
  if (rows.length === 0) return;
  const document = JSON.stringify(
    rows.map((row, o) => ({
      o,
      t: row.tenantId,
      c: row.conversationId,
      m: row.clientMessageId,
      r: row.reply,
    })),
  );
  await tx.query(
    `INSERT INTO channel_outbox (tenant_id, conversation_id, client_message_id, channel_id, recipient, reply)
     SELECT x.t, x.c, x.m, c.channel_id, c.contact_id, x.r
       FROM jsonb_to_recordset($1::jsonb) AS x(o int, t text, c text, m text, r jsonb)
       LEFT JOIN channel_contacts c ON c.tenant_id = x.t AND c.conversation_id = x.c
      ORDER BY x.o
     ON CONFLICT (tenant_id, conversation_id, client_message_id) DO NOTHING`,
    [document],
  );
}

/** The `channel_outbox` table, as the dispatcher uses it. */
export class OutboxStore {
  constructor(
    private readonly sql: SqlQueryable,
    /** The lease owner this process's claims name (`LeaseOwner.id`); null leaves leases unnamed. */
    private readonly owner: string | null = null,
  ) {}

  /**
   * Claims up to `limit` rows that may be sent now: due, on a channel not in `blocked`, and the
   * earliest unfinished row of their conversation, so a later reply always waits for an earlier one.
   * Only the conversations' first open rows are looked at (`OPEN_HEADS`), so a long queue behind a
   * reply in flight costs nothing here.
   */
  async claim(limit: number, now: number, leaseMs: number, blocked: readonly string[]): Promise<OutboxRow[]> {
    const rows = await this.sql.query<Row>(
      `UPDATE channel_outbox SET status = 'sending', attempts = attempts + 1, locked_until = $3, locked_by = $5
        WHERE id IN (
          SELECT o.id FROM channel_outbox o
           WHERE o.id = ANY(ARRAY(${OPEN_HEADS}))
             AND ((o.status = 'pending' AND o.next_attempt_at <= $2)
               OR (o.status = 'sending' AND o.locked_until < $2))
             AND NOT (coalesce(o.tenant_id || '/' || o.channel_id, '') = ANY($4::text[]))
           ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id::text AS id, tenant_id, conversation_id, client_message_id, channel_id,
                  recipient, reply, attempts, send_started_at`,
      [limit, new Date(now), new Date(now + leaseMs), blocked, this.owner],
    );
    return rows.map(toOutboxRow).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  }

  /**
   * Records that a send's request is about to go out (SD): if this process dies before the outcome
   * is recorded, the next claimer knows the platform may have the reply (`OutboxRow.inDoubt`).
   */
  async attempting(id: string, now: number): Promise<void> {
    await this.sql.query(`UPDATE channel_outbox SET send_started_at = $2 WHERE id = $1`, [id, new Date(now)]);
  }

  /** Puts a claimed row back for `at` without counting the attempt (a 429, an open breaker). */
  async release(id: string, at: number, reason: string | null): Promise<void> {
    await this.sql.query(
      `UPDATE channel_outbox SET status = 'pending', attempts = greatest(attempts - 1, 0),
              next_attempt_at = $2, locked_until = NULL, locked_by = NULL, send_started_at = NULL,
              last_error = coalesce($3, last_error)
        WHERE id = $1`,
      [id, new Date(at), reason],
    );
  }

  /** Schedules another attempt at `at` after a failed one. */
  async retryAt(id: string, at: number, error: string): Promise<void> {
    await this.sql.query(
      `UPDATE channel_outbox SET status = 'pending', next_attempt_at = $2, locked_until = NULL, locked_by = NULL,
              send_started_at = NULL, last_error = $3
        WHERE id = $1`,
      [id, new Date(at), error.slice(0, 2000)],
    );
  }

  /** Records a send (in `tx`, the transaction of its `ReplySent`, when given). */
  async sent(id: string, platformMessageId: string, now: number, tx: SqlQueryable = this.sql): Promise<void> {
    await tx.query(
      `UPDATE channel_outbox SET status = 'sent', platform_message_id = $2, sent_at = $3,
              locked_until = NULL, locked_by = NULL, send_started_at = NULL, last_error = NULL
        WHERE id = $1`,
      [id, platformMessageId, new Date(now)],
    );
  }

  /**
   * Ends a row: `failed` (refused, or the window closed) or `dead` (gave up after retries); in `tx`,
   * the transaction of its `ReplyFailed`, when given.
   */
  async finish(
    id: string,
    status: 'failed' | 'dead',
    error: string,
    tx: SqlQueryable = this.sql,
  ): Promise<void> {
    await tx.query(
      `UPDATE channel_outbox SET status = $2, locked_until = NULL, locked_by = NULL, send_started_at = NULL,
              last_error = $3
        WHERE id = $1`,
      [id, status, error.slice(0, 2000)],
    );
  }

  /** A sent reply the platform failed later (a WhatsApp `failed` status). */
  async failedAfterSend(tenantId: string, platformMessageId: string, error: string): Promise<void> {
    await this.sql.query(
      `UPDATE channel_outbox SET status = 'failed', last_error = $3
        WHERE tenant_id = $1 AND platform_message_id = $2`,
      [tenantId, platformMessageId, error.slice(0, 2000)],
    );
  }

  /**
   * The conversation each of these sent replies belongs to, by the platform's message id: a receipt
   * names the message it is about, which settles the conversation even where the recipient's id
   * would not (a conversation made without a webhook, such as the demo seed's).
   */
  async conversationsOf(
    tenantId: string,
    platformMessageIds: readonly string[],
    channelId: string,
    recipient: string,
  ): Promise<Map<string, string>> {
    if (platformMessageIds.length === 0) return new Map();
    // IN13: only replies sent to this contact on this channel; another customer's stay theirs.
    const rows = await this.sql.query<{ platform_message_id: string; conversation_id: string }>(
      `SELECT platform_message_id, conversation_id FROM channel_outbox
        WHERE tenant_id = $1 AND platform_message_id = ANY($2::text[])
          AND channel_id = $3 AND recipient = $4`,
      [tenantId, [...platformMessageIds], channelId, recipient],
    );
    return new Map(rows.map((row) => [row.platform_message_id, row.conversation_id]));
  }

  /** Whether a reply to this contact on this channel is being sent now, its platform id not yet known (IN14). */
  async sendingTo(tenantId: string, channelId: string, recipient: string): Promise<boolean> {
    const rows = await this.sql.query<{ one: number }>(
      `SELECT 1 AS one FROM channel_outbox
        WHERE status = 'sending' AND tenant_id = $1 AND channel_id = $2 AND recipient = $3 LIMIT 1`,
      [tenantId, channelId, recipient],
    );
    return rows.length > 0;
  }

  /** Platform ids of a conversation's replies sent up to a watermark (Messenger's receipts). */
  async sentUpTo(tenantId: string, conversationId: string, watermark: number): Promise<string[]> {
    const rows = await this.sql.query<{ platform_message_id: string }>(
      `SELECT platform_message_id FROM channel_outbox
        WHERE tenant_id = $1 AND conversation_id = $2 AND platform_message_id IS NOT NULL AND sent_at <= $3
        ORDER BY id`,
      [tenantId, conversationId, new Date(watermark)],
    );
    return rows.map((r) => r.platform_message_id);
  }

  /** Milliseconds until the first conversation head is due (0 if one is due), or undefined when none waits. */
  async nextDueIn(now: number): Promise<number | undefined> {
    const rows = await this.sql.query<{ at: Date | null }>(
      `SELECT min(least(CASE WHEN status = 'pending' THEN next_attempt_at END,
                        CASE WHEN status = 'sending' THEN locked_until END)) AS at
         FROM channel_outbox WHERE id = ANY(ARRAY(${OPEN_HEADS}))`,
    );
    const at = rows[0]?.at;
    return at ? Math.max(0, at.getTime() - now) : undefined;
  }

  /** A tenant's replies that gave up (`dead`) or were refused (`failed`), newest first, with what was to be sent. */
  async deadLetters(tenantId: string, limit = 100): Promise<OutboxLetter[]> {
    return this.letters(tenantId, ['dead', 'failed'], limit);
  }

  /** A tenant's latest rows in any status: the developer panel's live view of retries. */
  async recent(tenantId: string, limit = 10): Promise<OutboxLetter[]> {
    return this.letters(tenantId, null, limit);
  }

  private async letters(
    tenantId: string,
    statuses: readonly OutboxStatus[] | null,
    limit: number,
  ): Promise<OutboxLetter[]> {
    const rows = await this.sql.query<Row & LetterRow>(
      `SELECT id::text AS id, tenant_id, conversation_id, client_message_id, channel_id, recipient, reply,
              attempts, status, last_error, next_attempt_at, created_at
         FROM channel_outbox
        WHERE tenant_id = $1 AND ($2::text[] IS NULL OR status = ANY($2::text[]))
        ORDER BY id DESC LIMIT $3`,
      [tenantId, statuses, limit],
    );
    return rows.map((r) => ({
      ...toOutboxRow(r),
      status: r.status,
      error: r.last_error,
      nextAttemptAt: r.next_attempt_at.getTime(),
      createdAt: r.created_at.getTime(),
    }));
  }

  /** How many rows are in each status. */
  async counts(tenantId?: string): Promise<OutboxCounts> {
    const rows = await this.sql.query<{ status: keyof OutboxCounts; n: number }>(
      `SELECT status, count(*)::int AS n FROM channel_outbox
        WHERE ($1::text IS NULL OR tenant_id = $1) GROUP BY status`,
      [tenantId ?? null],
    );
    const counts = { pending: 0, sending: 0, sent: 0, failed: 0, dead: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }
}

function toOutboxRow(r: Row): OutboxRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    conversationId: r.conversation_id,
    clientMessageId: r.client_message_id,
    channelId: r.channel_id,
    recipient: r.recipient,
    reply: r.reply,
    attempts: r.attempts,
    ...(r.send_started_at ? { inDoubt: true } : {}),
  };
}
