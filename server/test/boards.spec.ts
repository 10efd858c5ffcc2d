import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  addCard,
  addColumn,
  BOARD_NOTICE_MESSAGE,
  createBoardDoc,
  editNote,
  moveCard,
  parseBoardNotice,
  readBoard,
  type BoardNotice,
  type BoardView,
} from '@parley/board';
import { tenantId, type TenantId } from '@parley/domain';
import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import {
  attachBoardServer,
  BoardCloseCode,
  BoardEventType,
  boardSnapshotStream,
  boardStream,
  loadStoredBoard,
  type AuthorizeBoard,
  type BoardAccess,
  type BoardServerHandle,
  type BoardServerOptions,
  type CardMovedEvent,
} from '../src/boards';
import { createMemoryEventStore } from '../src/store/memory';
import type { EventStore } from '../src/store/types';

const ACME = tenantId('acme');
const GLOBEX = tenantId('globex');
const T0 = 1_700_000_000_000;

/** Sessions of the fake authorizer, by the `session` cookie's value. */
const SESSIONS: Record<string, BoardAccess> = {
  ada: { tenantId: ACME, agentId: 'ada', readOnly: false },
  bob: { tenantId: ACME, agentId: 'bob', readOnly: false },
  viewer: { tenantId: ACME, agentId: 'viewer', readOnly: true },
  gus: { tenantId: GLOBEX, agentId: 'gus', readOnly: false },
};

/** Stands in for the session check the API issue plugs in: a cookie, a tenant, a right to the board. */
const authorize: AuthorizeBoard = (request, boardId) => {
  const token = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
  const session = token === undefined ? undefined : SESSIONS[token];
  if (!session) return Promise.resolve({ refuse: 401, reason: 'sign in first' });
  if (boardId === 'missing') return Promise.resolve({ refuse: 404, reason: 'no such board' });
  if (boardId === 'secret' && session.agentId !== 'ada') {
    return Promise.resolve({ refuse: 403, reason: 'you are not a member of this board' });
  }
  return Promise.resolve(session);
};

interface Harness {
  readonly url: string;
  readonly http: Server;
  readonly board: BoardServerHandle;
  readonly store: EventStore;
}

interface Client {
  readonly doc: Y.Doc;
  readonly provider: WebsocketProvider;
  readonly notices: BoardNotice[];
  /** Close codes the server sent that stop the client reconnecting (4400-4499). */
  readonly terminalCloses: number[];
}

const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(
  overrides: Partial<BoardServerOptions> = {},
  store = createMemoryEventStore(),
): Promise<Harness> {
  const http = createServer((_request, response) => response.writeHead(404).end());
  const board = attachBoardServer(http, { store, authorize, flushMs: 5, clock: () => T0, ...overrides });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await board.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  cleanups.push(stop);
  return { url: `ws://127.0.0.1:${port}/boards`, http, board, store };
}

/** A `ws` WebSocket that sends the session cookie, as a browser would. */
function socketWithSession(token: string | undefined) {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, token === undefined ? {} : { headers: { cookie: `session=${token}` } });
    }
  };
}

/** The real y-websocket client. */
function connect(harness: Harness, boardId: string, token: string | undefined): Client {
  const doc = createBoardDoc();
  type Options = NonNullable<ConstructorParameters<typeof WebsocketProvider>[3]>;
  const provider = new WebsocketProvider(harness.url, boardId, doc, {
    WebSocketPolyfill: socketWithSession(token) as unknown as Options['WebSocketPolyfill'],
    // In Node, BroadcastChannel would sync clients of one process behind the server's back.
    disableBc: true,
    maxBackoffTime: 200,
  });
  const client: Client = { doc, provider, notices: [], terminalCloses: [] };
  provider.messageHandlers[BOARD_NOTICE_MESSAGE] = (_encoder, decoder) => {
    const notice = parseBoardNotice(decoding.readVarString(decoder));
    if (notice) client.notices.push(notice);
  };
  provider.on('closed', ({ code }) => client.terminalCloses.push(code));
  cleanups.push(() => {
    provider.destroy();
    doc.destroy();
  });
  return client;
}

