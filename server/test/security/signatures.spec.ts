import { tenantId, type RecordedEvent } from '@parley/domain';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptedSecrets,
  metaSignature,
  newVisitorId,
  verifyMetaSignature,
  verifySharedToken,
  verifyVisitorToken,
  visitorToken,
} from '../../src/channels/signature';
import type { ChannelApp } from '../../src/channels/types';
import { START } from '../../src/store/checkpoint';
import { APPS, eventually, FAST, openHarness, TENANT, type Harness } from '../fixtures/channels/harness';

// SM2: a check that compares only part of the HMAC, or the parsed body instead of the raw bytes,
// must fail one of these. Each flips one position of an otherwise valid signature.
const SEED = 0x5eed13;
const SECRET = 'a-webhook-secret-of-some-length';

/** The signature header with the hex digit at `index` changed to another digit. */
function flipHexDigit(header: string, index: number): string {
  const hex = header.slice('sha256='.length);
  const digit = hex[index]!;
  const other = digit === '0' ? '1' : '0';
  return `sha256=${hex.slice(0, index)}${other}${hex.slice(index + 1)}`;
}

describe('[SM2] webhook signatures are compared whole, over the raw bytes', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
  const valid = metaSignature(SECRET, body);

  it('[SM2] a valid signature with any one of its 64 hex digits changed is refused', () => {
    expect(verifyMetaSignature(body, valid, [SECRET])).toBe(true);
    for (let i = 0; i < 64; i++) {
      expect(verifyMetaSignature(body, flipHexDigit(valid, i), [SECRET]), `digit ${i}`).toBe(false);
    }
  });

  it('[SM2] the digest must follow the exact sha256= prefix: another 7-character prefix is refused', () => {
    const hex = valid.slice('sha256='.length);
    expect(verifyMetaSignature(body, `sha512=${hex}`, [SECRET])).toBe(false);
    expect(verifyMetaSignature(body, `SHA256=${hex}`, [SECRET])).toBe(false);
  });

  it('[SM2] the previous secret counts only while it exists and has not expired', () => {
    const app = (previousSecret: string | null, previousSecretExpiresAt: number | null): ChannelApp => ({
      appId: 'a',
      tenantId: tenantId('t'),
      kind: 'whatsapp' as const,
      secret: 'current-secret-0123456789',
      previousSecret,
      previousSecretExpiresAt,
      verifyToken: null,
    });
    expect(acceptedSecrets(app(null, 5_000), 1_000)).toEqual(['current-secret-0123456789']);
    expect(acceptedSecrets(app('previous-secret-0123456', 5_000), 5_000)).toEqual([
      'current-secret-0123456789',
    ]);
    expect(acceptedSecrets(app('previous-secret-0123456', null), 1_000)).toEqual([
      'current-secret-0123456789',
    ]);
    expect(acceptedSecrets(app('previous-secret-0123456', 5_000), 4_999)).toEqual([
      'current-secret-0123456789',
      'previous-secret-0123456',
    ]);
  });

  it('[SM2] a shared token still matches when an accepted slot is empty (no previous verify token)', () => {
    expect(
      verifySharedToken('telegram-secret-token-0123456789', [null, 'telegram-secret-token-0123456789']),
    ).toBe(true);
    expect(verifySharedToken('telegram-secret-token-0123456789', [null])).toBe(false);
  });

  it('[SM2] a signature cut short, or with bytes appended, is refused', () => {
    expect(verifyMetaSignature(body, valid.slice(0, -2), [SECRET])).toBe(false);
    expect(verifyMetaSignature(body, `${valid}00`, [SECRET])).toBe(false);
    expect(verifyMetaSignature(body, valid.toUpperCase().replace('SHA256=', 'sha256='), [SECRET])).toBe(true);
  });

  it('[SM2] any one byte of the body changed makes a valid signature fail (property, seed printed)', () => {
    console.info(`[SM2] body-flip property seed ${SEED}`);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 512 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (bytes, at, delta) => {
          const raw = Buffer.from(bytes);
          const signature = metaSignature(SECRET, raw);
          const changed = Buffer.from(raw);
          const i = at % changed.length;
          changed[i] = (changed[i]! + delta) % 256;
          return (
            verifyMetaSignature(raw, signature, [SECRET]) &&
            !verifyMetaSignature(changed, signature, [SECRET])
          );
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('[SM2] whitespace and \\u escapes are part of what is signed: a re-serialised body does not match', () => {
    const raw = Buffer.from('{ "text" : "caf\\u00e9 \\ud83d\\ude00",\n  "n": 1 }');
    const signature = metaSignature(SECRET, raw);
    expect(verifyMetaSignature(raw, signature, [SECRET])).toBe(true);
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw.toString('utf8'))));
    expect(reserialised.equals(raw)).toBe(false);
    expect(verifyMetaSignature(reserialised, signature, [SECRET])).toBe(false);
  });

  it('[SM2] a Telegram secret token with one character changed, cut or extended is refused', () => {
    const token = 'telegram-secret-token-0123456789';
    expect(verifySharedToken(token, [token])).toBe(true);
    for (let i = 0; i < token.length; i++) {
      const changed = `${token.slice(0, i)}${token[i] === 'x' ? 'y' : 'x'}${token.slice(i + 1)}`;
      expect(verifySharedToken(changed, [token]), `char ${i}`).toBe(false);
    }
    expect(verifySharedToken(token.slice(0, -1), [token])).toBe(false);
    expect(verifySharedToken(`${token}0`, [token])).toBe(false);
    expect(verifySharedToken('', [token])).toBe(false);
  });

  it('[SM2] a web-chat visitor token with one character of its MAC changed is refused', () => {
    const token = visitorToken(SECRET, 'site-1', 'visitor-abcdefgh');
    expect(verifyVisitorToken(token, 'site-1', [SECRET])).toBe('visitor-abcdefgh');
    expect(verifyVisitorToken(token, 'site-2', [SECRET])).toBeNull();
    expect(verifyVisitorToken(`x${token}`, 'site-1', [SECRET])).toBeNull();
    expect(verifyVisitorToken(`${token}A`, 'site-1', [SECRET])).toBeNull();
    const mac = token.slice(token.lastIndexOf('.') + 1);
    const prefix = token.slice(0, token.lastIndexOf('.') + 1);
    for (let i = 0; i < mac.length; i++) {
      const changed = `${mac.slice(0, i)}${mac[i] === 'A' ? 'B' : 'A'}${mac.slice(i + 1)}`;
      expect(verifyVisitorToken(prefix + changed, 'site-1', [SECRET]), `char ${i}`).toBeNull();
    }
  });
});

