import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  addCard,
  addColumn,
  createBoardDoc,
  editNote,
  moveCard,
  moveColumn,
  readBoard,
  removeCard,
  removeColumn,
  renameColumn,
  setAssignee,
  setCardTitle,
  setColumnColour,
  setLabels,
  setWipLimit,
  type BoardView,
  type Position,
} from './board';
import { isBoardError } from './errors';

const REPLICAS = 5;
const STEPS = 6_000;
const COLUMN_IDS = ['todo', 'doing', 'review', 'done', 'blocked', 'later'];
const CARD_IDS = Array.from({ length: 30 }, (_, index) => `card${String(index).padStart(2, '0')}`);
/** A few cards every replica keeps moving, so the same card is moved concurrently all the time. */
const HOT_CARDS = CARD_IDS.slice(0, 4);
const LABELS = ['vip', 'billing', 'bug', 'sales'];
const FROM_NETWORK = Symbol('network');

/** Mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Replica {
  readonly doc: Y.Doc;
  online: boolean;
  /** Messages on their way to this replica, delivered in random order once it is online. */
  inbox: Uint8Array[];
  /** Local updates made while offline, sent when it reconnects. */
  outbox: Uint8Array[];
}

/**
 * Five replicas on a lossy mesh: every local update is sent to every other replica, messages arrive
 * in random order and some twice, replicas go offline (queueing their own updates; a hard
 * disconnect also loses what was in flight to them) and resync by state vector when they return.
 */
class Network {
  readonly replicas: Replica[];
  readonly stats = { operations: 0, refused: 0, hotMoves: 0, delivered: 0, duplicates: 0, disconnects: 0 };

  constructor(readonly random: () => number) {
    this.replicas = Array.from({ length: REPLICAS }, (_, index) => {
      const doc = createBoardDoc();
      doc.clientID = index + 1;
      const replica: Replica = { doc, online: true, inbox: [], outbox: [] };
      doc.on('update', (update: Uint8Array, origin: unknown) => {
        if (origin === FROM_NETWORK) return;
        if (replica.online) this.send(replica, update);
        else replica.outbox.push(update);
      });
      return replica;
    });
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.random() < probability;
  }

  send(from: Replica, update: Uint8Array): void {
    for (const to of this.replicas) if (to !== from) to.inbox.push(update);
  }

  /** Applies one random in-flight message to a random online replica; sometimes keeps a copy to deliver again. */
  deliverOne(): boolean {
    const ready = this.replicas.filter((replica) => replica.online && replica.inbox.length > 0);
    if (ready.length === 0) return false;
    const replica = this.pick(ready);
    const index = Math.floor(this.random() * replica.inbox.length);
    const [message] = replica.inbox.splice(index, 1);
    if (this.chance(0.1)) {
      replica.inbox.push(message!);
      this.stats.duplicates++;
    }
    Y.applyUpdate(replica.doc, message!, FROM_NETWORK);
    this.stats.delivered++;
    return true;
  }

  disconnect(replica: Replica): void {
    replica.online = false;
    if (this.chance(0.3)) replica.inbox = [];
    this.stats.disconnects++;
  }

  /** Back online: send what was queued, and swap state-vector diffs with every online peer. */
  reconnect(replica: Replica): void {
    replica.online = true;
    for (const update of replica.outbox.splice(0)) this.send(replica, update);
    for (const peer of this.replicas) {
      if (peer === replica || !peer.online) continue;
      replica.inbox.push(Y.encodeStateAsUpdate(peer.doc, Y.encodeStateVector(replica.doc)));
      peer.inbox.push(Y.encodeStateAsUpdate(replica.doc, Y.encodeStateVector(peer.doc)));
    }
  }

  /** Everyone back online and every message delivered (in random order, with duplicates). */
  settle(): void {
    for (const replica of this.replicas) if (!replica.online) this.reconnect(replica);
    while (this.deliverOne());
    for (const replica of this.replicas) this.reconnect(replica);
    while (this.deliverOne());
  }
}

