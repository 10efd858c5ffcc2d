import { STATUS_CODES, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { TenantId } from '@parley/domain';
import { WebSocketServer } from 'ws';
import { BoardRoom, roomKey, type BoardCounters, type RoomSettings } from './room';
import {
  BoardCloseCode,
  type BoardAccess,
  type BoardLogger,
  type BoardServerHandle,
  type BoardServerOptions,
  type BoardServerStats,
} from './types';

/** The id part of a board stream (see `streamFor`), so every board id makes a valid stream id. */
const BOARD_ID = /^[A-Za-z0-9][A-Za-z0-9._:~-]{0,199}$/;

const DEFAULTS = {
  path: '/boards',
  maxUpdateBytes: 1024 * 1024,
  flushMs: 30,
  snapshotEvery: 200,
  idleUnloadMs: 60_000,
  maxLoadedBoards: 1000,
  pingIntervalMs: 30_000,
  recheckEveryMs: 60_000,
} as const;

const silent: BoardLogger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Serves boards over the y-websocket protocol on an existing HTTP server: upgrades to
 * `<path>/<boardId>` are authorised, then joined to the board's room (one per tenant and board).
 * Upgrades to other paths are left to other listeners (or refused with 404 if there are none).
 */
/** How long a room waits after another process's commit for more before it reads its board. */
const FOREIGN_GATHER_MS = 25;

export function attachBoardServer(httpServer: Server, options: BoardServerOptions): BoardServerHandle {
  const path = (options.path ?? DEFAULTS.path).replace(/\/+$/, '');
  const maxUpdateBytes = options.maxUpdateBytes ?? DEFAULTS.maxUpdateBytes;
  const maxLoadedBoards = options.maxLoadedBoards ?? DEFAULTS.maxLoadedBoards;
  const logger = options.logger ?? silent;
  const counters: BoardCounters = {
    refusedUpgrades: 0,
    rejectedMessages: 0,
    droppedReadOnlyUpdates: 0,
    eventsAppended: 0,
    snapshotsWritten: 0,
    boardsUnloaded: 0,
    movesRecorded: 0,
    movesRefused: 0,
    domainEdits: 0,
    sessionsEnded: 0,
    accessRevoked: 0,
    droppedPresence: 0,
  };
  const rooms = new Map<string, BoardRoom>();
  const settings: RoomSettings = {
    store: options.store,
    maxUpdateBytes,
    flushMs: options.flushMs ?? DEFAULTS.flushMs,
    snapshotEvery: options.snapshotEvery ?? DEFAULTS.snapshotEvery,
    idleUnloadMs: options.idleUnloadMs ?? DEFAULTS.idleUnloadMs,
    canMove: options.canMove,
    onCardMoved: options.onCardMoved,
    seed: options.seed,
    follow: options.follow,
    clock: options.clock ?? Date.now,
    logger,
    counters,
    onIdle: (room) => void room.unload(false),
    onGone: (room) => {
      if (rooms.get(room.key) === room) rooms.delete(room.key);
    },
  };
  // ws drops anything far beyond the limit itself; between the two the room closes with a clear code.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * maxUpdateBytes + 64 * 1024 });
  let closed = false;

  const heartbeat = setInterval(() => {
    for (const room of rooms.values()) {
      for (const connection of room.connections) {
        if (!connection.alive) connection.socket.terminate();
        else {
          connection.alive = false;
          connection.socket.ping();
        }
      }
    }
  }, options.pingIntervalMs ?? DEFAULTS.pingIntervalMs);
  heartbeat.unref();

  // Another process appended (its board rooms serve the same boards to other agents): each loaded
  // room reads its stream's tail, gathered over a few milliseconds (decision 0040).
  let pulling: NodeJS.Timeout | undefined;
  const stopHearing = options.store.onForeignCommit?.(() => {
    pulling ??= setTimeout(() => {
      pulling = undefined;
      for (const room of rooms.values()) void room.pull();
    }, FOREIGN_GATHER_MS);
  });

  // A session can end, and a membership or role change, while a socket stays open: ask again.
  const rechecking = new WeakSet<object>();
  const recheckConnections = (only?: { tenantId: TenantId; agentId: string }) => {
    for (const room of rooms.values()) {
      if (only && room.tenantId !== only.tenantId) continue;
      for (const connection of room.connections) {
        if (only && connection.access.agentId !== only.agentId) continue;
        const ask = connection.access.recheck;
        if (!ask || rechecking.has(connection)) continue;
        rechecking.add(connection);
        ask()
          .then(
            (answer) => {
              if (!('refuse' in answer)) return connection.setReadOnly(answer.readOnly);
              if (answer.refuse === 401) {
                counters.sessionsEnded++;
                connection.close(BoardCloseCode.SESSION_ENDED, 'the session ended; sign in again');
              } else {
                counters.accessRevoked++;
                connection.close(BoardCloseCode.ACCESS_REVOKED, 'your access to this board was withdrawn');
              }
            },
            (error: unknown) =>
              logger.warn(
                { err: error, agentId: connection.access.agentId },
                'rechecking a board connection failed',
              ),
          )
          .finally(() => rechecking.delete(connection));
      }
    }
  };
  const recheck = setInterval(recheckConnections, options.recheckEveryMs ?? DEFAULTS.recheckEveryMs);
  recheck.unref();

  /** The room for a board, loading it if needed; null when the cap is reached and nothing is idle. */
  async function acquire(tenantId: TenantId, boardId: string): Promise<BoardRoom | null> {
    const key = roomKey(tenantId, boardId);
    for (;;) {
      const existing = rooms.get(key);
      if (existing?.unloaded) {
        await existing.unloaded;
        continue;
      }
      if (existing) {
        existing.hold();
        return existing;
      }
      if (rooms.size >= maxLoadedBoards) {
        if (await makeRoom()) continue;
        return null;
      }
      const room = new BoardRoom(tenantId, boardId, settings);
      rooms.set(key, room);
      room.hold();
      return room;
    }
  }

  /** Frees a place under the cap: waits for an unload under way, else unloads the longest-idle board. */
  async function makeRoom(): Promise<boolean> {
    const all = [...rooms.values()];
    const closing = all.find((room) => room.unloaded !== undefined)?.unloaded;
    if (closing) return closing.then(() => true);
    const [oldest] = all.filter((room) => room.idle).sort((a, b) => a.lastActive - b.lastActive);
    return oldest ? oldest.unload(false) : false;
  }

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const boardId = boardIdOf(request.url, path);
    if (boardId === undefined) {
      if (httpServer.listenerCount('upgrade') === 1) refuse(socket, 404, 'not found');
      return;
    }
    socket.on('error', (error) => logger.debug({ err: error }, 'board upgrade socket error'));
    if (boardId === null) return refuse(socket, 404, 'no such board');
    if (closed) return refuse(socket, 503, 'the server is shutting down');

    let access: BoardAccess;
    try {
      const answer = await options.authorize(request, boardId);
      if ('refuse' in answer) {
        counters.refusedUpgrades++;
        return refuse(socket, answer.refuse, answer.reason);
      }
      access = answer;
    } catch (error) {
      logger.error({ err: error, boardId }, 'authorizing a board connection failed');
      counters.refusedUpgrades++;
      return refuse(socket, 500, 'authorization failed');
    }

    const room = closed ? null : await acquire(access.tenantId, boardId);
    if (!room) {
      counters.refusedUpgrades++;
      return refuse(socket, 503, 'too many boards are open; try again later');
    }
    try {
      if (socket.destroyed || closed) return;
      // handleUpgrade calls back synchronously, or refuses the handshake itself and never calls back.
      wss.handleUpgrade(request, socket, head, (ws) => room.join(ws, access));
    } finally {
      room.release();
    }
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    upgrade(request, socket, head).catch((error: unknown) => {
      logger.error({ err: error }, 'board upgrade failed');
      refuse(socket, 500, 'upgrade failed');
    });
  };
  httpServer.on('upgrade', onUpgrade);

  return {
    recheckAgent: (tenantId, agentId) => recheckConnections({ tenantId, agentId }),
    stats(): BoardServerStats {
      let connections = 0;
      for (const room of rooms.values()) connections += room.connections.size;
      return { ...counters, loadedBoards: rooms.size, connections };
    },
    async flush() {
      await Promise.all([...rooms.values()].map((room) => room.flush()));
    },
    async close() {
      closed = true;
      stopHearing?.();
      clearTimeout(pulling);
      httpServer.off('upgrade', onUpgrade);
      clearInterval(heartbeat);
      clearInterval(recheck);
      await Promise.all([...rooms.values()].map((room) => room.unload(true)));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/** The board id of an upgrade URL: undefined when the path is not ours, null when the id is invalid. */
function boardIdOf(url: string | undefined, path: string): string | null | undefined {
  const { pathname } = new URL(url ?? '/', 'http://board.invalid');
  if (!pathname.startsWith(`${path}/`)) return undefined;
  try {
    const id = decodeURIComponent(pathname.slice(path.length + 1));
    return BOARD_ID.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** Answers the upgrade with a plain HTTP error and closes the socket: no WebSocket, no board data. */
function refuse(socket: Duplex, status: number, reason: string): void {
  if (socket.destroyed) return;
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(reason)}`,
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${reason}`);
}
