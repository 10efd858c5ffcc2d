/**
 * The simulated agents of `bench:board`, in a process of their own: each one is the server's own
 * client library (the `y-websocket` WebsocketProvider for Parley, the HocuspocusProvider for
 * Hocuspocus) on a `ws` socket, with a full board document, presence, and moves made through
 * `@parley/board`'s typed functions. Both kinds do the same work: they apply every update and
 * awareness change they receive, and renew their presence on the same schedule (y-protocols').
 *
 * Fan-out is timed here, on one clock: a move is stamped just before `moveCard`, and each other
 * client on the board records when its document first contains it (its state vector reaches the
 * mover's clock), so every receiving client gives one sample.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { addCard, addColumn, createBoardDoc, moveCard } from '@parley/board';
import WebSocket from 'ws';
import { WebsocketProvider } from 'y-websocket';
import * as Y from 'yjs';
import { progress, serveParent } from './board-ipc';
import type { System } from './board-server';

/** One board of the workload: how many cards and clients, and how many moves per second in total. */
export interface BoardPlan {
  readonly id: string;
  readonly group: string;
  readonly cards: number;
  readonly clients: number;
  readonly movesPerSecond: number;
}

export interface RunParams {
  readonly warmupSeconds: number;
  readonly seconds: number;
}

/** Fan-out samples in ms, by board group, plus the receipts that never came. */
export interface RunReport {
  readonly samples: Record<string, number[]>;
  readonly moves: number;
  readonly missing: number;
  readonly reconnects: number;
  /** How busy this process was while moving: a saturated load generator would time itself. */
  readonly clientCpuPercent: number;
  readonly clientLoopDelayP99Ms: number;
}

const COLUMNS = 6;
const SYNC_TIMEOUT_MS = 120_000;
const CONNECT_WAVE = 25;

interface Move {
  readonly client: number;
  readonly clock: number;
  readonly at: number;
  readonly measured: boolean;
  readonly group: string;
}

interface Agent {
  readonly doc: Y.Doc;
  readonly synced: () => boolean;
  readonly destroy: () => void;
  /** Moves by others that this agent's document does not contain yet. */
  pending: Move[];
}

interface LiveBoard {
  readonly plan: BoardPlan;
  readonly agents: Agent[];
  readonly columns: string[];
  readonly cards: string[];
}

// Each provider listens for the process's exit (to announce it is leaving); there are many here.
process.setMaxListeners(0);

let system: System = 'parley';
let base = '';
let reconnects = 0;
const boards: LiveBoard[] = [];
const samples: Record<string, number[]> = {};
let movesMade = 0;

/** A client of the server under test, with presence, that checks its pending moves on every update. */
function connect(boardId: string, name: string): Agent {
  const doc = createBoardDoc();
  let synced: () => boolean;
  let destroy: () => void;
  if (system === 'parley') {
    type Options = NonNullable<ConstructorParameters<typeof WebsocketProvider>[3]>;
    const provider = new WebsocketProvider(`${base}/boards`, boardId, doc, {
      WebSocketPolyfill: WebSocket as unknown as Options['WebSocketPolyfill'],
      // In one Node process, BroadcastChannel would sync clients behind the server's back.
      disableBc: true,
    });
    provider.awareness.setLocalStateField('user', { name });
    provider.on('connection-close', () => reconnects++);
    synced = () => provider.synced;
    destroy = () => provider.destroy();
  } else {
    // One socket per client, as y-websocket has (Hocuspocus could multiplex boards on one).
    const socket = new HocuspocusProviderWebsocket({
      url: base,
      WebSocketPolyfill: WebSocket,
      onDisconnect: () => reconnects++,
    });
    const provider = new HocuspocusProvider({ websocketProvider: socket, name: boardId, document: doc });
    provider.attach();
    provider.setAwarenessField('user', { name });
    synced = () => provider.synced;
    destroy = () => (provider.destroy(), socket.destroy());
  }
  const agent: Agent = { doc, synced, destroy: () => (destroy(), doc.destroy()), pending: [] };
  doc.on('update', () => {
    if (agent.pending.length > 0) receive(agent, performance.now());
  });
  return agent;
}

function receive(agent: Agent, now: number): void {
  agent.pending = agent.pending.filter((move) => {
    if (Y.getState(agent.doc.store, move.client) < move.clock) return true;
    if (move.measured) (samples[move.group] ??= []).push(now - move.at);
    return false;
  });
}

