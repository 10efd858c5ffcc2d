import { createHmac, randomUUID } from 'node:crypto';
import type { TenantId } from '@parley/domain';
import type { SqlDriver } from '../db/driver';
import { newKey, open, seal, type Key } from './aead';
import type { MasterKeyring } from './master-key';

/** A contact key in memory: its id (stored beside each ciphertext) and the key itself. */
export interface ContactKey {
  readonly id: string;
  readonly key: Key;
}

/** A stream's key slot: its long-lived key (undefined) or its key of a retention period (a Monday). */
export type KeySlot = string | undefined;

interface WantedKey {
  readonly streamId: string;
  readonly period: KeySlot;
  readonly contactId: string;
  readonly found: Promise<ContactKey>;
  readonly resolve: (key: ContactKey) => void;
  readonly reject: (error: unknown) => void;
}

const tenantAad = (tenantId: string) => `parley:tenant-key:${tenantId}`;
const contactAad = (tenantId: string, keyId: string) => `parley:contact-key:${tenantId}:${keyId}`;

/**
 * The key hierarchy (docs/decisions/0022): master key -> tenant key -> contact key. Keys are
 * created on first use, unwrapped once and kept in memory; a destroyed contact key is remembered
 * as destroyed, so what it sealed reads as erased.
 */
export class KeyStore {
  private readonly tenantKeys = new Map<string, Promise<Key>>();
  /** `${tenant}/${keyId}` -> the key, or null once destroyed or never known. */
  private readonly contactKeys = new Map<string, Key | null>();
  /** `${tenant}/${stream}` -> the stream's live long-lived contact key (who the contact is). */
  private readonly streamKeys = new Map<string, ContactKey>();
  /**
   * `${tenant}/${stream}` -> the stream's live key of the latest period it sealed content in
   * (decision 0031); one per stream, so a long-running process keeps no old periods' entries.
   */
  private readonly periodKeys = new Map<string, ContactKey & { readonly period: string }>();
  /** Per tenant, the keys asked for in this turn of the event loop: found or made in one statement. */
  private readonly wanted = new Map<string, Map<string, WantedKey>>();

  constructor(
    private readonly sql: SqlDriver,
    private ring: MasterKeyring,
    /** Reads the keyring again (a rotation by another process added a master key). */
    private readonly reloadRing?: () => MasterKeyring,
  ) {}

  get masterKeyId(): string {
    return this.ring.current.id;
  }

  /** The tenant's key, created (sealed by the current master key) on first use. */
  tenantKey(tenantId: TenantId): Promise<Key> {
    let pending = this.tenantKeys.get(tenantId);
    if (!pending) {
      pending = this.loadTenantKey(tenantId);
      pending.catch(() => this.tenantKeys.delete(tenantId));
      this.tenantKeys.set(tenantId, pending);
    }
    return pending;
  }

  private async loadTenantKey(tenantId: TenantId): Promise<Key> {
    // A rotation in another process may have retired this process's master key: seal with the newest.
    if (this.reloadRing) this.ring = this.reloadRing();
    const fresh = seal(this.ring.current.key, newKey(), tenantAad(tenantId));
    await this.sql.query(
      `INSERT INTO tenant_keys (tenant_id, master_key_id, iv, ct) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id) DO NOTHING`,
      [tenantId, this.ring.current.id, fresh.iv, fresh.ct],
    );
    const [row] = await this.sql.query<{ master_key_id: string; iv: string; ct: string }>(
      'SELECT master_key_id, iv, ct FROM tenant_keys WHERE tenant_id = $1',
      [tenantId],
    );
    if (!row) throw new Error(`tenant key of ${tenantId} vanished`);
    return open(this.masterKey(row.master_key_id), row, tenantAad(tenantId));
  }

  private masterKey(id: string): Key {
    let key = this.ring.byId.get(id);
    if (!key && this.reloadRing) {
      this.ring = this.reloadRing();
      key = this.ring.byId.get(id);
    }
    if (!key)
      throw new Error(`master key ${id} is not known to this process (PARLEY_MASTER_KEY or the key file)`);
    return key;
  }

  /** A keyed hash of a platform contact id: finds a contact's keys without keeping the id. */
  async contactRef(tenantId: TenantId, contactId: string): Promise<string> {
    return refUnder(await this.tenantKey(tenantId), contactId);
  }

