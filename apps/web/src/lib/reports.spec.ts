import { describe, expect, it } from 'vitest';
import { formatDuration, presetRange, rangeProblem } from './reports';

describe('the reports screen’s periods', () => {
  // 7 December 2026, 00:30 UTC: early in the UTC day, whatever the local zone says.
  const now = Date.UTC(2026, 11, 7, 0, 30);

  it('counts presets back from today’s UTC day, today included', () => {
    expect(presetRange('today', now)).toEqual({ from: '2026-12-07', to: '2026-12-07' });
    expect(presetRange('yesterday', now)).toEqual({ from: '2026-12-06', to: '2026-12-06' });
    expect(presetRange('7d', now)).toEqual({ from: '2026-12-01', to: '2026-12-07' });
    expect(presetRange('30d', now)).toEqual({ from: '2026-11-08', to: '2026-12-07' });
  });

  it('explains a custom period the server would refuse, before asking it', () => {
    expect(rangeProblem({ from: '2026-12-01', to: '2026-12-07' })).toBeNull();
    expect(rangeProblem({ from: '', to: '2026-12-07' })).toBe('Choose the first day.');
    expect(rangeProblem({ from: '2026-12-08', to: '2026-12-07' })).toBe(
      'The last day comes before the first.',
    );
    expect(rangeProblem({ from: '2025-12-06', to: '2026-12-06' })).toBeNull(); // 366 days
    expect(rangeProblem({ from: '2025-12-05', to: '2026-12-06' })).toBe('A period spans at most 366 days.');
  });
});

describe('formatDuration', () => {
  it('writes seconds, minutes, hours and days, and a dash for no value', () => {
    expect(formatDuration(null)).toBe('—');
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(12 * 60_000)).toBe('12 min');
    expect(formatDuration(3 * 3_600_000 + 5 * 60_000)).toBe('3 h 05 min');
    expect(formatDuration(52 * 3_600_000)).toBe('2 d 4 h');
  });
});
