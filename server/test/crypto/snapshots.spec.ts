import { join } from 'node:path';
import { streamId, tenantId, type JsonObject, type JsonValue, type StreamId } from '@parley/domain';
import { describe, expect, it } from 'vitest';
import { createGrainRuntime, defineGrain } from '../../src/actors';
import { createSqlSnapshotStore } from '../../src/actors/sql-snapshots';
import { createLocalBroadcast } from '../../src/broadcast';
import { createEventCodec, ERASED } from '../../src/crypto/event-codec';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring } from '../../src/crypto/master-key';
import { createSealedSnapshotStore, SnapshotSealBrokenError } from '../../src/crypto/sealed-snapshots';
import { conversationGrain } from '../../src/grains';
import { stateAt } from '../../src/history/time-travel';
import { SqlEventStore } from '../../src/store/sql-store';
import { BACKENDS, encryptedStore } from './support';

const demo = tenantId('demo');
const PHONE = '+4917655544433';
const NAME = 'Sina Snapshot';
const TEXT = 'the code for the side door is 4471';
const NOTE = 'she asked us to leave it at the side door';
const SECRETS = [PHONE, PHONE.slice(1), NAME, TEXT, NOTE];
const contact = { id: PHONE.slice(1), name: NAME, handle: PHONE };

/** Conversations that snapshot after every second event, so two commands leave one behind. */
const eager = defineGrain({ ...conversationGrain, snapshotEvery: 2 });

type Harness = Awaited<ReturnType<typeof encryptedStore>>;

/** A conversation with a customer's message and a note, its snapshot saved through the sealed store. */
async function conversationWithSnapshot(h: Harness, conversationId: string) {
  const snapshots = createSealedSnapshotStore(h.test.db, h.keys);
  const runtime = createGrainRuntime({ store: h.store, snapshots, broadcast: createLocalBroadcast() });
  const grain = runtime.get(eager, demo, conversationId);
  const now = Date.now();
  await grain.ask({
    type: 'ReceiveInboundMessage',
    data: {
      conversationId,
      inboxId: 'support',
      platform: 'whatsapp',
      externalMessageId: `wamid.${conversationId}`,
      contact,
      content: { type: 'text', text: TEXT },
      sentAt: now,
    },
  });
  await grain.ask({
    type: 'AddNote',
    data: { noteId: 'n1', agentId: 'ada', text: NOTE, mentions: [], at: now },
  });
  await runtime.close(); // waits for the snapshot saves
  return { snapshots, stream: streamId(`conversation-${conversationId}`) };
}

async function snapshotRows(h: Harness) {
  return h.test.db.sql.query<{ stream_id: string; version: number; state: JsonObject }>(
    'SELECT tenant_id, stream_id, version, state, created_at FROM snapshots ORDER BY stream_id',
  );
}

const found = (text: string) => SECRETS.filter((secret) => text.includes(secret));

