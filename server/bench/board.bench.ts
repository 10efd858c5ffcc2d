/**
 * `npm run bench:board`: the board server under load, side by side with Hocuspocus. Not a test: it
 * asserts nothing. Each server, on a scratch database of its own, one after the other (or, with
 * BENCH_INTERLEAVE=1, both loaded at once and taking turns in rounds, so that the machine's other
 * work falls on both alike, at the price of twice the clients in memory):
 *   - one board with 2,000 cards and 200 clients making 20 moves per second in total, plus 50
 *     boards with 100 cards and 20 clients each making 1 move per second each, all at once;
 *   - update fan-out: from a client calling `moveCard` to each other client on that board holding
 *     the move (one sample per receiving client), p50 and p99;
 *   - server memory per board (heap after GC, in the server's process);
 *   - cold load: a fresh server process, a client opening the big board from the store.
 * The server runs in one child process and the clients in others (see board-server.ts and
 * board-clients.ts; the big board's clients in one, the small boards' in the rest), so the server's
 * CPU and memory are its own. PostgreSQL with DATABASE_URL, else
 * PGlite in a temporary directory. Last line: `board fanout p99 ratio parley/hocuspocus: X`.
 *
 * Settings (environment): BENCH_SECONDS (measured, default 30), BENCH_WARMUP_SECONDS (5),
 * BENCH_BIG_CLIENTS (200), BENCH_BIG_CARDS (2000), BENCH_BIG_RATE (20 moves/s), BENCH_BOARDS (50),
 * BENCH_BOARD_CLIENTS (20), BENCH_BOARD_CARDS (100), BENCH_BOARD_RATE (1 move/s per board),
 * BENCH_CLIENT_PROCESSES (2), BENCH_INTERLEAVE (0), BENCH_ROUNDS (1, or 3 interleaved), BENCH_COLD_RUNS (5), BENCH_COLD_TAIL (199 updates after the snapshot),
 * BENCH_SYSTEMS (`parley,hocuspocus`), BENCH_PROFILE_DIR (write the children's CPU profiles there).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoardPlan, ClientMethods, RunReport } from './board-clients';
import { startChild, type Child } from './board-ipc';
import type { MemoryReport, ServerLoad, ServerMethods, System } from './board-server';
import { percentile, scratchLocation, table, type ScratchLocation } from './support';

const setting = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = setting('BENCH_SECONDS', 30);
const WARMUP = setting('BENCH_WARMUP_SECONDS', 5);
const COLD_RUNS = setting('BENCH_COLD_RUNS', 5);
const COLD_TAIL = setting('BENCH_COLD_TAIL', 199);
const INTERLEAVE = process.env.BENCH_INTERLEAVE === '1';
const CLIENT_PROCESSES = Math.max(1, setting('BENCH_CLIENT_PROCESSES', 2));
const ROUNDS = setting('BENCH_ROUNDS', INTERLEAVE ? 3 : 1);
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? 'parley,hocuspocus').split(',') as System[];
const BIG: BoardPlan = {
  id: 'big-board',
  group: 'big',
  cards: setting('BENCH_BIG_CARDS', 2000),
  clients: setting('BENCH_BIG_CLIENTS', 200),
  movesPerSecond: setting('BENCH_BIG_RATE', 20),
};
const SMALL: BoardPlan[] = Array.from({ length: setting('BENCH_BOARDS', 50) }, (_, i) => ({
  id: `team-board-${i}`,
  group: 'small',
  cards: setting('BENCH_BOARD_CARDS', 100),
  clients: setting('BENCH_BOARD_CLIENTS', 20),
  movesPerSecond: setting('BENCH_BOARD_RATE', 1),
}));

const WARM_UP: BoardPlan = { id: 'warm-up', group: 'warm-up', cards: 20, clients: 1, movesPerSecond: 1 };

interface Side {
  readonly system: System;
  readonly location: ScratchLocation;
  readonly children: Child<ServerMethods | ClientMethods>[];
  server: Child<ServerMethods>;
  /** Every board's clients are in one process (one clock); the big board has a process of its own. */
  readonly clients: Child<ClientMethods>[];
  readonly runs: RunReport[];
  readonly serverLoads: ServerLoad[];
  clientCount: number;
  connectSeconds: number;
  memory: MemoryReport[];
}