async function synced(client: Client): Promise<Client> {
  await waitFor(() => client.provider.synced, 'the client to sync');
  return client;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A raw socket, for what the y-websocket client would never send; resolves once open or refused. */
function rawSocket(
  harness: Harness,
  path: string,
  token?: string,
): Promise<{
  socket: WebSocket;
  status: number;
  body: string;
  closed: Promise<{ code: number; reason: string }>;
}> {
  const Socket = socketWithSession(token);
  const socket = new Socket(`${harness.url}/${path}`);
  cleanups.push(() => socket.terminate());
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  return new Promise((resolve, reject) => {
    socket.on('open', () => resolve({ socket, status: 101, body: '', closed }));
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ socket, status: response.statusCode ?? 0, body, closed }));
    });
    socket.on('error', reject);
  });
}

function syncUpdateMessage(update: Uint8Array): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, 0);
  encoding.writeVarUint(encoder, 2);
  encoding.writeVarUint8Array(encoder, update);
  return encoding.toUint8Array(encoder);
}

/** The board as the store would load it. */
async function storedBoard(store: EventStore, tenant: TenantId, boardId: string): Promise<BoardView> {
  const doc = createBoardDoc();
  for (const update of (await loadStoredBoard(store, tenant, boardId)).updates) Y.applyUpdate(doc, update);
  return readBoard(doc);
}

function seedBoard(doc: Y.Doc): void {
  addColumn(doc, { id: 'todo', name: 'To do' });
  addColumn(doc, { id: 'doing', name: 'Doing', wipLimit: 2 });
  addColumn(doc, { id: 'done', name: 'Done' });
  addCard(doc, { id: 'card-1', conversationId: 'conv-1', title: 'Refund', column: 'todo' });
  addCard(doc, { id: 'card-2', conversationId: 'conv-2', title: 'Upgrade', column: 'todo' });
}

const columnOf = (doc: Y.Doc, cardId: string) =>
  readBoard(doc).columns.find((column) => column.cards.some((card) => card.id === cardId))?.id;

describe('agents on one board', () => {
  it('converge through the server, presence included', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'b1', 'ada'));
    const bob = await synced(connect(harness, 'b1', 'bob'));
    seedBoard(ada.doc);
    await waitFor(() => readBoard(bob.doc).columns.length === 3, 'bob to see the columns');
    moveCard(bob.doc, 'card-2', 'doing');
    editNote(ada.doc, 'card-1', { index: 0, insert: 'call back' });
    await waitFor(() => columnOf(ada.doc, 'card-2') === 'doing', 'ada to see the move');
    await waitFor(() => readBoard(bob.doc).columns[0]?.cards[0]?.note === 'call back', 'bob to see the note');
    expect(readBoard(bob.doc)).toEqual(readBoard(ada.doc));

    // Presence is relayed as the server writes it: the session's agent, not the client's claim.
    ada.provider.awareness.setLocalStateField('dragging', 'card-1');
    await waitFor(
      () =>
        [...bob.provider.awareness.getStates().values()].some(
          (state) => state.agentId === 'ada' && state.dragging === 'card-1',
        ),
      'bob to see ada present',
    );
  });

  it('are stored as BoardUpdated events on the tenant board stream, batched', async () => {
    const harness = await start({ flushMs: 50 });
    const ada = await synced(connect(harness, 'b1', 'ada'));
    seedBoard(ada.doc);
    await waitFor(() => harness.board.stats().eventsAppended > 0, 'the batch to be appended');
    const events = await harness.store.readStream(ACME, boardStream('b1'));
    // Five operations within one flush window make one event.
    expect(events.map((event) => event.type)).toEqual([BoardEventType.UPDATED]);
    expect(events[0]?.data).toEqual({ update: expect.any(String) as string });
    expect(events[0]?.metadata).toEqual({ agents: ['ada'] });
    expect(await storedBoard(harness.store, ACME, 'b1')).toEqual(readBoard(ada.doc));
  });
});

