import { describe, expect, it } from 'vitest';
import { instagram } from './instagram';
import {
  attachmentHash,
  attachmentUrl,
  checkAttachment,
  mediaKindOf,
  renderTemplate,
  sniffMime,
  UNKNOWN_MIME,
} from './media';
import { messenger } from './messenger';
import { MB } from './policy';
import { telegram } from './telegram';
import { webchat } from './webchat';
import { whatsapp } from './whatsapp';

const bytes = (...values: (number | string)[]): Uint8Array =>
  new Uint8Array(
    values.flatMap((value) => (typeof value === 'string' ? [...value].map((c) => c.charCodeAt(0)) : [value])),
  );
const JPEG = bytes(0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'JFIF');
const PNG = bytes(0x89, 'PNG', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'IHDR');
const ZIP = bytes('PK', 3, 4, 20, 0, 6, 0);
const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

describe('sniffing a file', () => {
  it.each([
    ['jpeg', JPEG, 'image/jpeg'],
    ['png', PNG, 'image/png'],
    ['gif', bytes('GIF89a', 1, 0, 1, 0), 'image/gif'],
    ['webp', bytes('RIFF', 0, 0, 0, 0, 'WEBPVP8 '), 'image/webp'],
    ['wav', bytes('RIFF', 0, 0, 0, 0, 'WAVEfmt '), 'audio/wav'],
    ['pdf', bytes('%PDF-1.7\n'), 'application/pdf'],
    ['ogg', bytes('OggS', 0, 2), 'audio/ogg'],
    ['mp3 with ID3', bytes('ID3', 4, 0), 'audio/mpeg'],
    ['mp3 frame', bytes(0xff, 0xfb, 0x90, 0x64), 'audio/mpeg'],
    ['aac', bytes(0xff, 0xf1, 0x50, 0x80), 'audio/aac'],
    ['amr', bytes('#!AMR\n'), 'audio/amr'],
    ['mp4', bytes(0, 0, 0, 0x18, 'ftypisom', 0, 0, 2, 0), 'video/mp4'],
    ['3gp', bytes(0, 0, 0, 0x18, 'ftyp3gp4'), 'video/3gpp'],
    ['m4a', bytes(0, 0, 0, 0x18, 'ftypM4A '), 'audio/mp4'],
    ['quicktime', bytes(0, 0, 0, 0x14, 'ftypqt  '), 'video/quicktime'],
    ['webm', bytes(0x1a, 0x45, 0xdf, 0xa3, 0x9f), 'video/webm'],
    [
      'utf-8 text',
      bytes('Order #1042 ', 0xc2, 0xbf, 's', 0xc3, 0xad, '? ', 0xf0, 0x9f, 0x93, 0xa6),
      'text/plain',
    ],
  ])('[PL5] reads %s from its first bytes', (_, head, mime) => {
    expect(sniffMime(head)).toBe(mime);
  });

  it('[PL5] trusts the bytes, not the claim: an executable named photo.png is not an image', () => {
    const elf = bytes(0x7f, 'ELF', 2, 1, 1, 0, 0, 0);
    expect(sniffMime(elf, 'image/png')).toBe(UNKNOWN_MIME);
    expect(sniffMime(JPEG, 'application/pdf')).toBe('image/jpeg');
    expect(sniffMime(bytes(0, 1, 2, 3, 0xfe))).toBe(UNKNOWN_MIME);
    expect(sniffMime(bytes('caf', 0xe9, ' au lait, Latin-1'))).toBe(UNKNOWN_MIME);
  });

  it("[PL5] keeps an Office claim only for that Office format's container", () => {
    expect(sniffMime(ZIP, DOCX)).toBe(DOCX);
    expect(sniffMime(ZIP, 'image/png')).toBe('application/zip');
    const ole = bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1);
    expect(sniffMime(ole, 'application/msword')).toBe('application/msword');
    expect(sniffMime(ole, DOCX)).toBe('application/x-ole-storage');
  });
});

