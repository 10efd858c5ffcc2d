import { moveCard, readBoard } from '@parley/board';
import { streamFor, tenantId, type TenantId } from '@parley/domain';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer, listen, type ParleyHttpServer } from '../src/http/server';
import { openApiHarness, sessionCookieOf, type ApiHarness } from './api.support';
import { columnOf, connectBoard, readCard, until, type BoardClient } from './boards.support';

const DEMO = tenantId('demo');
const GLOBEX = tenantId('globex');

/** An open board follows its workflow's domain: cards entering it and moved through the API. */
describe('an open board following its workflow', () => {
  let h: ApiHarness;
  let http: ParleyHttpServer;
  let host: string;
  const cookies = new Map<string, string>();
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    h = await openApiHarness('pglite');
    await h.settle();
    for (const [tenant, email, password] of [
      ['demo', 'ana@demo.parley.test', 'parley-demo-agent'],
      ['globex', 'gina@globex.parley.test', 'parley-globex-agent'],
    ] as const) {
      const anonymous = h.client();
      await anonymous.caller.auth.signIn({ tenantId: tenant, email, password });
      cookies.set(email, sessionCookieOf(anonymous.setCookies.at(-1))!);
    }
    http = createHttpServer(h.services, { api: h.api });
    host = `127.0.0.1:${(await listen(http, 0, '127.0.0.1')).port}`;
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  });
  afterAll(async () => {
    await http.boards.close();
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
    await h.dispose();
  });

  async function open(boardId: string, email: string): Promise<BoardClient> {
    const client = connectBoard(host, boardId, cookies.get(email));
    cleanups.push(() => client.destroy());
    await until(() => client.provider.synced, `${email} to sync ${boardId}`);
    return client;
  }

  /** Moves a card through the tRPC API as Ana, as the inbox's card list would. */
  async function moveThroughApi(conversationId: string, toStageId: string): Promise<void> {
    const { caller } = h.client(cookies.get('ana@demo.parley.test'));
    await caller.boards.moveCard({ conversationId, toStageId, orderKey: 'a5', targetStageCount: 0 });
  }

  /** A customer writing to the tenant's `support` inbox: a new conversation, whose card the engine places. */
  async function customerWrites(tenant: TenantId, conversationId: string, name: string): Promise<void> {
    await h.services.grains.conversation(tenant, conversationId).ask({
      type: 'ReceiveInboundMessage',
      data: {
        conversationId,
        inboxId: 'support',
        platform: 'whatsapp',
        externalMessageId: `wamid.${conversationId}`,
        contact: { id: `c-${conversationId}`, name, handle: '+1 555 0199' },
        content: { type: 'text', text: 'hello?' },
        sentAt: h.now(),
      },
    });
  }

  /** The moves the card aggregate recorded (its `CardMoved` events). */
  async function movesOf(conversationId: string): Promise<{ toStageId: string; by: string }[]> {
    const events = await h.services.store.readStream(DEMO, streamFor('card', conversationId));
    return events
      .filter((event) => event.type === 'CardMoved')
      .map((event) => event.data as { toStageId: string; by: string });
  }

  const placements = (client: BoardClient) =>
    Object.fromEntries(
      readBoard(client.doc).columns.flatMap((column) =>
        column.cards.map((card) => [card.id, card.placement]),
      ),
    );

  it('shows a new conversation of the inbox as a card in the first stage', async () => {
    const ana = await open('support', 'ana@demo.parley.test');
    expect(readCard(ana, 'live-1')).toBeUndefined();
    await customerWrites(DEMO, 'live-1', 'Nora Live');
    await until(() => readCard(ana, 'live-1') !== undefined, 'the new card on the open board');
    expect(readCard(ana, 'live-1')).toMatchObject({ title: 'Nora Live', conversationId: 'live-1' });
    expect(columnOf(ana, 'live-1')).toBe('new');
    expect(readBoard(ana.doc).holding).toEqual([]);
  });

  it('shows the assignee and labels its conversation gets after the card entered the board', async () => {
    const ana = await open('support', 'ana@demo.parley.test');
    await customerWrites(DEMO, 'live-2', 'Omar Late');
    await until(() => readCard(ana, 'live-2') !== undefined, 'the new card on the open board');
    await h.settle();
    const conversation = h.services.grains.conversation(DEMO, 'live-2');
    await conversation.ask({ type: 'AssignConversation', data: { agentId: 'ben', at: h.now() } });
    await conversation.ask({ type: 'AddLabel', data: { label: 'billing', at: h.now() } });
    await until(
      () =>
        readCard(ana, 'live-2')?.assignee === 'ben' &&
        readCard(ana, 'live-2')?.labels.includes('billing') === true,
      'the later assignee and label on the open board',
    );
    await conversation.ask({ type: 'RemoveLabel', data: { label: 'billing', at: h.now() } });
    await until(() => readCard(ana, 'live-2')?.labels.includes('billing') === false, 'the label removed');
  });

  it('moves a card on the open board when the API moves it, without reporting the move back', async () => {
    const ana = await open('support', 'ana@demo.parley.test');
    expect(columnOf(ana, 'demo-2')).toBe('new');
    await moveThroughApi('demo-2', 'waiting');
    await until(() => columnOf(ana, 'demo-2') === 'waiting', 'the API’s move on the open board');
    await h.settle();
    expect(await movesOf('demo-2')).toEqual([expect.objectContaining({ toStageId: 'waiting', by: 'ana' })]);
  });

  it('records a board move as exactly one CardMoved and leaves the card where the mover put it', async () => {
    const ana = await open('support', 'ana@demo.parley.test');
    const edits = http.boards.stats().domainEdits;
    moveCard(ana.doc, 'demo-3', 'working');
    const moved = readCard(ana, 'demo-3')!.placement;
    await until(async () => (await movesOf('demo-3')).length > 0, 'the move to be recorded');
    await h.settle();
    // The board hears the domain's changes in order: once a later one shows, the move's own echo was heard.
    await moveThroughApi('demo-4', 'working');
    await until(() => columnOf(ana, 'demo-4') === 'working', 'a later domain change on the board');
    expect(await movesOf('demo-3')).toEqual([expect.objectContaining({ toStageId: 'working', by: 'ana' })]);
    expect(readCard(ana, 'demo-3')!.placement).toEqual(moved);
    expect(http.boards.stats().domainEdits - edits).toBe(1);
  });

  it('is never touched by another tenant’s cards, even on a board of the same id', async () => {
    const ana = await open('support', 'ana@demo.parley.test');
    const before = placements(ana);
    // Globex gets a workflow and an inbox called `support` too, and a customer writes to it.
    const at = h.now();
    await h.services.grains.workflow(GLOBEX, 'support').ask({
      type: 'CreateWorkflow',
      data: {
        at,
        definition: {
          workflowId: 'support',
          name: 'Globex support',
          stages: [
            { id: 'new', name: 'New', wipLimit: null, entryActions: [] },
            { id: 'done', name: 'Done', wipLimit: null, entryActions: [] },
          ],
          transitions: [],
        },
      },
    });
    await h.services.grains.inbox(GLOBEX, 'support').ask({
      type: 'CreateInbox',
      data: {
        inboxId: 'support',
        name: 'Globex support',
        channel: { platform: 'whatsapp', channelId: 'globex-support' },
        policy: 'round-robin',
        at,
      },
    });
    // Gina works in it: the board of an inbox she is not a member of would not exist for her (0015).
    await h.services.grains.inbox(GLOBEX, 'support').ask({
      type: 'AddMember',
      data: { agentId: 'gina', weight: 1, capacity: 10, presence: 'online', at },
    });
    const gina = await open('support', 'gina@globex.parley.test');
    await customerWrites(GLOBEX, 'globex-live', 'Otto Other');
    await until(() => readCard(gina, 'globex-live') !== undefined, 'Globex’s board to show its card');

    await moveThroughApi('demo-1', 'done');
    await until(() => columnOf(ana, 'demo-1') === 'done', 'a later demo change on the demo board');
    const after = placements(ana);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    expect({ ...after, 'demo-1': null }).toEqual({ ...before, 'demo-1': null });
    expect(readBoard(ana.doc).holding).toEqual([]);
  });
});