describe('the upgrade', () => {
  it('is refused without a session, without a right to the board, or for an unknown board', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'secret', 'ada'));
    seedBoard(ada.doc);

    expect(await rawSocket(harness, 'secret')).toMatchObject({ status: 401, body: 'sign in first' });
    expect(await rawSocket(harness, 'secret', 'bob')).toMatchObject({
      status: 403,
      body: 'you are not a member of this board',
    });
    expect(await rawSocket(harness, 'missing', 'bob')).toMatchObject({ status: 404 });
    expect(await rawSocket(harness, '..%2Fetc', 'bob')).toMatchObject({ status: 404 });
    expect(harness.board.stats().refusedUpgrades).toBe(3);
  });

  it('leaks no board data to a refused client', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'secret', 'ada'));
    seedBoard(ada.doc);
    const bob = connect(harness, 'secret', 'bob');
    await waitFor(() => harness.board.stats().refusedUpgrades >= 2, 'bob to be refused twice');
    expect(bob.provider.synced).toBe(false);
    expect(readBoard(bob.doc)).toEqual({ columns: [], holding: [] });
    expect(harness.board.stats().connections).toBe(1);
  });

  it('leaves other paths to other upgrade listeners', async () => {
    const harness = await start();
    const other = vi.fn((_request: unknown, socket: { destroy(): void }) => socket.destroy());
    harness.http.on('upgrade', other);
    await expect(
      rawSocket({ ...harness, url: harness.url.replace('/boards', '/elsewhere') }, 'x', 'ada'),
    ).rejects.toThrow();
    expect(other).toHaveBeenCalledOnce();
  });
});

describe('tenants', () => {
  it('never share a board, even with the same board id', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'shared', 'ada'));
    const gus = await synced(connect(harness, 'shared', 'gus'));
    addColumn(ada.doc, { id: 'acme-col', name: 'Acme' });
    addColumn(gus.doc, { id: 'globex-col', name: 'Globex' });
    // Each edit reaches the server on its own time: flush until both are stored, then compare exactly.
    const stored = async (tenant: TenantId) =>
      (await storedBoard(harness.store, tenant, 'shared')).columns.map((column) => column.id);
    const deadline = Date.now() + 5_000;
    for (;;) {
      await harness.board.flush();
      if ((await stored(ACME)).length > 0 && (await stored(GLOBEX)).length > 0) break;
      if (Date.now() > deadline) throw new Error('timed out waiting for both edits to be stored');
      await sleep(10);
    }
    expect(readBoard(ada.doc).columns.map((column) => column.id)).toEqual(['acme-col']);
    expect(readBoard(gus.doc).columns.map((column) => column.id)).toEqual(['globex-col']);
    expect(await stored(ACME)).toEqual(['acme-col']);
    expect(await stored(GLOBEX)).toEqual(['globex-col']);
    expect(harness.board.stats().loadedBoards).toBe(2);
  });
});

