import { editNote, moveCard, readBoard } from '@parley/board';
import { streamFor, tenantId } from '@parley/domain';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { SESSION_COOKIE } from '../src/auth/cookies';
import { BoardCloseCode } from '../src/boards';
import { createAgent } from '../src/auth/accounts';
import { createHttpServer, listen, type ParleyHttpServer } from '../src/http/server';
import { openApiHarness, sessionCookieOf, type ApiHarness } from './api.support';
import { columnOf, connectBoard, readCard, until, type BoardClient } from './boards.support';

const DEMO = tenantId('demo');

/** The board sockets mounted on the real HTTP server, with the real session cookie and workflow. */
describe('boards on the Parley HTTP server', () => {
  let h: ApiHarness;
  let http: ParleyHttpServer;
  let origin: string;
  const cookies = new Map<string, string>();
  const cleanups: (() => void)[] = [];

  async function serve(): Promise<void> {
    // Sessions are asked again every 50 ms here (60 s by default), so a sign-out shows at once.
    http = createHttpServer(h.services, { api: h.api, boards: { recheckEveryMs: 50 } });
    const { port } = await listen(http, 0, '127.0.0.1');
    origin = `127.0.0.1:${port}`;
  }

  async function stopServing(): Promise<void> {
    await http.boards.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  }

  async function signIn(tenant: string, email: string, password: string): Promise<void> {
    const anonymous = h.client();
    await anonymous.caller.auth.signIn({ tenantId: tenant, email, password });
    cookies.set(email, sessionCookieOf(anonymous.setCookies.at(-1))!);
  }

  beforeAll(async () => {
    h = await openApiHarness('pglite');
    // Dora is an agent of the demo tenant but no member of its Support inbox: its board does not exist
    // for her (decision 0015).
    await createAgent(h.services.db.sql, DEMO, {
      id: 'dora',
      email: 'dora@demo.parley.test',
      name: 'Dora Viewer',
      role: 'agent',
      password: 'parley-demo-viewer',
      presence: 'online',
    });
    await h.settle();
    await signIn('demo', 'ana@demo.parley.test', 'parley-demo-agent');
    await signIn('demo', 'ben@demo.parley.test', 'parley-demo-agent');
    await signIn('demo', 'dora@demo.parley.test', 'parley-demo-viewer');
    await signIn('globex', 'gina@globex.parley.test', 'parley-globex-agent');
    await serve();
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });
  afterAll(async () => {
    await stopServing();
    await h.dispose();
  });

  /** The HTTP status a plain WebSocket upgrade gets, or 101 when it opens. */
  function upgradeStatus(boardId: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(`ws://${origin}/boards/${boardId}`, { headers });
      socket.on('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        socket.terminate();
      });
      socket.on('open', () => {
        resolve(101);
        socket.close();
      });
      socket.on('error', (error) => {
        if (!/Unexpected server response/.test(error.message)) reject(error);
      });
    });
  }

  const withSession = (email: string) => ({ cookie: `${SESSION_COOKIE}=${cookies.get(email)}` });

  /** The real y-websocket client, sending the agent's session cookie as the browser would. */
  function connect(boardId: string, email: string): BoardClient {
    const client = connectBoard(origin, boardId, cookies.get(email));
    cleanups.push(() => client.destroy());
    return client;
  }

  it('refuses an upgrade without a session cookie, or with one that is not live', async () => {
    expect(await upgradeStatus('support', {})).toBe(401);
    expect(await upgradeStatus('support', { cookie: `${SESSION_COOKIE}=demo.${'x'.repeat(43)}` })).toBe(401);
  });

  it('closes an open board socket once its session ends, and refuses it the next upgrade', async () => {
    const ben = await h.signIn('ben@demo.parley.test');
    const headers = { cookie: `${SESSION_COOKIE}=${ben.cookie}` };
    const socket = new WebSocket(`ws://${origin}/boards/support`, { headers });
    cleanups.push(() => socket.terminate());
    const closed = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    // Several rechecks pass while the session lives: the socket stays open.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.readyState).toBe(WebSocket.OPEN);

    await ben.caller.auth.signOut();
    expect(await closed).toBe(BoardCloseCode.SESSION_ENDED);
    expect(await upgradeStatus('support', headers)).toBe(401);
    expect(http.boards.stats().sessionsEnded).toBeGreaterThanOrEqual(1);
  });

  it('refuses a page of another site that carries the agent’s cookie', async () => {
    const headers = { ...withSession('ana@demo.parley.test'), origin: 'https://evil.example' };
    expect(await upgradeStatus('support', headers)).toBe(403);
    const sameSite = { ...withSession('ana@demo.parley.test'), origin: `http://${origin}` };
    expect(await upgradeStatus('support', sameSite)).toBe(101);
  });

  it('answers another tenant’s board as one that does not exist', async () => {
    expect(await upgradeStatus('support', withSession('gina@globex.parley.test'))).toBe(404);
    expect(await upgradeStatus('sales', withSession('ana@demo.parley.test'))).toBe(404);
    expect(await upgradeStatus('no-such-board', withSession('ana@demo.parley.test'))).toBe(404);
  });

  it('seeds a board from its workflow’s stages and cards, once, for its own tenant only', async () => {
    const ana = connect('support', 'ana@demo.parley.test');
    const gina = connect('sales', 'gina@globex.parley.test');
    await until(() => ana.provider.synced && gina.provider.synced, 'both to sync');
    const support = readBoard(ana.doc);
    expect(support.columns.map((column) => [column.name, column.wipLimit])).toEqual([
      ['New', null],
      ['Working on it', 5],
      ['Waiting on customer', null],
      ['Done', null],
    ]);
    const cards = support.columns.flatMap((column) => column.cards);
    expect(cards.map((card) => card.id).sort()).toEqual(['demo-1', 'demo-2', 'demo-3', 'demo-4']);
    expect(cards.find((card) => card.id === 'demo-1')).toMatchObject({ title: 'Maria Lopez' });
    const sales = readBoard(gina.doc);
    expect(sales.columns.flatMap((column) => column.cards).map((card) => card.id)).toEqual(['globex-1']);
  });

  it('records an allowed move as the card’s CardMoved, by the agent who moved it', async () => {
    const ana = connect('support', 'ana@demo.parley.test');
    const ben = connect('support', 'ben@demo.parley.test');
    await until(() => ana.provider.synced && ben.provider.synced, 'both to sync');
    moveCard(ana.doc, 'demo-2', 'working');
    await until(() => columnOf(ben, 'demo-2') === 'working', 'Ben to see the move');
    await until(async () => (await movesOf('demo-2')).length > 0, 'the card to move');
    expect((await movesOf('demo-2')).at(-1)).toMatchObject({ toStageId: 'working', by: 'ana' });
  });

  it('undoes a move the workflow forbids and tells only the agent who made it why', async () => {
    const workflow = h.services.grains.workflow(DEMO, 'support');
    const definition = (await workflow.read()).state!;
    await workflow.ask({
      type: 'ReviseWorkflow',
      data: { definition: { ...definition, transitions: [{ from: 'new', to: 'working' }] }, at: h.now() },
    });
    try {
      const ana = connect('support', 'ana@demo.parley.test');
      const ben = connect('support', 'ben@demo.parley.test');
      await until(() => ana.provider.synced && ben.provider.synced, 'both to sync');
      const from = columnOf(ana, 'demo-4');
      expect(from).toBe('new');
      moveCard(ana.doc, 'demo-4', 'done');
      await until(() => ana.notices.length > 0, 'the refusal');
      expect(ana.notices).toEqual([
        expect.objectContaining({ kind: 'move-refused', cardId: 'demo-4', from: 'new', to: 'done' }),
      ]);
      await until(() => columnOf(ana, 'demo-4') === 'new', 'the card to come back');
      expect(columnOf(ben, 'demo-4')).toBe('new');
      expect(ben.notices).toEqual([]);
      expect(await movesOf('demo-4')).toEqual([]);
    } finally {
      await workflow.ask({ type: 'ReviseWorkflow', data: { definition, at: h.now() } });
    }
  });

  it('answers an agent outside the board’s inbox as if the board did not exist (decision 0015)', async () => {
    expect(await upgradeStatus('support', withSession('dora@demo.parley.test'))).toBe(404);
    expect(await upgradeStatus('support', withSession('ana@demo.parley.test'))).toBe(101);
  });

  it('loads a board after a restart with every edit, and does not seed it twice', async () => {
    const ana = connect('support', 'ana@demo.parley.test');
    await until(() => ana.provider.synced, 'Ana to sync');
    moveCard(ana.doc, 'demo-1', 'waiting');
    editNote(ana.doc, 'demo-1', { index: 0, insert: 'called the courier' });
    const expected = readBoard(ana.doc);
    await until(async () => (await movesOf('demo-1')).length > 0, 'the move to be recorded');
    cleanups.splice(0).forEach((cleanup) => cleanup());
    await stopServing();
    await serve();

    const again = connect('support', 'ben@demo.parley.test');
    await until(() => again.provider.synced, 'Ben to sync');
    expect(readBoard(again.doc)).toEqual(expected);
    expect(readCard(again, 'demo-1')?.note).toBe('called the courier');
  });

  /** The moves the card aggregate recorded (its `CardMoved` events). */
  async function movesOf(conversationId: string): Promise<{ toStageId: string; by: string }[]> {
    const events = await h.services.store.readStream(DEMO, streamFor('card', conversationId));
    return events
      .filter((event) => event.type === 'CardMoved')
      .map((event) => event.data as { toStageId: string; by: string });
  }
});