/** One random board operation on one replica, chosen from what that replica currently sees. */
function randomOperation(network: Network, replica: Replica): void {
  const { doc } = replica;
  const board = readBoard(doc);
  const cards = board.columns.flatMap((column) => column.cards).concat(board.holding);
  const known = board.columns.map((column) => column.id);
  const columnId = () =>
    known.length > 0 && network.chance(0.85) ? network.pick(known) : network.pick(COLUMN_IDS);
  const cardId = () =>
    cards.length > 0 && network.chance(0.9) ? network.pick(cards).id : network.pick(CARD_IDS);
  const position = (ids: readonly string[]): Position | undefined => {
    const roll = network.random();
    if (ids.length === 0 || roll < 0.25) return undefined;
    if (roll < 0.5) return { index: Math.floor(network.random() * (ids.length + 1)) };
    return roll < 0.75 ? { before: network.pick(ids) } : { after: network.pick(ids) };
  };
  const cardsIn = (column: string) =>
    board.columns.find((entry) => entry.id === column)?.cards.map((c) => c.id) ?? [];

  const roll = network.random() * 100;
  if (roll < 5) {
    addColumn(doc, { id: columnId(), name: `Column ${Math.floor(network.random() * 100)}` });
  } else if (roll < 8) {
    renameColumn(doc, columnId(), `Renamed ${Math.floor(network.random() * 100)}`);
  } else if (roll < 10) {
    setColumnColour(doc, columnId(), network.pick(['#ef4444', '#22c55e', '#3b82f6']));
  } else if (roll < 12) {
    setWipLimit(doc, columnId(), network.chance(0.3) ? null : 1 + Math.floor(network.random() * 4));
  } else if (roll < 15) {
    moveColumn(doc, columnId(), position(board.columns.map((column) => column.id)) ?? { index: 0 });
  } else if (roll < 16) {
    removeColumn(doc, columnId());
  } else if (roll < 25) {
    const unused = CARD_IDS.filter((id) => !cards.some((card) => card.id === id));
    const id = unused.length > 0 ? network.pick(unused) : network.pick(CARD_IDS);
    const column = columnId();
    addCard(doc, {
      id,
      conversationId: `conv-${id}`,
      title: id,
      column,
      position: position(cardsIn(column)),
    });
  } else if (roll < 55) {
    const id = network.chance(0.7) ? network.pick(HOT_CARDS) : cardId();
    const column = columnId();
    if (HOT_CARDS.includes(id)) network.stats.hotMoves++;
    moveCard(doc, id, column, position(cardsIn(column).filter((other) => other !== id)));
  } else if (roll < 58) {
    setCardTitle(doc, cardId(), `Title ${Math.floor(network.random() * 1000)}`);
  } else if (roll < 61) {
    setAssignee(doc, cardId(), network.chance(0.2) ? null : `agent-${Math.floor(network.random() * 5)}`);
  } else if (roll < 65) {
    setLabels(
      doc,
      cardId(),
      LABELS.filter(() => network.chance(0.4)),
    );
  } else if (roll < 97) {
    const id = cardId();
    const length = cards.find((card) => card.id === id)?.note.length ?? 0;
    const index = Math.floor(network.random() * (length + 1));
    const remove = network.chance(0.3) ? Math.floor(network.random() * (length - index + 1)) : 0;
    editNote(doc, id, {
      index,
      delete: remove,
      insert: network.chance(0.8) ? network.pick(['a', 'bc', ' ', 'xyz']) : '',
    });
  } else {
    removeCard(doc, cardId());
  }
}

/** Every card the document holds appears exactly once: in one column or in holding. */
function expectEveryCardOnce(doc: Y.Doc, view: BoardView): void {
  const shown = view.columns.flatMap((column) => column.cards.map((card) => card.id));
  shown.push(...view.holding.map((card) => card.id));
  const stored = [...doc.getMap('cards').keys()];
  expect(shown.slice().sort()).toEqual(stored.sort());
  expect(new Set(shown).size).toBe(shown.length);
}

function run(seed: number): Network {
  const network = new Network(prng(seed));
  const seedColumns = network.replicas[0]!.doc;
  addColumn(seedColumns, { id: 'todo', name: 'To do' });
  addColumn(seedColumns, { id: 'done', name: 'Done' });
  network.settle();

  for (let step = 0; step < STEPS; step++) {
    const roll = network.random();
    if (roll < 0.55) {
      const replica = network.pick(network.replicas);
      try {
        randomOperation(network, replica);
        network.stats.operations++;
      } catch (error) {
        // A replica refusing an operation its own view makes invalid is expected; anything else is a bug.
        if (!isBoardError(error)) throw error;
        network.stats.refused++;
      }
    } else if (roll < 0.92) {
      network.deliverOne();
    } else if (roll < 0.96) {
      const online = network.replicas.filter((replica) => replica.online);
      if (online.length > 1) network.disconnect(network.pick(online));
    } else {
      const offline = network.replicas.filter((replica) => !replica.online);
      if (offline.length > 0) network.reconnect(network.pick(offline));
    }
    if (step % 250 === 0) {
      for (const { doc } of network.replicas) expectEveryCardOnce(doc, readBoard(doc));
    }
  }
  network.settle();
  return network;
}

describe('replicas of one board', () => {
  it.each([1, 7, 2024])(
    'converge to the same board with every card exactly once (seed %i)',
    (seed) => {
      const network = run(seed);
      const [first, ...others] = network.replicas.map(({ doc }) => readBoard(doc));
      for (const view of others) expect(view).toEqual(first);
      for (const { doc } of network.replicas) expectEveryCardOnce(doc, readBoard(doc));

      expect(network.stats.operations).toBeGreaterThan(2_500);
      expect(network.stats.hotMoves).toBeGreaterThan(600);
      expect(network.stats.duplicates).toBeGreaterThan(50);
      expect(network.stats.disconnects).toBeGreaterThan(20);
      expect(first!.columns.flatMap((column) => column.cards).length).toBeGreaterThan(0);
    },
    30_000,
  );
});
