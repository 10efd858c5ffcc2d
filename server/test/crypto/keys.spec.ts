import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streamId, tenantId } from '@parley/domain';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli';
import { KeyStore } from '../../src/crypto/keys';
import { loadMasterKeyring, masterKeyPath, MasterKeyError } from '../../src/crypto/master-key';
import type { SqlDriver } from '../../src/db/driver';
import { BACKENDS, encryptedStore } from './support';

const acme = tenantId('acme');
const globex = tenantId('globex');

describe('the master key', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'parley-master-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('[18-KEY1] is created on first start in DATA_DIR/master.key, readable by its owner only, and kept', () => {
    const first = loadMasterKeyring({}, dir);
    const path = masterKeyPath(dir);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toHaveLength(32);
    expect(loadMasterKeyring({}, dir).current.id).toBe(first.current.id);
  });

  it('[18-KEY2] PARLEY_MASTER_KEY wins over the file; a key that is not 32 bytes of base64 is refused', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const ring = loadMasterKeyring({ PARLEY_MASTER_KEY: key }, dir);
    expect(ring.source).toEqual({ kind: 'env' });
    expect(() => statSync(masterKeyPath(dir))).toThrow();
    expect(() => loadMasterKeyring({ PARLEY_MASTER_KEY: 'c2hvcnQ=' }, dir)).toThrow(MasterKeyError);
    const old = Buffer.alloc(32, 8).toString('base64');
    expect(loadMasterKeyring({ PARLEY_MASTER_KEY: `${key},${old}` }, dir).byId.size).toBe(2);
  });
});