  /**
   * The stream's live contact key (of `period`, or its long-lived one) if this process holds it
   * already (no await on the hot path).
   */
  cachedKeyForStream(tenantId: TenantId, streamId: string, period?: string): ContactKey | undefined {
    if (period === undefined) return this.streamKeys.get(`${tenantId}/${streamId}`);
    const cached = this.periodKeys.get(`${tenantId}/${streamId}`);
    return cached?.period === period ? cached : undefined;
  }

  /**
   * The stream's live contact key, from memory or the database, or undefined when it has none.
   * Unlike `keyForStream` it never makes one: what was sealed before an erasure must not be
   * sealed again under the contact's next key (snapshots, docs/decisions/0032).
   */
  async liveKeyForStream(tenantId: TenantId, streamId: string): Promise<ContactKey | undefined> {
    return (
      this.cachedKeyForStream(tenantId, streamId) ??
      this.liveKey(tenantId, streamId, await this.tenantKey(tenantId))
    );
  }

  /**
   * The live contact key of a conversation stream, its long-lived one or, given a `period`
   * (decision 0031), the one of that retention period; when it has none, one is created for
   * `contactId` (the contact the event names) or for the contact of the stream's earlier keys.
   */
  async keyForStream(
    tenantId: TenantId,
    streamId: string,
    contactId: string | undefined,
    period?: string,
  ): Promise<ContactKey> {
    const cached = this.cachedKeyForStream(tenantId, streamId, period);
    if (cached) return cached;
    const tenantKey = await this.tenantKey(tenantId);
    const found = await this.liveKey(tenantId, streamId, tenantKey, period);
    if (found) return found;
    const id = randomUUID();
    // An event that names no contact (a reply, a note) on a stream whose key was destroyed: a
    // new key for the same contact, so a later erasure finds it too. A contact's own stream
    // (`contact-<ref prefix>`, its notes) takes the contact of the conversations it is named after.
    const contactStream = /^contact-([0-9a-f]{40})$/.exec(streamId)?.[1];
    const [previous] =
      contactId !== undefined
        ? []
        : contactStream !== undefined
          ? await this.sql.query<{ contact_ref: string }>(
              `SELECT contact_ref FROM contact_keys WHERE tenant_id = $1 AND left(contact_ref, 40) = $2
                ORDER BY created_at DESC LIMIT 1`,
              [tenantId, contactStream],
            )
          : await this.sql.query<{ contact_ref: string }>(
              `SELECT contact_ref FROM contact_keys WHERE tenant_id = $1 AND stream_id = $2
                ORDER BY created_at DESC LIMIT 1`,
              [tenantId, streamId],
            );
    const ref = previous?.contact_ref ?? refUnder(tenantKey, contactId ?? `\u0000stream\u0000${streamId}`);
    const key = newKey();
    const sealed = seal(tenantKey, key, contactAad(tenantId, id));
    const inserted = await this.sql.query(
      `INSERT INTO contact_keys (tenant_id, key_id, contact_ref, stream_id, iv, ct, period)
       VALUES ($1, $2, $3, $4, $5, $6, $7::date) ON CONFLICT DO NOTHING RETURNING key_id`,
      [tenantId, id, ref, streamId, sealed.iv, sealed.ct, period ?? null],
    );
    if (inserted.length > 0) return this.remember(tenantId, streamId, { id, key }, period);
    // Another process made the stream's key first: the database's one wins.
    const theirs = await this.liveKey(tenantId, streamId, tenantKey, period);
    if (!theirs) throw new Error(`the contact key of ${streamId} was destroyed while it was made`);
    return theirs;
  }

  /**
   * Like `keyForStream` for a contact the caller names, for several slots at once: the keys asked
   * for in the same turn of the event loop, of any streams of the tenant, are found or made in one
   * statement (new conversations come in bursts, and each needs two keys: decision 0034).
   */
  keysForStream(
    tenantId: TenantId,
    streamId: string,
    contactId: string,
    slots: readonly KeySlot[],
  ): Promise<ContactKey[]> {
    return Promise.all(
      slots.map((period) => {
        const cached = this.cachedKeyForStream(tenantId, streamId, period);
        if (cached) return Promise.resolve(cached);
        let wanted = this.wanted.get(tenantId);
        if (!wanted) {
          const batch = new Map<string, WantedKey>();
          this.wanted.set(tenantId, batch);
          wanted = batch;
          queueMicrotask(() => {
            this.wanted.delete(tenantId);
            this.findOrMake(tenantId, [...batch.values()]).catch((error: unknown) => {
              for (const want of batch.values()) want.reject(error);
            });
          });
        }
        const slot = `${streamId}\u0000${period ?? ''}`;
        const asked = wanted.get(slot);
        if (asked) return asked.found;
        let resolve!: (key: ContactKey) => void;
        let reject!: (error: unknown) => void;
        const found = new Promise<ContactKey>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        wanted.set(slot, { streamId, period, contactId, found, resolve, reject });
        return found;
      }),
    );
  }