describe('an attachment on each platform', () => {
  it('[PL6] is sent as the kind its MIME type names', () => {
    expect(mediaKindOf('image/jpeg')).toBe('image');
    expect(mediaKindOf('Video/MP4')).toBe('video');
    expect(mediaKindOf('audio/ogg; codecs=opus')).toBe('audio');
    expect(mediaKindOf('application/pdf')).toBe('document');
  });

  it('[PL6] is refused for its type before its size', () => {
    expect(checkAttachment(whatsapp, { mime: 'image/gif', size: 50 * MB })).toMatchObject({
      ok: false,
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      kind: 'image',
    });
    expect(checkAttachment(whatsapp, { mime: UNKNOWN_MIME, size: 1 })).toMatchObject({ ok: false });
  });

  it('[WA5] WhatsApp takes a 5 MB jpeg and refuses one byte more', () => {
    expect(checkAttachment(whatsapp, { mime: 'image/jpeg', size: 5 * MB })).toEqual({
      ok: true,
      kind: 'image',
    });
    expect(checkAttachment(whatsapp, { mime: 'image/jpeg', size: 5 * MB + 1 })).toMatchObject({
      ok: false,
      code: 'MEDIA_TOO_LARGE',
      rule: 'WA5',
    });
    expect(checkAttachment(whatsapp, { mime: 'application/pdf', size: 100 * MB }).ok).toBe(true);
  });

  it('[MS5] Messenger takes a 25 MB gif or pdf and refuses 25 MB + 1', () => {
    expect(checkAttachment(messenger, { mime: 'image/gif', size: 25 * MB }).ok).toBe(true);
    expect(checkAttachment(messenger, { mime: 'application/pdf', size: 25 * MB + 1 })).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'MS5',
    });
  });

  it('[IG5] Instagram takes an 8 MB png and refuses any document', () => {
    expect(checkAttachment(instagram, { mime: 'image/png', size: 8 * MB }).ok).toBe(true);
    expect(checkAttachment(instagram, { mime: 'application/pdf', size: 1 })).toMatchObject({
      code: 'MEDIA_TYPE_NOT_SUPPORTED',
      rule: 'IG5',
    });
  });

  it('[TG4] Telegram takes a 10 MB webp photo and a 50 MB video, not 50 MB + 1', () => {
    expect(checkAttachment(telegram, { mime: 'image/webp', size: 10 * MB }).ok).toBe(true);
    expect(checkAttachment(telegram, { mime: 'video/mp4', size: 50 * MB }).ok).toBe(true);
    expect(checkAttachment(telegram, { mime: 'video/mp4', size: 50 * MB + 1 })).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'TG4',
    });
  });

  it('[WC4] web chat takes a 10 MB webp and refuses a 10 MB + 1 image', () => {
    expect(checkAttachment(webchat, { mime: 'image/webp', size: 10 * MB }).ok).toBe(true);
    expect(checkAttachment(webchat, { mime: 'image/png', size: 10 * MB + 1 })).toMatchObject({
      code: 'MEDIA_TOO_LARGE',
      rule: 'WC4',
    });
  });
});

describe('attachment references', () => {
  it('[PL6] name a stored file by its sha256; any other URL is a platform reference', () => {
    const hash = 'a'.repeat(64);
    expect(attachmentHash(attachmentUrl(hash))).toBe(hash);
    expect(attachmentHash('whatsapp-media:123')).toBeNull();
    expect(attachmentHash('attachment:../../etc/passwd')).toBeNull();
  });
});

describe('a template', () => {
  it('[WA7] sends its body with each {{n}} replaced by parameter n', () => {
    expect(renderTemplate('Hi {{1}}, your order {{2}} is on its way.', ['Maria', '#1042'])).toBe(
      'Hi Maria, your order #1042 is on its way.',
    );
    expect(renderTemplate('{{2}} before {{1}}, {{1}} again', ['a', 'b'])).toBe('b before a, a again');
  });

  it('[WA7] keeps {{n}} for a parameter not filled in yet', () => {
    expect(renderTemplate('Hi {{1}}, your order {{2}}', ['Maria', ''])).toBe('Hi Maria, your order {{2}}');
    expect(renderTemplate('Hi {{1}}', [])).toBe('Hi {{1}}');
  });
});