describe('a read-only agent', () => {
  it('receives the board and presence, but their edits reach neither others nor the store', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'b1', 'ada'));
    const viewer = await synced(connect(harness, 'b1', 'viewer'));
    seedBoard(ada.doc);
    await waitFor(() => readBoard(viewer.doc).columns.length === 3, 'the viewer to see the board');

    viewer.provider.awareness.setLocalStateField('dragging', 'card-1');
    moveCard(viewer.doc, 'card-1', 'done');
    addColumn(viewer.doc, { id: 'sneaky', name: 'Sneaky' });
    await waitFor(() => viewer.notices.length > 0, 'the viewer to be told');
    expect(viewer.notices).toEqual([{ kind: 'edits-dropped', reason: expect.any(String) as string }]);
    await waitFor(
      () => [...ada.provider.awareness.getStates().values()].some((state) => state.agentId === 'viewer'),
      'ada to see the viewer present',
    );

    await harness.board.flush();
    expect(columnOf(ada.doc, 'card-1')).toBe('todo');
    expect(readBoard(ada.doc).columns.map((column) => column.id)).toEqual(['todo', 'doing', 'done']);
    const stored = await storedBoard(harness.store, ACME, 'b1');
    expect(stored).toEqual(readBoard(ada.doc));
    const events = await harness.store.readStream(ACME, boardStream('b1'));
    expect(events.flatMap((event) => event.metadata.agents)).not.toContain('viewer');
    expect(harness.board.stats().droppedReadOnlyUpdates).toBeGreaterThanOrEqual(2);
  });
});

describe('a bad message', () => {
  it('that fails to decode closes only its connection, with 4400', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'b1', 'ada'));
    seedBoard(ada.doc);
    const { socket, closed } = await rawSocket(harness, 'b1', 'bob');
    socket.send(syncUpdateMessage(new Uint8Array([1, 2, 3, 4, 5, 200, 201, 7])));
    expect(await closed).toEqual({
      code: BoardCloseCode.MALFORMED_MESSAGE,
      reason: expect.any(String) as string,
    });
    addColumn(ada.doc, { id: 'after', name: 'After' });
    const bob = await synced(connect(harness, 'b1', 'bob'));
    await waitFor(() => readBoard(bob.doc).columns.length === 4, 'a new client to see the board');
    expect(harness.board.stats().rejectedMessages).toBe(1);
  });

  it('that would apply half-way before failing leaves the board and the store untouched', async () => {
    const harness = await start();
    const ada = await synced(connect(harness, 'b1', 'ada'));
    seedBoard(ada.doc);
    const evil = new Y.Doc();
    evil.getMap('columns').set('evil', new Y.Map());
    const whole = Y.encodeStateAsUpdate(evil);
    // Cut the last byte of the delete set: Yjs integrates the column, then throws reading the rest.
    const truncated = whole.subarray(0, whole.length - 1);
    const probe = new Y.Doc();
    expect(() => Y.applyUpdate(probe, truncated)).toThrow();
    expect(probe.getMap('columns').has('evil')).toBe(true);

    const { socket, closed } = await rawSocket(harness, 'b1', 'bob');
    socket.send(syncUpdateMessage(truncated));
    expect((await closed).code).toBe(BoardCloseCode.MALFORMED_MESSAGE);
    addColumn(ada.doc, { id: 'after', name: 'After' });
    const bob = await synced(connect(harness, 'b1', 'bob'));
    // Bob hears only the server: once he has Ada's new column, the server has it, and a flush stores it.
    await waitFor(() => readBoard(bob.doc).columns.length === 4, 'bob to see the board');
    await harness.board.flush();
    expect(readBoard(bob.doc).columns.map((column) => column.id)).not.toContain('evil');
    expect(readBoard(ada.doc).columns.map((column) => column.id)).not.toContain('evil');
    expect((await storedBoard(harness.store, ACME, 'b1')).columns.map((column) => column.id)).toEqual([
      'todo',
      'doing',
      'done',
      'after',
    ]);
  });

  it('over the size limit closes its connection with 4413 and the client stops retrying', async () => {
    const harness = await start({ maxUpdateBytes: 16 * 1024 });
    const ada = await synced(connect(harness, 'b1', 'ada'));
    seedBoard(ada.doc);
    const bob = await synced(connect(harness, 'b1', 'bob'));
    await waitFor(() => readBoard(bob.doc).columns.length === 3, 'bob to see the board');
    editNote(bob.doc, 'card-1', { index: 0, insert: 'x'.repeat(20 * 1024) });
    await waitFor(() => bob.terminalCloses.length > 0, 'bob to be closed');
    expect(bob.terminalCloses).toEqual([BoardCloseCode.UPDATE_TOO_LARGE]);
    await harness.board.flush();
    expect(readBoard(ada.doc).columns[0]?.cards[0]?.note).toBe('');
    expect((await storedBoard(harness.store, ACME, 'b1')).columns[0]?.cards[0]?.note).toBe('');
  });
});