  /**
   * One statement: the live keys of the wanted slots, and new keys (made here, sealed by the tenant
   * key) inserted for the slots that have none. A slot another process filled meanwhile is
   * answered by `keyForStream`, which reads the database's key.
   */
  private async findOrMake(tenantId: TenantId, wanted: readonly WantedKey[]): Promise<void> {
    const tenantKey = await this.tenantKey(tenantId);
    const made = new Map<string, Key>();
    // One array per column of the wanted slots, each with a new key ready in case it has none.
    const periods: (string | null)[] = [];
    const streams: string[] = [];
    const ids: string[] = [];
    const refs: string[] = [];
    const ivs: string[] = [];
    const cts: string[] = [];
    for (const want of wanted) {
      const id = randomUUID();
      const key = newKey();
      const sealed = seal(tenantKey, key, contactAad(tenantId, id));
      made.set(id, key);
      streams.push(want.streamId);
      periods.push(want.period ?? null);
      ids.push(id);
      refs.push(refUnder(tenantKey, want.contactId));
      ivs.push(sealed.iv);
      cts.push(sealed.ct);
    }
    const rows = await this.sql.query<{
      stream_id: string;
      period: string | null;
      key_id: string;
      iv: string;
      ct: string;
    }>(
      `WITH wanted AS (
         SELECT w.stream_id, w.period::date AS period, w.key_id::uuid AS key_id, w.contact_ref, w.iv, w.ct
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
             AS w(stream_id, period, key_id, contact_ref, iv, ct)
       ), live AS (
         SELECT k.stream_id, k.period, k.key_id, k.iv, k.ct FROM wanted w
           JOIN contact_keys k ON k.tenant_id = $1 AND k.stream_id = w.stream_id
                              AND k.destroyed_at IS NULL AND k.period IS NULL
          WHERE w.period IS NULL
         UNION ALL
         SELECT k.stream_id, k.period, k.key_id, k.iv, k.ct FROM wanted w
           JOIN contact_keys k ON k.tenant_id = $1 AND k.stream_id = w.stream_id
                              AND k.destroyed_at IS NULL AND k.period IS NOT NULL AND k.period = w.period
       ), made AS (
         INSERT INTO contact_keys (tenant_id, key_id, contact_ref, stream_id, iv, ct, period)
         SELECT $1, w.key_id, w.contact_ref, w.stream_id, w.iv, w.ct, w.period FROM wanted w
          WHERE NOT EXISTS (SELECT 1 FROM live l
                             WHERE l.stream_id = w.stream_id AND l.period IS NOT DISTINCT FROM w.period)
         ON CONFLICT DO NOTHING
         RETURNING stream_id, period, key_id, iv, ct
       )
       SELECT stream_id, to_char(period, 'YYYY-MM-DD') AS period, key_id::text AS key_id, iv, ct FROM live
       UNION ALL
       SELECT stream_id, to_char(period, 'YYYY-MM-DD'), key_id::text, iv, ct FROM made`,
      [tenantId, streams, periods, ids, refs, ivs, cts],
    );
    const bySlot = new Map<string, ContactKey>();
    for (const row of rows) {
      const key = made.get(row.key_id) ?? open(tenantKey, row, contactAad(tenantId, row.key_id));
      const period = row.period ?? undefined;
      bySlot.set(
        `${row.stream_id}\u0000${row.period ?? ''}`,
        this.remember(tenantId, row.stream_id, { id: row.key_id, key }, period),
      );
    }
    for (const want of wanted) {
      const found = bySlot.get(`${want.streamId}\u0000${want.period ?? ''}`);
      if (found) want.resolve(found);
      else
        this.keyForStream(tenantId, want.streamId, want.contactId, want.period).then(
          want.resolve,
          want.reject,
        );
    }
  }

