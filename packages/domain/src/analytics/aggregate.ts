const HOUR = 3_600_000;

/** The report buckets of a duration (AG2): upper bounds exclusive, the last open-ended. */
export const DURATION_BUCKETS = [
  { label: '0-1 h', fromMs: 0, toMs: HOUR },
  { label: '1-4 h', fromMs: HOUR, toMs: 4 * HOUR },
  { label: '4-8 h', fromMs: 4 * HOUR, toMs: 8 * HOUR },
  { label: '8-24 h', fromMs: 8 * HOUR, toMs: 24 * HOUR },
  { label: 'over 24 h', fromMs: 24 * HOUR, toMs: Number.POSITIVE_INFINITY },
] as const;

export type DurationBucket = (typeof DURATION_BUCKETS)[number]['label'];

/**
 * The q-quantile (0 to 1) of some values by the nearest-rank method (AG1): the smallest value
 * with at least q of all values at or below it, so it is always one of the values. Null for none.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(Math.min(1, Math.max(0, q)) * sorted.length));
  return sorted[rank - 1] ?? null;
}

/** The median (nearest rank: the lower middle of an even count), null for no values (AG1). */
export function median(values: readonly number[]): number | null {
  return quantile(values, 0.5);
}

/** The 90th percentile (nearest rank), null for no values (AG1). */
export function p90(values: readonly number[]): number | null {
  return quantile(values, 0.9);
}

/** The bucket of one duration in ms (AG2); a negative duration counts as 0. */
export function bucketOf(ms: number): DurationBucket {
  const value = Math.max(0, ms);
  const bucket = DURATION_BUCKETS.find((candidate) => value < candidate.toMs);
  return bucket ? bucket.label : 'over 24 h';
}

/** How many durations fall in each bucket, every bucket present (AG2). */
export function buckets(values: readonly number[]): Record<DurationBucket, number> {
  const counts = Object.fromEntries(DURATION_BUCKETS.map((bucket) => [bucket.label, 0])) as Record<
    DurationBucket,
    number
  >;
  for (const value of values) counts[bucketOf(value)] += 1;
  return counts;
}

/** Count, median, p90 and buckets of some durations: one cell of a report (AG3). */
export interface DurationSummary {
  readonly count: number;
  readonly median: number | null;
  readonly p90: number | null;
  readonly buckets: Record<DurationBucket, number>;
}

export function summarizeDurations(values: readonly number[]): DurationSummary {
  return { count: values.length, median: median(values), p90: p90(values), buckets: buckets(values) };
}
