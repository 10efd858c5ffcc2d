import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { moveCard, readBoard, safeColour, sanitizePresence } from '@parley/board';
import { streamFor, tenantId } from '@parley/domain';
import * as encoding from 'lib0/encoding';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as syncProtocol from 'y-protocols/sync';
import * as Y from 'yjs';
import { createAgent } from '../../src/auth/accounts';
import { SESSION_COOKIE } from '../../src/auth/cookies';
import { withTenant } from '../../src/auth/tenant-scope';
import {
  attachBoardServer,
  BoardCloseCode,
  loadStoredBoard,
  type BoardAccess,
  type BoardRecheck,
} from '../../src/boards';
import { createHttpServer, listen, type ParleyHttpServer } from '../../src/http/server';
import { createMemoryEventStore } from '../../src/store/memory';
import { openApiHarness, sessionCookieOf, type ApiHarness } from '../api.support';
import { columnOf, connectBoard, until, type BoardClient } from '../boards.support';

const DEMO = tenantId('demo');
/** The workflow (board) of the demo tenant that no inbox feeds. */
const TRIAGE = 'triage';

/**
 * What an agent of the right tenant can do to a board beyond their rights: move cards as a viewer
 * (S9), keep editing after losing the right (S10), forge or wipe others' presence and smuggle styles
 * (S11), grow the document outside the board's layout (S12). Against the real HTTP server, the real
 * session cookie and the real y-websocket client; raw frames where that client cannot forge.
 */