async function until(condition: () => boolean, what: string, timeoutMs = SYNC_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const hasCards = (agent: Agent, cards: number) => agent.synced() && agent.doc.getMap('cards').size === cards;

/** The first client fills the board (columns and cards, one transaction); the others join in waves. */
async function openBoard(plan: BoardPlan): Promise<void> {
  const columns = Array.from({ length: COLUMNS }, (_, i) => `stage-${i}`);
  const cards = Array.from({ length: plan.cards }, (_, i) => `card-${i}`);
  const first = connect(plan.id, `${plan.id}-agent-0`);
  await until(first.synced, `${plan.id} to sync`);
  if (first.doc.getMap('cards').size === 0) {
    first.doc.transact(() => {
      for (const [i, id] of columns.entries())
        addColumn(first.doc, { id, name: `Stage ${i}`, wipLimit: 500 });
      for (const [i, id] of cards.entries()) {
        addCard(first.doc, {
          id,
          conversationId: `conversation-${plan.id}-${i}`,
          title: `Order question #${i}`,
          column: columns[i % COLUMNS]!,
          assignee: `agent-${i % 7}`,
          labels: i % 3 === 0 ? ['vip'] : [],
          note: 'Customer asked about delivery; follow up tomorrow.',
        });
      }
    });
  }
  boards.push({ plan, agents: [first], columns, cards });
}

async function joinBoard(board: LiveBoard, upTo: number): Promise<void> {
  const { plan, agents } = board;
  const joining: Agent[] = [];
  while (agents.length < Math.min(upTo, plan.clients)) {
    const agent = connect(plan.id, `${plan.id}-agent-${agents.length}`);
    agents.push(agent);
    joining.push(agent);
  }
  await until(() => joining.every((agent) => hasCards(agent, plan.cards)), `clients of ${plan.id} to sync`);
}

function makeMove(board: LiveBoard, measured: boolean, random: () => number): void {
  const { agents, cards, columns, plan } = board;
  const mover = agents[Math.floor(random() * agents.length)]!;
  const card = cards[Math.floor(random() * cards.length)]!;
  const column = columns[Math.floor(random() * columns.length)]!;
  const at = performance.now();
  moveCard(mover.doc, card, column);
  const move: Move = {
    client: mover.doc.clientID,
    clock: Y.getState(mover.doc.store, mover.doc.clientID),
    at,
    measured,
    group: plan.group,
  };
  movesMade++;
  for (const agent of agents) if (agent !== mover) agent.pending.push(move);
}

/** A fixed-seed generator, so both servers see the same sequence of movers, cards and columns. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const percentileOf = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

const methods = {
  init(params: { system: System; port: number }): Promise<void> {
    system = params.system;
    base = `ws://127.0.0.1:${params.port}`;
    return Promise.resolve();
  },
  /** Opens the boards and connects every client; resolves when all hold the whole board. */
  async connect(params: { plans: BoardPlan[] }): Promise<{ clients: number; seconds: number }> {
    const started = performance.now();
    for (const plan of params.plans) await openBoard(plan);
    const opened = boards.slice(boards.length - params.plans.length);
    for (let upTo = CONNECT_WAVE; ; upTo += CONNECT_WAVE) {
      const growing = opened.filter((board) => board.agents.length < board.plan.clients);
      if (growing.length === 0) break;
      // Small boards join together, wave by wave, so that no one board's sync dominates.
      await Promise.all(growing.map((board) => joinBoard(board, upTo)));
      const clients = opened.reduce((sum, board) => sum + board.agents.length, 0);
      progress(`${clients} clients synced`);
    }
    const clients = opened.reduce((sum, board) => sum + board.agents.length, 0);
    return { clients, seconds: (performance.now() - started) / 1000 };
  },
  /** Moves cards open-loop at each board's rate; a warm-up's moves are made but not timed. */
  async run(params: RunParams): Promise<RunReport> {
    for (const key of Object.keys(samples)) delete samples[key];
    movesMade = 0;
    reconnects = 0;
    const random = seeded(7);
    const start = performance.now();
    const measureFrom = start + params.warmupSeconds * 1000;
    const end = measureFrom + params.seconds * 1000;
    // Each board starts at a random offset within its interval, so small boards do not move in step.
    const next = boards.map((board) => start + (random() * 1000) / board.plan.movesPerSecond);
    let lastReport = start;
    const cpu = process.cpuUsage();
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        for (const [i, board] of boards.entries()) {
          while (next[i]! <= now && next[i]! < end) {
            makeMove(board, next[i]! >= measureFrom, random);
            next[i]! += 1000 / board.plan.movesPerSecond;
          }
        }
        if (now - lastReport >= 5000) {
          lastReport = now;
          const phase = now < measureFrom ? 'warm-up' : 'measuring';
          const shown = Object.entries(samples)
            .map(([group, values]) => `${group} p99 ${percentileOf(values, 99).toFixed(1)} ms`)
            .join(', ');
          progress(`${phase}: ${movesMade} moves, ${((now - start) / 1000).toFixed(0)} s ${shown}`);
        }
        if (now >= end) {
          clearInterval(timer);
          resolve();
        }
      }, 2);
    });
    loopDelay.disable();
    const used = process.cpuUsage(cpu);
    const clientCpuPercent = (used.user + used.system) / 10 / (performance.now() - start);
    const stillPending = () =>
      boards.reduce((sum, board) => sum + board.agents.reduce((n, agent) => n + agent.pending.length, 0), 0);
    await until(() => stillPending() === 0, 'the last moves to arrive', 10_000).catch(() => undefined);
    return {
      samples: { ...samples },
      moves: movesMade,
      missing: stillPending(),
      reconnects,
      clientCpuPercent,
      clientLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
    };
  },
  /** Connects one client to a board that is not loaded; ms until it holds the whole board. */
  async coldLoad(params: { boardId: string; cards: number }): Promise<number> {
    const started = performance.now();
    const agent = connect(params.boardId, 'cold-reader');
    await until(() => hasCards(agent, params.cards), `${params.boardId} to load`);
    const ms = performance.now() - started;
    agent.destroy();
    return ms;
  },
  disconnectAll(): Promise<void> {
    for (const board of boards.splice(0)) for (const agent of board.agents) agent.destroy();
    return Promise.resolve();
  },
};

export type ClientMethods = typeof methods;

serveParent(methods);
