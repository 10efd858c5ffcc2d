import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { moveCard } from '@parley/board';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApi } from '../src/api/context';
import { createHttpServer, listen, type ParleyHttpServer } from '../src/http/server';
import { createLogger } from '../src/logger';
import { openServices, type Services } from '../src/services';
import { openApiHarness, type ApiHarness } from './api.support';
import { columnOf, connectBoard, until, type BoardClient } from './boards.support';
import { POSTGRES_URL } from './support/databases';

/**
 * Two Parley processes on one PostgreSQL database, each serving board sockets: agents whose sockets
 * land on different nodes edit one board (decision 0040).
 */
describe.skipIf(POSTGRES_URL === undefined)('one board served by two processes', () => {
  let h: ApiHarness;
  let second: Services;
  let secondDir: string;
  const servers: ParleyHttpServer[] = [];
  const origins: string[] = [];
  const clients: BoardClient[] = [];

  beforeAll(async () => {
    h = await openApiHarness('postgres'); // node one, with the demo seeded
    secondDir = mkdtempSync(join(tmpdir(), 'parley-node2-'));
    // The nodes of a cluster share the master key (as PARLEY_MASTER_KEY would give it to both).
    copyFileSync(join(h.services.config.dataDir, 'master.key'), join(secondDir, 'master.key'));
    second = await openServices(
      {
        databaseUrl: h.services.config.databaseUrl,
        dataDir: secondDir,
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent',
      },
      createLogger('silent'),
    );
    for (const [services, api] of [
      [h.services, h.api],
      [second, createApi(second)],
    ] as const) {
      const server = createHttpServer(services, { api });
      const { port } = await listen(server, 0, '127.0.0.1');
      servers.push(server);
      origins.push(`127.0.0.1:${port}`);
    }
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    for (const server of servers) {
      await server.boards.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await second?.close();
    await h?.dispose();
    rmSync(secondDir, { recursive: true, force: true });
  });

  it('a move made through one node reaches an agent on the other, both ways, and is stored once', async () => {
    const ana = await h.signIn('ana@demo.parley.test');
    const ben = await h.signIn('ben@demo.parley.test');
    // Sessions live in the database: one cookie is good on either node.
    // Node one opens the board first and stores its seed; node two loads it from the store. (Two
    // nodes seeding a never-stored board at the same instant each plant the cards: decision 0040.)
    const onOne = connectBoard(origins[0]!, 'support', ana.cookie);
    clients.push(onOne);
    await until(() => onOne.provider.synced && columnOf(onOne, 'demo-2') !== undefined, 'node one to seed');
    await servers[0]!.boards.flush();
    const onTwo = connectBoard(origins[1]!, 'support', ben.cookie);
    clients.push(onTwo);
    await until(() => onTwo.provider.synced, 'node two to sync');
    await until(
      () => columnOf(onOne, 'demo-2') !== undefined && columnOf(onTwo, 'demo-3') !== undefined,
      'the seeded cards on both nodes',
    );

    moveCard(onOne.doc, 'demo-2', 'working');
    await until(() => columnOf(onTwo, 'demo-2') === 'working', 'node two to show the move made on node one');

    moveCard(onTwo.doc, 'demo-3', 'waiting');
    await until(() => columnOf(onOne, 'demo-3') === 'waiting', 'node one to show the move made on node two');

    // Each move is the domain's CardMoved once, whichever node judged it.
    const moves = async (cardId: string) => {
      const [row] = await h.services.db.sql.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM events WHERE tenant_id = 'demo' AND stream_id = $1 AND type = 'CardMoved'`,
        [`card-${cardId}`],
      );
      return Number(row?.n);
    };
    await until(
      async () => (await moves('demo-2')) === 1 && (await moves('demo-3')) === 1,
      'one CardMoved each',
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect([await moves('demo-2'), await moves('demo-3')]).toEqual([1, 1]);
  });
});