describe('board attacks on the Parley HTTP server', () => {
  let h: ApiHarness;
  let http: ParleyHttpServer;
  let origin: string;
  /** The board server's clock: the wall clock unless a test freezes it (the presence rate limit). */
  let frozenAt: number | null = null;
  const cookies = new Map<string, string>();
  const cleanups: (() => void)[] = [];

  async function signIn(tenant: string, email: string, password: string): Promise<void> {
    const anonymous = h.client();
    await anonymous.caller.auth.signIn({ tenantId: tenant, email, password });
    cookies.set(email, sessionCookieOf(anonymous.setCookies.at(-1))!);
  }

  beforeAll(async () => {
    h = await openApiHarness('pglite');
    // Abe is a second admin of the demo tenant, demoted to agent in one test.
    await createAgent(h.services.db.sql, DEMO, {
      id: 'abe',
      email: 'abe@demo.parley.test',
      name: 'Abe Admin',
      role: 'admin',
      password: 'parley-demo-admin-2',
      presence: 'online',
    });
    // A board no inbox feeds: every agent of the tenant views it, admins edit it (BA1/BA2).
    const at = h.now();
    const triage = h.services.grains.workflow(DEMO, TRIAGE);
    await triage.ask({
      type: 'CreateWorkflow',
      data: {
        at,
        definition: {
          workflowId: TRIAGE,
          name: 'Triage',
          stages: [
            { id: 'new', name: 'New', wipLimit: 1, entryActions: [] },
            { id: 'done', name: 'Done', wipLimit: 1, entryActions: [] },
          ],
          transitions: [],
        },
      },
    });
    const workflow = (await triage.read()).state!;
    // Support's demo-4 (a later cycle of its card) and a card of no conversation go on it.
    for (const [index, conversationId] of ['demo-4', 'triage-2'].entries()) {
      await h.services.grains.card(DEMO, conversationId).ask({
        type: 'EnterWorkflow',
        data: { conversationId, cycle: 99, workflow, orderKey: `a${index}`, by: 'ada', at },
      });
    }
    await h.settle();
    await signIn('demo', 'abe@demo.parley.test', 'parley-demo-admin-2');
    await signIn('demo', 'ada@demo.parley.test', 'parley-demo-admin');
    await signIn('demo', 'ana@demo.parley.test', 'parley-demo-agent');
    await signIn('demo', 'ben@demo.parley.test', 'parley-demo-agent');
    await signIn('demo', 'chloe@demo.parley.test', 'parley-demo-agent');
    // Rights are asked again every 50 ms here (60 s by default), so a change shows at once.
    http = createHttpServer(h.services, {
      api: h.api,
      boards: { recheckEveryMs: 50, clock: () => frozenAt ?? Date.now() },
    });
    const { port } = await listen(http, 0, '127.0.0.1');
    origin = `127.0.0.1:${port}`;
  });
  afterEach(() => {
    frozenAt = null;
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });
  afterAll(async () => {
    await http.boards.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await h.dispose();
  });

  /** The real y-websocket client, sending the agent's session cookie as the browser would. */
  function connect(email: string, boardId = 'support'): BoardClient {
    const client = connectBoard(origin, boardId, cookies.get(email));
    cleanups.push(() => client.destroy());
    return client;
  }

  /** A plain socket on the board, for frames the y-websocket client would never send. */
  async function rawSocket(email: string, boardId = 'support'): Promise<RawBoardSocket> {
    const socket = new WebSocket(`ws://${origin}/boards/${boardId}`, {
      headers: { cookie: `${SESSION_COOKIE}=${cookies.get(email)}` },
    });
    cleanups.push(() => socket.terminate());
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return {
      send: (frame) => socket.send(frame),
      closed,
    };
  }

  const caller = (email: string) => h.client(cookies.get(email)).caller;

  async function stageOf(conversationId: string): Promise<string | undefined> {
    return (await h.services.grains.card(DEMO, conversationId).read()).state?.stageId;
  }

  describe('moving a card through the API', () => {
    const move = (email: string, conversationId: string, force: boolean) =>
      caller(email)
        .boards.moveCard({ conversationId, toStageId: 'done', orderKey: 'a5', targetStageCount: 1, force })
        .then(
          () => null,
          (error: unknown) => error,
        );

    it('[S9] a viewer of the board is refused (FORBIDDEN, BA3), forced past the WIP limit or not, and nothing moves', async () => {
      // Ben works the Support inbox; the triage board, fed by no inbox, he may only view.
      for (const force of [false, true]) {
        const refused = await move('ben@demo.parley.test', 'demo-4', force);
        expect(refused).toMatchObject({ code: 'FORBIDDEN' });
        expect(String(refused)).toMatch(/view this board/);
      }
      expect(await stageOf('demo-4')).toBe('new');
      const events = await h.services.store.readStream(DEMO, streamFor('card', 'demo-4'));
      expect(events.filter((event) => event.type === 'CardMoved')).toEqual([]);
    });

    it('[S9] an admin, who edits every board, still moves a card, and may force it past the limit', async () => {
      expect(await move('ada@demo.parley.test', 'triage-2', false)).toMatchObject({
        code: 'PRECONDITION_FAILED',
      });
      expect(await move('ada@demo.parley.test', 'triage-2', true)).toBeNull();
      expect(await stageOf('triage-2')).toBe('done');
    });

    it('[S9] a member of the board’s inbox still moves a card, and may force it', async () => {
      await caller('ana@demo.parley.test').boards.moveCard({
        conversationId: 'demo-3',
        toStageId: 'waiting',
        orderKey: 'a0',
        targetStageCount: 0,
        force: true,
      });
      expect(await stageOf('demo-3')).toBe('waiting');
    });
  });

  describe('a board socket after the agent’s rights change', () => {
    it('[S10] an admin demoted to agent becomes read-only on the open socket, and is told', async () => {
      const abe = connect('abe@demo.parley.test', TRIAGE);
      const ben = connect('ben@demo.parley.test', TRIAGE);
      await until(() => abe.provider.synced && ben.provider.synced, 'both to sync');
      expect(abe.notices).toEqual([]);
      // No procedure changes a role yet: the agents table is where a role lives.
      await setRole('abe', 'agent');
      try {
        await until(() => abe.notices.some((notice) => notice.kind === 'edits-dropped'), 'Abe to be told');
        const dropped = http.boards.stats().droppedReadOnlyUpdates;
        moveCard(abe.doc, 'demo-4', 'done');
        await until(() => http.boards.stats().droppedReadOnlyUpdates > dropped, 'Abe’s move to be dropped');
        expect(columnOf(ben, 'demo-4')).toBe('new');
        expect(abe.provider.wsconnected).toBe(true);
      } finally {
        await setRole('abe', 'admin');
      }
    });

    it('[S10] a connection whose right to the board is withdrawn is closed with ACCESS_REVOKED', async () => {
      // Any refusal on a recheck but an ended session (401) closes with ACCESS_REVOKED, whatever
      // the authorizer: checked here with one whose answer the test changes.
      let answer: BoardRecheck = { readOnly: false };
      const access: BoardAccess = {
        tenantId: DEMO,
        agentId: 'ana',
        readOnly: false,
        recheck: () => Promise.resolve(answer),
      };
      const server: Server = createServer();
      const boards = attachBoardServer(server, {
        store: createMemoryEventStore(),
        authorize: () => Promise.resolve(access),
        recheckEveryMs: 20,
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        const socket = new WebSocket(`ws://127.0.0.1:${port}/boards/b1`);
        const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
        await new Promise((resolve) => socket.once('open', resolve));
        answer = { refuse: 403, reason: 'you are no longer a member of this board' };
        expect(await closed).toBe(BoardCloseCode.ACCESS_REVOKED);
      } finally {
        await boards.close();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('presence', () => {
    it('[S11] carries the session’s agent and name and a safe colour, whatever the client claims', async () => {
      const ana = connect('ana@demo.parley.test');
      await until(() => ana.provider.synced, 'Ana to sync');
      const chloe = await rawSocket('chloe@demo.parley.test');
      chloe.send(
        awarenessFrame([
          {
            clientId: 900_001,
            clock: 1,
            state: {
              agentId: 'ana',
              name: 'Ana Agent',
              colour: 'url(https://evil.example/track)',
              dragging: 'demo-1',
              script: 'x'.repeat(100),
            },
          },
        ]),
      );
      await until(() => ana.provider.awareness.getStates().has(900_001), 'Chloe’s presence to arrive');
      expect(ana.provider.awareness.getStates().get(900_001)).toEqual({
        agentId: 'chloe',
        name: 'Chloe Agent',
        dragging: 'demo-1',
      });

      chloe.send(awarenessFrame([{ clientId: 900_001, clock: 2, state: { colour: '#12ab9f' } }]));
      await until(() => ana.provider.awareness.getStates().get(900_001)?.colour === '#12ab9f', 'the colour');
    });

    it('[S11] a socket cannot change or remove another client’s presence, even as its first message', async () => {
      const ana = connect('ana@demo.parley.test');
      const ben = connect('ben@demo.parley.test');
      ana.provider.awareness.setLocalState({ agentId: 'ana', name: 'Ana Agent', dragging: null });
      const anaId = ana.provider.awareness.clientID;
      await until(() => ben.provider.awareness.getStates().has(anaId), 'Ben to see Ana');
      const anaState = ben.provider.awareness.getStates().get(anaId);
      const anaClock = ben.provider.awareness.meta.get(anaId)!.clock;

      const chloe = await rawSocket('chloe@demo.parley.test');
      // Her first message names Ana's client: that id belongs to Ana's connection, not to hers.
      chloe.send(awarenessFrame([{ clientId: anaId, clock: anaClock + 10, state: null }]));
      chloe.send(awarenessFrame([{ clientId: 900_002, clock: 1, state: { dragging: 'first' } }]));
      chloe.send(
        awarenessFrame([
          { clientId: anaId, clock: anaClock + 20, state: { name: 'hacked' } },
          { clientId: 900_003, clock: 1, state: { dragging: 'another id' } },
        ]),
      );
      chloe.send(awarenessFrame([{ clientId: anaId, clock: anaClock + 30, state: null }]));
      // Her own client (bound by her first acceptable update) still works: the sentinel.
      chloe.send(awarenessFrame([{ clientId: 900_002, clock: 2, state: { dragging: 'sentinel' } }]));
      await until(
        () => ben.provider.awareness.getStates().get(900_002)?.dragging === 'sentinel',
        'Chloe’s sentinel',
      );
      expect(ben.provider.awareness.getStates().get(anaId)).toEqual(anaState);
      expect(ben.provider.awareness.getStates().has(900_003)).toBe(false);
      expect(ana.provider.awareness.getStates().get(anaId)).toEqual(anaState);
    });

    it('[S11] a presence over 2 KB is dropped', async () => {
      const ben = connect('ben@demo.parley.test');
      await until(() => ben.provider.synced, 'Ben to sync');
      const chloe = await rawSocket('chloe@demo.parley.test');
      chloe.send(awarenessFrame([{ clientId: 900_004, clock: 1, state: { dragging: 'small' } }]));
      chloe.send(
        awarenessFrame([{ clientId: 900_004, clock: 2, state: { dragging: 'big', pad: 'x'.repeat(3000) } }]),
      );
      chloe.send(awarenessFrame([{ clientId: 900_004, clock: 3, state: { dragging: 'sentinel' } }]));
      const seen: unknown[] = [];
      ben.provider.awareness.on('change', () => seen.push(ben.provider.awareness.getStates().get(900_004)));
      await until(
        () => ben.provider.awareness.getStates().get(900_004)?.dragging === 'sentinel',
        'the sentinel',
      );
      expect(seen).not.toContainEqual(expect.objectContaining({ dragging: 'big' }));
    });

    it('[S11] a connection’s presence beyond 20 updates a second is dropped', async () => {
      frozenAt = Date.now();
      const ben = connect('ben@demo.parley.test');
      await until(() => ben.provider.synced, 'Ben to sync');
      const chloe = await rawSocket('chloe@demo.parley.test');
      const dropped = http.boards.stats().droppedPresence;
      // The board server's clock stands still: no time passes, so only the first 20 go through.
      for (let clock = 1; clock <= 50; clock++) {
        chloe.send(awarenessFrame([{ clientId: 900_005, clock, state: { dragging: `card-${clock}` } }]));
      }
      await until(() => http.boards.stats().droppedPresence - dropped >= 30, '30 updates to be dropped');
      await until(() => ben.provider.awareness.getStates().has(900_005), 'Chloe’s presence');
      expect(http.boards.stats().droppedPresence - dropped).toBe(30);
      expect(ben.provider.awareness.getStates().get(900_005)?.dragging).toBe('card-20');
    });

    it('[S11] only a #rrggbb colour is ever put into a style, on the server and in the PWA', () => {
      expect(safeColour('#12ab9F')).toBe('#12ab9F');
      for (const bad of [
        'url(https://evil.example/x)',
        'red',
        '#fff',
        'hsl(1 2% 3%)',
        '#12ab9f;x:y',
        42,
        null,
      ]) {
        expect(safeColour(bad)).toBeNull();
      }
      expect(
        sanitizePresence({ agentId: 'x', colour: 'url(a)', extra: 1 }, { agentId: 'ana', name: 'Ana' }),
      ).toEqual({ agentId: 'ana', name: 'Ana', dragging: null });
    });
  });

  describe('the document’s layout', () => {
    it('[S12] a new root closes the editor’s connection, stores nothing, and leaves the room intact', async () => {
      const ana = connect('ana@demo.parley.test');
      const ben = connect('ben@demo.parley.test');
      await until(() => ana.provider.synced && ben.provider.synced, 'both to sync');
      const closes: number[] = [];
      ana.provider.on('connection-close', (event) => {
        const code = (event as { readonly code: number } | null)?.code;
        if (code !== undefined) closes.push(code);
      });
      ana.doc.getMap('evil').set('payload', 'x'.repeat(1000));
      await until(() => closes.length > 0, 'Ana’s connection to close');
      expect(closes).toEqual([BoardCloseCode.OUTSIDE_SCHEMA]);

      // The room lives on: Ben edits, and a new agent sees his edit and no `evil` root.
      const target = columnOf(ben, 'demo-2') === 'new' ? 'working' : 'new';
      moveCard(ben.doc, 'demo-2', target);
      const chloe = connect('chloe@demo.parley.test');
      await until(() => chloe.provider.synced && columnOf(chloe, 'demo-2') === target, 'Chloe to see Ben');
      expect([...chloe.doc.share.keys()].sort()).toEqual(['cards', 'columns']);
      expect([...ben.doc.share.keys()].sort()).toEqual(['cards', 'columns']);
      await http.boards.flush();
      expect(await storedRoots('support')).toEqual(['cards', 'columns']);
    });

    it('[S12] list content under a known root is refused the same way (raw frame)', async () => {
      const ben = connect('ben@demo.parley.test');
      await until(() => ben.provider.synced, 'Ben to sync');
      const forged = new Y.Doc();
      forged.getArray('cards').push(['not a card']);
      const ana = await rawSocket('ana@demo.parley.test');
      ana.send(updateFrame(Y.encodeStateAsUpdate(forged)));
      expect(await ana.closed).toBe(BoardCloseCode.OUTSIDE_SCHEMA);
      expect(readBoard(ben.doc).columns.length).toBeGreaterThan(0);
      await http.boards.flush();
      const stored = new Y.Doc();
      for (const update of (await loadStoredBoard(h.services.store, DEMO, 'support')).updates) {
        Y.applyUpdate(stored, update);
      }
      expect(stored.share.get('cards')?._start ?? null).toBeNull();
    });
  });

  /** Changes an agent's role where it lives; sessions read it on each request. */
  async function setRole(agentId: string, role: 'admin' | 'agent'): Promise<void> {
    await withTenant(h.services.db.sql, DEMO, (tx) =>
      tx.query('UPDATE agents SET role = $1 WHERE id = $2', [role, agentId]),
    );
  }

  /** The root names of the board as stored (snapshot and tail replayed on a plain document). */
  async function storedRoots(boardId: string): Promise<string[]> {
    const stored = new Y.Doc();
    for (const update of (await loadStoredBoard(h.services.store, DEMO, boardId)).updates) {
      Y.applyUpdate(stored, update);
    }
    return [...stored.share.keys()].sort();
  }
});

interface RawBoardSocket {
  send(frame: Uint8Array): void;
  /** The close code, once the server closed the socket. */
  readonly closed: Promise<number>;
}

/** An awareness message (y-websocket type 1) as y-protocols encodes it, for any client ids. */
function awarenessFrame(entries: { clientId: number; clock: number; state: unknown }[]): Uint8Array {
  const update = encoding.createEncoder();
  encoding.writeVarUint(update, entries.length);
  for (const { clientId, clock, state } of entries) {
    encoding.writeVarUint(update, clientId);
    encoding.writeVarUint(update, clock);
    encoding.writeVarString(update, JSON.stringify(state));
  }
  const message = encoding.createEncoder();
  encoding.writeVarUint(message, 1);
  encoding.writeVarUint8Array(message, encoding.toUint8Array(update));
  return encoding.toUint8Array(message);
}

/** A document update message (y-websocket type 0, sync update). */
function updateFrame(update: Uint8Array): Uint8Array {
  const message = encoding.createEncoder();
  encoding.writeVarUint(message, 0);
  syncProtocol.writeUpdate(message, update);
  return encoding.toUint8Array(message);
}
