import { describe, expect, it } from 'vitest';
import { DAY, media, MINUTE, replyContext, T0, template, text } from '../testing/fixtures';
import { instagram } from './instagram';
import { capabilitiesOf, humanAgentDeadline, MB, validateReply, windowDeadline } from './policy';

const check = (...args: Parameters<typeof replyContext>) => validateReply(instagram, replyContext(...args));

describe('Instagram', () => {
  it('[IG1] a reply is allowed for 24 h after the customer’s last message', () => {
    expect(windowDeadline(instagram, T0)).toBe(T0 + DAY);
    expect(check(text('hi'), { now: T0 + DAY - MINUTE })).toEqual({ ok: true });
  });

  it('[IG1] after 24 h an untagged reply is refused with a hint to tag it HUMAN_AGENT', () => {
    expect(check(text('hi'), { now: T0 + DAY })).toMatchObject({
      code: 'WINDOW_CLOSED',
      rule: 'IG1',
      hint: expect.stringContaining('HUMAN_AGENT') as unknown,
    });
  });

  it('[IG2] a human agent may reply with the HUMAN_AGENT tag up to 7 days after the customer’s last message', () => {
    expect(humanAgentDeadline(instagram, T0)).toBe(T0 + 7 * DAY);
    expect(check(text('hi'), { now: T0 + 7 * DAY - MINUTE, tag: 'HUMAN_AGENT' })).toEqual({ ok: true });
  });

  it('[IG2] after 7 days even a HUMAN_AGENT reply is refused', () => {
    for (const tag of ['HUMAN_AGENT', null] as const) {
      expect(check(text('hi'), { now: T0 + 7 * DAY, tag })).toMatchObject({
        code: 'HUMAN_AGENT_WINDOW_CLOSED',
        rule: 'IG2',
        hint: 'wait for the customer to write again',
      });
    }
  });

  it('[IG2] nothing can be sent before the customer writes', () => {
    expect(check(text('hi'), { lastCustomerMessageAt: null, tag: 'HUMAN_AGENT' })).toMatchObject({
      code: 'HUMAN_AGENT_WINDOW_CLOSED',
    });
  });

  it('[IG3] text is limited to 1000 bytes of UTF-8', () => {
    expect(check(text('a'.repeat(1000)))).toEqual({ ok: true });
    expect(check(text('a'.repeat(1001)))).toMatchObject({ code: 'TEXT_TOO_LONG', rule: 'IG3' });
    expect(check(text('é'.repeat(500)))).toEqual({ ok: true });
    expect(check(text('é'.repeat(501)))).toMatchObject({ code: 'TEXT_TOO_LONG', rule: 'IG3' });
    expect(check(text('😀'.repeat(250)))).toEqual({ ok: true });
    expect(check(text('😀'.repeat(251)))).toMatchObject({
      code: 'TEXT_TOO_LONG',
      message: expect.stringContaining('1004 bytes') as unknown,
    });
  });

  it('[IG3] a too-long text is refused with its size and the limit in bytes of UTF-8', () => {
    expect(check(text('é'.repeat(501)))).toMatchObject({
      message: 'the text is 1002 bytes of UTF-8; Instagram allows 1000',
      hint: 'shorten it to 1000 bytes of UTF-8 or split it into several messages',
    });
  });

  it('[IG4] Instagram has no templates', () => {
    expect(check(template('order_update', []))).toMatchObject({
      code: 'TEMPLATE_NOT_SUPPORTED',
      rule: 'IG4',
    });
  });

  it('[IG5] images up to 8 MB, video and audio up to 25 MB, no documents or stickers', () => {
    expect(check(media('image', 'image/gif', 8 * MB))).toEqual({ ok: true });
    expect(check(media('image', 'image/png', 8 * MB + 1))).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'IG5',
    });
    expect(check(media('video', 'video/mp4', 25 * MB))).toEqual({ ok: true });
    expect(check(media('audio', 'audio/aac', 25 * MB + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    expect(check(media('document', 'application/pdf', 1))).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'IG5',
    });
    expect(check(media('sticker', 'image/webp', 1))).toMatchObject({ code: 'MEDIA_TYPE_NOT_SUPPORTED' });
  });

  it.each([
    ['image', 'image/jpeg', 8 * MB],
    ['image', 'image/png', 8 * MB],
    ['image', 'image/gif', 8 * MB],
    ['video', 'video/mp4', 25 * MB],
    ['video', 'video/quicktime', 25 * MB],
    ['video', 'video/webm', 25 * MB],
    ['audio', 'audio/aac', 25 * MB],
    ['audio', 'audio/mp4', 25 * MB],
    ['audio', 'audio/wav', 25 * MB],
  ] as const)('[IG5] %s %s is accepted up to %i bytes', (kind, mime, max) => {
    expect(check(media(kind, mime, max))).toEqual({ ok: true });
    expect(check(media(kind, mime, max + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE', rule: 'IG5' });
  });

  it('[IG5] a document is refused with the kinds Instagram does take', () => {
    expect(check(media('document', 'application/pdf', 1))).toMatchObject({
      message: 'Instagram does not accept document messages',
      hint: 'send one of: image, video, audio',
    });
  });

  it('[IG6] Instagram offers reactions, read receipts and typing indicators but no templates', () => {
    expect(capabilitiesOf(instagram)).toEqual({
      templates: false,
      reactions: true,
      readReceipts: true,
      typingIndicators: true,
      mediaKinds: ['image', 'video', 'audio'],
    });
  });
});
