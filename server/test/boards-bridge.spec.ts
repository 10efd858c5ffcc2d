import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  addCard,
  addColumn,
  BOARD_NOTICE_MESSAGE,
  createBoardDoc,
  moveCard,
  observePlacements,
  parseBoardNotice,
  readBoard,
  type BoardNotice,
} from '@parley/board';
import { streamFor, tenantId, type WorkflowDefinition } from '@parley/domain';
import * as decoding from 'lib0/decoding';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import { createGrainRuntime, createMemorySnapshotStore } from '../src/actors';
import { attachBoardServer, workflowBridge, type BoardServerOptions, type ProposedMove } from '../src/boards';
import { createLocalBroadcast } from '../src/broadcast';
import { createGrains } from '../src/grains';
import { workflowFollow } from '../src/http/boards';
import { createMemoryEventStore } from '../src/store/memory';

const ACME = tenantId('acme');
const T0 = 1_700_000_000_000;

/** New → Triage → Doing → Done, and back from Done to Triage. */
const definition: WorkflowDefinition = {
  workflowId: 'b1',
  name: 'Support',
  stages: [
    { id: 'new', name: 'New', wipLimit: null, entryActions: [] },
    { id: 'triage', name: 'Triage', wipLimit: null, entryActions: [] },
    { id: 'doing', name: 'Doing', wipLimit: 1, entryActions: [] },
    { id: 'done', name: 'Done', wipLimit: null, entryActions: [] },
  ],
  transitions: [
    { from: 'new', to: 'triage' },
    { from: 'triage', to: 'doing' },
    { from: 'doing', to: 'done' },
    { from: 'done', to: 'triage' },
  ],
};

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The real grains on a memory store, with the board's workflow created and two cards entered. */
async function domain() {
  const store = createMemoryEventStore();
  const broadcast = createLocalBroadcast();
  const runtime = createGrainRuntime({
    store,
    snapshots: createMemorySnapshotStore(),
    broadcast,
    sweepEveryMs: 0,
  });
  cleanups.push(() => runtime.close());
  const grains = createGrains(runtime);
  await grains.workflow(ACME, 'b1').ask({ type: 'CreateWorkflow', data: { definition, at: T0 } });
  for (const conversationId of ['conv-1', 'conv-2']) {
    await grains.card(ACME, conversationId).ask({
      type: 'EnterWorkflow',
      data: { conversationId, cycle: 1, workflow: definition, orderKey: 'a0', by: 'system', at: T0 },
    });
  }
  return { store, grains, broadcast };
}

const move = (from: string, to: string): ProposedMove => ({
  tenantId: ACME,
  boardId: 'b1',
  cardId: 'card-1',
  conversationId: 'conv-1',
  from,
  to,
  by: 'ada',
});

describe('the workflow bridge', () => {
  it('[WF3] allows declared transitions and names both stages when refusing', async () => {
    const { grains } = await domain();
    const { canMove } = workflowBridge({ grains });
    expect(await canMove(move('new', 'triage'))).toEqual({ allowed: true });
    expect(await canMove(move('new', 'done'))).toEqual({
      allowed: false,
      reason: 'the workflow does not allow moving a card from New to Done',
    });
    expect(await canMove(move('new', 'archive'))).toEqual({
      allowed: false,
      reason: 'archive is not a stage of workflow Support',
    });
  });

  it('allows every move on a board without a workflow, and records none', async () => {
    const { grains, store } = await domain();
    const bridge = workflowBridge({ grains, workflowOf: () => null });
    expect(await bridge.canMove(move('new', 'done'))).toEqual({ allowed: true });
    await bridge.onCardMoved({ ...move('new', 'done'), key: 'a1', at: T0 });
    expect(await store.streamVersion(ACME, streamFor('card', 'conv-1'))).toBe(1);
  });

  it('[WF5] records an allowed move as CardMoved on the card stream, past the advisory WIP limit', async () => {
    const { grains, store } = await domain();
    const { onCardMoved } = workflowBridge({ grains });
    await onCardMoved({ ...move('new', 'triage'), key: 'a1', at: T0 + 1 });
    await onCardMoved({ ...move('triage', 'doing'), key: 'a1', at: T0 + 2 });
    // Doing holds one card at most; a second one still moves (the board only advises).
    const second = { cardId: 'card-2', conversationId: 'conv-2', key: 'a2', at: T0 + 3 };
    await onCardMoved({ ...move('new', 'triage'), ...second });
    await onCardMoved({ ...move('triage', 'doing'), ...second });
    expect((await grains.card(ACME, 'conv-2').read()).state?.stageId).toBe('doing');
    const events = await store.readStream(ACME, streamFor('card', 'conv-1'));
    expect(events.map((event) => event.type)).toEqual(['CardEnteredWorkflow', 'CardMoved', 'CardMoved']);
    expect(events[2]).toMatchObject({
      data: { fromStageId: 'triage', toStageId: 'doing', orderKey: 'a1', by: 'ada', at: T0 + 2 },
      metadata: { actor: { kind: 'agent', id: 'ada' }, via: 'board', boardId: 'b1', cardId: 'card-1' },
    });
  });
});