describe.each(BACKENDS)('the key hierarchy on %s', (_name, create, enabled) => {
  let h: Awaited<ReturnType<typeof encryptedStore>>;
  beforeEach(async () => {
    if (enabled) h = await encryptedStore(create);
  });
  afterEach(async () => {
    if (enabled) await h.dispose();
  });

  it.skipIf(!enabled)(
    '[18-KEY3] tenant keys are stored sealed by the master key, contact keys by the tenant key; no key in clear',
    async () => {
      const tenantKey = await h.keys.tenantKey(acme);
      const contact = await h.keys.keyForStream(acme, 'conversation-c1', '+4915100000001');
      const tables = JSON.stringify([
        await h.test.db.sql.query('SELECT * FROM tenant_keys'),
        await h.test.db.sql.query('SELECT * FROM contact_keys'),
      ]);
      for (const key of [tenantKey, contact.key]) {
        expect(tables).not.toContain(key.toString('base64'));
        expect(tables).not.toContain(key.toString('hex'));
      }
      expect(tables).not.toContain('+4915100000001');
      const [row] = await h.test.db.sql.query<{ master_key_id: string }>(
        'SELECT master_key_id FROM tenant_keys',
      );
      expect(row!.master_key_id).toBe(h.keys.masterKeyId);
      // A tenant's key is its own: the same contact in another tenant has another key and ref.
      const other = await h.keys.keyForStream(globex, 'conversation-c1', '+4915100000001');
      expect(other.key.equals(contact.key)).toBe(false);
      expect(await h.keys.contactRef(globex, '+4915100000001')).not.toBe(
        await h.keys.contactRef(acme, '+4915100000001'),
      );
    },
  );

  it.skipIf(!enabled)(
    '[18-KEY4] rotate-master seals every tenant key again while a running process keeps reading and writing',
    async () => {
      const conversation = streamId('conversation-c1');
      const contact = { id: '+4915100000002', name: 'Rita Rotation', handle: '+4915100000002' };
      const started = {
        type: 'ConversationStarted',
        data: { conversationId: 'c1', inboxId: 'i', platform: 'whatsapp', contact, at: 1 },
      };
      await h.store.append(acme, conversation, [started], { expectedVersion: 'no_stream' });
      const before = h.keys.masterKeyId;
      const lines: string[] = [];
      await runCli(['keys', 'rotate-master'], (line) => lines.push(line), {
        dataDir: h.keyDir,
        env: {},
        withDb: (fn) => fn(h.test.db),
      });
      expect(lines.join('\n')).toMatch(/1 tenant key\(s\) sealed again .* 0 left on older keys/);
      const file = readFileSync(masterKeyPath(h.keyDir), 'utf8').trim().split('\n');
      expect(file).toHaveLength(1);
      const [row] = await h.test.db.sql.query<{ master_key_id: string }>(
        'SELECT master_key_id FROM tenant_keys',
      );
      expect(row!.master_key_id).not.toBe(before);
      // The running process: its cached keys go on working, and a new tenant's key is sealed and
      // opened with the key file read again.
      h.store.hot.invalidate(`${acme}/${conversation}`);
      expect((await h.store.readStream(acme, conversation))[0]!.data).toEqual(started.data);
      await h.store.append(globex, conversation, [started], { expectedVersion: 'no_stream' });
      // A process started after the rotation opens every key with the new master key alone.
      const fresh = new KeyStore(h.test.db.sql, loadMasterKeyring({}, h.keyDir));
      expect(await fresh.tenantKeysOnOldMasters()).toBe(0);
      expect((await fresh.tenantKey(acme)).equals(await h.keys.tenantKey(acme))).toBe(true);
      expect((await fresh.tenantKey(globex)).equals(await h.keys.tenantKey(globex))).toBe(true);
    },
  );

  it.skipIf(!enabled)(
    '[18-KEY5] keys asked for at the same moment, for many new conversations, are found or made in one statement; another process gets the same keys',
    async () => {
      const week = '2026-12-07';
      const streams = Array.from({ length: 20 }, (_, i) => `conversation-burst${i}`);
      const statements: string[] = [];
      const counting: SqlDriver = {
        ...h.test.db.sql,
        query: (text, params) => {
          if (text.includes('contact_keys')) statements.push(text);
          return h.test.db.sql.query(text, params);
        },
      };
      const ring = () => loadMasterKeyring({}, h.keyDir);
      const keys = new KeyStore(counting, ring(), ring);
      await keys.tenantKey(acme);
      const ask = (store: KeyStore) =>
        Promise.all(
          streams.map((s, i) => store.keysForStream(acme, s, `+49151000010${i}`, [undefined, week])),
        );
      const first = await ask(keys);
      expect(statements).toHaveLength(1);
      const rows = await h.test.db.sql.query<{ stream_id: string; key_id: string; period: string | null }>(
        `SELECT stream_id, key_id::text AS key_id, to_char(period, 'YYYY-MM-DD') AS period FROM contact_keys
          WHERE tenant_id = 'acme' AND destroyed_at IS NULL ORDER BY stream_id, period NULLS FIRST`,
      );
      expect(rows).toHaveLength(40);
      const byStream = new Map(streams.map((s, i) => [s, first[i]!.map((k) => k.id)]));
      for (const row of rows) {
        const [lived, weekly] = byStream.get(row.stream_id)!;
        expect(row.key_id).toBe(row.period === null ? lived : weekly);
      }
      // Held in memory now: no statement.
      await ask(keys);
      expect(statements).toHaveLength(1);
      // A second process, one new stream among the known ones: the known keys are found, not made.
      const other = new KeyStore(h.test.db.sql, ring(), ring);
      const [again, fresh] = await Promise.all([
        ask(other),
        other.keysForStream(acme, 'conversation-burst-new', '+4915100001099', [undefined, week]),
      ]);
      expect(again.map((pair) => pair.map((k) => k.id))).toEqual(first.map((pair) => pair.map((k) => k.id)));
      expect(again[0]![0]!.key.equals(first[0]![0]!.key)).toBe(true);
      expect(fresh.map((k) => k.id)).not.toContain(first[0]![0]!.id);
      // Two processes making the same new stream's keys at once end with one key per slot.
      const race = ['conversation-race', '+4915100001100'] as const;
      const [mine, theirs] = await Promise.all([
        keys.keysForStream(acme, race[0], race[1], [undefined, week]),
        new KeyStore(h.test.db.sql, ring(), ring).keysForStream(acme, race[0], race[1], [undefined, week]),
      ]);
      expect(theirs.map((k) => k.id)).toEqual(mine.map((k) => k.id));
      const [{ n }] = (await h.test.db.sql.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM contact_keys WHERE stream_id = 'conversation-race' AND destroyed_at IS NULL`,
      )) as [{ n: number }];
      expect(n).toBe(2);
    },
  );
});