describe('loading', () => {
  it('after a restart reads the latest snapshot and only the updates after it', async () => {
    const store = createMemoryEventStore();
    const first = await start({ snapshotEvery: 3 }, store);
    const ada = await synced(connect(first, 'b1', 'ada'));
    addColumn(ada.doc, { id: 'todo', name: 'To do' });
    await waitFor(() => first.board.stats().eventsAppended === 1, 'the column to be stored');
    for (let index = 0; index < 7; index++) {
      addCard(ada.doc, {
        id: `card-${index}`,
        conversationId: `conv-${index}`,
        title: `${index}`,
        column: 'todo',
      });
      await waitFor(() => first.board.stats().eventsAppended === index + 2, 'the card to be stored');
    }
    await waitFor(() => first.board.stats().snapshotsWritten === 2, 'two snapshots');
    expect(await store.streamVersion(ACME, boardStream('b1'))).toBe(8);

    // A second server on the same store, as after a crash of the first: no unload snapshot.
    const reads: { stream: string; events: number }[] = [];
    const counting: EventStore = {
      ...store,
      readStream: async (tenant, stream, options) => {
        const events = await store.readStream(tenant, stream, options);
        reads.push({ stream, events: events.length });
        return events;
      },
    };
    const second = await start({ snapshotEvery: 3 }, counting);
    const bob = await synced(connect(second, 'b1', 'bob'));
    expect(readBoard(bob.doc)).toEqual(readBoard(ada.doc));
    const read = (stream: string) =>
      reads.filter((entry) => entry.stream === stream).reduce((n, entry) => n + entry.events, 0);
    expect(read(boardSnapshotStream('b1'))).toBe(1);
    expect(read(boardStream('b1'))).toBe(2);
  });

  it('of a board unloaded when idle replays nothing after its snapshot', async () => {
    const store = createMemoryEventStore();
    const first = await start({ idleUnloadMs: 20 }, store);
    const ada = await synced(connect(first, 'b1', 'ada'));
    seedBoard(ada.doc);
    await waitFor(() => first.board.stats().eventsAppended > 0, 'the update to be stored');
    ada.provider.destroy();
    await waitFor(() => first.board.stats().loadedBoards === 0, 'the board to unload');
    expect(first.board.stats()).toMatchObject({ snapshotsWritten: 1, boardsUnloaded: 1 });
    const loaded = await loadStoredBoard(store, ACME, 'b1');
    expect(loaded.updates).toHaveLength(1);
    expect(loaded.snapshotVersion).toBe(loaded.version);

    const bob = await synced(connect(first, 'b1', 'bob'));
    expect(readBoard(bob.doc)).toEqual(readBoard(ada.doc));
  });

  it('finishes before the first sync message is sent', async () => {
    const store = createMemoryEventStore();
    const first = await start({}, store);
    seedBoard((await synced(connect(first, 'b1', 'ada'))).doc);
    await waitFor(() => first.board.stats().eventsAppended > 0, 'the update to be stored');

    const slow: EventStore = {
      ...store,
      readStream: async (...args) => {
        await sleep(150);
        return store.readStream(...args);
      },
    };
    const second = await start({}, slow);
    const bob = connect(second, 'b1', 'bob');
    const columnsAtFirstSync = new Promise<number>((resolve) =>
      bob.provider.once('sync', () => resolve(readBoard(bob.doc).columns.length)),
    );
    expect(await columnsAtFirstSync).toBe(3);
  });

  it('unloads the longest-idle board to stay under the cap, and refuses when every board is busy', async () => {
    const harness = await start({ maxLoadedBoards: 1 });
    const first = await synced(connect(harness, 'b1', 'ada'));
    addColumn(first.doc, { id: 'todo', name: 'To do' });
    first.provider.destroy();
    await waitFor(() => harness.board.stats().connections === 0, 'ada to leave b1');

    await synced(connect(harness, 'b2', 'ada'));
    expect(harness.board.stats()).toMatchObject({ loadedBoards: 1, boardsUnloaded: 1, snapshotsWritten: 1 });
    expect(await rawSocket(harness, 'b3', 'bob')).toMatchObject({ status: 503 });
    expect(await rawSocket(harness, 'b1', 'bob')).toMatchObject({ status: 503 });
  });
});

