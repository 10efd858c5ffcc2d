import { describe, expect, it } from 'vitest';
import { DAY, media, replyContext, T0, template, text } from '../testing/fixtures';
import { capabilitiesOf, MB, validateReply, windowDeadline } from './policy';
import { webchat } from './webchat';

const check = (...args: Parameters<typeof replyContext>) => validateReply(webchat, replyContext(...args));

describe('Web chat', () => {
  it('[WC1] there is no window: a reply is allowed any time', () => {
    expect(windowDeadline(webchat, T0)).toBeNull();
    expect(check(text('hi'), { now: T0 + 90 * DAY, lastCustomerMessageAt: null })).toEqual({ ok: true });
  });

  it('[WC2] text is limited to 10000 characters', () => {
    expect(check(text('a'.repeat(10_000)))).toEqual({ ok: true });
    expect(check(text('a'.repeat(10_001)))).toMatchObject({ code: 'TEXT_TOO_LONG', rule: 'WC2' });
  });

  it('[WC2] an emoji counts as one character, and a refusal names the limit', () => {
    expect(check(text('😀'.repeat(10_000)))).toEqual({ ok: true });
    expect(check(text('😀'.repeat(10_001)))).toMatchObject({
      code: 'TEXT_TOO_LONG',
      message: 'the text is 10001 characters; Web chat allows 10000',
    });
  });

  it('[WC3] web chat has no templates', () => {
    expect(check(template('order_update', []))).toMatchObject({
      code: 'TEMPLATE_NOT_SUPPORTED',
      rule: 'WC3',
    });
  });

  it('[WC4] images up to 10 MB, video, audio and documents up to 25 MB; no stickers', () => {
    expect(check(media('image', 'image/webp', 10 * MB))).toEqual({ ok: true });
    expect(check(media('audio', 'audio/webm', 25 * MB + 1))).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'WC4',
    });
    expect(check(media('sticker', 'image/webp', 1))).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'WC4',
    });
  });

  it.each([
    ['image', 'image/jpeg', 10 * MB],
    ['image', 'image/png', 10 * MB],
    ['image', 'image/gif', 10 * MB],
    ['image', 'image/webp', 10 * MB],
    ['video', 'video/mp4', 25 * MB],
    ['video', 'video/webm', 25 * MB],
    ['audio', 'audio/mpeg', 25 * MB],
    ['audio', 'audio/mp4', 25 * MB],
    ['audio', 'audio/ogg', 25 * MB],
    ['audio', 'audio/webm', 25 * MB],
    ['document', 'application/pdf', 25 * MB],
  ] as const)('[WC4] %s %s is accepted up to %i bytes', (kind, mime, max) => {
    expect(check(media(kind, mime, max))).toEqual({ ok: true });
    expect(check(media(kind, mime, max + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE', rule: 'WC4' });
  });

  it('[WC5] web chat offers reactions, read receipts and typing indicators', () => {
    expect(capabilitiesOf(webchat)).toEqual({
      templates: false,
      reactions: true,
      readReceipts: true,
      typingIndicators: true,
      mediaKinds: ['image', 'video', 'audio', 'document'],
    });
  });
});