  /** The stream's live key of `period`, or its long-lived key without one, read from the database. */
  private async liveKey(
    tenantId: TenantId,
    streamId: string,
    tenantKey: Key,
    period?: string,
  ): Promise<ContactKey | undefined> {
    const [row] = await this.sql.query<{ key_id: string; iv: string; ct: string }>(
      period === undefined
        ? `SELECT key_id::text AS key_id, iv, ct FROM contact_keys
            WHERE tenant_id = $1 AND stream_id = $2 AND destroyed_at IS NULL AND period IS NULL`
        : `SELECT key_id::text AS key_id, iv, ct FROM contact_keys
            WHERE tenant_id = $1 AND stream_id = $2 AND destroyed_at IS NULL AND period = $3::date`,
      period === undefined ? [tenantId, streamId] : [tenantId, streamId, period],
    );
    if (!row) return undefined;
    const key = open(tenantKey, row, contactAad(tenantId, row.key_id));
    return this.remember(tenantId, streamId, { id: row.key_id, key }, period);
  }

  private remember(
    tenantId: TenantId,
    streamId: string,
    found: ContactKey,
    period: string | undefined,
  ): ContactKey {
    if (period === undefined) this.streamKeys.set(`${tenantId}/${streamId}`, found);
    else this.periodKeys.set(`${tenantId}/${streamId}`, { ...found, period });
    this.contactKeys.set(`${tenantId}/${found.id}`, found.key);
    return found;
  }

  /** The contact key `keyId`, or undefined when it was destroyed (or never existed). */
  async contactKey(tenantId: TenantId, keyId: string): Promise<Key | undefined> {
    const cacheKey = `${tenantId}/${keyId}`;
    const cached = this.contactKeys.get(cacheKey);
    if (cached !== undefined) return cached ?? undefined;
    const [row] = await this.sql.query<{ iv: string | null; ct: string | null }>(
      `SELECT iv, ct FROM contact_keys WHERE tenant_id = $1 AND key_id::text = $2`,
      [tenantId, keyId],
    );
    if (!row?.iv || !row.ct) {
      this.contactKeys.set(cacheKey, null);
      return undefined;
    }
    const key = open(await this.tenantKey(tenantId), { iv: row.iv, ct: row.ct }, contactAad(tenantId, keyId));
    this.contactKeys.set(cacheKey, key);
    return key;
  }

  /** The contact behind a conversation stream (its keys' contact ref), or undefined when it has none. */
  async refOfStream(tenantId: TenantId, streamId: string): Promise<string | undefined> {
    const [row] = await this.sql.query<{ contact_ref: string }>(
      `SELECT contact_ref FROM contact_keys WHERE tenant_id = $1 AND stream_id = $2
        ORDER BY created_at DESC LIMIT 1`,
      [tenantId, streamId],
    );
    return row?.contact_ref;
  }

  /** Every stream that ever had a key of this contact (their conversations and their own notes). */
  async streamsOf(tenantId: TenantId, contactRef: string): Promise<string[]> {
    const rows = await this.sql.query<{ stream_id: string }>(
      'SELECT DISTINCT stream_id FROM contact_keys WHERE tenant_id = $1 AND contact_ref = $2 ORDER BY stream_id',
      [tenantId, contactRef],
    );
    return rows.map((row) => row.stream_id);
  }

  /**
   * Destroys every live key of a contact (all their conversations): the sealed key material is
   * overwritten with NULL, here and in this process's memory. Returns how many keys were destroyed.
   */
  async destroyContactRef(tenantId: TenantId, contactRef: string): Promise<number> {
    const rows = await this.sql.query<{ key_id: string; stream_id: string }>(
      `UPDATE contact_keys SET iv = NULL, ct = NULL, destroyed_at = now()
        WHERE tenant_id = $1 AND contact_ref = $2 AND destroyed_at IS NULL
        RETURNING key_id::text AS key_id, stream_id`,
      [tenantId, contactRef],
    );
    for (const row of rows) this.forgetKey(tenantId, row.key_id, row.stream_id);
    return rows.length;
  }

  /**
   * Destroys the tenant's keys of every retention period up to and including `lastPeriod`
   * (decision 0031): their sealed bytes become NULL, here and in this process's memory. The
   * long-lived keys (who the contacts are) are not touched. Returns the keys destroyed.
   */
  async destroyPeriodsThrough(
    tenantId: TenantId,
    lastPeriod: string,
  ): Promise<{ keyId: string; streamId: string; period: string }[]> {
    const rows = await this.sql.query<{ key_id: string; stream_id: string; period: string }>(
      `UPDATE contact_keys SET iv = NULL, ct = NULL, destroyed_at = now()
        WHERE tenant_id = $1 AND period IS NOT NULL AND period <= $2::date AND destroyed_at IS NULL
        RETURNING key_id::text AS key_id, stream_id, to_char(period, 'YYYY-MM-DD') AS period`,
      [tenantId, lastPeriod],
    );
    for (const row of rows) this.forgetPeriodKey(tenantId, row.key_id, row.stream_id);
    return rows.map((row) => ({ keyId: row.key_id, streamId: row.stream_id, period: row.period }));
  }

