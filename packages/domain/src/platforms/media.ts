import type { MediaKind, MediaRef, MessageTemplate, PlatformPolicy, ReplyCheck } from './policy';
import { checkMedia } from './policy';

/** A file whose first bytes match no type Parley knows. */
export const UNKNOWN_MIME = 'application/octet-stream';
/** How a reply names a file the server stores: `attachment:<sha256 hex>` (content-addressed). */
export const ATTACHMENT_SCHEME = 'attachment:';

const ZIP_OFFICE = [
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.openxmlformats-officedocument.presentationml.presentation',
];
const OLE_OFFICE = ['application/msword', 'application/vnd.ms-excel', 'application/vnd.ms-powerpoint'];

/** The reference a reply carries for a stored file. */
export function attachmentUrl(sha256: string): string {
  return `${ATTACHMENT_SCHEME}${sha256}`;
}

/** The content hash an `attachment:` URL names, or null for any other URL (a platform's media). */
export function attachmentHash(url: string): string | null {
  if (!url.startsWith(ATTACHMENT_SCHEME)) return null;
  const hash = url.slice(ATTACHMENT_SCHEME.length);
  return /^[0-9a-f]{64}$/.test(hash) ? hash : null;
}

/** Rule PL6: the kind a MIME type is sent as. */
export function mediaKindOf(mime: string): MediaKind {
  const base = mime.split(';')[0]!.trim().toLowerCase();
  if (base.startsWith('image/')) return 'image';
  if (base.startsWith('video/')) return 'video';
  if (base.startsWith('audio/')) return 'audio';
  return 'document';
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  return signature.every((byte, i) => bytes[offset + i] === byte);
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

/** The ISO base media file types (`ftyp` box) by their major brand. */
function isoMedia(bytes: Uint8Array): string | null {
  if (ascii(bytes, 4, 8) !== 'ftyp') return null;
  const brand = ascii(bytes, 8, 12);
  if (brand.startsWith('3g')) return 'video/3gpp';
  if (brand === 'qt  ') return 'video/quicktime';
  if (brand === 'M4A ' || brand === 'M4B ') return 'audio/mp4';
  return 'video/mp4';
}

/** The length of a UTF-8 sequence its lead byte starts, or 0 for a byte no sequence starts with. */
function sequenceLength(lead: number): number {
  if (lead < 0x80) return 1;
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

/**
 * UTF-8 without control characters other than tab, line feed, form feed and carriage return. A
 * sequence cut off by the end of the sample is not held against it.
 */
function isPlainText(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  for (let i = 0; i < bytes.length;) {
    const byte = bytes[i]!;
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) return false;
    if (byte === 0x7f) return false;
    const length = sequenceLength(byte);
    if (length === 0) return false;
    for (let k = 1; k < length && i + k < bytes.length; k++) {
      if ((bytes[i + k]! & 0xc0) !== 0x80) return false;
    }
    i += length;
  }
  return true;
}

/**
 * Rule PL5: a file's type read from its first bytes (at least the first 512), never from its name
 * or from what the sender claims. Office files are containers (ZIP, OLE): the claimed Office type
 * of that container is kept, any other claim reads as the container's own type.
 */
export function sniffMime(head: Uint8Array, claimed = ''): string {
  const claim = claimed.split(';')[0]!.trim().toLowerCase();
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (ascii(head, 0, 6) === 'GIF87a' || ascii(head, 0, 6) === 'GIF89a') return 'image/gif';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') return 'image/webp';
  if (ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WAVE') return 'audio/wav';
  if (ascii(head, 0, 5) === '%PDF-') return 'application/pdf';
  if (ascii(head, 0, 4) === 'OggS') return 'audio/ogg';
  if (ascii(head, 0, 6) === '#!AMR\n') return 'audio/amr';
  if (ascii(head, 0, 3) === 'ID3') return 'audio/mpeg';
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return claim === 'audio/webm' ? 'audio/webm' : 'video/webm';
  const iso = isoMedia(head);
  if (iso) return iso;
  // MPEG audio frames and AAC's ADTS frames begin with 11 or 12 set bits.
  if (head[0] === 0xff && head[1] !== undefined && (head[1] & 0xf6) === 0xf0) return 'audio/aac';
  if (head[0] === 0xff && head[1] !== undefined && (head[1] & 0xe0) === 0xe0) return 'audio/mpeg';
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]))
    return ZIP_OFFICE.includes(claim) ? claim : 'application/zip';
  if (startsWith(head, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]))
    return OLE_OFFICE.includes(claim) ? claim : 'application/x-ole-storage';
  if (isPlainText(head)) return 'text/plain';
  return UNKNOWN_MIME;
}

/** What an agent's file would be sent as, or why the platform would refuse it (rules PL6 and WA5, MS5, IG5, TG4, WC4). */
export type AttachmentCheck = ({ readonly ok: true } | Exclude<ReplyCheck, { ok: true }>) & {
  readonly kind: MediaKind;
};

/** Rule PL6: a file (its sniffed MIME type and size) checked against a platform's media limits before it is sent. */
export function checkAttachment(
  policy: PlatformPolicy,
  file: { readonly mime: string; readonly size: number },
): AttachmentCheck {
  const kind = mediaKindOf(file.mime);
  const media: MediaRef = { kind, url: '', mime: file.mime, size: file.size };
  return { ...checkMedia(policy, media), kind };
}

/** A catalogue template with the text the customer receives; `{{1}}`, `{{2}}` mark its parameters. */
export type TemplateWithBody = MessageTemplate & { readonly body: string };

/**
 * Rule WA7: the text a template sends, its body with `{{n}}` replaced by parameter n. A parameter
 * not given (yet) stays `{{n}}`, so a preview shows what is still to fill in.
 */
export function renderTemplate(body: string, params: readonly string[]): string {
  return body.replace(/\{\{(\d+)\}\}/g, (marker, n: string) => {
    const value = params[Number(n) - 1];
    return value === undefined || value === '' ? marker : value;
  });
}