interface Result {
  readonly runs: RunReport[];
  readonly serverLoads: ServerLoad[];
  readonly all: number[];
  readonly big: number[];
  readonly small: number[];
  readonly clients: number;
  readonly connectSeconds: number;
  readonly bigBoardHeap: number;
  readonly smallBoardHeap: number;
  readonly rssPerBoard: number;
  readonly cold: number[];
}

const say = (line: string) => process.stderr.write(`${line}\n`);
const sorted = (values: readonly number[] = []) => [...values].sort((a, b) => a - b);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(2);
const sum = <T>(items: T[], value: (item: T) => number) => items.reduce((n, item) => n + value(item), 0);
const worst = <T>(items: T[], value: (item: T) => number) => Math.max(...items.map(value)).toFixed(0);
const serverStart = (side: Side) => ({
  system: side.system,
  database: side.location.options,
  idleUnloadMs: 500,
});

function startServer(side: Pick<Side, 'system' | 'children'>): Child<ServerMethods> {
  const child = startChild<ServerMethods>('./board-server.ts', `${side.system} server`, ['--expose-gc']);
  side.children.push(child);
  return child;
}

/** Starts a server on a scratch database of its own and connects every client to it. */
async function open(system: System, sides: Side[]): Promise<Side> {
  const location = await scratchLocation(mkdtempSync(join(tmpdir(), `parley-bench-board-${system}-`)));
  say(`\n${system}: on ${location.label}`);
  const children: Side['children'] = [];
  const clients = Array.from({ length: CLIENT_PROCESSES }, (_, i) =>
    startChild<ClientMethods>('./board-clients.ts', `${system} clients ${i + 1}`, [
      '--max-old-space-size=8192',
      '--max-semi-space-size=32',
    ]),
  );
  children.push(...clients);
  const side: Side = {
    system,
    location,
    children,
    clients,
    server: startServer({ system, children }),
    runs: [],
    serverLoads: [],
    clientCount: 0,
    connectSeconds: 0,
    memory: [],
  };
  sides.push(side);
  const { port } = await side.server.call('start', serverStart(side));
  await Promise.all(clients.map((child) => child.call('init', { system, port })));
  // One small board opened, edited, stored and unloaded first, so that what the server sets up on
  // first use (its store, code) is not counted as the first board's memory.
  const [first] = clients as [Child<ClientMethods>];
  await first.call('connect', { plans: [{ ...WARM_UP, clients: 1 }] });
  await first.call('disconnectAll', undefined);
  await side.server.call('prepareColdLoad', { boardId: WARM_UP.id, tail: 0 });
  side.memory.push(await side.server.call('memory', undefined));
  // The big board in the first clients process, the small ones spread over the others.
  const others = clients.length > 1 ? clients.slice(1) : clients;
  const placements: [Child<ClientMethods>, BoardPlan[]][][] = [
    [[clients[0]!, [BIG]]],
    others.map((child, i) => [child, SMALL.filter((_, board) => board % others.length === i)]),
  ];
  for (const placement of placements) {
    const boards = placement.flatMap(([, plans]) => plans);
    say(
      `${system}: opening ${boards.length} board(s) of ${boards[0]?.cards ?? 0} cards and connecting clients`,
    );
    const started = performance.now();
    const connected = await Promise.all(placement.map(([child, plans]) => child.call('connect', { plans })));
    side.clientCount += sum(connected, (answer) => answer.clients);
    side.connectSeconds += (performance.now() - started) / 1000;
    side.memory.push(await side.server.call('memory', undefined));
  }
  return side;
}

