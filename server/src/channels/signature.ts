import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ChannelApp } from './types';

/** The secrets an app accepts at `now`: the current one, and the previous one until it expires. */
export function acceptedSecrets(app: ChannelApp, now: number): string[] {
  const secrets = [app.secret];
  if (app.previousSecret && app.previousSecretExpiresAt !== null && now < app.previousSecretExpiresAt) {
    secrets.push(app.previousSecret);
  }
  return secrets;
}

/** Meta's `X-Hub-Signature-256` value for a body: `sha256=<hex HMAC-SHA256 with the app secret>`. */
export function metaSignature(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks Meta's signature header on the raw bytes against every accepted secret, in constant time. */
export function verifyMetaSignature(
  body: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): boolean {
  if (!header?.startsWith('sha256=')) return false;
  const hex = header.slice('sha256='.length);
  if (!/^[0-9a-f]{64}$/i.test(hex)) return false;
  const given = Buffer.from(hex, 'hex');
  let ok = false;
  // Every secret is tried, so the time taken does not say which one matched.
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    ok = timingSafeEqual(given, expected) || ok;
  }
  return ok;
}

/** Compares a shared token (Telegram's secret token, a verify token) with the accepted ones in constant time. */
export function verifySharedToken(given: string | undefined, accepted: readonly (string | null)[]): boolean {
  if (given === undefined) return false;
  const givenDigest = digest(given);
  let ok = false;
  for (const token of accepted) {
    if (token === null) continue;
    ok = timingSafeEqual(givenDigest, digest(token)) || ok;
  }
  return ok;
}

/** A web chat visitor's token: `wc1.<visitorId>.<HMAC of app and visitor with the widget secret>`. */
export function visitorToken(secret: string, appId: string, visitorId: string): string {
  return `wc1.${visitorId}.${visitorMac(secret, appId, visitorId)}`;
}

/** The visitor a token names, or null when no accepted secret signed it. */
export function verifyVisitorToken(
  token: string | undefined,
  appId: string,
  secrets: readonly string[],
): string | null {
  const match = /^wc1\.([A-Za-z0-9_-]{8,64})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
  if (!match) return null;
  const [, visitorId, mac] = match as unknown as [string, string, string];
  const given = Buffer.from(mac);
  let ok = false;
  for (const secret of secrets) {
    ok = timingSafeEqual(given, Buffer.from(visitorMac(secret, appId, visitorId))) || ok;
  }
  return ok ? visitorId : null;
}

/** A new random visitor id. */
export function newVisitorId(): string {
  return randomBytes(12).toString('base64url');
}

function visitorMac(secret: string, appId: string, visitorId: string): string {
  return createHmac('sha256', secret).update(`${appId}.${visitorId}`).digest('base64url');
}

/** Hashing first gives equal lengths, which `timingSafeEqual` needs, without leaking the length. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