describe('[SM2] web-chat visitor ids', () => {
  it('[SM2] a new visitor id is 16 URL-safe characters, fresh each time, and signs into a token that verifies', () => {
    const ids = Array.from({ length: 20 }, () => newVisitorId());
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(verifyVisitorToken(visitorToken(SECRET, 'site-1', id), 'site-1', [SECRET])).toBe(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('[SM2] a request without a visitor token names no visitor', () => {
    expect(verifyVisitorToken(undefined, 'site-1', [SECRET])).toBeNull();
    expect(verifyVisitorToken('', 'site-1', [SECRET])).toBeNull();
  });
});

describe('[SM2] signed webhooks over HTTP (PGlite)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness('pglite', FAST);
  });
  afterAll(async () => {
    await h.close();
  });
  const path = `/webhooks/whatsapp/${APPS.whatsapp.appId}`;
  const post = (raw: string, signature: string) =>
    fetch(`${h.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
      body: raw,
    });
  const texts = async (): Promise<string[]> => {
    const { events } = await h.store.readAll(TENANT, START, 10_000);
    return events
      .filter((e: RecordedEvent) => e.type === 'InboundMessageReceived')
      .map((e) => JSON.stringify((e.data as { content: unknown }).content));
  };

  /** A WhatsApp text webhook written by hand, with spaces, a newline and \u escapes as Meta sends them. */
  const rawWebhook = (id: string) =>
    `{"object": "whatsapp_business_account",\n "entry": [{"id": "1", "changes": [{"field": "messages", "value": {` +
    `"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550001111", "phone_number_id": "${APPS.whatsapp.externalId}"},` +
    `"contacts": [{"profile": {"name": "Jos\\u00e9"}, "wa_id": "15550009999"}],` +
    `"messages": [{"from": "15550009999", "id": "${id}", "timestamp": "${Math.floor(Date.now() / 1000)}", "type": "text",` +
    ` "text": {"body": "caf\\u00e9 \\ud83d\\ude00 ${id}"}}]}}]}]}`;

  it('[SM2] a body with whitespace and \\u escapes, signed over its raw bytes, is accepted and decoded', async () => {
    const raw = rawWebhook('wamid.SM2-raw');
    const response = await post(raw, metaSignature(APPS.whatsapp.secret, Buffer.from(raw)));
    expect(response.status).toBe(200);
    const all = await eventually(async () => {
      const now = await texts();
      return now.some((t) => t.includes('wamid.SM2-raw')) && now;
    });
    expect(all.join('\n')).toContain('café 😀 wamid.SM2-raw');
  });

  it('[SM2] the same body with one signature digit flipped is refused and writes no event', async () => {
    const before = (await texts()).length;
    const raw = rawWebhook('wamid.SM2-flipped');
    const valid = metaSignature(APPS.whatsapp.secret, Buffer.from(raw));
    for (const index of [0, 31, 63]) {
      const response = await post(raw, flipHexDigit(valid, index));
      expect(response.status).toBe(401);
    }
    // The body signed over its re-serialised form (what a parse-then-verify check would compute).
    const reserialised = JSON.stringify(JSON.parse(raw));
    const response = await post(raw, metaSignature(APPS.whatsapp.secret, reserialised));
    expect(response.status).toBe(401);
    // A valid delivery after them is processed, so the refused ones had their chance to show up.
    const ok = rawWebhook('wamid.SM2-after');
    expect((await post(ok, metaSignature(APPS.whatsapp.secret, Buffer.from(ok)))).status).toBe(200);
    await eventually(async () => (await texts()).some((t) => t.includes('wamid.SM2-after')));
    const all = await texts();
    expect(all.some((t) => t.includes('wamid.SM2-flipped'))).toBe(false);
    expect(all.length).toBe(before + 1);
  });
});
