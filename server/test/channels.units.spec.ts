import { describe, expect, it } from 'vitest';
import { ChannelError } from '../src/channels/errors';
import { backoffMs, retryAfterMs } from '../src/channels/outbound/backoff';
import { CircuitBreakers, type BreakerTransition } from '../src/channels/outbound/breaker';
import { parseDelivery } from '../src/channels/parse';
import {
  acceptedSecrets,
  metaSignature,
  verifyMetaSignature,
  verifySharedToken,
  verifyVisitorToken,
  visitorToken,
} from '../src/channels/signature';
import { applyFaultRequest, NO_FAULTS } from '../src/channels/simulators/faults';
import type { ChannelApp } from '../src/channels/types';
import { loadCorpus, TENANT } from './fixtures/channels/harness';

const app = (previousSecretExpiresAt: number | null): ChannelApp => ({
  appId: 'a',
  tenantId: TENANT,
  kind: 'whatsapp',
  secret: 'new',
  previousSecret: 'old',
  previousSecretExpiresAt,
  verifyToken: null,
});

describe('signatures', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');

  it('[IN1] accepts the HMAC of the exact bytes and nothing else', () => {
    expect(verifyMetaSignature(body, metaSignature('s3cret', body), ['s3cret'])).toBe(true);
    expect(verifyMetaSignature(body, metaSignature('other', body), ['s3cret'])).toBe(false);
    expect(
      verifyMetaSignature(Buffer.from(body.toString() + ' '), metaSignature('s3cret', body), ['s3cret']),
    ).toBe(false);
    expect(verifyMetaSignature(body, undefined, ['s3cret'])).toBe(false);
    expect(verifyMetaSignature(body, 'sha256=zz', ['s3cret'])).toBe(false);
    expect(
      verifyMetaSignature(body, metaSignature('s3cret', body).replace('sha256=', 'sha1='), ['s3cret']),
    ).toBe(false);
    expect(verifySharedToken('token', ['token'])).toBe(true);
    expect(verifySharedToken('token ', ['token'])).toBe(false);
    expect(verifySharedToken(undefined, ['token'])).toBe(false);
  });

  it('[IN2] the previous secret counts only until it expires', () => {
    expect(acceptedSecrets(app(2_000), 1_999)).toEqual(['new', 'old']);
    expect(acceptedSecrets(app(2_000), 2_000)).toEqual(['new']);
    expect(acceptedSecrets(app(null), 0)).toEqual(['new']);
  });

  it('[IN11] a visitor token names its visitor only under an accepted secret and its own widget', () => {
    const token = visitorToken('wc', 'widget', 'visitor-123');
    expect(verifyVisitorToken(token, 'widget', ['wc'])).toBe('visitor-123');
    expect(verifyVisitorToken(token, 'widget', ['rotated', 'wc'])).toBe('visitor-123');
    expect(verifyVisitorToken(token, 'other-widget', ['wc'])).toBeNull();
    expect(verifyVisitorToken(token, 'widget', ['rotated'])).toBeNull();
    expect(verifyVisitorToken(token.replace('visitor-123', 'visitor-124'), 'widget', ['wc'])).toBeNull();
    expect(verifyVisitorToken('garbage', 'widget', ['wc'])).toBeNull();
  });
});

describe('the corpus, parsed', () => {
  for (const sample of loadCorpus()) {
    it(`[IN6] ${sample.description}: ${sample.expect.length} message(s), ${sample.receipts} receipt(s)`, () => {
      const { items } = parseDelivery(sample.kind, sample.payload, { subject: null, receivedAt: 1 });
      expect(items.filter((i) => i.kind === 'message')).toHaveLength(sample.expect.length);
      expect(items.filter((i) => i.kind === 'receipt')).toHaveLength(sample.receipts);
      for (const item of items) {
        if (item.kind === 'message') {
          expect(item.sentAt).toBeGreaterThan(1_700_000_000_000);
          expect(item.externalMessageId).not.toBe('');
        }
      }
    });
  }

  it('[IN8] a WhatsApp failed status carries its error code', () => {
    const statuses = loadCorpus().find((c) => c.name === 'whatsapp-statuses')!;
    const failed = parseDelivery('whatsapp', statuses.payload, { subject: null, receivedAt: 1 }).items.find(
      (i) => i.kind === 'receipt' && i.status === 'failed',
    );
    expect(failed).toMatchObject({ error: { code: '131047' }, platformMessageIds: ['wamid.OUT2'] });
  });

  it('[IN10] a payload of another platform is refused for good', () => {
    const telegram = loadCorpus().find((c) => c.kind === 'telegram')!;
    expect(() => parseDelivery('whatsapp', telegram.payload, { subject: null, receivedAt: 1 })).toThrow(
      ChannelError,
    );
    expect(() =>
      parseDelivery('meta', { object: 'whatsapp_business_account' }, { subject: null, receivedAt: 1 }),
    ).toThrow(/not page or instagram/);
  });
});

