import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { streamId, tenantId, type JsonObject, type RecordedEvent } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEventCodec, ERASED, sealingKeyId } from '../../src/crypto/event-codec';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring } from '../../src/crypto/master-key';
import { START } from '../../src/store/checkpoint';
import type { Database } from '../../src/db/database';
import { SqlEventStore } from '../../src/store/sql-store';
import { freshPglite } from '../support/databases';
import { eventStoreContract } from '../store.contract';
import { BACKENDS, encryptedStore } from './support';

/** Rows the codec wrote before decision 0034, and what they hold in clear (the fixture's `about`). */
const LEGACY = JSON.parse(
  readFileSync(new URL('../fixtures/crypto/legacy-envelopes.json', import.meta.url), 'utf8'),
) as {
  masterKey: string;
  tenantKeys: { tenant_id: string; master_key_id: string; iv: string; ct: string }[];
  contactKeys: {
    tenant_id: string;
    key_id: string;
    contact_ref: string;
    stream_id: string;
    iv: string;
    ct: string;
    period: string | null;
  }[];
  events: { stream_id: string; version: number; event_id: string; type: string; data: JsonObject }[];
  clear: { type: string; data: JsonObject & { contact?: { id: string } } }[];
};

/** Puts the fixture's keys and events in the database as the old codec left them. */
async function loadLegacyRows(db: Database) {
  for (const k of LEGACY.tenantKeys)
    await db.sql.query('INSERT INTO tenant_keys (tenant_id, master_key_id, iv, ct) VALUES ($1, $2, $3, $4)', [
      k.tenant_id,
      k.master_key_id,
      k.iv,
      k.ct,
    ]);
  for (const k of LEGACY.contactKeys)
    await db.sql.query(
      `INSERT INTO contact_keys (tenant_id, key_id, contact_ref, stream_id, iv, ct, period)
       VALUES ($1, $2::uuid, $3, $4, $5, $6, $7::date)`,
      [k.tenant_id, k.key_id, k.contact_ref, k.stream_id, k.iv, k.ct, k.period],
    );
  const stream = streamId(LEGACY.events[0]!.stream_id);
  await db.sql.query('INSERT INTO streams (tenant_id, stream_id, version) VALUES ($1, $2, $3)', [
    acme,
    stream,
    LEGACY.events.length,
  ]);
  for (const e of LEGACY.events)
    await db.sql.query(
      `INSERT INTO events (tenant_id, stream_id, version, event_id, type, data, recorded_at)
       VALUES ($1, $2, $3, $4::uuid, $5, $6::jsonb, now())`,
      [acme, stream, e.version, e.event_id, e.type, JSON.stringify(e.data)],
    );
  return { stream };
}

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
    '[18-ENC1] personal fields reach the database sealed, one compact envelope each ({ $e: format, key id, nonce, ciphertext }); ids, types and times stay clear',
    async () => {
      await h.store.append(acme, conversation, events, { expectedVersion: 'no_stream' });
      const rows = await h.test.db.sql.query<{ type: string; data: Record<string, unknown> }>(
        'SELECT type, data FROM events ORDER BY version',
      );
      const raw = JSON.stringify(rows);
      for (const secret of [PHONE, NAME, 'IBAN', 'cdn.test']) expect(raw).not.toContain(secret);
      expect(rows[0]!.data).toMatchObject({ conversationId: 'wa_c1', inboxId: 'support', at: 1 });
      const envelope = rows[0]!.data.contact as Record<string, unknown>;
      expect(Object.keys(envelope)).toEqual(['$e']);
      const bytes = Buffer.from(envelope.$e as string, 'base64');
      // format 2, a 16-byte key id, a 12-byte nonce, the ciphertext and a 16-byte tag
      expect(bytes[0]).toBe(2);
      expect(bytes.length).toBeGreaterThan(1 + 16 + 12 + 16);
      const liveKeys = await h.test.db.sql.query<{ key_id: string; period: string | null }>(
        `SELECT key_id::text AS key_id, to_char(period, 'YYYY-MM-DD') AS period FROM contact_keys ORDER BY period NULLS FIRST`,
      );
      expect(sealingKeyId(envelope)).toBe(liveKeys[0]!.key_id); // who the contact is: the long-lived key
      expect(sealingKeyId(rows[1]!.data.content)).toBe(liveKeys[1]!.key_id); // content: this week's key
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

  it.skipIf(!enabled)(
    '[18-ENC4] a ciphertext moved to another tenant, stream, event or field does not open',
    async () => {
      const globex = tenantId('globex');
      await h.store.append(acme, conversation, events.slice(0, 2), { expectedVersion: 'no_stream' });
      const [row] = await h.test.db.sql.query<{ event_id: string; data: JsonObject }>(
        'SELECT event_id::text AS event_id, data FROM events WHERE version = 2',
      );
      const codec = createEventCodec(h.keys);
      const decoded = async (
        at: { tenant?: typeof acme; stream?: string; eventId?: string },
        data: JsonObject,
      ) =>
        (
          await codec.decode([
            {
              tenantId: at.tenant ?? acme,
              streamId: streamId(at.stream ?? conversation),
              version: 2,
              eventId: at.eventId ?? row!.event_id,
              type: 'InboundMessageReceived',
              data,
              metadata: {},
              recordedAt: 0,
              checkpoint: START,
            },
          ])
        )[0]!.data;
      const erasedContact = { id: ERASED, name: ERASED, handle: ERASED };
      // In place, the row opens: the binding below is what refuses the moves.
      expect(await decoded({}, row!.data)).toMatchObject({ contact, content: events[1]!.data.content });
      expect((await decoded({ tenant: globex }, row!.data)).contact).toEqual(erasedContact);
      expect((await decoded({ stream: 'conversation-wa_c2' }, row!.data)).contact).toEqual(erasedContact);
      expect((await decoded({ eventId: '00000000-0000-4000-8000-000000000000' }, row!.data)).contact).toEqual(
        erasedContact,
      );
      // The contact's envelope copied into the content field of its own event.
      const swapped = await decoded({}, { ...row!.data, content: row!.data.contact! });
      expect(swapped.content).toEqual({ type: 'text', text: ERASED });
      expect(swapped.contact).toEqual(contact);
      // One byte of the ciphertext changed.
      const bytes = Buffer.from((row!.data.contact as { $e: string }).$e, 'base64');
      bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 1;
      const tampered = await decoded({}, { ...row!.data, contact: { $e: bytes.toString('base64') } });
      expect(tampered.contact).toEqual(erasedContact);
    },
  );

  it.skipIf(!enabled)(
    '[18-ENC5] events sealed in the legacy envelope ({ $enc: { k, iv, ct } }) read in clear beside new ones, keep their binding, and read as erased once their keys are destroyed',
    async () => {
      const legacy = await loadLegacyRows(h.test.db);
      const keys = new KeyStore(
        h.test.db.sql,
        loadMasterKeyring({ PARLEY_MASTER_KEY: LEGACY.masterKey }, h.keyDir),
      );
      const store = await SqlEventStore.open({
        db: h.test.db,
        archiveDir: join(h.test.dataDir, 'archive'),
        codec: createEventCodec(keys),
      });
      try {
        const stored = await h.test.db.sql.query<{ data: JsonObject }>(
          'SELECT data FROM events WHERE stream_id = $1 ORDER BY version',
          [legacy.stream],
        );
        expect(JSON.stringify(stored)).toContain('"$enc"');
        expect(dataOf(await store.readStream(acme, legacy.stream))).toEqual(LEGACY.clear);
        // The stream goes on in the compact format under the same long-lived key.
        await store.append(acme, legacy.stream, [LEGACY.clear[3]!], { expectedVersion: 4 });
        const [fifth] = await h.test.db.sql.query<{ data: JsonObject }>(
          'SELECT data FROM events WHERE stream_id = $1 AND version = 5',
          [legacy.stream],
        );
        expect(Object.keys(fifth!.data.text as object)).toEqual(['$e']);
        store.hot.invalidate(`${acme}/${legacy.stream}`);
        const all = await store.readStream(acme, legacy.stream);
        expect(dataOf(all)).toEqual([...LEGACY.clear, LEGACY.clear[3]]);
        // A legacy envelope keeps its binding: under another event id it does not open.
        const [moved] = await createEventCodec(keys).decode([
          { ...all[0]!, eventId: all[1]!.eventId, data: stored[0]!.data },
        ]);
        expect(moved!.data.contact).toEqual({ id: ERASED, name: ERASED, handle: ERASED });
        // Erasure reaches both formats: the legacy keys and the key of this week's note.
        const ref = await keys.contactRef(acme, LEGACY.clear[0]!.data.contact!.id);
        expect(ref).toBe(LEGACY.contactKeys[0]!.contact_ref);
        expect(await keys.destroyContactRef(acme, ref)).toBe(3);
        store.hot.invalidate(`${acme}/${legacy.stream}`);
        const erased = await store.readStream(acme, legacy.stream);
        expect(erased.map((e) => e.type)).toEqual([...LEGACY.clear.map((e) => e.type), 'NoteAdded']);
        expect(erased[0]!.data.contact).toEqual({ id: ERASED, name: ERASED, handle: ERASED });
        expect(erased[1]!.data.content).toEqual({ type: 'text', text: ERASED });
        expect(erased[2]!.data.content).toEqual({ type: 'text', text: ERASED });
        expect([erased[3]!.data.text, erased[4]!.data.text]).toEqual([ERASED, ERASED]);
      } finally {
        await store.close();
      }
    },
  );
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
