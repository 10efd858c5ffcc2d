import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketOf, buckets, median, p90, quantile, summarizeDurations } from './aggregate';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('aggregation (AG)', () => {
  it('[AG1] median and p90 are nearest-rank values (as percentile_disc), null for no values', () => {
    expect(median([])).toBeNull();
    expect(p90([])).toBeNull();
    expect(median([5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2);
    expect(median([3, 1, 2])).toBe(2);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(p90(hundred)).toBe(90);
    expect(quantile(hundred, 1)).toBe(100);
    expect(quantile(hundred, 0)).toBe(1);
  });

  it('[AG1] a quantile is always one of the values and grows with q', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const value = quantile(values, q);
          expect(values).toContain(value);
          expect(value).toBeLessThanOrEqual(quantile(values, Math.min(1, q + 0.1)) ?? -1);
        },
      ),
    );
  });

  it('[AG2] durations fall in the buckets 0-1 h, 1-4 h, 4-8 h, 8-24 h and over 24 h, lower bound included', () => {
    expect(bucketOf(0)).toBe('0-1 h');
    expect(bucketOf(HOUR - 1)).toBe('0-1 h');
    expect(bucketOf(HOUR)).toBe('1-4 h');
    expect(bucketOf(4 * HOUR)).toBe('4-8 h');
    expect(bucketOf(8 * HOUR)).toBe('8-24 h');
    expect(bucketOf(24 * HOUR)).toBe('over 24 h');
    expect(bucketOf(-5)).toBe('0-1 h');
    expect(buckets([MINUTE, 2 * HOUR, 3 * HOUR, 30 * HOUR])).toEqual({
      '0-1 h': 1,
      '1-4 h': 2,
      '4-8 h': 0,
      '8-24 h': 0,
      'over 24 h': 1,
    });
  });

  it('[AG3] a report cell summarises durations: count, median, p90 and every bucket', () => {
    expect(summarizeDurations([])).toEqual({
      count: 0,
      median: null,
      p90: null,
      buckets: { '0-1 h': 0, '1-4 h': 0, '4-8 h': 0, '8-24 h': 0, 'over 24 h': 0 },
    });
    expect(summarizeDurations([MINUTE, 2 * HOUR, 10 * HOUR])).toMatchObject({
      count: 3,
      median: 2 * HOUR,
      p90: 10 * HOUR,
    });
  });
});