/** Disconnects the clients, stops the server (which stores every board), then times cold loads. */
async function closeAndColdLoad(side: Side): Promise<number[]> {
  const { system } = side;
  const [clients] = side.clients as [Child<ClientMethods>];
  await Promise.all(side.clients.map((child) => child.call('disconnectAll', undefined)));
  say(`\n${system}: storing and stopping; then cold loads of ${BIG.id} in a fresh server process`);
  await side.server.call('stop', undefined);
  await side.server.stop();
  side.server = startServer(side);
  await clients.call('init', { system, port: (await side.server.call('start', serverStart(side))).port });
  const cold: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    await side.server.call('prepareColdLoad', { boardId: BIG.id, tail: COLD_TAIL });
    cold.push(await clients.call('coldLoad', { boardId: BIG.id, cards: BIG.cards }));
    say(`  cold load ${i + 1}/${COLD_RUNS}: ${cold.at(-1)!.toFixed(0)} ms`);
  }
  await side.server.call('stop', undefined);
  return sorted(cold);
}

function resultOf(side: Side, cold: number[]): Result {
  const [empty, withBig, loaded] = side.memory as [MemoryReport, MemoryReport, MemoryReport];
  const samples = (group: string) => side.runs.flatMap((run) => run.samples[group] ?? []);
  return {
    runs: side.runs,
    serverLoads: side.serverLoads,
    all: sorted([...samples('big'), ...samples('small')]),
    big: sorted(samples('big')),
    small: sorted(samples('small')),
    clients: side.clientCount,
    connectSeconds: side.connectSeconds,
    bigBoardHeap: withBig.heapUsed - empty.heapUsed,
    smallBoardHeap: (loaded.heapUsed - withBig.heapUsed) / Math.max(1, SMALL.length),
    rssPerBoard: (loaded.rss - empty.rss) / (1 + SMALL.length),
    cold,
  };
}

say(
  `bench:board: ${BIG.clients} clients on a board of ${BIG.cards} cards at ${BIG.movesPerSecond} moves/s, ` +
    `plus ${SMALL.length} boards of ${SMALL[0]?.cards ?? 0} cards with ${SMALL[0]?.clients ?? 0} clients ` +
    `at ${SMALL[0]?.movesPerSecond ?? 0} move/s each; ${WARMUP} s warm-up, ${SECONDS} s measured per server` +
    (INTERLEAVE ? `, both loaded, in ${ROUNDS} alternating rounds` : ', one server after the other'),
);
const sides: Side[] = [];
const results = new Map<System, Result>();

async function cleanUp(side: Side): Promise<void> {
  if (!sides.includes(side)) return;
  sides.splice(sides.indexOf(side), 1);
  for (const child of side.children) await child.stop();
  await side.location.drop();
}

/** Moves cards on each side for `ROUNDS` rounds; interleaved sides take turns round by round. */
async function runRounds(turns: Side[]): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? turns : [...turns].reverse()) {
      const warmupSeconds = round === 0 ? WARMUP : 0;
      const seconds = SECONDS / ROUNDS;
      say(
        `\n${side.system}: round ${round + 1}/${ROUNDS}, moving cards for ${warmupSeconds} s + ${seconds} s`,
      );
      await side.server.call('load', undefined);
      const runs = await Promise.all(
        side.clients.map((child) => child.call('run', { warmupSeconds, seconds })),
      );
      side.serverLoads.push(await side.server.call('load', undefined));
      side.runs.push(...runs);
      say(
        `${side.system}: ${sum(runs, (run) => run.moves)} moves, ${sum(runs, (run) => run.missing)} receipts missing`,
      );
    }
  }
}

// Interrupted: stopping the children fails the request under way, and the cleanup below runs.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    say(`\n${signal}: stopping and cleaning up`);
    for (const side of sides) for (const child of side.children) void child.stop();
  });
}

