import type { JsonValue } from '@parley/domain';
import { z } from 'zod';
import { auditSummary } from '../../audit/summary';
import { withTenant } from '../../auth/tenant-scope';
import { formatCheckpoint, parseCheckpoint } from '../../store/checkpoint';
import { tenantCursors } from '../../sync/cursor';
import { adminProcedure, router, TRPCError } from '../trpc';

/**
 * The audit view (#16, decision 0036): who changed what, read from the tenant's event log, newest
 * first. Admins only; every row is the caller's tenant's (the query names it and row-level security
 * holds it). A row shows the actor, the time, the stream, the type and a summary made of fields that
 * are never sealed (`audit/summary.ts`): what happened, not what a customer or an agent wrote.
 * A customer is shown as "Customer": their platform id (a phone number, perhaps) is personal.
 */

/** `agent:<id>`, `system`, `system:<id>` or `customer`: whose changes to show. */
const ACTOR = /^(agent|system):[A-Za-z0-9._:@-]{1,100}$|^(system|customer)$/;

const input = z.object({
  /** The `next` of the previous page; absent for the newest. */
  cursor: z.string().max(200).nullish(),
  limit: z.number().int().min(1).max(100).default(50),
  actor: z.string().regex(ACTOR, 'an actor is agent:<id>, system, system:<id> or customer').optional(),
  /** A conversation's events and its card's. */
  conversationId: z.string().min(1).max(200).optional(),
  /** Any one stream (`inbox-support`, `workflow-sales`, `contact-…`). */
  streamId: z.string().min(1).max(300).optional(),
});

interface Row {
  readonly event_id: string;
  readonly stream_id: string;
  readonly version: number;
  readonly type: string;
  readonly data: JsonValue;
  readonly metadata: { actor?: JsonValue } | null;
  readonly recorded_at: Date | string;
  readonly tx: string;
  readonly pos: string;
}

export interface AuditActor {
  readonly kind: 'agent' | 'system' | 'customer' | 'unknown';
  /** Null for a customer (personal) and when the event names no actor. */
  readonly id: string | null;
  readonly name: string;
}

function actorOf(value: JsonValue | undefined, nameOf: (id: string) => string): AuditActor {
  // An erasure or an export names its actor as a bare id (`ada`, or `cli:<user>` from the CLI).
  if (typeof value === 'string') {
    return value.startsWith('cli:')
      ? { kind: 'system', id: value, name: `Command line (${value.slice(4)})` }
      : { kind: 'agent', id: value, name: nameOf(value) };
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const id = typeof value.id === 'string' ? value.id : null;
    switch (value.kind) {
      case 'agent':
        return { kind: 'agent', id, name: id ? nameOf(id) : 'An agent' };
      case 'system':
        return { kind: 'system', id, name: id ? `System (${id})` : 'System' };
      case 'customer':
        return { kind: 'customer', id: null, name: 'Customer' };
      default:
        break;
    }
  }
  return { kind: 'unknown', id: null, name: 'Unknown' };
}

/** The stream's category and, for a conversation or its card, the conversation's id. */
function streamOf(streamId: string): { readonly category: string; readonly conversationId: string | null } {
  const dash = streamId.indexOf('-');
  const category = dash > 0 ? streamId.slice(0, dash) : streamId;
  const conversationId = category === 'conversation' || category === 'card' ? streamId.slice(dash + 1) : null;
  return { category, conversationId };
}

export const auditRouter = router({
  /** A page of the tenant's log, newest first, filtered by actor and by conversation or stream. */
  log: adminProcedure.input(input).query(async ({ ctx, input }) => {
    const db = ctx.services.db;
    const cursors = await tenantCursors(db, ctx.tenantId);
    let before: { tx: bigint; position: bigint } | null = null;
    if (input.cursor) {
      const opened = cursors.open(input.cursor);
      if (opened.kind !== 'checkpoint') {
        throw new TRPCError({
          code: 'BAD_REQUEST',
          message: 'this audit cursor was not issued for this workspace',
        });
      }
      before = parseCheckpoint(opened.checkpoint);
    }
    const where = ['tenant_id = $1'];
    const params: unknown[] = [ctx.tenantId];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (input.conversationId) {
      where.push(
        `stream_id IN (${param(`conversation-${input.conversationId}`)}, ${param(`card-${input.conversationId}`)})`,
      );
    }
    if (input.streamId) where.push(`stream_id = ${param(input.streamId)}`);
    if (input.actor) {
      const [kind, ...rest] = input.actor.split(':');
      const id = rest.length > 0 ? rest.join(':') : null;
      if (kind === 'agent' && id !== null) {
        // An erasure or an export names the agent as a bare string (see actorOf).
        const p = param(id);
        where.push(`(metadata->'actor'->>'kind' = 'agent' AND metadata->'actor'->>'id' = ${p}
                     OR metadata->>'actor' = ${p})`);
      } else {
        where.push(`metadata->'actor'->>'kind' = ${param(kind)}`);
        if (id !== null) where.push(`metadata->'actor'->>'id' = ${param(id)}`);
      }
    }
    if (before) {
      where.push(
        `(tx_id, position) < (${param(before.tx.toString())}::xid8, ${param(before.position.toString())}::bigint)`,
      );
    }
    const limit = input.limit;
    const { rows, names } = await withTenant(db.sql, ctx.tenantId, async (tx) => ({
      rows: await tx.query<Row>(
        `SELECT event_id::text AS event_id, stream_id, version, type, data, metadata, recorded_at,
                tx_id::text AS tx, position::text AS pos
           FROM events WHERE ${where.join(' AND ')}
          ORDER BY tx_id DESC, position DESC LIMIT ${param(limit + 1)}`,
        params,
      ),
      names: await tx.query<{ id: string; name: string }>(
        'SELECT id, name FROM agents WHERE tenant_id = $1',
        [ctx.tenantId],
      ),
    }));
    const byId = new Map(names.map((agent) => [agent.id, agent.name]));
    const nameOf = (id: string) => byId.get(id) ?? id;
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      entries: page.map((row) => {
        const { category, conversationId } = streamOf(row.stream_id);
        return {
          id: row.event_id,
          at: new Date(row.recorded_at).toISOString(),
          streamId: row.stream_id,
          category,
          conversationId,
          version: row.version,
          type: row.type,
          actor: actorOf(row.metadata?.actor, nameOf),
          summary: auditSummary(row.type, row.data, nameOf),
        };
      }),
      /** Pass back as `cursor` for the next (older) page; null on the last page. */
      next: rows.length > limit && last ? cursors.seal(formatCheckpoint(last.tx, last.pos)) : null,
    };
  }),
});
