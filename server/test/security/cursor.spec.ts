import { streamId, tenantId, type Checkpoint } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpoint, START } from '../../src/store/checkpoint';
import { API_BACKENDS, openApiHarness, type ApiHarness, type Caller } from '../api.support';

const demo = tenantId('demo');
const globex = tenantId('globex');
/** What every cursor looks like on the wire: the database's epoch, then 44 sealed bytes. */
const SEALED = /^[0-9a-f]{1,32}\.[A-Za-z0-9_-]{59}$/;

describe.each(API_BACKENDS)('sync cursors on %s (#13 S16)', (kind, enabled) => {
  let h: ApiHarness;
  let ana: Caller;
  let gina: Caller;

  beforeAll(async () => {
    if (!enabled) return;
    h = await openApiHarness(kind);
    ana = (await h.signIn('ana@demo.parley.test')).caller;
    gina = (await h.signIn('gina@globex.parley.test')).caller;
    await h.settle();
  });
  afterAll(async () => {
    if (enabled) await h.dispose();
  });

  async function head(caller: Caller, from: string | null = null): Promise<string> {
    let cursor = from;
    for (;;) {
      const page = await caller.sync.catchUp({ cursor, limit: 1000 });
      if (page.kind !== 'events') throw new Error(`unexpected ${JSON.stringify(page)}`);
      cursor = page.cursor;
      if (!page.hasMore) return cursor;
    }
  }

  /** The store's own checkpoint of the tenant's newest event: what a cursor must not show. */
  async function lastCheckpoint(tenant: typeof demo): Promise<Checkpoint> {
    let after = START;
    for (;;) {
      const page = await h.services.store.readAll(tenant, after, 1000);
      if (page.events.length < 1000) return page.next;
      after = page.next;
    }
  }

  it.skipIf(!enabled)(
    "[S16] a tenant's cursors do not reveal that another tenant wrote 1,000 events between them",
    async () => {
      const before = await head(ana);
      // Globex writes 1,000 events (ten transactions) while demo writes one.
      for (let i = 0; i < 10; i++) {
        const events = Array.from({ length: 100 }, () => ({ type: 'Noise', data: {} }));
        await h.services.store.append(globex, streamId(`conversation-noise-${i}`), events, {
          expectedVersion: 'any',
        });
      }
      await ana.conversations.label({ conversationId: 'demo-2', label: 's16', action: 'add' });
      const after = await head(ana, before);
      const demoAfter = await lastCheckpoint(demo);
      const { tx, position } = parseCheckpoint(demoAfter);
      expect(position).toBeGreaterThan(1000n); // the global position did count globex's events

      for (const cursor of [before, after]) {
        expect(cursor).toMatch(SEALED);
        // Neither the global position nor the transaction id can be read off the cursor.
        expect(cursor).not.toContain(String(position));
        expect(cursor).not.toContain(String(tx));
        expect(cursor).not.toContain(':');
      }
      expect(after.length).toBe(before.length);

      // The same in a quiet moment: one more demo event, no globex events. A's view of both
      // intervals has the same shape; only the server can tell them apart.
      await ana.conversations.label({ conversationId: 'demo-2', label: 's16-quiet', action: 'add' });
      const quiet = await head(ana, after);
      expect(quiet).toMatch(SEALED);
      expect(quiet.length).toBe(after.length);
      expect(quiet).not.toContain(String(parseCheckpoint(await lastCheckpoint(demo)).position));
    },
  );

  it.skipIf(!enabled)(
    '[S16] an edited, forged or other tenant’s cursor is refused with a resync to the tenant’s own head',
    async () => {
      const own = await head(ana);
      const theirs = await head(gina);
      const dot = own.indexOf('.');
      const flip = (cursor: string, at: number) =>
        cursor.slice(0, at) + (cursor[at] === 'A' ? 'B' : 'A') + cursor.slice(at + 1);
      const tampered = [
        flip(own, dot + 1), // the IV
        flip(own, dot + 20), // the sealed checkpoint
        flip(own, own.length - 1), // the tag
        `${own.slice(0, dot)}.${theirs.slice(theirs.indexOf('.') + 1)}`, // globex's cursor
        `${own.slice(0, dot)}.${'A'.repeat(59)}`,
        // The last character's spare bits: the same bytes spelt another way.
        ...sameBytesOtherSpelling(own),
      ];
      for (const cursor of tampered) {
        const answer = await ana.sync.catchUp({ cursor, limit: 10 });
        expect(answer).toMatchObject({ kind: 'resync', reason: 'cursor-forged' });
        // It points at the tenant's own head (where `own` stood, or later if the log moved on:
        // other suites share the PostgreSQL server): a cursor Ana can read on and Gina cannot.
        if (answer.cursor !== own) await head(ana, answer.cursor);
        expect(await gina.sync.catchUp({ cursor: answer.cursor, limit: 1 })).toMatchObject({
          kind: 'resync',
          reason: 'cursor-forged',
        });
      }
      const stream = await ana.sync.live({ cursor: tampered[1]! });
      const first = (await stream[Symbol.asyncIterator]().next()).value as unknown;
      expect(JSON.stringify(first)).toContain('cursor-forged');
    },
  );

  it.skipIf(!enabled)(
    '[S16] an old client’s readable cursor (<epoch>.<txid>:<position>) gets a resync, not events',
    async () => {
      const own = await head(ana);
      const epoch = own.slice(0, own.indexOf('.'));
      for (const cursor of [`${epoch}.0:0`, `${epoch}.${await lastCheckpoint(demo)}`]) {
        expect(await ana.sync.catchUp({ cursor, limit: 10 })).toEqual({
          kind: 'resync',
          reason: 'cursor-malformed',
          cursor: own,
        });
      }
    },
  );

  it.skipIf(!enabled)('[S16] the cursor secret is readable by the owner only, not the app role', async () => {
    const rows = await h.services.db.sql.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM sync_cursor_key',
    );
    expect(rows[0]?.n).toBe(1);
    await expect(
      h.services.db.sql.transaction(async (tx) => {
        await tx.query('SET LOCAL ROLE parley_app');
        return tx.query('SELECT secret FROM sync_cursor_key');
      }),
    ).rejects.toThrow(/permission denied/);
  });
});

/** Spellings of a cursor whose last base64url character differs only in the bits base64 leaves over. */
function sameBytesOtherSpelling(cursor: string): string[] {
  const dot = cursor.indexOf('.');
  const body = cursor.slice(dot + 1);
  const bytes = Buffer.from(body, 'base64url');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const variants = [...alphabet]
    .map((c) => body.slice(0, -1) + c)
    .filter((other) => other !== body && Buffer.from(other, 'base64url').equals(bytes));
  expect(variants.length).toBeGreaterThan(0);
  return variants.map((other) => `${cursor.slice(0, dot)}.${other}`);
}
