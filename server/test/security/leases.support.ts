import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tenantId } from '@parley/domain';
import pg from 'pg';
import pino from 'pino';
import { createGrainRuntime } from '../../src/actors/runtime';
import { createSqlSnapshotStore } from '../../src/actors/sql-snapshots';
import { createLocalBroadcast } from '../../src/broadcast/local';
import {
  startChannels,
  type Channels,
  type ChannelsOptions,
  type ConversationPort,
} from '../../src/channels';
import type { Database } from '../../src/db/database';
import { createGrains, type Grains } from '../../src/grains';
import { SqlEventStore } from '../../src/store/sql-store';

export const TENANT = tenantId('acme');
export const APP = { appId: 'acme-wa', secret: 'wa-secret-of-the-lease-tests' } as const;
/** A channel on a `simulator:` URL: its API honours `Idempotency-Key`, as Parley knows. */
export const HONOURING = { channelId: 'wa', externalId: '100000000000009' } as const;
/** A channel on a plain URL (as WhatsApp's own): Parley must assume the key is ignored. */
export const IGNORING = { channelId: 'wa2', externalId: '100000000000010' } as const;

/** One process's Parley channels over a database, with an HTTP server in front. */
export interface Stack {
  readonly channels: Channels;
  readonly grains: Grains;
  readonly store: SqlEventStore;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the channels on `db` as one Parley process would; `simulatorUrl` is the WhatsApp simulator's API. */
export async function startStack(
  db: Database,
  archiveDir: string,
  simulatorUrl: string,
  options: ChannelsOptions = {},
  /** Stands between the channels and the grains (to fail a command, say). */
  port: (grains: Grains) => ConversationPort = (grains) => grains,
): Promise<Stack> {
  const store = await SqlEventStore.open({ db, archiveDir });
  const broadcast = createLocalBroadcast();
  const runtime = createGrainRuntime({
    store,
    snapshots: createSqlSnapshotStore(db),
    broadcast,
    sweepEveryMs: 0,
  });
  const grains = createGrains(runtime);
  const logger = pino({ level: process.env.CHANNELS_TEST_LOG ?? 'silent' });
  const channels = await startChannels(
    { sql: db.sql, grains: port(grains), logger, broadcast },
    { simulatorUrls: { whatsapp: simulatorUrl }, sendTimeoutMs: 30_000, ...options },
  );
  const server: Server = createServer((req, res) => {
    if (!channels.handle(req, res)) {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const base = { tenantId: TENANT, inboxId: 'support' };
  await channels.repo.ensureApp({ ...base, appId: APP.appId, kind: 'whatsapp', secret: APP.secret });
  for (const [channel, apiBaseUrl] of [
    [HONOURING, 'simulator:whatsapp'],
    [IGNORING, simulatorUrl],
  ] as const) {
    await channels.repo.saveChannel({
      ...base,
      channelId: channel.channelId,
      appId: APP.appId,
      platform: 'whatsapp',
      externalId: channel.externalId,
      name: channel.channelId,
      apiBaseUrl,
      accessToken: 'wa-token',
    });
  }
  return {
    channels,
    grains,
    store,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await channels.close();
      await runtime.close();
      await broadcast.close();
      await store.close();
    },
  };
}

/** A database of its own on the DATABASE_URL server (a URL a child process can open), dropped by `drop`. */
export async function postgresDatabase(url: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `parley_leases_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    url: target.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

export function archiveOf(dir: string): string {
  return join(dir, 'archive');
}