try {
  if (INTERLEAVE) {
    for (const system of SYSTEMS) await open(system, sides);
    await runRounds([...sides]);
    for (const side of [...sides]) {
      results.set(side.system, resultOf(side, await closeAndColdLoad(side)));
      await cleanUp(side);
    }
  } else {
    for (const system of SYSTEMS) {
      const side = await open(system, sides);
      await runRounds([side]);
      results.set(system, resultOf(side, await closeAndColdLoad(side)));
      await cleanUp(side);
    }
  }
} catch (error) {
  if (!interrupted) throw error;
} finally {
  for (const side of [...sides]) await cleanUp(side);
}
if (interrupted) process.exit(130);

const columns = [...results.keys()];
const row = (label: string, value: (result: Result) => string | number): (string | number)[] => [
  label,
  ...columns.map((system) => value(results.get(system)!)),
];
const ms = (values: number[], p: number) => percentile(values, p).toFixed(1);
console.log(
  table([
    ['measure', ...columns],
    row('clients connected', (r) => r.clients),
    row('connect and first sync, s', (r) => r.connectSeconds.toFixed(1)),
    row('moves made (incl. warm-up)', (r) => sum(r.runs, (run) => run.moves)),
    row('fan-out samples (one per receiving client)', (r) => r.all.length),
    row('receipts missing after 10 s', (r) => sum(r.runs, (run) => run.missing)),
    row('client disconnects', (r) => sum(r.runs, (run) => run.reconnects)),
    row('server CPU % while moving (100 = one core), worst round', (r) =>
      worst(r.serverLoads, (load) => load.cpuPercent),
    ),
    row('server event-loop delay p99 ms, worst round', (r) =>
      worst(r.serverLoads, (load) => load.loopDelayP99Ms),
    ),
    row('clients CPU % while moving, busiest process and round', (r) =>
      worst(r.runs, (run) => run.clientCpuPercent),
    ),
    row('clients event-loop delay p99 ms, busiest process and round', (r) =>
      worst(r.runs, (run) => run.clientLoopDelayP99Ms),
    ),
    row('fan-out p50 ms, all boards', (r) => ms(r.all, 50)),
    row('fan-out p99 ms, all boards', (r) => ms(r.all, 99)),
    row(`fan-out p50 ms, big board (${BIG.clients} clients)`, (r) => ms(r.big, 50)),
    row(`fan-out p99 ms, big board (${BIG.clients} clients)`, (r) => ms(r.big, 99)),
    row(`fan-out p50 ms, ${SMALL.length} small boards`, (r) => ms(r.small, 50)),
    row(`fan-out p99 ms, ${SMALL.length} small boards`, (r) => ms(r.small, 99)),
    row(`server heap MiB, big board (${BIG.cards} cards, ${BIG.clients} clients)`, (r) =>
      mib(r.bigBoardHeap),
    ),
    row(`server heap MiB per small board (${SMALL[0]?.cards ?? 0} cards)`, (r) => mib(r.smallBoardHeap)),
    row('server RSS MiB per board (all boards)', (r) => mib(r.rssPerBoard)),
    row(`cold load ms, big board, median of ${COLD_RUNS}`, (r) => ms(r.cold, 50)),
    row('cold load ms, big board, slowest', (r) => (r.cold.at(-1) ?? Number.NaN).toFixed(1)),
  ]),
);
console.log(
  `\nParley's cold load reads the latest snapshot and a tail of ${COLD_TAIL} updates; ` +
    "Hocuspocus's reads its one stored row.",
);
const parley = results.get('parley');
const hocuspocus = results.get('hocuspocus');
const ratio =
  parley && hocuspocus ? (percentile(parley.all, 99) / percentile(hocuspocus.all, 99)).toFixed(2) : 'n/a';
console.log(`board fanout p99 ratio parley/hocuspocus: ${ratio}`);
