/**
 * The server side of `bench:board`, in a process of its own so its CPU and memory are measured
 * apart from the simulated clients: Parley's board server (`attachBoardServer` on the real event
 * store) or Hocuspocus (with a persistence of the kind its database extension uses: the whole
 * document as one row, stored after a debounce), both on a plain `node:http` server and a `ws`
 * WebSocketServer, on the same scratch database.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Hocuspocus } from '@hocuspocus/server';
import { createBoardDoc, moveCard, readBoard } from '@parley/board';
import { tenantId } from '@parley/domain';
import { WebSocketServer } from 'ws';
import * as Y from 'yjs';
import { attachBoardServer, loadStoredBoard, type BoardServerHandle } from '../src/boards';
import { appendUpdate } from '../src/boards/persistence';
import { openDatabase, type Database, type OpenDatabaseOptions } from '../src/db/database';
import { migrate } from '../src/db/migrator';
import { SqlEventStore } from '../src/store/sql-store';
import { serveParent } from './board-ipc';

export type System = 'parley' | 'hocuspocus';

export interface StartParams {
  readonly system: System;
  readonly database: OpenDatabaseOptions;
  /** Parley: unload a board this long after its last client left (Hocuspocus unloads at once). */
  readonly idleUnloadMs: number;
}

export interface MemoryReport {
  readonly heapUsed: number;
  readonly rss: number;
  readonly loadedBoards: number;
}

/** The server's CPU and event-loop delay since the previous `load` call. */
export interface ServerLoad {
  /** 100 is one core busy all the time. */
  readonly cpuPercent: number;
  readonly loopDelayP99Ms: number;
}

const BENCH_TENANT = tenantId('bench');
const HOCUSPOCUS_TABLE = 'bench_hocuspocus_documents';

interface Running {
  readonly http: Server;
  readonly db: Database;
  loadedBoards(): number;
  /** Parley: writes `tail` updates after the stored snapshot, as a crash before the next one would leave. */
  addTail(boardId: string, tail: number): Promise<void>;
  close(): Promise<void>;
}

let running: Running | undefined;
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
let loadSince = { at: performance.now(), cpu: process.cpuUsage() };

async function startParley(db: Database, http: Server, idleUnloadMs: number): Promise<Running> {
  const store = await SqlEventStore.open({ db, archiveDir: join(tmpdir(), 'parley-bench-board-archive') });
  let agents = 0;
  const board: BoardServerHandle = attachBoardServer(http, {
    store,
    idleUnloadMs,
    // Everyone may edit; each connection is its own agent.
    authorize: () =>
      Promise.resolve({ tenantId: BENCH_TENANT, agentId: `agent-${++agents}`, readOnly: false }),
  });
  return {
    http,
    db,
    loadedBoards: () => board.stats().loadedBoards,
    async addTail(boardId, tail) {
      const stored = await loadStoredBoard(store, BENCH_TENANT, boardId);
      const doc = createBoardDoc();
      for (const update of stored.updates) Y.applyUpdate(doc, update);
      const columns = readBoard(doc).columns.map((column) => column.id);
      const cards = [...doc.getMap('cards').keys()];
      let version = stored.version;
      for (let i = 0; i < tail; i++) {
        const before = Y.encodeStateVector(doc);
        const card = cards[(i * 7919) % cards.length]!;
        moveCard(doc, card, columns[i % columns.length]!);
        const update = Y.encodeStateAsUpdate(doc, before);
        const result = await appendUpdate(store, BENCH_TENANT, boardId, update, version, {
          agents: ['bench'],
        });
        version = result.nextExpectedVersion;
      }
      doc.destroy();
      // The tail was appended by this process, so the hot tier holds it: a cold load reads the tables.
      store.hot.clear();
    },
    async close() {
      await board.close();
      await store.close();
    },
  };
}

async function startHocuspocus(db: Database, http: Server): Promise<Running> {
  await db.sql.exec(
    `CREATE TABLE IF NOT EXISTS ${HOCUSPOCUS_TABLE} (name text PRIMARY KEY, state bytea NOT NULL)`,
  );
  const hocuspocus = new Hocuspocus({
    quiet: true,
    async onLoadDocument({ document, documentName }) {
      const [row] = await db.sql.query<{ state: Uint8Array }>(
        `SELECT state FROM ${HOCUSPOCUS_TABLE} WHERE name = $1`,
        [documentName],
      );
      if (row) Y.applyUpdate(document, row.state);
      return document;
    },
    async onStoreDocument({ document, documentName }) {
      await db.sql.query(
        `INSERT INTO ${HOCUSPOCUS_TABLE} (name, state) VALUES ($1, $2)
         ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state`,
        [documentName, Y.encodeStateAsUpdate(document)],
      );
    },
  });
  const wss = new WebSocketServer({ noServer: true });
  http.on('upgrade', (request, socket, head) => {
    wss.handleUpgrade(request, socket, head, (ws) => hocuspocus.handleConnection(ws, request));
  });
  return {
    http,
    db,
    loadedBoards: () => hocuspocus.getDocumentsCount(),
    addTail: () => Promise.resolve(),
    async close() {
      hocuspocus.closeConnections();
      // Closing the last connection stores the document and then unloads it.
      await until(() => hocuspocus.getDocumentsCount() === 0, 60_000);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the server');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  collect?.();
}

const methods = {
  async start(params: StartParams): Promise<{ port: number }> {
    const db = await openDatabase(params.database);
    await migrate(db.sql);
    const http = createServer((_request, response) => response.writeHead(404).end());
    running =
      params.system === 'parley'
        ? await startParley(db, http, params.idleUnloadMs)
        : await startHocuspocus(db, http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return { port: (http.address() as AddressInfo).port };
  },
  memory(): Promise<MemoryReport> {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    return Promise.resolve({ heapUsed, rss, loadedBoards: running?.loadedBoards() ?? 0 });
  },
  load(): Promise<ServerLoad> {
    const { user, system } = process.cpuUsage(loadSince.cpu);
    const cpuPercent = (user + system) / 10 / (performance.now() - loadSince.at);
    const loopDelayP99Ms = loopDelay.percentile(99) / 1e6;
    loopDelay.reset();
    loadSince = { at: performance.now(), cpu: process.cpuUsage() };
    return Promise.resolve({ cpuPercent, loopDelayP99Ms });
  },
  /** Waits until no board is loaded, then (Parley) writes a tail for the next cold load to read. */
  async prepareColdLoad(params: { boardId: string; tail: number }): Promise<void> {
    await until(() => running!.loadedBoards() === 0, 30_000);
    await running!.addTail(params.boardId, params.tail);
  },
  async stop(): Promise<void> {
    const current = running;
    running = undefined;
    if (!current) return;
    await current.close();
    current.http.closeAllConnections();
    await new Promise((resolve) => current.http.close(resolve));
    await current.db.close();
  },
};

export type ServerMethods = typeof methods;

serveParent(methods);
