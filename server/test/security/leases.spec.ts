/**
 * #13 SC and SD: a Parley process is killed (SIGKILL) while it holds leases: a webhook it answered
 * 200 but never processed, and replies in the middle of their send. A new process on the same
 * database must take those leases over at once (not after their 60 s), keep the contact's order,
 * and resend the cut-off replies so that a platform honouring `Idempotency-Key` delivers each once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { StreamId } from '@parley/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationIdFor } from '../../src/channels/conversation-id';
import { metaSignature } from '../../src/channels/signature';
import { whatsappText } from '../../src/channels/simulators/payloads';
import {
  startPlatformSimulator,
  type PlatformSimulator,
} from '../../src/channels/simulators/platform-simulator';
import { openDatabase, type Database } from '../../src/db/database';
import { migrate } from '../../src/db/migrator';
import type { ConversationPort } from '../../src/channels';
import type { Grains } from '../../src/grains';
import { DATABASE_KINDS, eventually } from '../fixtures/channels/harness';
import { freshPglite, freshPostgres, POSTGRES_URL, type TestDatabase } from '../support/databases';
import {
  APP,
  archiveOf,
  HONOURING,
  IGNORING,
  postgresDatabase,
  startStack,
  TENANT,
  type Stack,
} from './leases.support';

const NODE = 'leases-test-node';
const SERVER_ROOT = new URL('../..', import.meta.url).pathname;
/** The contact whose webhook is recorded, answered 200, and left unprocessed by the crash. */
const LATE = { waId: '15550000001', name: 'Late' };

interface Contact {
  readonly waId: string;
  readonly channel: typeof HONOURING | typeof IGNORING;
}
const CONTACTS: readonly Contact[] = [
  ...Array.from({ length: 8 }, (_, i) => ({ waId: `1555100000${i}`, channel: HONOURING })),
  ...Array.from({ length: 4 }, (_, i) => ({ waId: `1555200000${i}`, channel: IGNORING })),
];

function conversationOf(waId: string, channel: { channelId: string }): string {
  return conversationIdFor(TENANT, 'whatsapp', channel.channelId, waId);
}

