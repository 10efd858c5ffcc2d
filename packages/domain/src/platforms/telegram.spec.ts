import { describe, expect, it } from 'vitest';
import { DAY, media, replyContext, T0, template, text } from '../testing/fixtures';
import { capabilitiesOf, KB, MB, validateReply, windowDeadline } from './policy';
import { telegram } from './telegram';

const check = (...args: Parameters<typeof replyContext>) => validateReply(telegram, replyContext(...args));

describe('Telegram', () => {
  it('[TG1] there is no window: a reply is allowed any time', () => {
    expect(windowDeadline(telegram, T0)).toBeNull();
    expect(check(text('hi'), { now: T0 + 365 * DAY })).toEqual({ ok: true });
  });

  it('[TG2] text is limited to 4096 characters', () => {
    expect(check(text('a'.repeat(4096)))).toEqual({ ok: true });
    expect(check(text('a'.repeat(4097)))).toMatchObject({ code: 'TEXT_TOO_LONG', rule: 'TG2' });
  });

  it('[TG2] an emoji counts as one character, and a refusal names the limit', () => {
    expect(check(text('😀'.repeat(4096)))).toEqual({ ok: true });
    expect(check(text('😀'.repeat(4097)))).toMatchObject({
      code: 'TEXT_TOO_LONG',
      message: 'the text is 4097 characters; Telegram allows 4096',
    });
  });

  it('[TG3] Telegram has no templates', () => {
    expect(check(template('order_update', []))).toMatchObject({
      code: 'TEMPLATE_NOT_SUPPORTED',
      rule: 'TG3',
    });
  });

  it('[TG4] photos up to 10 MB, other files up to 50 MB, stickers up to 512 KB', () => {
    expect(check(media('image', 'image/webp', 10 * MB))).toEqual({ ok: true });
    expect(check(media('image', 'image/jpeg', 10 * MB + 1))).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'TG4',
    });
    expect(check(media('document', 'application/pdf', 50 * MB))).toEqual({ ok: true });
    expect(check(media('sticker', 'image/webp', 512 * KB + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    expect(check(media('video', 'video/webm', 1))).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'TG4',
    });
  });

  it.each([
    ['image', 'image/jpeg', 10 * MB],
    ['image', 'image/png', 10 * MB],
    ['image', 'image/webp', 10 * MB],
    ['video', 'video/mp4', 50 * MB],
    ['audio', 'audio/mpeg', 50 * MB],
    ['audio', 'audio/mp4', 50 * MB],
    ['audio', 'audio/ogg', 50 * MB],
    ['document', 'application/pdf', 50 * MB],
    ['sticker', 'image/webp', 512 * KB],
  ] as const)('[TG4] %s %s is accepted up to %i bytes', (kind, mime, max) => {
    expect(check(media(kind, mime, max))).toEqual({ ok: true });
    expect(check(media(kind, mime, max + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE', rule: 'TG4' });
  });

  it('[TG5] Telegram bots get reactions and typing indicators but no read receipts', () => {
    expect(capabilitiesOf(telegram)).toEqual({
      templates: false,
      reactions: true,
      readReceipts: false,
      typingIndicators: true,
      mediaKinds: ['image', 'video', 'audio', 'document', 'sticker'],
    });
  });
});
