import { join } from 'node:path';
import { streamId, tenantId, type JsonObject, type RecordedEvent } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ERASED } from '../../src/crypto/event-codec';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring } from '../../src/crypto/master-key';
import { START } from '../../src/store/checkpoint';
import { SqlEventStore } from '../../src/store/sql-store';
import { freshPglite } from '../support/databases';
import { eventStoreContract } from '../store.contract';
import { BACKENDS, encryptedStore } from './support';

const acme = tenantId('acme');
const conversation = streamId('conversation-wa_c1');
const PHONE = '+4915199887766';
const NAME = 'Grete Geheimnis';
const TEXT = 'my IBAN is DE02 1203 0000 0000 2020 51';
const contact = { id: PHONE, name: NAME, handle: PHONE };

const events: { type: string; data: JsonObject }[] = [
  {
    type: 'ConversationStarted',
    data: { conversationId: 'wa_c1', inboxId: 'support', platform: 'whatsapp', contact, at: 1 },
  },
  {
    type: 'InboundMessageReceived',
    data: { externalMessageId: 'm1', contact, content: { type: 'text', text: TEXT }, sentAt: 2 },
  },
  {
    type: 'ReplyQueued',
    data: {
      clientMessageId: 'r1',
      agentId: 'ana',
      content: {
        type: 'media',
        media: { kind: 'image', url: 'https://cdn.test/x.png' },
        caption: `re: ${TEXT}`,
      },
      tag: null,
      queuedAt: 3,
    },
  },
  { type: 'NoteAdded', data: { noteId: 'n1', agentId: 'ana', text: `${NAME} called`, mentions: [], at: 4 } },
  { type: 'LabelAdded', data: { label: 'vip', at: 5 } },
];

const dataOf = (recorded: readonly RecordedEvent[]) => recorded.map((e) => ({ type: e.type, data: e.data }));