async function postWebhook(base: string, channel: { externalId: string }, waId: string, id: string) {
  const body = JSON.stringify(
    whatsappText(channel.externalId, { waId, name: waId }, { id, text: id, at: Date.now() }),
  );
  return fetch(`${base}/webhooks/whatsapp/${APP.appId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature-256': metaSignature(APP.secret, body) },
    body,
  });
}

/** Starts leases.worker.ts and resolves to its addresses once it listens. */
async function startWorker(env: Record<string, string>): Promise<{
  child: ChildProcess;
  webhooks: string;
  control: string;
}> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/security/leases.worker.ts'], {
    cwd: SERVER_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`worker exited early (${code})`))),
  );
  const line = new Promise<string>((resolve) => {
    createInterface({ input: child.stdout }).once('line', resolve);
  });
  const ready = JSON.parse(await Promise.race([line, exited])) as { webhooks: string; control: string };
  return { child, ...ready };
}

describe.each(DATABASE_KINDS)('[SC] [SD] leases across a crash on %s', (kind) => {
  const work = mkdtempSync(join(tmpdir(), 'parley-leases-'));
  const dataDir = join(work, 'db');
  let pgDatabase: { url: string; drop(): Promise<void> } | undefined;
  let sim: PlatformSimulator;
  let db: Database;
  let stack: Stack | undefined;
  /** What the database held right after the kill, before any process took over. */
  let atCrash: {
    webhook: { status: string; locked_by: string | null; lease_left_ms: number };
    outbox: { status: string; locked_by: string | null; send_started_at: Date | null }[];
    workers: number;
  };
  let requestsBeforeCrash = 0;

  const open = () => openDatabase(pgDatabase ? { databaseUrl: pgDatabase.url } : { dataDir });
  const late = conversationOf(LATE.waId, HONOURING);

  beforeAll(async () => {
    sim = await startPlatformSimulator({ kind: 'whatsapp' });
    if (kind === 'postgres') pgDatabase = await postgresDatabase(POSTGRES_URL!);
    db = await open();
    await migrate(db.sql);

    // Before the crash: every contact has a conversation, and LATE has written once.
    const first = await startStack(db, archiveOf(work), sim.apiBaseUrl, { leases: { node: NODE } });
    expect((await postWebhook(first.url, HONOURING, LATE.waId, 'wamid.LATE0')).status).toBe(200);
    for (const contact of CONTACTS)
      expect(
        (await postWebhook(first.url, contact.channel, contact.waId, `wamid.${contact.waId}`)).status,
      ).toBe(200);
    await eventually(
      async () =>
        (await db.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM channel_contacts`))[0]!.n ===
        CONTACTS.length + 1,
      30_000,
      'conversations',
    );
    await first.close();
    await db.close(); // PGlite is one process: the worker opens the directory next

    // The worker: replies go out slowly (the simulator answers after 8 s), and a webhook from
    // LATE is recorded and answered 200; then it is killed in the middle of all that.
    const worker = await startWorker({
      ...(pgDatabase ? { LEASES_DATABASE_URL: pgDatabase.url } : { LEASES_DATA_DIR: dataDir }),
      LEASES_SIMULATOR_URL: sim.apiBaseUrl,
      LEASES_WORK_DIR: work,
    });
    try {
      sim.setFaults({ latencyMs: 8_000 });
      await Promise.all(
        CONTACTS.map(async (contact) => {
          const queued = await fetch(worker.control, {
            method: 'POST',
            body: JSON.stringify({
              conversationId: conversationOf(contact.waId, contact.channel),
              clientMessageId: `reply-${contact.waId}`,
            }),
          });
          expect(queued.status, await queued.text()).toBe(200);
        }),
      );
      await eventually(() => sim.stats().requests >= CONTACTS.length, 20_000, 'every reply mid-send');
      expect((await postWebhook(worker.webhooks, HONOURING, LATE.waId, 'wamid.LATE1')).status).toBe(200);
    } finally {
      const gone = new Promise((resolve) => worker.child.once('exit', resolve));
      worker.child.kill('SIGKILL');
      await gone;
    }
    requestsBeforeCrash = sim.stats().requests;
    sim.setFaults({ latencyMs: 0 });

    db = await open();
    const [webhook] = await db.sql.query<{ status: string; locked_by: string | null; lease_left_ms: number }>(
      `SELECT status, locked_by,
              (extract(epoch FROM locked_until - now()) * 1000)::int AS lease_left_ms
         FROM webhook_inbox WHERE body LIKE '%wamid.LATE1%'`,
    );
    atCrash = {
      webhook: webhook!,
      outbox: await db.sql.query(`SELECT status, locked_by, send_started_at FROM channel_outbox`),
      workers: (await db.sql.query(`SELECT id FROM channel_workers`)).length,
    };

    // The restart: a new process on the same node, with the production leases (60 s).
    stack = await startStack(db, archiveOf(work), sim.apiBaseUrl, { leases: { node: NODE } });
    // LATE writes again at once: this newer message must not overtake the one left by the crash.
    expect((await postWebhook(stack.url, HONOURING, LATE.waId, 'wamid.LATE2')).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await stack?.close();
    await db?.close();
    await sim?.close();
    await pgDatabase?.drop();
    rmSync(work, { recursive: true, force: true });
  });

  it('[SC] [LE1] the crash left the webhook answered 200 leased to the dead process for most of a minute', () => {
    expect(atCrash.webhook.status).toBe('processing');
    expect(atCrash.webhook.locked_by).toMatch(/^w_/);
    expect(atCrash.webhook.lease_left_ms).toBeGreaterThan(30_000);
    expect(atCrash.workers).toBe(1);
  });

  it("[SC] [LE1] [LE2] a restarted process takes its predecessor's webhook over at once, before the contact's newer message", async () => {
    // Well inside the dead process's 60 s lease.
    const received = await eventually(
      async () => {
        const events = await stack!.store.readStream(TENANT, `conversation-${late}` as StreamId);
        const ids = events
          .filter((e) => e.type === 'InboundMessageReceived')
          .map((e) => (e.data as { externalMessageId: string }).externalMessageId);
        return ids.length === 3 ? ids : undefined;
      },
      20_000,
      "LATE's three messages",
    );
    expect(received).toEqual(['wamid.LATE0', 'wamid.LATE1', 'wamid.LATE2']);
    // The row is marked processed just after its events commit: wait for that step too.
    const rows = await eventually(
      async () => {
        const now = await db.sql.query<{ status: string; locked_by: string | null }>(
          `SELECT status, locked_by FROM webhook_inbox WHERE body LIKE '%wamid.LATE1%'`,
        );
        return now.every((row) => row.status !== 'processing') ? now : undefined;
      },
      20_000,
      "LATE1's delivery to settle",
    );
    expect(rows).toEqual([{ status: 'processed', locked_by: null }]);
    // The dead owner is gone; only the new process is registered.
    const workers = await db.sql.query<{ id: string }>(`SELECT id FROM channel_workers`);
    expect(workers.map((w) => w.id)).toEqual([stack!.channels.leases.id]);
  });

  it('[SD] [LE3] every reply mid-send at the crash was recorded as attempted before its request', () => {
    expect(atCrash.outbox).toHaveLength(CONTACTS.length);
    for (const row of atCrash.outbox) {
      expect(row.status).toBe('sending');
      expect(row.locked_by).toMatch(/^w_/);
      expect(row.send_started_at).toBeInstanceOf(Date);
    }
  });

  it('[SD] [LE1] [LE3] the restarted process resends them at once with the same key: the simulator delivers each reply once', async () => {
    await eventually(
      async () =>
        (
          await db.sql.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM channel_outbox WHERE status = 'sent'`,
          )
        )[0]!.n === CONTACTS.length,
      20_000,
      'every reply sent',
    );
    // The requests the dead process had in flight are answered too (after the simulated latency).
    await eventually(() => {
      const stats = sim.stats();
      return stats.accepted + stats.duplicates === stats.requests;
    }, 30_000);
    const stats = sim.stats();
    expect(requestsBeforeCrash).toBe(CONTACTS.length);
    expect(stats.requests).toBe(2 * CONTACTS.length); // each cut-off send was sent again, once
    const keys = sim.accepted().map((m) => m.idempotencyKey);
    expect(keys).toHaveLength(CONTACTS.length); // no customer got a reply twice
    expect(new Set(keys).size).toBe(CONTACTS.length);
    expect(stats.duplicates).toBe(CONTACTS.length);
    const rows = await db.sql.query<{ send_started_at: Date | null; locked_by: string | null }>(
      `SELECT send_started_at, locked_by FROM channel_outbox`,
    );
    expect(rows.every((r) => r.send_started_at === null && r.locked_by === null)).toBe(true);
  });

  it('[SD] [LE3] a resend to an API that ignores the key is counted and flagged as a possible duplicate', async () => {
    await eventually(
      () =>
        stack!.channels.dispatcher.stats.inDoubtResent +
          stack!.channels.dispatcher.stats.possibleDuplicates >=
        CONTACTS.length,
      20_000,
    );
    const honouring = CONTACTS.filter((c) => c.channel === HONOURING).length;
    expect(stack!.channels.dispatcher.stats).toEqual({
      inDoubtResent: honouring,
      possibleDuplicates: CONTACTS.length - honouring,
    });
    for (const contact of CONTACTS) {
      const events = await stack!.store.readStream(
        TENANT,
        `conversation-${conversationOf(contact.waId, contact.channel)}` as StreamId,
      );
      const sent = events.filter((e) => e.type === 'ReplySent');
      expect(sent).toHaveLength(1);
      expect(sent[0]!.metadata.possibleDuplicate === true).toBe(contact.channel === IGNORING);
    }
  });
});

/** Fails the first processing of each named platform message, as a database hiccup would. */
function failingOnce(externalIds: readonly string[]) {
  const left = new Set(externalIds);
  return (grains: Grains): ConversationPort => ({
    conversation(tenantId, conversationId) {
      const grain = grains.conversation(tenantId, conversationId);
      return {
        tenantId: grain.tenantId,
        streamId: grain.streamId,
        read: () => grain.read(),
        ask(command, options) {
          if (command.type === 'ReceiveInboundMessage' && left.delete(command.data.externalMessageId))
            return Promise.reject(new Error('connection reset (simulated)'));
          return grain.ask(command, options);
        },
      };
    },
  });
}

describe.each(DATABASE_KINDS)(
  "[SC] a contact's order while an earlier delivery waits for its retry on %s",
  (kind) => {
    const work = mkdtempSync(join(tmpdir(), 'parley-order-'));
    let database: TestDatabase;
    let sim: PlatformSimulator;
    const stacks: Stack[] = [];
    beforeAll(async () => {
      database = kind === 'pglite' ? await freshPglite() : await freshPostgres();
      sim = await startPlatformSimulator({ kind: 'whatsapp' });
    });
    afterAll(async () => {
      for (const stack of stacks) await stack.close();
      await sim.close();
      await database.dispose();
      rmSync(work, { recursive: true, force: true });
    });

    async function received(conversationId: string, count: number): Promise<string[]> {
      return eventually(
        async () => {
          const events = await database.db.sql.query<{ id: string }>(
            `SELECT data->>'externalMessageId' AS id FROM events
            WHERE tenant_id = $1 AND stream_id = $2 AND type = 'InboundMessageReceived' ORDER BY version`,
            [TENANT, `conversation-${conversationId}`],
          );
          return events.length === count ? events.map((e) => e.id) : undefined;
        },
        20_000,
        `${count} messages`,
      );
    }

    async function failedOnce(externalId: string): Promise<void> {
      await eventually(
        async () =>
          (
            await database.db.sql.query(
              `SELECT 1 FROM webhook_inbox WHERE status = 'pending' AND attempts = 1 AND body LIKE $1`,
              [`%${externalId}%`],
            )
          ).length === 1,
        20_000,
        `${externalId} waiting for its retry`,
      );
    }

    it("[SC] [LE2] a later message of the contact is not processed before the earlier one's retry", async () => {
      const stack = await startStack(
        database.db,
        archiveOf(work),
        sim.apiBaseUrl,
        { leases: { node: `${NODE}-a` }, processor: { idleMs: 20, backoff: { baseMs: 400, maxMs: 400 } } },
        failingOnce(['wamid.A1']),
      );
      stacks.push(stack);
      expect((await postWebhook(stack.url, HONOURING, '15553000001', 'wamid.A1')).status).toBe(200);
      await failedOnce('wamid.A1');
      expect((await postWebhook(stack.url, HONOURING, '15553000001', 'wamid.A2')).status).toBe(200);
      expect(await received(conversationOf('15553000001', HONOURING), 2)).toEqual(['wamid.A1', 'wamid.A2']);
    });

    it('[SC] [LE2] the next process keeps that order after a restart', async () => {
      const before = await startStack(
        database.db,
        archiveOf(work),
        sim.apiBaseUrl,
        { leases: { node: `${NODE}-b` }, processor: { idleMs: 20, backoff: { baseMs: 800, maxMs: 800 } } },
        failingOnce(['wamid.B1']),
      );
      expect((await postWebhook(before.url, HONOURING, '15553000002', 'wamid.B1')).status).toBe(200);
      await failedOnce('wamid.B1');
      await before.close();
      const after = await startStack(database.db, archiveOf(work), sim.apiBaseUrl, {
        leases: { node: `${NODE}-b` },
        processor: { idleMs: 20, backoff: { baseMs: 50, maxMs: 100 } },
      });
      stacks.push(after);
      expect((await postWebhook(after.url, HONOURING, '15553000002', 'wamid.B2')).status).toBe(200);
      expect(await received(conversationOf('15553000002', HONOURING), 2)).toEqual(['wamid.B1', 'wamid.B2']);
    });
  },
);