  /**
   * Forgets the keys of periods up to `lastPeriod` that another process destroyed in the last day
   * while this one still holds them (a second server, the CLI): returns those it forgot.
   */
  async forgetPeriodsDestroyedElsewhere(
    tenantId: TenantId,
    lastPeriod: string,
  ): Promise<{ keyId: string; streamId: string }[]> {
    const rows = await this.sql.query<{ key_id: string; stream_id: string }>(
      `SELECT key_id::text AS key_id, stream_id FROM contact_keys
        WHERE tenant_id = $1 AND period IS NOT NULL AND period <= $2::date
          AND destroyed_at > now() - interval '1 day'`,
      [tenantId, lastPeriod],
    );
    const held = rows.filter((row) => this.contactKeys.get(`${tenantId}/${row.key_id}`));
    for (const row of held) this.forgetPeriodKey(tenantId, row.key_id, row.stream_id);
    return held.map((row) => ({ keyId: row.key_id, streamId: row.stream_id }));
  }

  /** The tenants that have live period keys: the ones a retention sweep may have work in. */
  async tenantsWithPeriodKeys(): Promise<TenantId[]> {
    const rows = await this.sql.query<{ tenant_id: TenantId }>(
      `SELECT DISTINCT tenant_id FROM contact_keys
        WHERE destroyed_at IS NULL AND period IS NOT NULL ORDER BY tenant_id`,
    );
    return rows.map((row) => row.tenant_id);
  }

  /** Drops a period's key from memory; the stream's other keys stay cached. */
  private forgetPeriodKey(tenantId: TenantId, keyId: string, streamId: string): void {
    this.contactKeys.set(`${tenantId}/${keyId}`, null);
    const cacheKey = `${tenantId}/${streamId}`;
    if (this.periodKeys.get(cacheKey)?.id === keyId) this.periodKeys.delete(cacheKey);
  }

  /** Drops a key from memory (told by the process that destroyed it, or by this one). */
  forgetKey(tenantId: TenantId, keyId: string, streamId?: string): void {
    this.contactKeys.set(`${tenantId}/${keyId}`, null);
    if (streamId !== undefined) {
      this.streamKeys.delete(`${tenantId}/${streamId}`);
      this.periodKeys.delete(`${tenantId}/${streamId}`);
      return;
    }
    for (const cache of [this.streamKeys, this.periodKeys])
      for (const [cacheKey, value] of cache) if (value.id === keyId) cache.delete(cacheKey);
  }

  /**
   * Re-seals every tenant key under the keyring's current master key, one row at a time, while
   * the service runs: a process that meets a master key id it does not know reads its keyring
   * again. Returns how many rows were re-sealed.
   */
  async rewrapTenantKeys(): Promise<number> {
    const rows = await this.sql.query<{ tenant_id: string; master_key_id: string; iv: string; ct: string }>(
      'SELECT tenant_id, master_key_id, iv, ct FROM tenant_keys WHERE master_key_id <> $1',
      [this.ring.current.id],
    );
    for (const row of rows) {
      const key = open(this.masterKey(row.master_key_id), row, tenantAad(row.tenant_id));
      const sealed = seal(this.ring.current.key, key, tenantAad(row.tenant_id));
      await this.sql.query(
        `UPDATE tenant_keys SET master_key_id = $2, iv = $3, ct = $4, rewrapped_at = now()
          WHERE tenant_id = $1 AND master_key_id = $5`,
        [row.tenant_id, this.ring.current.id, sealed.iv, sealed.ct, row.master_key_id],
      );
    }
    return rows.length;
  }

  /** Tenant keys still sealed by a master key other than the current one. */
  async tenantKeysOnOldMasters(): Promise<number> {
    const [row] = await this.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM tenant_keys WHERE master_key_id <> $1',
      [this.ring.current.id],
    );
    return row?.n ?? 0;
  }
}

/** The contact ref of a platform contact id under a tenant key (HMAC-SHA256, hex). */
function refUnder(tenantKey: Key, contactId: string): string {
  return createHmac('sha256', tenantKey).update(`contact-ref\u0000${contactId}`).digest('hex');
}
