import { describe, expect, it } from 'vitest';
import { relativeTime } from './relative-time';

/** A local time on a fixed day (a Wednesday), so the tests hold in any time zone. */
function at(day: number, hours: number, minutes = 0, year = 2026, month = 11): number {
  return new Date(year, month, day, hours, minutes).getTime();
}

describe('relativeTime', () => {
  const now = at(9, 15, 30); // Wednesday 9 December 2026, 15:30

  it('says "now" under a minute, and for a time ahead of this clock', () => {
    expect(relativeTime(now - 59_000, now)).toBe('now');
    expect(relativeTime(now + 120_000, now)).toBe('now');
  });

  it('counts whole minutes under an hour', () => {
    expect(relativeTime(now - 60_000, now)).toBe('1 min');
    expect(relativeTime(now - 3 * 60_000 - 59_000, now)).toBe('3 min');
    expect(relativeTime(now - 59 * 60_000, now)).toBe('59 min');
  });

  it('counts hours earlier today', () => {
    expect(relativeTime(at(9, 13, 0), now)).toBe('2 h');
    expect(relativeTime(at(9, 0, 5), now)).toBe('15 h');
  });

  it('says "yesterday" for the previous calendar day, however few hours ago', () => {
    expect(relativeTime(at(8, 23, 0), at(9, 0, 10))).toBe('yesterday');
    expect(relativeTime(at(8, 23, 50), at(9, 0, 10))).toBe('20 min');
    expect(relativeTime(at(8, 0, 1), now)).toBe('yesterday');
  });

  it('names the weekday within the last week, then the date', () => {
    expect(relativeTime(at(7, 10), now)).toBe('Mon');
    expect(relativeTime(at(3, 10), now)).toBe('Thu');
    expect(relativeTime(at(2, 10), now)).toBe('2 Dec');
  });

  it('adds the year for another year', () => {
    expect(relativeTime(at(20, 10, 0, 2025, 2), now)).toBe('20 Mar 2025');
  });
});
