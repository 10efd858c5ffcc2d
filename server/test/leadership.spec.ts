import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tenantId } from '@parley/domain';
import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/logger';
import { lead, type Leadership } from '../src/ops/leadership';
import { openServices, type Services } from '../src/services';
import { createPostgresDatabase } from './api.support';
import { POSTGRES_URL } from './support/databases';

const logger = createLogger('silent');
const onPostgres = POSTGRES_URL !== undefined;

/** Work that counts how often it runs, and whether it runs now. */
function countedWork() {
  const work = { starts: 0, stops: 0, running: false };
  const start = () => {
    work.starts += 1;
    work.running = true;
    return Promise.resolve({
      stop: () => {
        work.stops += 1;
        work.running = false;
        return Promise.resolve();
      },
    });
  };
  return { work, start };
}

describe('leadership on the embedded database', () => {
  it('leads at once: the data directory lock already makes this the only process', async () => {
    const { work, start } = countedWork();
    const leadership = await lead({ name: 'solo', databaseUrl: undefined, start, logger });
    expect(leadership.leading).toBe(true);
    expect(work.running).toBe(true);
    await leadership.close();
    expect(work).toEqual({ starts: 1, stops: 1, running: false });
  });
});

describe.skipIf(!onPostgres)('leadership on PostgreSQL (an advisory lock per name)', () => {
  const open: Leadership[] = [];
  const admin = () => new pg.Client({ connectionString: POSTGRES_URL });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((leadership) => leadership.close()));
  });

  const contender = async (name: string) => {
    const counted = countedWork();
    const leadership = await lead({
      name,
      databaseUrl: POSTGRES_URL,
      start: counted.start,
      logger,
      retryMs: 150,
    });
    open.push(leadership);
    return { ...counted, leadership };
  };

  it('one of three contenders leads; closing it hands the work to exactly one other', async () => {
    const name = `test-${Date.now()}-${Math.random()}`;
    const all = [await contender(name), await contender(name), await contender(name)];
    await vi.waitFor(() => expect(all.filter((c) => c.work.running)).toHaveLength(1), { timeout: 5_000 });
    const first = all.find((c) => c.leadership.leading)!;
    await first.leadership.close();
    expect(first.work.running).toBe(false);
    await vi.waitFor(() => expect(all.filter((c) => c.work.running)).toHaveLength(1), { timeout: 5_000 });
    // Over a few more rounds nobody else starts: the lock is held, not re-contested.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(all.reduce((sum, c) => sum + c.work.starts, 0)).toBe(2);
  });

  it("when the leader's database session is killed its work stops and another process takes over", async () => {
    const name = `test-${Date.now()}-${Math.random()}`;
    const a = await contender(name);
    const b = await contender(name);
    await vi.waitFor(() => expect([a, b].filter((c) => c.work.running)).toHaveLength(1), { timeout: 5_000 });
    const [leader, follower] = a.leadership.leading ? [a, b] : [b, a];
    // What a crashed node or a cut network looks like to PostgreSQL: the session ends.
    const client = admin();
    await client.connect();
    try {
      const { rowCount } = await client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_locks
          WHERE locktype = 'advisory' AND classid = $1 AND objid = hashtext($2)::oid AND granted`,
        [0x5041524c, name],
      );
      expect(rowCount).toBe(1);
    } finally {
      await client.end();
    }
    await vi.waitFor(() => expect(leader.work.running).toBe(false), { timeout: 5_000 });
    await vi.waitFor(() => expect(follower.work.running).toBe(true), { timeout: 5_000 });
    // The old leader reconnects as a follower: still one runner.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect([a, b].filter((c) => c.work.running)).toHaveLength(1);
  });
});

describe.skipIf(!onPostgres)('two Parley processes on one PostgreSQL database', () => {
  it('run one workflow engine between them; when its process stops, the other runs it and assigns', async () => {
    const database = await createPostgresDatabase();
    const dirs: string[] = [];
    const running: Services[] = [];
    const openNode = async () => {
      const dataDir = mkdtempSync(join(tmpdir(), 'parley-lead-'));
      dirs.push(dataDir);
      const services = await openServices(
        { databaseUrl: database.url, dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' },
        logger,
      );
      running.push(services);
      return services;
    };
    try {
      const nodes = [await openNode(), await openNode()];
      const leaders = nodes.filter((node) => node.workflowEngine.leadership.leading);
      expect(leaders).toHaveLength(1);
      const [leader, other] = leaders[0] === nodes[0] ? [nodes[0]!, nodes[1]!] : [nodes[1]!, nodes[0]!];

      const acme = tenantId(`lead${Date.now()}`);
      const at = Date.now();
      await other.grains.inbox(acme, 'support').ask({
        type: 'CreateInbox',
        data: {
          inboxId: 'support',
          name: 'Support',
          channel: { platform: 'whatsapp', channelId: 'wa-1' },
          policy: 'round-robin',
          at,
        },
      });
      await other.grains.inbox(acme, 'support').ask({
        type: 'AddMember',
        data: { agentId: 'ana', weight: 1, capacity: 50, presence: 'online', at },
      });
      const customerWrites = (node: Services, conversationId: string) =>
        node.grains.conversation(acme, conversationId).ask({
          type: 'ReceiveInboundMessage',
          data: {
            conversationId,
            inboxId: 'support',
            platform: 'whatsapp',
            externalMessageId: `wamid.${conversationId}`,
            contact: { id: `c-${conversationId}`, name: 'Dana', handle: '+491700000' },
            content: { type: 'text', text: 'hello' },
            sentAt: at,
          },
        });
      // Read from the table: a process's hot tier does not yet hear of another's writes (#19).
      const assignments = async (conversationId: string) => {
        const [row] = await other.db.sql.query<{ n: string }>(
          `SELECT count(*)::text AS n FROM events
            WHERE tenant_id = $1 AND stream_id = $2 AND type = 'ConversationAssigned'`,
          [acme, `conversation-${conversationId}`],
        );
        return Number(row?.n);
      };

      // Written on the follower, assigned by the leader's engine.
      await customerWrites(other, 'before');
      await vi.waitFor(async () => expect(await assignments('before')).toBe(1), { timeout: 15_000 });

      await leader.close();
      running.splice(running.indexOf(leader), 1);
      await other.workflowEngine.leadership.elected();
      await customerWrites(other, 'after');
      await vi.waitFor(async () => expect(await assignments('after')).toBe(1), { timeout: 15_000 });
      expect(await assignments('before')).toBe(1);
    } finally {
      await Promise.all(running.map((node) => node.close()));
      await database.drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it("a process's store and grains see another process's writes once its commit is announced", async () => {
    const database = await createPostgresDatabase();
    const dirs: string[] = [];
    const nodes: Services[] = [];
    try {
      for (const _ of [1, 2]) {
        const dataDir = mkdtempSync(join(tmpdir(), 'parley-cache-'));
        dirs.push(dataDir);
        nodes.push(
          await openServices(
            { databaseUrl: database.url, dataDir, port: 0, host: '127.0.0.1', logLevel: 'silent' },
            logger,
          ),
        );
      }
      const [a, b] = nodes as [Services, Services];
      const acme = tenantId(`cache${Date.now()}`);
      const at = Date.now();
      const create = {
        inboxId: 'support',
        name: 'Support',
        channel: { platform: 'whatsapp' as const, channelId: 'wa-1' },
        policy: 'round-robin' as const,
        at,
      };
      await a.grains.inbox(acme, 'support').ask({ type: 'CreateInbox', data: create });
      // Node a holds the inbox in its hot tier and as an activation; node b then changes it.
      expect((await a.grains.inbox(acme, 'support').read()).state?.members ?? []).toEqual([]);
      const streamId = a.grains.inbox(acme, 'support').streamId;
      expect((await a.store.readStream(acme, streamId)).map((e) => e.type)).toEqual(['InboxCreated']);
      const announced = a.store.foreignCommits ?? 0;
      await b.grains
        .inbox(acme, 'support')
        .ask({ type: 'AddMember', data: { agentId: 'ana', weight: 1, capacity: 5, presence: 'online', at } });
      await vi.waitFor(() => expect(a.store.foreignCommits).toBeGreaterThan(announced), { timeout: 10_000 });
      expect((await a.store.readStream(acme, streamId)).map((e) => e.type)).toEqual([
        'InboxCreated',
        'MemberAdded',
      ]);
      const members = (await a.grains.inbox(acme, 'support').read()).state?.members ?? [];
      expect(members.map((member) => member.agentId)).toEqual(['ana']);
      // Its own commits are not foreign: they leave the count alone.
      const own = a.store.foreignCommits;
      await a.grains
        .inbox(acme, 'support')
        .ask({ type: 'AddMember', data: { agentId: 'bo', weight: 1, capacity: 5, presence: 'online', at } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(a.store.foreignCommits).toBe(own);
    } finally {
      await Promise.all(nodes.map((node) => node.close()));
      await database.drop();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
