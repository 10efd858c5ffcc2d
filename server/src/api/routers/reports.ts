import { DURATION_BUCKETS, summarizeDurations, type DurationSummary } from '@parley/domain';
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

const EMPTY_CELL: ReportCell = {
  counters: ZERO,
  firstResponse: summarizeDurations([]),
  nextResponse: summarizeDurations([]),
  resolution: summarizeDurations([]),
};

/**
 * Count, median, p90 and buckets of a duration column, computed in SQL (AG1-AG3): `percentile_disc`
 * is the domain's nearest rank, and the buckets are the domain's `DURATION_BUCKETS` (a negative
 * duration counts in the first), so the answer equals `summarizeDurations` over the same rows
 * without sending them to the server (issue #16: report query p99).
 */
function durationColumns(column: string): string {
  const value = `coalesce(${column}, 0)`;
  const buckets = DURATION_BUCKETS.map(
    (bucket, i) =>
      `count(*) FILTER (WHERE greatest(${value}, 0) >= ${bucket.fromMs}${
        Number.isFinite(bucket.toMs) ? ` AND greatest(${value}, 0) < ${bucket.toMs}` : ''
      })::int AS b${i}`,
  );
  return [
    'count(*)::int AS n',
    `(percentile_disc(0.5) WITHIN GROUP (ORDER BY ${value}))::text AS median`,
    `(percentile_disc(0.9) WITHIN GROUP (ORDER BY ${value}))::text AS p90`,
    ...buckets,
  ].join(', ');
}

interface DurationRow {
  readonly key: string | null;
  readonly n: number;
  readonly median: string | null;
  readonly p90: string | null;
  readonly [bucket: `b${number}`]: number;
}

function summaryOf(row: DurationRow): DurationSummary {
  const buckets = Object.fromEntries(
    DURATION_BUCKETS.map((bucket, i) => [bucket.label, row[`b${i}`] ?? 0]),
  ) as DurationSummary['buckets'];
  return {
    count: row.n,
    median: row.median === null ? null : Number(row.median),
    p90: row.p90 === null ? null : Number(row.p90),
    buckets,
  };
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
    {
      counters: ReportCounters;
      firstResponse: DurationSummary;
      nextResponse: DurationSummary;
      resolution: DurationSummary;
    }
  >();
  const cell = (key: string) => {
    let found = cells.get(key);
    if (!found) {
      found = { ...EMPTY_CELL };
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
  const responses = await tx.query<DurationRow & { kind: 'first' | 'next' }>(
    `SELECT ${response.select} AS key, kind, ${durationColumns(ms)}
       FROM analytics_responses${response.from}
      WHERE tenant_id = $1 AND replied_at >= $2 AND replied_at < $3
      GROUP BY 1, kind`,
    [t, from, until],
  );
  for (const row of responses) {
    if (row.key === null) continue;
    if (row.kind === 'first') cell(row.key).firstResponse = summaryOf(row);
    else cell(row.key).nextResponse = summaryOf(row);
  }
  const cycle = keyOf(by, 'assignee_id');
  const resolutions = await tx.query<DurationRow>(
    `SELECT ${cycle.select} AS key, ${durationColumns(`resolution_${ms}`)}
       FROM analytics_cycles${cycle.from}
      WHERE tenant_id = $1 AND resolved_at >= $2 AND resolved_at < $3
      GROUP BY 1`,
    [t, from, until],
  );
  for (const row of resolutions) {
    if (row.key === null) continue;
    cell(row.key).resolution = summaryOf(row);
  }
  return new Map([...cells].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

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
