import { createHash } from 'node:crypto';
import type { TenantId } from '@parley/domain';
import type { SqlQueryable } from '../../db/driver';
import type { AppKind } from '../types';

/** A delivery claimed for processing. */
export interface InboxRow {
  readonly id: string;
  readonly tenantId: TenantId;
  readonly appId: string;
  readonly kind: AppKind;
  readonly subject: string | null;
  readonly body: string;
  readonly attempts: number;
  readonly receivedAt: number;
}

/** A dead letter as an admin sees it. */
export interface DeadLetter {
  readonly id: string;
  readonly tenantId: string;
  readonly appId: string;
  readonly kind: AppKind;
  readonly attempts: number;
  readonly errorCode: string | null;
  readonly error: string | null;
  readonly receivedAt: Date;
  readonly body: string;
}

interface PendingRecord {
  readonly tenantId: TenantId;
  readonly appId: string;
  readonly kind: AppKind;
  readonly subject: string | null;
  readonly body: string;
  readonly dedupeKey: string;
}

interface Row {
  id: string;
  tenant_id: TenantId;
  app_id: string;
  kind: AppKind;
  subject: string | null;
  body: string;
  attempts: number;
  received_at: Date;
}

/** The `webhook_inbox` table: the durable record of every signed delivery until it is processed. */
export class InboxStore {
  private readonly queue: (PendingRecord & {
    resolve: (row: InboxRow | undefined) => void;
    reject: (error: unknown) => void;
  })[] = [];
  private writing = false;

  constructor(
    private readonly sql: SqlQueryable,
    private readonly clock: () => number = Date.now,
    private readonly leaseMs = 60_000,
    /** The lease owner this process's claims name (`LeaseOwner.id`); null leaves leases unnamed. */
    private readonly owner: string | null = null,
  ) {}