describe('a web-chat visitor', () => {
  const message = (extra: object) =>
    parseDelivery(
      'webchat',
      { type: 'message', id: 'm1', text: 'hi', ...extra },
      { subject: 'v-abcd1234', receivedAt: 1 },
    ).items[0];

  it('is named by the e-mail and page the widget gives, and is a "Web visitor" without them', () => {
    expect(message({ email: 'vi@example.org', page: 'https://shop.example/pricing' })).toMatchObject({
      contact: {
        id: 'v-abcd1234',
        handle: 'vi@example.org',
        email: 'vi@example.org',
        page: 'https://shop.example/pricing',
      },
    });
    expect(message({})).toMatchObject({
      contact: { id: 'v-abcd1234', name: 'Visitor v-ab', handle: 'Web visitor' },
    });
  });

  it('keeps no e-mail that is not one and no page that is not a web address', () => {
    const contact = (message({ email: 'not an e-mail', page: 'javascript:alert(1)' }) as { contact: object })
      .contact;
    expect(contact).toEqual({ id: 'v-abcd1234', name: 'Visitor v-ab', handle: 'Web visitor' });
  });
});

describe('retry timing', () => {
  it('[OUT3] backoff grows exponentially with jitter, within its cap', () => {
    const options = { baseMs: 100, maxMs: 1_000 };
    expect(backoffMs(1, options, () => 0)).toBe(50);
    expect(backoffMs(1, options, () => 1)).toBe(100);
    expect(backoffMs(3, options, () => 0)).toBe(200);
    expect(backoffMs(3, options, () => 1)).toBe(400);
    expect(backoffMs(20, options, () => 1)).toBe(1_000);
    const spread = new Set(Array.from({ length: 50 }, () => backoffMs(4, options)));
    expect(spread.size).toBeGreaterThan(10);
  });

  it('[OUT3] Retry-After is read as seconds or an HTTP date, and capped', () => {
    expect(retryAfterMs('2', 0)).toBe(2_000);
    expect(retryAfterMs('1.5', 0)).toBe(1_500);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(retryAfterMs('999999', 0)).toBe(3_600_000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });
});

describe('the circuit breaker', () => {
  it('[OUT4] opens after consecutive failures, lets one trial through after the cool-down, closes on success', () => {
    const transitions: BreakerTransition[] = [];
    const breakers = new CircuitBreakers({ failureThreshold: 3, openMs: 100, maxOpenMs: 400 }, (t) =>
      transitions.push(t),
    );
    breakers.failure('c', 0);
    breakers.failure('c', 1);
    expect(breakers.tryAcquire('c', 2)).toBe(true);
    breakers.success('c', 2); // a success resets the count
    for (let i = 0; i < 3; i++) breakers.failure('c', 10 + i);
    expect(breakers.state('c').kind).toBe('open');
    expect(breakers.blocked(50)).toEqual(['c']);
    expect(breakers.tryAcquire('c', 50)).toBe(false);
    expect(breakers.tryAcquire('c', 112)).toBe(true); // the trial
    expect(breakers.tryAcquire('c', 112)).toBe(false); // only one
    breakers.failure('c', 113); // trial failed: open again, for twice as long
    expect(breakers.state('c')).toMatchObject({ kind: 'open', until: 313 });
    expect(breakers.tryAcquire('c', 313)).toBe(true);
    breakers.success('c', 314);
    expect(breakers.state('c').kind).toBe('closed');
    expect(transitions.map((t) => t.to)).toEqual(['open', 'half-open', 'open', 'half-open', 'closed']);
    expect(breakers.tryAcquire('other', 0)).toBe(true);
  });

  it('[OUT3] a pause holds a channel without counting a failure', () => {
    const breakers = new CircuitBreakers({ failureThreshold: 1, openMs: 100, maxOpenMs: 100 });
    breakers.pause('c', 500);
    expect(breakers.tryAcquire('c', 499)).toBe(false);
    expect(breakers.blocked(499)).toEqual(['c']);
    expect(breakers.tryAcquire('c', 500)).toBe(true);
    expect(breakers.state('c').kind).toBe('closed');
  });
});

describe('fault requests', () => {
  it('[SIM2] merge into the current faults, with a time-limited 429 spell', () => {
    const faults = applyFaultRequest(
      NO_FAULTS,
      { errorRate: 0.5, rateLimit: { retryAfterSeconds: 2, forMs: 1_000 } },
      10,
    );
    expect(faults).toMatchObject({
      errorRate: 0.5,
      outage: false,
      rateLimit: { retryAfterSeconds: 2, untilMs: 1_010 },
    });
    expect(applyFaultRequest(faults, { outage: true }, 20)).toMatchObject({ outage: true, errorRate: 0.5 });
    expect(applyFaultRequest(faults, { rateLimit: null }, 20).rateLimit).toBeNull();
    expect(() => applyFaultRequest(NO_FAULTS, { errorRate: 2 }, 0)).toThrow(/errorRate/);
    expect(() => applyFaultRequest(NO_FAULTS, { outage: 'yes' }, 0)).toThrow(/outage/);
    expect(() => applyFaultRequest(NO_FAULTS, [], 0)).toThrow(/object/);
  });
});