describe.each(BACKENDS)('sealed grain snapshots on %s', (_name, create, enabled) => {
  it.skipIf(!enabled)(
    '[32-SS1] the stored snapshot row holds no clear text, and opens for its own stream and version only',
    async () => {
      const h = await encryptedStore(create);
      try {
        const { snapshots, stream } = await conversationWithSnapshot(h, 'snap-1');
        const rows = await snapshotRows(h);
        expect(rows).toHaveLength(1);
        expect(found(JSON.stringify(rows))).toEqual([]);
        expect(Object.keys(rows[0]!.state)).toEqual(['$sealed']);
        expect(Object.keys(rows[0]!.state.$sealed as JsonObject).sort()).toEqual(['ct', 'iv', 'k']);
        const loaded = await snapshots.load(demo, stream);
        expect(loaded?.version).toBe(rows[0]!.version);
        expect(JSON.stringify(loaded)).toContain(NAME);

        // The same sealed bytes under another stream, or another version, do not open.
        const other = streamId('conversation-snap-other');
        await h.test.db.sql.query(
          `INSERT INTO snapshots (tenant_id, stream_id, version, state) SELECT tenant_id, $1, version, state FROM snapshots`,
          [other],
        );
        await expect(snapshots.load(demo, other)).rejects.toBeInstanceOf(SnapshotSealBrokenError);
        await h.test.db.sql.query('UPDATE snapshots SET version = version - 1 WHERE stream_id = $1', [
          stream,
        ]);
        await expect(snapshots.load(demo, stream)).rejects.toBeInstanceOf(SnapshotSealBrokenError);
        // Time travel does without it: it folds the log.
        const past = await stateAt({ store: h.store, snapshots }, conversationGrain, demo, stream, {
          version: 4,
        });
        expect(past).toMatchObject({ fromSnapshot: null, state: { contact: { name: NAME } } });
      } finally {
        await h.dispose();
      }
    },
  );

  it.skipIf(!enabled)(
    '[32-SS2] an inbox, workflow or card snapshot is sealed with the tenant key; another tenant cannot open it',
    async () => {
      const h = await encryptedStore(create);
      try {
        const snapshots = createSealedSnapshotStore(h.test.db, h.keys);
        const inbox = streamId('inbox-support');
        const state = { revision: 1, state: { name: 'Support for Sina Snapshot' } };
        await snapshots.save(demo, inbox, 7, state);
        const rows = await snapshotRows(h);
        expect(found(JSON.stringify(rows))).toEqual([]);
        expect((rows[0]!.state.$sealed as JsonObject).k).toBe('tenant');
        expect(await snapshots.load(demo, inbox)).toEqual({ version: 7, state });
        await h.test.db.sql.query(`UPDATE snapshots SET tenant_id = 'globex'`);
        await expect(snapshots.load(tenantId('globex'), inbox)).rejects.toBeInstanceOf(
          SnapshotSealBrokenError,
        );
      } finally {
        await h.dispose();
      }
    },
  );

  it.skipIf(!enabled)(
    '[32-SS3] a snapshot stored in clear before sealing existed still loads, and is sealed when next written',
    async () => {
      const h = await encryptedStore(create);
      try {
        const stream = streamId('conversation-snap-old');
        // The stream's contact key, as the event codec makes it on the first personal event.
        await h.keys.keyForStream(demo, stream, contact.id);
        const clear = { revision: 1, state: { contact } } as JsonValue;
        await createSqlSnapshotStore(h.test.db).save(demo, stream, 3, clear);
        expect(found(JSON.stringify(await snapshotRows(h)))).not.toEqual([]);
        const snapshots = createSealedSnapshotStore(h.test.db, h.keys);
        expect(await snapshots.load(demo, stream)).toEqual({ version: 3, state: clear });
        await snapshots.save(demo, stream, 5, clear);
        const rows = await snapshotRows(h);
        expect(rows.map((r) => r.version)).toEqual([5]);
        expect(found(JSON.stringify(rows))).toEqual([]);
        expect(await snapshots.load(demo, stream)).toEqual({ version: 5, state: clear });
      } finally {
        await h.dispose();
      }
    },
  );

  it.skipIf(!enabled)(
    '[32-SS4] once the contact key is destroyed the snapshot is ignored (the log reads "[erased]"), and a save sealed before writes nothing after',
    async () => {
      const h = await encryptedStore(create);
      try {
        const { stream } = await conversationWithSnapshot(h, 'snap-erased');
        const [row] = await snapshotRows(h);
        expect(row).toBeDefined();
        // Another process (the CLI) destroys the key: this one still holds it in memory.
        const ring = () => loadMasterKeyring({}, h.keyDir);
        const cli = new KeyStore(h.test.db.sql, ring(), ring);
        const ref = await cli.refOfStream(demo, stream);
        expect(await cli.destroyContactRef(demo, ref!)).toBeGreaterThan(0);
        expect(h.keys.cachedKeyForStream(demo, stream)).toBeDefined();
        const held = createSealedSnapshotStore(h.test.db, h.keys);
        await held.save(demo, stream, row!.version + 1, { revision: 1, state: { contact } });
        expect((await snapshotRows(h)).map((r) => r.version)).toEqual([row!.version]); // not written

        // Read through a process that knows the key is gone: no snapshot, the log folds to "[erased]".
        const reader = new KeyStore(h.test.db.sql, ring(), ring);
        const afterwards = createSealedSnapshotStore(h.test.db, reader);
        expect(await afterwards.load(demo, stream)).toBeUndefined();
        const store = await SqlEventStore.open({
          db: h.test.db,
          archiveDir: join(h.test.dataDir, 'archive'),
          codec: createEventCodec(reader),
        });
        try {
          const past = await stateAt({ store, snapshots: afterwards }, conversationGrain, demo, stream, {
            version: 4,
          });
          expect(past.fromSnapshot).toBeNull();
          expect(past.state).toMatchObject({ contact: { id: ERASED, name: ERASED, handle: ERASED } });
          expect(found(JSON.stringify(past))).toEqual([]);
          expect(JSON.stringify(past.recorded)).toContain(ERASED);
        } finally {
          await store.close();
        }
      } finally {
        await h.dispose();
      }
    },
  );

  it.skipIf(!enabled)(
    '[32-SS5] a process that holds no key for the stream skips the save and never makes a key for it',
    async () => {
      const h = await encryptedStore(create);
      try {
        const stream: StreamId = streamId('conversation-snap-cold');
        await h.keys.keyForStream(demo, stream, contact.id);
        const ring = () => loadMasterKeyring({}, h.keyDir);
        const cold = new KeyStore(h.test.db.sql, ring(), ring);
        const snapshots = createSealedSnapshotStore(h.test.db, cold);
        await snapshots.save(demo, stream, 2, { revision: 1, state: { contact } });
        expect(await snapshotRows(h)).toEqual([]);
        await snapshots.save(demo, stream, 4, { revision: 1, state: { contact } }); // the key is held now
        expect((await snapshotRows(h)).map((r) => r.version)).toEqual([4]);
        // An erased stream has no live key: its saves stay skipped, and no new key appears.
        const ref = await cold.refOfStream(demo, stream);
        await h.keys.destroyContactRef(demo, ref!);
        const fresh = new KeyStore(h.test.db.sql, ring(), ring);
        const afterErasure = createSealedSnapshotStore(h.test.db, fresh);
        await afterErasure.save(demo, stream, 6, { revision: 1, state: { contact } });
        await afterErasure.save(demo, stream, 8, { revision: 1, state: { contact } });
        expect((await snapshotRows(h)).map((r) => r.version)).toEqual([4]);
        const [keys] = await h.test.db.sql.query<{ live: number }>(
          'SELECT count(*) FILTER (WHERE destroyed_at IS NULL)::int AS live FROM contact_keys WHERE stream_id = $1',
          [stream],
        );
        expect(keys!.live).toBe(0);
      } finally {
        await h.dispose();
      }
    },
  );
});