  /**
   * Records a delivery and returns its row; undefined when the very same delivery was recorded before (a platform's retry).
   * Deliveries that arrive while an insert runs go into the next one together, so a burst costs a
   * few statements instead of one per webhook (the same group commit as the event store's).
   * A new row is written already claimed by this process for `leaseMs` and handed back, so it is
   * processed at once without a claim query; if this process dies, its successor frees the row at
   * start (the lease names this process, SC), or any process once the lease runs out.
   */
  record(delivery: {
    tenantId: TenantId;
    appId: string;
    kind: AppKind;
    subject: string | null;
    body: Buffer;
  }): Promise<InboxRow | undefined> {
    const dedupeKey = createHash('sha256')
      .update(delivery.subject ?? '')
      .update('\u0000')
      .update(delivery.body)
      .digest('hex');
    return new Promise((resolve, reject) => {
      this.queue.push({ ...delivery, body: delivery.body.toString('utf8'), dedupeKey, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // Waiting one turn of the event loop lets the requests read in this turn join one insert:
      // PGlite runs statements on this thread, so without it nothing would ever be waiting.
      setImmediate(() => void this.pump());
    });
  }

  private async pump(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, 256);
        try {
          const rows = await this.sql.query<{
            id: string;
            app_id: string;
            dedupe_key: string;
            received_at: Date;
          }>(
            `INSERT INTO webhook_inbox (tenant_id, app_id, kind, subject, body, dedupe_key,
                                        status, attempts, locked_until, locked_by)
             SELECT t, a, k, s, b, d, 'processing', 1, $7, $8
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) AS v(t, a, k, s, b, d)
             ON CONFLICT (app_id, dedupe_key) DO NOTHING
             RETURNING id::text AS id, app_id, dedupe_key, received_at`,
            [
              batch.map((d) => d.tenantId),
              batch.map((d) => d.appId),
              batch.map((d) => d.kind),
              batch.map((d) => d.subject),
              batch.map((d) => d.body),
              batch.map((d) => d.dedupeKey),
              new Date(this.clock() + this.leaseMs),
              this.owner,
            ],
          );
          // The first of identical deliveries in a batch is the new one; the rest are repeats.
          const fresh = new Map(rows.map((r) => [`${r.app_id}/${r.dedupe_key}`, r]));
          for (const delivery of batch) {
            const key = `${delivery.appId}/${delivery.dedupeKey}`;
            const row = fresh.get(key);
            fresh.delete(key);
            delivery.resolve(
              row && {
                id: row.id,
                tenantId: delivery.tenantId,
                appId: delivery.appId,
                kind: delivery.kind,
                subject: delivery.subject,
                body: delivery.body,
                attempts: 1,
                receivedAt: row.received_at.getTime(),
              },
            );
          }
        } catch (error) {
          for (const delivery of batch) delivery.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /**
   * Claims up to `limit` due deliveries, oldest first, for `leaseMs`. SKIP LOCKED lets several
   * processes claim at once without waiting on each other; a crashed claimer's rows are freed by
   * `LeaseOwner` (or its lease runs out). A row that failed is not claimed while an earlier row of
   * one of its conversations is unfinished, in whichever process (LE2).
   */
  async claim(limit: number, now: number, leaseMs: number): Promise<InboxRow[]> {
    const rows = await this.sql.query<Row>(
      `UPDATE webhook_inbox SET status = 'processing', attempts = attempts + 1, locked_until = $3,
              locked_by = $4
        WHERE id IN (
          SELECT w.id FROM webhook_inbox w
           WHERE ((w.status = 'pending' AND w.next_attempt_at <= $2)
               OR (w.status = 'processing' AND w.locked_until < $2))
             -- LE2: a row that failed waits while an earlier row of its conversations is open.
             AND (w.conversation_ids IS NULL OR NOT EXISTS (
                   SELECT 1 FROM webhook_inbox e
                    WHERE e.status IN ('pending', 'processing') AND e.id < w.id
                      AND e.conversation_ids && w.conversation_ids))
           ORDER BY w.id LIMIT $1 FOR UPDATE OF w SKIP LOCKED)
        RETURNING id::text AS id, tenant_id, app_id, kind, subject, body, attempts, received_at`,
      [limit, new Date(now), new Date(now + leaseMs), this.owner],
    );
    return rows
      .map((r) => ({
        id: r.id,
        tenantId: r.tenant_id,
        appId: r.app_id,
        kind: r.kind,
        subject: r.subject,
        body: r.body,
        attempts: r.attempts,
        receivedAt: r.received_at.getTime(),
      }))
      .sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  }

  /** Marks deliveries processed. */
  async processed(ids: readonly string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.sql.query(
      `UPDATE webhook_inbox SET status = 'processed', processed_at = $2, locked_until = NULL, locked_by = NULL,
              last_error_code = NULL, last_error = NULL
        WHERE id = ANY($1::bigint[])`,
      [ids, new Date(now)],
    );
  }

  /**
   * Puts a delivery back for another attempt at `at`, with the conversations it failed in: later
   * deliveries of those wait for it (`waiting`), also in the next process after a restart.
   */
  async retryAt(
    id: string,
    at: number,
    code: string,
    error: string,
    conversationIds: readonly string[] = [],
  ): Promise<void> {
    await this.sql.query(
      `UPDATE webhook_inbox SET status = 'pending', next_attempt_at = $2, locked_until = NULL, locked_by = NULL,
              last_error_code = $3, last_error = $4, conversation_ids = $5
        WHERE id = $1`,
      [
        id,
        new Date(at),
        code,
        error.slice(0, 2000),
        conversationIds.length > 0 ? [...conversationIds] : null,
      ],
    );
  }

  /** Unfinished deliveries known to hold conversations' earlier messages: id and conversation ids. */
  async waiting(): Promise<{ id: string; conversationIds: string[] }[]> {
    const rows = await this.sql.query<{ id: string; conversation_ids: string[] }>(
      `SELECT id::text AS id, conversation_ids FROM webhook_inbox
        WHERE status IN ('pending', 'processing') AND conversation_ids IS NOT NULL`,
    );
    return rows.map((r) => ({ id: r.id, conversationIds: r.conversation_ids }));
  }

  /** Gives up on a delivery: it stays, raw, as a dead letter. */
  async dead(id: string, code: string, error: string): Promise<void> {
    await this.sql.query(
      `UPDATE webhook_inbox SET status = 'dead', locked_until = NULL, locked_by = NULL, last_error_code = $2, last_error = $3
        WHERE id = $1`,
      [id, code, error.slice(0, 2000)],
    );
  }

  /** Dead letters, newest first; one tenant's, or every tenant's for the CLI. */
  async deadLetters(options: { tenantId?: string; limit?: number } = {}): Promise<DeadLetter[]> {
    const rows = await this.sql.query<Row & { last_error_code: string | null; last_error: string | null }>(
      `SELECT id::text AS id, tenant_id, app_id, kind, subject, body, attempts, received_at,
              last_error_code, last_error
         FROM webhook_inbox WHERE status = 'dead' AND ($1::text IS NULL OR tenant_id = $1)
        ORDER BY id DESC LIMIT $2`,
      [options.tenantId ?? null, options.limit ?? 100],
    );
    return rows.map((r) => ({
      id: r.id,
      tenantId: r.tenant_id,
      appId: r.app_id,
      kind: r.kind,
      attempts: r.attempts,
      errorCode: r.last_error_code,
      error: r.last_error,
      receivedAt: r.received_at,
      body: r.body,
    }));
  }

  /**
   * Puts a dead letter back in the queue with fresh attempts; false when `id` is not a dead letter
   * (of `tenantId`, when given: an admin replays only their own tenant's).
   */
  async replay(id: string, now: number, tenantId?: string): Promise<boolean> {
    if (!/^\d{1,18}$/.test(id)) return false;
    const rows = await this.sql.query(
      `UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = $2, locked_until = NULL
        WHERE id = $1 AND status = 'dead' AND ($3::text IS NULL OR tenant_id = $3) RETURNING id`,
      [id, new Date(now), tenantId ?? null],
    );
    return rows.length > 0;
  }

  /** Keeps a refused delivery's first bytes for inspection. */
  async reject(rejection: {
    tenantId: TenantId;
    appId: string;
    reason: 'malformed' | 'too_large';
    httpStatus: number;
    sizeBytes: number;
    excerpt: Buffer;
  }): Promise<void> {
    await this.sql.query(
      `INSERT INTO webhook_rejections (tenant_id, app_id, reason, http_status, size_bytes, excerpt)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        rejection.tenantId,
        rejection.appId,
        rejection.reason,
        rejection.httpStatus,
        rejection.sizeBytes,
        // NUL cannot live in a text column; the excerpt is for people to read.
        rejection.excerpt.subarray(0, 2048).toString('utf8').replaceAll('\u0000', '\uFFFD'),
      ],
    );
  }
}
