import { describe, expect, it } from 'vitest';
import { DAY, media, MINUTE, replyContext, T0, template, text } from '../testing/fixtures';
import { messenger } from './messenger';
import { capabilitiesOf, MB, validateReply, windowDeadline } from './policy';

const check = (...args: Parameters<typeof replyContext>) => validateReply(messenger, replyContext(...args));

describe('Messenger', () => {
  it('[MS1] a reply is allowed for 24 h after the customer’s last message, then needs the tag', () => {
    expect(windowDeadline(messenger, T0)).toBe(T0 + DAY);
    expect(check(text('hi'), { now: T0 + DAY - MINUTE })).toEqual({ ok: true });
    expect(check(text('hi'), { now: T0 + DAY })).toMatchObject({ code: 'WINDOW_CLOSED', rule: 'MS1' });
  });

  it('[MS2] a HUMAN_AGENT reply is allowed up to 7 days, then refused', () => {
    expect(check(text('hi'), { now: T0 + 3 * DAY, tag: 'HUMAN_AGENT' })).toEqual({ ok: true });
    expect(check(text('hi'), { now: T0 + 7 * DAY, tag: 'HUMAN_AGENT' })).toMatchObject({
      code: 'HUMAN_AGENT_WINDOW_CLOSED',
      rule: 'MS2',
    });
  });

  it('[MS3] text is limited to 2000 characters', () => {
    expect(check(text('ü'.repeat(2000)))).toEqual({ ok: true });
    expect(check(text('a'.repeat(2001)))).toMatchObject({ code: 'TEXT_TOO_LONG', rule: 'MS3' });
  });

  it('[MS4] Messenger has no templates', () => {
    expect(check(template('order_update', []))).toMatchObject({
      code: 'TEMPLATE_NOT_SUPPORTED',
      rule: 'MS4',
    });
  });

  it('[MS5] images, video, audio and documents up to 25 MB; no stickers', () => {
    expect(check(media('document', 'application/pdf', 25 * MB))).toEqual({ ok: true });
    expect(check(media('video', 'video/mp4', 25 * MB + 1))).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'MS5',
    });
    expect(check(media('sticker', 'image/webp', 1))).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'MS5',
    });
  });

  it.each([
    ['image', 'image/jpeg'],
    ['image', 'image/png'],
    ['image', 'image/gif'],
    ['video', 'video/mp4'],
    ['audio', 'audio/mpeg'],
    ['audio', 'audio/mp4'],
    ['audio', 'audio/aac'],
    ['audio', 'audio/wav'],
    ['document', 'application/pdf'],
  ] as const)('[MS5] %s %s is accepted up to 25 MB', (kind, mime) => {
    expect(check(media(kind, mime, 25 * MB))).toEqual({ ok: true });
    expect(check(media(kind, mime, 25 * MB + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE', rule: 'MS5' });
  });

  it('[MS6] Messenger offers reactions, read receipts and typing indicators but no templates', () => {
    expect(capabilitiesOf(messenger)).toEqual({
      templates: false,
      reactions: true,
      readReceipts: true,
      typingIndicators: true,
      mediaKinds: ['image', 'video', 'audio', 'document'],
    });
  });
});