describe.each(BACKENDS)('the event codec on %s', (_name, create, enabled) => {
  let h: Awaited<ReturnType<typeof encryptedStore>>;
  beforeEach(async () => {
    if (enabled) h = await encryptedStore(create);
  });
  afterEach(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[18-ENC1] personal fields reach the database sealed ({ $enc: { k, iv, ct } }); ids, types and times stay clear',
    async () => {
      await h.store.append(acme, conversation, events, { expectedVersion: 'no_stream' });
      const rows = await h.test.db.sql.query<{ type: string; data: Record<string, unknown> }>(
        'SELECT type, data FROM events ORDER BY version',
      );
      const raw = JSON.stringify(rows);
      for (const secret of [PHONE, NAME, 'IBAN', 'cdn.test']) expect(raw).not.toContain(secret);
      expect(rows[0]!.data).toMatchObject({ conversationId: 'wa_c1', inboxId: 'support', at: 1 });
      const envelope = rows[0]!.data.contact as { $enc: Record<string, unknown> };
      expect(Object.keys(envelope)).toEqual(['$enc']);
      expect(Object.keys(envelope.$enc).sort()).toEqual(['ct', 'iv', 'k']);
      expect(Object.values(envelope.$enc).every((v) => typeof v === 'string')).toBe(true);
      expect(rows[2]!.data).toMatchObject({ clientMessageId: 'r1', agentId: 'ana', queuedAt: 3 });
      expect(rows[4]!.data).toEqual({ label: 'vip', at: 5 });
    },
  );

  it.skipIf(!enabled)('[18-ENC2] reads (stream, log, a cold store) give back the clear values', async () => {
    await h.store.append(acme, conversation, events, { expectedVersion: 'no_stream' });
    expect(dataOf(await h.store.readStream(acme, conversation))).toEqual(events);
    h.store.hot.invalidate(`${acme}/${conversation}`);
    expect(dataOf(await h.store.readStream(acme, conversation))).toEqual(events);
    expect(dataOf((await h.store.readAll(acme, START, 100)).events)).toEqual(events);
    // Another process with the same key file: nothing cached, everything unwrapped from the tables.
    const ring = () => loadMasterKeyring({}, h.keyDir);
    const { createEventCodec } = await import('../../src/crypto/event-codec');
    const cold = await SqlEventStore.open({
      db: h.test.db,
      archiveDir: join(h.test.dataDir, 'archive'),
      codec: createEventCodec(new KeyStore(h.test.db.sql, ring(), ring)),
    });
    try {
      expect(dataOf(await cold.readStream(acme, conversation))).toEqual(events);
    } finally {
      await cold.close();
    }
  });

  it.skipIf(!enabled)(
    '[18-ENC3] a destroyed contact key reads as "[erased]" in the same shapes, never as an error',
    async () => {
      await h.store.append(acme, conversation, events, { expectedVersion: 'no_stream' });
      const ref = await h.keys.contactRef(acme, PHONE);
      // The conversation's long-lived key and its key of this week's content (decision 0031).
      expect(await h.keys.destroyContactRef(acme, ref)).toBe(2);
      h.store.hot.invalidate(`${acme}/${conversation}`);
      const read = await h.store.readStream(acme, conversation);
      expect(read.map((e) => e.type)).toEqual(events.map((e) => e.type));
      const erasedContact = { id: ERASED, name: ERASED, handle: ERASED };
      expect(read[0]!.data.contact).toEqual(erasedContact);
      expect(read[1]!.data).toMatchObject({
        contact: erasedContact,
        content: { type: 'text', text: ERASED },
      });
      expect(read[2]!.data.content).toEqual({ type: 'text', text: ERASED });
      expect(read[3]!.data).toMatchObject({ noteId: 'n1', text: ERASED });
      expect(read[4]!.data).toEqual({ label: 'vip', at: 5 });
      // The conversation goes on under a new key of the same contact, found by the next erasure.
      await h.store.append(acme, conversation, [events[3]!], { expectedVersion: 5 });
      const after = await h.store.readStream(acme, conversation, { fromVersion: 6 });
      expect(after[0]!.data.text).toBe(`${NAME} called`);
      expect(await h.keys.destroyContactRef(acme, ref)).toBe(1); // a note: only a content key
    },
  );

  it.skipIf(!enabled)('[18-ENC4] a ciphertext moved to another tenant or event does not open', async () => {
    const globex = tenantId('globex');
    await h.store.append(acme, conversation, events.slice(0, 2), { expectedVersion: 'no_stream' });
    const [row] = await h.test.db.sql.query<{ data: JsonObject }>(
      'SELECT data FROM events WHERE version = 2',
    );
    const forged = { ...events[1]!, data: { ...events[1]!.data, contact: row!.data.contact! } };
    // The same envelope decoded as if it belonged to another tenant, or to another event.
    const { createEventCodec } = await import('../../src/crypto/event-codec');
    const codec = createEventCodec(h.keys);
    const moved = (tenant: typeof acme, eventId: string) =>
      codec.decode([
        {
          tenantId: tenant,
          streamId: conversation,
          version: 2,
          eventId,
          type: forged.type,
          data: forged.data,
          metadata: {},
          recordedAt: 0,
          checkpoint: START,
        },
      ]);
    expect((await moved(globex, 'x'))[0]!.data.contact).toEqual({ id: ERASED, name: ERASED, handle: ERASED });
    const [real] = await h.store.readStream(acme, conversation, { fromVersion: 2 });
    expect((await moved(acme, 'another-event'))[0]!.data.contact).toEqual({
      id: ERASED,
      name: ERASED,
      handle: ERASED,
    });
    expect(real!.data.contact).toEqual(contact);
  });
});

eventStoreContract('SqlEventStore on PGlite with the codec on', async () => {
  let now = Date.now();
  const h = await encryptedStore(freshPglite, () => now);
  return {
    store: h.store,
    setClock: (ms) => {
      now = ms;
    },
    dispose: () => h.dispose(),
  };
});
