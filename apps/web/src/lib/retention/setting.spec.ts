import { describe, expect, it } from 'vitest';
import { isShortening, parseRetentionDays, retentionSentence } from './setting';

describe('retention setting (Settings › Data retention)', () => {
  it('says what the current value means', () => {
    expect(retentionSentence(null)).toBe('Message content is kept for ever.');
    expect(retentionSentence(90)).toBe(
      'Message text, replies and notes older than 90 days become unreadable; contact names and report counts stay.',
    );
    expect(retentionSentence(1)).toContain('older than 1 day become');
  });

  it('[RT1] takes whole days from 1 to 3650 and refuses anything else with a sentence', () => {
    expect(parseRetentionDays(' 30 ')).toEqual({ ok: true, days: 30 });
    expect(parseRetentionDays('1')).toEqual({ ok: true, days: 1 });
    expect(parseRetentionDays('3650')).toEqual({ ok: true, days: 3650 });
    for (const text of ['', '0', '3651', '1.5', '-3', '30 days', '1e3']) {
      const parsed = parseRetentionDays(text);
      expect(parsed.ok, text).toBe(false);
      if (!parsed.ok) expect(parsed.error).toContain('1 to 3650');
    }
  });

  it('asks first only when the new limit makes more content unreadable', () => {
    expect(isShortening(null, 30)).toBe(true);
    expect(isShortening(90, 30)).toBe(true);
    expect(isShortening(30, 90)).toBe(false);
    expect(isShortening(30, 30)).toBe(false);
    expect(isShortening(30, null)).toBe(false);
    expect(isShortening(null, null)).toBe(false);
  });
});