describe('the domain bridge', () => {
  async function boardWithWorkflow(options: Partial<BoardServerOptions>) {
    const harness = await start(options);
    const ada = await synced(connect(harness, 'b1', 'ada'));
    const bob = await synced(connect(harness, 'b1', 'bob'));
    seedBoard(ada.doc);
    await waitFor(() => readBoard(bob.doc).columns.length === 3, 'bob to see the board');
    return { harness, ada, bob };
  }

  it('undoes a move the workflow forbids and tells the mover why', async () => {
    const onCardMoved = vi.fn();
    const { harness, ada, bob } = await boardWithWorkflow({
      canMove: ({ from, to }) =>
        from === 'todo' && to === 'done'
          ? { allowed: false, reason: 'a card goes through Doing before Done' }
          : { allowed: true },
      onCardMoved,
    });
    moveCard(bob.doc, 'card-1', 'done');
    await waitFor(() => bob.notices.length > 0, 'bob to be told');
    expect(bob.notices).toEqual([
      {
        kind: 'move-refused',
        cardId: 'card-1',
        from: 'todo',
        to: 'done',
        reason: 'a card goes through Doing before Done',
      },
    ]);
    await waitFor(() => columnOf(bob.doc, 'card-1') === 'todo', 'the card to go back on bob');
    await harness.board.flush();
    expect(columnOf(ada.doc, 'card-1')).toBe('todo');
    expect(readBoard(ada.doc)).toEqual(readBoard(bob.doc));
    const stored = await storedBoard(harness.store, ACME, 'b1');
    expect(stored.columns[0]?.cards.map((card) => card.id)).toEqual(['card-1', 'card-2']);
    expect(ada.notices).toEqual([]);
    expect(onCardMoved).not.toHaveBeenCalled();
    expect(harness.board.stats().movesRefused).toBe(1);
  });

  it('reports an allowed move once, and a reorder not at all', async () => {
    const moves: CardMovedEvent[] = [];
    const { harness, ada, bob } = await boardWithWorkflow({ onCardMoved: (event) => void moves.push(event) });
    moveCard(ada.doc, 'card-1', 'doing');
    moveCard(ada.doc, 'card-2', 'todo', { index: 0 });
    await waitFor(() => columnOf(bob.doc, 'card-1') === 'doing', 'bob to see the move');
    await harness.board.flush();
    await sleep(30);
    expect(moves).toEqual([
      {
        tenantId: ACME,
        boardId: 'b1',
        cardId: 'card-1',
        conversationId: 'conv-1',
        from: 'todo',
        to: 'doing',
        key: expect.any(String) as string,
        by: 'ada',
        at: T0,
      },
    ]);
    expect(harness.board.stats().movesRecorded).toBe(1);
  });

  it('fails closed when the workflow cannot be asked', async () => {
    const { bob } = await boardWithWorkflow({
      canMove: () => Promise.reject(new Error('workflow store down')),
    });
    moveCard(bob.doc, 'card-2', 'doing');
    await waitFor(() => bob.notices.length > 0, 'bob to be told');
    expect(bob.notices[0]).toMatchObject({ kind: 'move-refused', cardId: 'card-2' });
    await waitFor(() => columnOf(bob.doc, 'card-2') === 'todo', 'the card to go back');
  });
});
