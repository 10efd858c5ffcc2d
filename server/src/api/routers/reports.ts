import { summarizeDurations, type DurationSummary } from '@parley/domain';
import { z } from 'zod';
import { withTenant } from '../../auth/tenant-scope';
import type { SqlQueryable } from '../../db/driver';
import { reportsProcedure, router, TRPCError, type AuthedContext } from '../trpc';

/**
 * Reports (#16), read from the analytics projection's tables (server/src/projections/analytics.ts),
 * never from the raw log. Admins only. Median, p90 and buckets are the domain's (AG1-AG3), over the
 * rows of the range; a date range is UTC days, both ends included.
 */
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a day is YYYY-MM-DD');
const DAY_MS = 86_400_000;
const MAX_DAYS = 366;

const range = z.object({
  from: day,
  to: day,
  /** Durations in calendar ms or within the inbox's business hours (24/7 while inboxes have none). */
  basis: z.enum(['calendar', 'business']).default('calendar'),
});
type Range = z.infer<typeof range>;

const dimension = z.enum(['agent', 'inbox', 'channel', 'label']);
type Dimension = z.infer<typeof dimension>;

export interface ReportCounters {
  readonly opened: number;
  readonly resolved: number;
  readonly reopened: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
}

export interface ReportCell {
  readonly counters: ReportCounters;
  readonly firstResponse: DurationSummary;
  readonly nextResponse: DurationSummary;
  readonly resolution: DurationSummary;
}

const ZERO: ReportCounters = { opened: 0, resolved: 0, reopened: 0, messagesIn: 0, messagesOut: 0 };

/** The range as [from, to + 1 day) instants, checked. */
function bounds(input: Range): { from: string; until: string } {
  const from = Date.parse(`${input.from}T00:00:00Z`);
  const until = Date.parse(`${input.to}T00:00:00Z`) + DAY_MS;
  if (!Number.isFinite(from) || !Number.isFinite(until) || until <= from) {
    throw new TRPCError({
      code: 'BAD_REQUEST',
      message: 'the range must run from a day to the same or a later day',
    });
  }
  if ((until - from) / DAY_MS > MAX_DAYS) {
    throw new TRPCError({ code: 'BAD_REQUEST', message: `a range spans at most ${MAX_DAYS} days` });
  }
  return { from: new Date(from).toISOString(), until: new Date(until).toISOString() };
}

/** SQL for a dimension's key over a table with inbox_id, platform, labels and an agent column. */
function keyOf(by: Dimension | null, agentColumn: string): { select: string; from: string } {
  switch (by) {
    case null:
      return { select: `''`, from: '' };
    case 'agent':
      return { select: agentColumn, from: '' };
    case 'inbox':
      return { select: 'inbox_id', from: '' };
    case 'channel':
      return { select: 'platform', from: '' };
    case 'label':
      return { select: 'label', from: ', unnest(labels) AS label' };
  }
}

async function report(
  tx: SqlQueryable,
  ctx: AuthedContext,
  input: Range,
  by: Dimension | null,
): Promise<Map<string, ReportCell>> {
  const { from, until } = bounds(input);
  const t = ctx.tenantId;
  const business = input.basis === 'business';
  const cells = new Map<
    string,
    { counters: ReportCounters; first: number[]; next: number[]; resolution: number[] }
  >();
  const cell = (key: string) => {
    let found = cells.get(key);
    if (!found) {
      found = { counters: { ...ZERO }, first: [], next: [], resolution: [] };
      cells.set(key, found);
    }
    return found;
  };
  const counters = await tx.query<{ key: string; o: number; r: number; ro: number; mi: number; mo: number }>(
    `SELECT key, sum(opened)::int AS o, sum(resolved)::int AS r, sum(reopened)::int AS ro,
            sum(messages_in)::int AS mi, sum(messages_out)::int AS mo
       FROM analytics_daily
      WHERE tenant_id = $1 AND dimension = $2 AND day >= $3::date AND day <= $4::date
      GROUP BY key ORDER BY key`,
    [t, by ?? 'tenant', input.from, input.to],
  );
  for (const row of counters) {
    cell(row.key).counters = {
      opened: row.o,
      resolved: row.r,
      reopened: row.ro,
      messagesIn: row.mi,
      messagesOut: row.mo,
    };
  }
  const ms = business ? 'business_ms' : 'calendar_ms';
  const response = keyOf(by, 'agent_id');
  const responses = await tx.query<{ key: string | null; kind: 'first' | 'next'; ms: string }>(
    `SELECT ${response.select} AS key, kind, ${ms}::text AS ms FROM analytics_responses${response.from}
      WHERE tenant_id = $1 AND replied_at >= $2 AND replied_at < $3`,
    [t, from, until],
  );
  for (const row of responses) {
    if (row.key === null) continue;
    (row.kind === 'first' ? cell(row.key).first : cell(row.key).next).push(Number(row.ms));
  }
  const cycle = keyOf(by, 'assignee_id');
  const resolutions = await tx.query<{ key: string | null; ms: string }>(
    `SELECT ${cycle.select} AS key, resolution_${ms}::text AS ms FROM analytics_cycles${cycle.from}
      WHERE tenant_id = $1 AND resolved_at >= $2 AND resolved_at < $3`,
    [t, from, until],
  );
  for (const row of resolutions) {
    if (row.key === null) continue;
    cell(row.key).resolution.push(Number(row.ms));
  }
  return new Map(
    [...cells]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => [
        key,
        {
          counters: value.counters,
          firstResponse: summarizeDurations(value.first),
          nextResponse: summarizeDurations(value.next),
          resolution: summarizeDurations(value.resolution),
        },
      ]),
  );
}

const EMPTY_CELL: ReportCell = {
  counters: ZERO,
  firstResponse: summarizeDurations([]),
  nextResponse: summarizeDurations([]),
  resolution: summarizeDurations([]),
};

export const reportsRouter = router({
  /** The tenant's counters and response and resolution times over a range. */
  overview: reportsProcedure.input(range).query(async ({ ctx, input }) => {
    const cells = await withTenant(ctx.services.db.sql, ctx.tenantId, (tx) => report(tx, ctx, input, null));
    return { range: input, ...(cells.get('') ?? EMPTY_CELL) };
  }),

  /** The same per agent, inbox, channel or label: one row per key that has data in the range. */
  metrics: reportsProcedure.input(range.extend({ by: dimension })).query(async ({ ctx, input }) => {
    const cells = await withTenant(ctx.services.db.sql, ctx.tenantId, (tx) =>
      report(tx, ctx, input, input.by),
    );
    return { range: input, by: input.by, rows: [...cells].map(([key, value]) => ({ key, ...value })) };
  }),
});