describe('a board server with the workflow bridge', () => {
  it('undoes a forbidden drag, records an allowed one on the card stream', async () => {
    const { grains, store } = await domain();
    const { board, doc, provider, notices } = await openBoard({
      store,
      clock: () => T0 + 10,
      ...workflowBridge({ grains }),
    });
    await until(() => provider.synced);
    for (const stage of definition.stages) addColumn(doc, { id: stage.id, name: stage.name });
    addCard(doc, { id: 'card-1', conversationId: 'conv-1', title: 'Refund', column: 'new' });

    moveCard(doc, 'card-1', 'done');
    await until(() => notices.length === 1);
    expect(notices[0]).toMatchObject({ kind: 'move-refused', from: 'new', to: 'done' });
    await until(() => readBoard(doc).columns[0]?.cards.length === 1);

    moveCard(doc, 'card-1', 'triage');
    const cardStream = streamFor('card', 'conv-1');
    await until(() => board.stats().movesRecorded === 1);
    await until(() =>
      grains
        .card(ACME, 'conv-1')
        .read()
        .then(({ state }) => state?.stageId === 'triage'),
    );
    const events = await store.readStream(ACME, cardStream);
    expect(events.at(-1)).toMatchObject({
      type: 'CardMoved',
      data: { fromStageId: 'new', toStageId: 'triage', at: T0 + 10 },
    });
  });
});

describe('a board following its workflow while a drag awaits its verdict', () => {
  it('ends where the domain says, without showing the card anywhere in between', async () => {
    const { grains, store, broadcast } = await domain();
    const follow = workflowFollow({ grains, broadcast });
    // The board's read of a changed card waits at a gate, so a drag can arrive meanwhile.
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    let reads = 0;
    const { board, doc, provider } = await openBoard({
      store,
      ...workflowBridge({ grains }),
      seed: (tenantId, boardId) => follow.seedOf(tenantId, boardId, ['conv-1', 'conv-2']),
      follow: {
        watch: (tenantId, boardId, onChange) => follow.watch(tenantId, boardId, onChange),
        async seedOf(tenantId, boardId, cardIds) {
          reads++;
          await gate;
          return follow.seedOf(tenantId, boardId, cardIds);
        },
      },
    });
    await until(() => provider.synced && columnOf('conv-1') === 'new');
    const shown: (string | undefined)[] = [];
    observePlacements(doc, (changes) => {
      for (const change of changes) if (change.cardId === 'conv-1') shown.push(change.to?.column);
    });

    // The API takes the card New -> Triage -> Doing -> Done; the board starts reading it.
    const card = grains.card(ACME, 'conv-1');
    for (const [index, toStageId] of ['triage', 'doing', 'done'].entries()) {
      const at = T0 + index;
      await card.ask({
        type: 'MoveCard',
        data: {
          toStageId,
          orderKey: 'a0',
          workflow: definition,
          targetStageCount: 0,
          force: true,
          by: 'api',
          at,
        },
      });
    }
    await until(() => reads > 0);
    // Meanwhile an agent, still seeing it in New, drags it to Triage (Done -> Triage is allowed too).
    const appended = board.stats().eventsAppended;
    moveCard(doc, 'conv-1', 'triage');
    await until(() => board.stats().eventsAppended > appended);
    openGate();

    await until(async () => (await card.read()).state?.stageId === 'triage');
    // A later change shown means every earlier one was handled.
    await grains.card(ACME, 'conv-2').ask({
      type: 'MoveCard',
      data: {
        toStageId: 'triage',
        orderKey: 'a0',
        workflow: definition,
        targetStageCount: 0,
        force: true,
        by: 'api',
        at: T0 + 5,
      },
    });
    await until(() => columnOf('conv-2') === 'triage');
    expect(columnOf('conv-1')).toBe('triage');
    expect(shown).toEqual(['triage']);
    const moves = (await store.readStream(ACME, streamFor('card', 'conv-1'))).filter(
      (event) => event.type === 'CardMoved',
    );
    expect(moves.map((event) => (event.data as { toStageId: string }).toStageId)).toEqual([
      'triage',
      'doing',
      'done',
      'triage',
    ]);

    function columnOf(cardId: string): string | undefined {
      return readBoard(doc).columns.find((column) => column.cards.some((each) => each.id === cardId))?.id;
    }
  });
});

/** A board server on a free port (every agent is Ada, who may edit) and the real client on board b1. */
async function openBoard(options: Omit<BoardServerOptions, 'authorize'>) {
  const http = createServer();
  const board = attachBoardServer(http, {
    authorize: () => Promise.resolve({ tenantId: ACME, agentId: 'ada', readOnly: false }),
    flushMs: 5,
    ...options,
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await board.close();
    await new Promise((resolve) => http.close(resolve));
  });
  const doc = createBoardDoc();
  const provider = new WebsocketProvider(
    `ws://127.0.0.1:${(http.address() as AddressInfo).port}/boards`,
    'b1',
    doc,
    {
      WebSocketPolyfill: WebSocket as unknown as NonNullable<
        ConstructorParameters<typeof WebsocketProvider>[3]
      >['WebSocketPolyfill'],
      disableBc: true,
    },
  );
  cleanups.push(() => provider.destroy());
  const notices: BoardNotice[] = [];
  provider.messageHandlers[BOARD_NOTICE_MESSAGE] = (_encoder, decoder) => {
    const notice = parseBoardNotice(decoding.readVarString(decoder));
    if (notice) notices.push(notice);
  };
  return { board, doc, provider, notices };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
