import { describe, expect, it } from 'vitest';
import { DAY, media, MINUTE, replyContext, T0, template, text } from '../testing/fixtures';
import { capabilitiesOf, DOCUMENT_MIME_TYPES, MB, validateReply, windowDeadline } from './policy';
import { whatsapp } from './whatsapp';

const catalogue = [
  { name: 'order_update', language: 'en', approved: true, paramCount: 2 },
  { name: 'order_update', language: 'de', approved: true, paramCount: 2 },
  { name: 'promo', language: 'en', approved: false, paramCount: 0 },
];
const check = (...args: Parameters<typeof replyContext>) => validateReply(whatsapp, replyContext(...args));

describe('WhatsApp', () => {
  it('[WA1] the customer service window closes 24 h after the customer’s last message', () => {
    expect(windowDeadline(whatsapp, T0)).toBe(T0 + DAY);
    expect(windowDeadline(whatsapp, null)).toBeNull();
  });

  it('[WA2] a text reply inside the 24 h window is allowed', () => {
    expect(check(text('hi'), { now: T0 + DAY - MINUTE })).toEqual({ ok: true });
  });

  it('[WA2] a reply after 24 h needs a template', () => {
    expect(check(text('hi'), { now: T0 + DAY })).toMatchObject({
      ok: false,
      code: 'WINDOW_CLOSED',
      rule: 'WA2',
      hint: 'send an approved template',
    });
  });

  it('[WA2] a business-initiated text, before the customer ever wrote, needs a template', () => {
    expect(check(text('hi'), { lastCustomerMessageAt: null })).toMatchObject({
      code: 'WINDOW_CLOSED',
      rule: 'WA2',
    });
  });

  it('[WA2] an approved template may be sent outside the window', () => {
    const reply = template('order_update', ['Ada', '#42']);
    expect(check(reply, { now: T0 + 30 * DAY, templates: catalogue })).toEqual({ ok: true });
    expect(check(reply, { lastCustomerMessageAt: null, templates: catalogue })).toEqual({ ok: true });
  });

  it('[WA3] a template must be in the catalogue for its language', () => {
    expect(check(template('order_update', ['Ada', '#42'], 'fr'), { templates: catalogue })).toMatchObject({
      code: 'TEMPLATE_NOT_FOUND',
      rule: 'WA3',
    });
  });

  it('[WA3] a template must be approved', () => {
    expect(check(template('promo', []), { templates: catalogue })).toMatchObject({
      code: 'TEMPLATE_NOT_APPROVED',
      rule: 'WA3',
    });
  });

  it('[WA3] every template parameter must be filled', () => {
    for (const params of [[], ['Ada'], ['Ada', '  ']]) {
      expect(check(template('order_update', params), { templates: catalogue })).toMatchObject({
        code: 'TEMPLATE_PARAMS_MISSING',
        rule: 'WA3',
      });
    }
  });

  it('[WA3] extra template parameters are refused', () => {
    expect(check(template('order_update', ['Ada', '#42', 'x']), { templates: catalogue })).toMatchObject({
      code: 'TEMPLATE_PARAMS_MISMATCH',
      rule: 'WA3',
    });
  });

  it('[WA3] each template refusal names the template and its language, and what to do', () => {
    const refusal = (reply: ReturnType<typeof template>) => check(reply, { templates: catalogue });
    expect(refusal(template('order_update', ['Ada', '#42'], 'fr'))).toMatchObject({
      message: 'template order_update (fr) is not in the catalogue',
      hint: 'pick another template',
    });
    expect(refusal(template('promo', []))).toMatchObject({
      message: 'template promo (en) is not approved',
      hint: 'pick an approved template',
    });
    expect(refusal(template('order_update', ['Ada', ' ']))).toMatchObject({
      message: 'template order_update (en) needs 2 parameters, 1 filled',
      hint: 'fill in every parameter',
    });
    expect(refusal(template('order_update', ['Ada', '#42', 'x']))).toMatchObject({
      message: 'template order_update (en) takes 2 parameters, got 3',
      hint: 'remove the extra parameters',
    });
  });

  it('[WA4] a too-long text is refused with its length and the limit in characters', () => {
    expect(check(text('a'.repeat(4097)))).toMatchObject({
      message: 'the text is 4097 characters; WhatsApp allows 4096',
      hint: 'shorten it to 4096 characters or split it into several messages',
    });
  });

  it('[WA4] text is limited to 4096 characters, an emoji counting as one', () => {
    expect(check(text('a'.repeat(4096)))).toEqual({ ok: true });
    expect(check(text('😀'.repeat(4096)))).toEqual({ ok: true });
    expect(check(text('a'.repeat(4097)))).toMatchObject({
      code: 'TEXT_TOO_LONG',
      rule: 'WA4',
      message: expect.stringContaining('4096') as unknown,
    });
  });

  it.each([
    ['image', 'image/jpeg', 5 * MB],
    ['image', 'image/png', 5 * MB],
    ['video', 'video/mp4', 16 * MB],
    ['video', 'video/3gpp', 16 * MB],
    ['audio', 'audio/aac', 16 * MB],
    ['audio', 'audio/amr', 16 * MB],
    ['audio', 'audio/mpeg', 16 * MB],
    ['audio', 'audio/mp4', 16 * MB],
    ['audio', 'audio/ogg', 16 * MB],
    ['document', 'application/pdf', 100 * MB],
    ['sticker', 'image/webp', 500_000],
  ] as const)('[WA5] %s %s is accepted up to %i bytes', (kind, mime, max) => {
    expect(check(media(kind, mime, max))).toEqual({ ok: true });
    expect(check(media(kind, mime, max + 1))).toMatchObject({ code: 'MEDIA_TOO_LARGE', rule: 'WA5' });
  });

  it('[WA5] every listed document type is accepted', () => {
    for (const mime of DOCUMENT_MIME_TYPES) expect(check(media('document', mime, 1))).toEqual({ ok: true });
  });

  it('[WA5] other media types are refused', () => {
    expect(check(media('image', 'image/gif', 1))).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'WA5',
    });
    expect(check(media('sticker', 'image/png', 1))).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'WA5',
    });
  });

  it('[WA5] a refused file says what was wrong and what WhatsApp takes instead', () => {
    expect(check(media('image', 'image/gif', 1))).toMatchObject({
      message: 'WhatsApp does not accept image/gif as image',
      hint: 'convert it to one of image/jpeg, image/png',
    });
    expect(check(media('video', 'video/mp4', 16 * MB + 1))).toMatchObject({
      message: 'the video is 16000001 bytes; WhatsApp accepts up to 16000000',
      hint: 'compress it below 16000000 bytes or share a link',
    });
  });

  it('[WA5] a media caption obeys the text limit', () => {
    const photo = {
      type: 'media',
      media: { kind: 'image', url: 'u', mime: 'image/png', size: 1 },
      caption: 'x'.repeat(4097),
    } as const;
    expect(check(photo)).toMatchObject({ code: 'TEXT_TOO_LONG', rule: 'WA4' });
  });

  it('[WA6] WhatsApp offers templates, reactions, read receipts, typing indicators and all media kinds', () => {
    expect(capabilitiesOf(whatsapp)).toEqual({
      templates: true,
      reactions: true,
      readReceipts: true,
      typingIndicators: true,
      mediaKinds: ['image', 'video', 'audio', 'document', 'sticker'],
    });
  });
});
