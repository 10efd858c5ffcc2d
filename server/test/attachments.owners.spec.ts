import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdFor } from '../src/channels/conversation-id';
import { whatsappWebhook } from '../src/channels/simulators/payloads';
import {
  APPS,
  DATABASE_KINDS,
  eventually,
  FAST,
  openHarness,
  TENANT,
  type Harness,
} from './fixtures/channels/harness';

// A customer's file the inbound processor downloads and stores belongs to the customer's
// conversation from the transaction that records the message (decision 0022, *Stored files*):
// what an erasure of that customer reads to delete its bytes.

describe.each(DATABASE_KINDS)("a customer's downloaded file on %s", (kind) => {
  let h: Harness;
  const stored: string[] = [];
  beforeAll(async () => {
    h = await openHarness(kind, {
      ...FAST,
      // What the server hands the channels (`Attachments.upload`), reduced to the row it writes.
      storeInboundFile: async (tenant, body) => {
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        await h.database.db.sql.query(
          `INSERT INTO attachments (tenant_id, sha256, mime, size, name) VALUES ($1, $2, 'image/png', $3, 'photo.png')
           ON CONFLICT DO NOTHING`,
          [tenant, sha256, bytes.length],
        );
        stored.push(sha256);
        return { url: `attachment:${sha256}`, mime: 'image/png', size: bytes.length };
      },
    });
    await h.database.db.sql.query(
      `INSERT INTO tenants (id, name) VALUES ($1, 'Acme') ON CONFLICT DO NOTHING`,
      [TENANT],
    );
  });
  afterAll(async () => {
    await h.close();
  });

  it("[18-EF8] a WhatsApp image Parley downloaded is recorded as the customer's conversation's file, with the message", async () => {
    const waId = '16315550042';
    const payload = whatsappWebhook(APPS.whatsapp.externalId, {
      contacts: [{ profile: { name: 'Kerry Fisher' }, wa_id: waId }],
      messages: [
        {
          from: waId,
          id: 'wamid.OWNED1',
          timestamp: String(Math.floor(Date.now() / 1000)),
          type: 'image',
          image: { caption: 'my receipt', mime_type: 'image/jpeg', id: '1003383421387256' },
        },
      ],
    });
    expect(
      (await h.postMeta(`/webhooks/whatsapp/${APPS.whatsapp.appId}`, payload, APPS.whatsapp.secret)).status,
    ).toBe(200);
    const owners = await eventually(
      async () => {
        const rows = await h.database.db.sql.query<{ sha256: string; conversation_id: string }>(
          'SELECT sha256, conversation_id FROM attachment_owners WHERE tenant_id = $1',
          [TENANT],
        );
        return rows.length > 0 ? rows : undefined;
      },
      10_000,
      'the owner row',
    );
    expect(stored).toHaveLength(1);
    expect(owners).toEqual([
      { sha256: stored[0], conversation_id: conversationIdFor(TENANT, 'whatsapp', 'wa', waId) },
    ]);
  });
});
